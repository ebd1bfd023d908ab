# %% [markdown]
# # 1.4 Evaluation: is the answer right, and is the change real?
#
# Every change to an AI system changes its answers: a prompt edit, a new model, a retrieval
# tweak, a provider's silent update. You cannot read every answer after every change, and
# reading five of them tells you little. An **evaluation** turns "it looks fine" into a number
# over a fixed set of questions, and a little statistics tells you whether that number really
# moved or only wobbled.
#
# In this lesson you evaluate the Handbook Assistant the way a team does before it ships a
# change: a golden set of questions, metrics for answers and for retrieval, confidence
# intervals, a paired comparison of two prompts, repeated samples, and a model as judge that
# you check before you trust it.
#
# **Time:** about 90 minutes. **You need:** lesson 00; lessons 1.1 (calling a model) and 1.3
# (embeddings) help. No statistics background: the bootstrap is explained from scratch.
#
# ## Learning objectives
# - Score answers against a golden set with exact match, token F1 and a refusal check, and
#   retrieval with recall@k and mean reciprocal rank, and say what each one misses.
# - Put a bootstrap confidence interval on a score, and read it.
# - Measure how much a score moves between runs at temperature > 0 (when the model samples its
#   words at random).
# - Decide with a paired comparison whether a difference between two prompts is real or noise.
# - Use a model as judge only after measuring its agreement with known labels (Cohen's kappa)
#   and its bias towards longer answers.

# %% [markdown]
# ## Setup
#
# The parameters first. `seed` drives every random draw of the lesson (sampling at
# temperature > 0 and the bootstrap); `fast` runs fewer repeated samples. The **temperature**
# is a setting of every model call that controls how random the choice of words is: at 0 the
# model gives its most likely answer every time; above 0 it samples, so the same question can
# get a different answer on each call (section 6).

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# The imports, the model client and the golden set. `LLMClient.from_settings()` returns the
# course's **local stand-in model** unless your settings name a provider: a small program that
# answers through the same API as a hosted model, offline and the same way on every run. It
# picks sentences rather than writing new ones, and it behaves like a model where this lesson
# needs it to (grounded answers, refusals, a stale memory, temperature, a judge mode with a
# length bias built in on purpose, to imitate one measured in real judges: section 8).
# [`docs/local-model.md`](../../docs/local-model.md) says how it works and how to point this
# same code at a real provider. The numbers you measure here are the stand-in's; the methods
# are the ones you use on any model.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100 (hint: when stuck)
from course_lib.datasets import load_golden_set, load_handbook
from course_lib.llm import LLMClient

pd.set_option("display.max_colwidth", 70)
pd.set_option("display.width", 120)
client = LLMClient.from_settings()
dev = load_golden_set("dev")
print(f"{len(dev)} questions in the dev split")

# %% [markdown]
# ## 1. The prototype, and the vibe check
#
# Here is the Handbook Assistant as a tutorial builds it: embed every section of the handbook
# (lesson 1.3), retrieve the three sections closest to the question, and ask the model to
# answer from them. The assistant reads every document here; who may see what is lesson 2.2.
#
# `top_k` returns two arrays, the row numbers of the closest sections and their similarity
# scores; `retrieve` keeps only the rows. `functools.cache` remembers each question's result,
# because the lesson retrieves for the same questions many times and the answer never changes.

# %%
import functools

from course_lib.embeddings import get_embedder, top_k

sections = [(doc.id, s.text) for doc in load_handbook() for s in doc.sections]
embedder = get_embedder()
section_vectors = embedder.embed([text for _, text in sections])


@functools.cache
def retrieve(question: str, k: int = 3) -> tuple[tuple[str, str], ...]:
    """The (document id, text) of the k sections most similar to the question, best first."""
    rows, _ = top_k(embedder.embed_one(question), section_vectors, k)
    return tuple(sections[i] for i in rows)


print(f"{len(sections)} sections indexed")

# %% [markdown]
# The assistant itself: passages as `[doc-id] text` lines, then the question. The prompt is
# a parameter, because changing it is the change you will evaluate. The model is named by a
# **role**, not by a product name: the course's model **registry** maps `chat-small` (a small,
# cheap chat model), `chat-large` (a bigger, dearer one), `judge` and `embed` to models, so a
# lesson never hard-codes a model id. Try it on three questions of the kind a demo shows:

# %%
NAIVE_PROMPT = "Answer the question using the documents."


def ask(question, *, system=NAIVE_PROMPT, model="chat-small", temperature=None, seed=None):
    passages = "\n".join(f"[{doc_id}] {text}" for doc_id, text in retrieve(question))
    return client.chat(
        f"Documents:\n{passages}\n\nQuestion: {question}",
        system=system,
        model=model,
        temperature=temperature,
        seed=seed,
    )


demo = [q for q in dev if q.id in ("ops-005", "ops-013", "org-049")]
for question in demo:
    print(f"Q: {question.question}\nA: {ask(question.question).content}\n")

# %% [markdown]
# Fluent, confident, on topic, and for these three, right. This is where many prototypes
# stop: someone tries the questions they thought of, the answers look good, the change ships.
# That is a **vibe check**, and it fails in three ways you are about to measure: it never
# looks at the questions the system gets wrong, because nobody picked those; it cannot say how
# often the answers are right; and it cannot see a change of a few points between two
# versions.

# %% [markdown]
# ## 2. A golden set, and metrics for answers
#
# A **golden set** is a fixed list of questions with reference answers that people agreed on.
# The course's has two splits: tune on `dev`, and measure on `test` once, at the end, so that
# your tuning cannot overfit the number you report. Treat `test` as sealed: once you have read a
# test question's answers and changed the system because of them, it has become a dev question;
# move it to `dev` and write a fresh test question. Never move a question the other way: the
# system was tuned on the dev questions, so they would flatter the test score. Each question has
# a type:

# %%
pd.Series([q.type for q in dev]).value_counts().rename("dev questions")

# %% [markdown]
# `fact` questions are answered by one passage; `multi_doc` ones need passages from several
# documents. `restricted` ones are answered only by a document with restricted access (this
# lesson's assistant reads every document; lesson 2.2 decides who may see what).
# `unanswerable` questions are not covered by the handbook: the right answer is a refusal.
# `version_sensitive` ones ask about a fact that changed; they also carry the outdated answer,
# which you will use later to test a judge:

# %%
changed = next(q for q in dev if q.type == "version_sensitive")
print("Q:", changed.question)
print("reference answer:", changed.answer)
print("outdated answer: ", changed.stale_answer)
print("cited source:    ", changed.sources[0].doc_id, "/", changed.sources[0].section)

# %% [markdown]
# Now run the prototype over every dev question. `run_golden` from `course_lib.evaluation`
# calls your answer function once per question and returns a table, one row per question, with
# the answer, each score, the tokens and the cost (**tokens** here are the word pieces a model
# reads and writes, which providers bill by; lesson 1.1). The first metric is the strictest:
# **exact match**, 1 when the answer equals the reference after lower-casing and removing
# punctuation and articles, else 0. That normalisation is the convention of SQuAD, a widely
# used question-answering benchmark (Rajpurkar et al., 2016). A call that fails (a timeout, a
# rate limit) does not stop the run: its row keeps the error and scores 0, because a failed
# call is a failed answer for the user. Count the failures before you read any score.

# %%
from course_lib.evaluation import exact_match, run_golden

prototype = run_golden(
    lambda q: ask(q.question),
    dev,
    scorers={"exact_match": lambda q, answer: exact_match(answer, q.answer)},
    run="naive prompt",
)
print("calls that failed:", int(prototype["error"].notna().sum()))
print("exact match:", prototype["exact_match"].mean())
prototype[["question", "answer", "reference", "exact_match"]].head(4)

# %% [markdown]
# Zero for every question. The first, second and fourth answers are wrong: each states
# something, but not what was asked (section 3 shows why for the first). The third states the
# reference's facts, and still scores 0, because a model's sentence almost never equals a
# reference word for word. Exact match suits short answers (a number, a name, a label); for
# sentences you need partial credit.
#
# ### Exercise 1.4.1: Token F1
#
# **Token F1** (from SQuAD, Rajpurkar et al., 2016) gives partial credit: normalise both
# strings with `normalize_answer` (lower case, no punctuation, no articles), split them on
# whitespace into tokens, and count the tokens they share, each as often as it appears in
# both. (Here a token is simply a word of the normalised answer, not the model's billing
# token.) Then
#
# - precision = shared / tokens in the prediction, recall = shared / tokens in the reference,
# - F1 = 2 · precision · recall / (precision + recall), and 0 when nothing is shared.
#
# If either side normalises to no tokens at all, the score is 1.0 when both are empty and 0.0
# otherwise. Complete `token_f1(prediction, reference)`. Stuck? `hint("1.4.1")` prints a
# hint, and each call after that a more specific one.

# %%
from collections import Counter

from course_lib.evaluation import normalize_answer


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 between two answers."""
    # BEGIN SOLUTION
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)
    # END SOLUTION


# %%
check("1.4.1", token_f1)

# %% [markdown]
# One more rule before scoring. For an unanswerable question the right answer is a refusal
# ("I don't know"), whatever its words; SQuAD 2.0 scores those questions 1 for abstaining and
# 0 for any answer (Rajpurkar, Jia and Liang, 2018). `is_refusal` recognises the usual
# phrasings. The lesson's **answer score** puts the two rules together:

# %%
from course_lib.evaluation import is_refusal

f1 = answer_or_reference("1.4.1", token_f1)


def answer_score(question, answer):
    """Token F1 against the reference; for an unanswerable question, 1 for a refusal."""
    if not question.answerable:
        return float(is_refusal(answer))
    return 0.0 if is_refusal(answer) else f1(answer, question.answer)


# %% [markdown]
# You do not need to call the model again to try a new metric: the run kept every answer, and
# `rescore` adds columns computed from them. Keep the answers of every run you make; metrics
# get fixed and added long after the model calls are paid for.

# %%
from course_lib.evaluation import rescore, summarize

scorers = {
    "f1": lambda q, answer: f1(answer, q.answer),
    "score": answer_score,
}
prototype = rescore(prototype, dev, scorers)
by_type = summarize(prototype, ["exact_match", "f1", "score"], by="type")
by_type[["n", "exact_match", "f1", "score"]].round(3)

# %% [markdown]
# Read the table by row. The prototype never refuses, so it scores 0 on every unanswerable
# question: it answers them all, confidently, from something. Its F1 on the other types is
# low and, on its own, hard to interpret: is a mean F1 between 0.1 and 0.3 good? Two things
# give it meaning: an interval (section 4) and a comparison (section 7). First, the part of
# the system that F1 does not see.

# %% [markdown]
# ## 3. Metrics for retrieval: recall@k and MRR
#
# A wrong answer has two suspects: retrieval sent the wrong passages, or the model misused the
# right ones. The golden set cites the documents that answer each question, so retrieval can
# be scored on its own, without any model call:
#
# - **recall@k**: the share of a question's cited documents found in the top k results;
# - **reciprocal rank**: 1 / the position of the first cited document (1 at the top, 1/2
#   second, 0 when none is found); its mean over questions is the **MRR**.
#
# The ranking below lists the document of each of the top 10 sections, so a document can
# appear more than once.

# %%
answerable = [q for q in dev if q.answerable]
rankings = [[doc_id for doc_id, _ in retrieve(q.question, k=10)] for q in answerable]
relevant = [set(q.doc_ids) for q in answerable]
print("cited:", sorted(relevant[0]), "| retrieved:", rankings[0][:5])

# %% [markdown]
# This is the first question of the table in section 2 (pay for a partial on-call week). Its
# cited document, `oncall-policy`, comes fourth, one place below the three sections the
# assistant sends, so the model never saw it and answered from the contractors' FAQ instead.
#
# ### Exercise 1.4.2: Mean reciprocal rank
#
# Complete `mean_reciprocal_rank(rankings, relevant)`: for each query, 1 / the 1-based
# position of the first document of its `relevant` set in its ranking, 0 when there is none;
# return the mean over all queries. Count a document that appears several times once, at its
# first position, so `["x", "x", "a"]` puts `a` at rank 2.


# %%
def mean_reciprocal_rank(rankings: list[list[str]], relevant: list[set[str]]) -> float:
    """Mean over queries of 1 / rank of the first relevant document (0 if none)."""
    # BEGIN SOLUTION
    total = 0.0
    for ranking, wanted in zip(rankings, relevant, strict=True):
        for position, doc_id in enumerate(dict.fromkeys(ranking), start=1):
            if doc_id in wanted:
                total += 1 / position
                break
    return total / len(rankings)
    # END SOLUTION


# %%
check("1.4.2", mean_reciprocal_rank)

# %% [markdown]
# Now the retriever's scores on the dev set, with `recall_at_k` from `course_lib.evaluation`
# next to your MRR. Both count each document once, at its first position, so recall@3 asks
# about the top three *distinct* documents. The retriever is **dense retrieval**: search by
# embedding similarity, as built in section 1 (lesson 1.3).

# %%
from course_lib.evaluation import recall_at_k

mrr = answer_or_reference("1.4.2", mean_reciprocal_rank)
retrieval = {
    f"recall@{k}": np.mean([recall_at_k(r, s, k) for r, s in zip(rankings, relevant, strict=True)])
    for k in (1, 3, 5, 10)
}
retrieval["MRR"] = mrr(rankings, relevant)
pd.Series(retrieval).round(3).to_frame("dense retrieval, dev")

# %% [markdown]
# The assistant sends the top **three sections** to the model, and several sections can come
# from one document. So the number that limits the answers is whether a cited document is
# among those three sections. Count those questions, and split the answer scores on it:

# %%
in_context = {
    q.id: bool(set(q.doc_ids) & {doc_id for doc_id, _ in retrieve(q.question)}) for q in answerable
}
found = prototype[prototype["id"].isin(in_context)].assign(
    cited_doc_in_context=lambda f: f["id"].map(in_context)
)
n_in, n_all = sum(in_context.values()), len(in_context)
print(f"a cited document is sent for {n_in} of {n_all} questions ({n_in / n_all:.3f})")
found.groupby("cited_doc_in_context")["f1"].agg(["count", "mean"]).round(3)

# %% [markdown]
# That share is higher than recall@3 in the table above, although both look at about three
# results: recall@k gives a question that cites several documents partial credit (one of its
# two documents found scores 0.5), while this count asks only whether *any* cited document
# arrived.
#
# The count in the `False` row is the number of questions for which no cited document reaches
# the model at all: for those, no prompt can ground the answer in the right passage, and the
# model answers from something else. The answer scores are higher when the cited document does
# reach the model, and far from perfect even then: the model also misuses the right passage.
# Retrieval metrics and answer metrics together say which component to fix (lessons 2.1 and 2.2
# improve retrieval).

# %% [markdown]
# ## 4. One number is not enough: a confidence interval
#
# The dev set is a sample of the questions users will ask. Draw as many new questions of the
# same kinds and the mean score moves. By how much? The **bootstrap** answers from the data
# you have (Efron and Tibshirani, 1993): draw a new "golden set" of the same size from your
# scores, *with replacement* (some questions twice, some not at all), take its mean, repeat a
# few thousand times, and read the spread of those means. The middle 95% of them is a 95%
# confidence interval.
#
# ### Exercise 1.4.3: A bootstrap confidence interval by hand
#
# Complete `bootstrap_interval(scores, confidence=0.95, n_resamples=2000, seed=0)` with numpy:
# make a generator from `seed`, draw `n_resamples` resamples of the scores (each as many
# scores as the data, with replacement), take each resample's mean, and return the
# `(1 - confidence) / 2` and `1 - (1 - confidence) / 2` quantiles of those means as
# `(low, high)`. The checker tests that your intervals are *calibrated*: on hidden data whose
# true mean it knows, a 95% interval should contain it about 95% of the time.

# %%
import numpy as np


def bootstrap_interval(scores, confidence=0.95, n_resamples=2000, seed=0):
    """Percentile bootstrap interval (low, high) of the mean of scores."""
    # BEGIN SOLUTION
    data = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(n_resamples, data.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)
    # END SOLUTION


# %%
check("1.4.3", bootstrap_interval)

# %% [markdown]
# Here is the prototype's answer score with its interval, and the resampled means the
# interval comes from:

# %%
from course_lib.evaluation import plot_bootstrap

interval = answer_or_reference("1.4.3", bootstrap_interval)
low, high = interval(prototype["score"], seed=seed)
print(f"answer score {prototype['score'].mean():.3f}, 95% interval {low:.3f} to {high:.3f}")
plot_bootstrap(prototype["score"], (low, high), seed=seed, label="answer score")
plt.show()

# %% [markdown]
# Each bar counts resampled golden sets whose mean fell in that bin; the dark line is the mean
# you measured and the shaded band the interval. Read it as: with questions like these, the
# prototype's true score is somewhere in the band, and the data cannot say where. A change
# that moves the mean by less than about half the band's width cannot be seen by comparing two
# intervals. The band narrows only with the square root of the number of questions: four
# times the questions for half the width. Section 7 shows a sharper tool than comparing
# intervals. `bootstrap_ci` in `course_lib.evaluation` is the same method, with a
# `statistic` argument for medians, rates and percentiles.

# %% [markdown]
# ## 5. A second prompt
#
# The obvious improvement: tell the model to answer only from the documents, to cite them, and
# to say "I don't know" when they do not answer. Run it over the same questions:

# %%
CAREFUL_PROMPT = (
    "Answer only from the documents and cite the document id of each fact. "
    "If the documents do not answer the question, say that you don't know."
)
careful = run_golden(
    lambda q: ask(q.question, system=CAREFUL_PROMPT),
    dev,
    scorers={"f1": lambda q, answer: f1(answer, q.answer), "score": answer_score},
    run="careful prompt",
)
print(careful.loc[careful["type"] == "fact", "answer"].iloc[0])

# %% [markdown]
# It cites now. Is it better? Put both runs side by side, each with its interval and the
# total cost of the run (one call per question):

# %%
both = pd.concat([summarize(run, ["score"], seed=seed) for run in (prototype, careful)])
both.index = ["naive prompt", "careful prompt"]
both = both.rename(columns={"cost_usd": "run cost (USD)"})
both[["n", "score", "score_low", "score_high", "run cost (USD)"]].round(4)

# %% [markdown]
# The two means are close and the intervals overlap, so comparing intervals cannot decide
# which prompt is better. The prompt was written to refuse when the documents do not answer;
# count the refusals of each prompt, by kind of question:


# %%
def refusals(run):
    kind = run["type"].eq("unanswerable").map({True: "unanswerable", False: "answerable"})
    return run["answer"].map(is_refusal).groupby(kind).sum()


pd.DataFrame({"naive prompt": refusals(prototype), "careful prompt": refusals(careful)})

# %% [markdown]
# The naive prompt never refuses. The careful one refuses some questions the handbook does
# not answer, as intended, and also some that it does answer, where the passages it was given
# did not look relevant enough. Which effect is bigger? Before the sharper tool that answers
# that, one more source of uncertainty.

# %% [markdown]
# ## 6. Non-determinism: the same prompt, another sample
#
# Production systems often call the model at a temperature above 0, and then the same prompt
# gives different answers from call to call. A seed makes each call reproducible, which is
# what lets this lesson show the spread: run the careful prompt at temperature 0.8 with
# several seeds.

# %%
n_samples = 4 if fast else 10
samples = [
    run_golden(
        lambda q, s=s: ask(q.question, system=CAREFUL_PROMPT, temperature=0.8, seed=s),
        dev,
        scorers={"score": answer_score},
        run=f"seed {s}",
    )
    for s in range(seed, seed + n_samples)
]
means = pd.Series([run["score"].mean() for run in samples], index=[r["run"][0] for r in samples])
means.round(3).to_frame("answer score at temperature 0.8").T

# %% [markdown]
# Same prompt, same questions, different scores. Where does the spread come from? Count the
# questions whose answer changed between samples:

# %%
answers = pd.DataFrame({run["run"][0]: run["answer"].to_numpy() for run in samples})
varied = answers.nunique(axis=1) > 1
print(f"{int(varied.sum())} of {len(answers)} questions got more than one distinct answer")
print(f"spread of the run means: {means.min():.3f} to {means.max():.3f}")
first_low, first_high = interval(samples[0]["score"], seed=seed)
print(f"95% interval of the first run alone: {first_low:.3f} to {first_high:.3f}")

# %% [markdown]
# Two kinds of noise sit in every evaluation number. **Sampling noise** (the model's): the
# spread between seeds, from the questions whose answers vary. **Question noise** (the golden
# set's): the bootstrap interval, from which questions happened to be in the set. Here the
# second is the larger; with a model that varies more, the first grows. Two remedies from
# Miller (2024, "Adding Error Bars to Evals"): evaluate at temperature 0 when the product
# allows it, and otherwise answer each question several times and score the mean per question,
# which shrinks the sampling noise without new questions.

# %% [markdown]
# ## 7. Real or noise? The paired comparison
#
# Comparing two intervals throws information away: both runs answered the *same* questions,
# and a question that is hard for one prompt is usually hard for the other. A **paired**
# comparison looks at the per-question differences (B minus A) and bootstraps their mean. If
# the interval of the mean difference excludes 0, the difference is unlikely to be noise.
# `compare_runs` matches the rows by question id and calls `paired_bootstrap`.
#
# First a pair whose difference you know is noise: the same prompt, two seeds.

# %%
from course_lib.evaluation import compare_runs

same_prompt = compare_runs(samples[0], samples[1], "score", seed=seed)
print(same_prompt)
differ = int((samples[0]["score"] != samples[1]["score"]).sum())
print(f"questions whose score differs between the two runs: {differ}")

# %% [markdown]
# The paired comparison says what you know to be true: not distinguishable from noise. (Run
# the lesson with another `seed` and now and then this line calls the noise real; the end of
# this section measures how often.)
#
# The line also prints a **p-value**: the share of resampled mean differences that fall on the
# other side of zero from the one you measured, doubled because a change in either direction
# counts. A small p-value (below 0.05 goes with a 95% interval that excludes 0) says a
# difference this large would rarely come from noise alone. Read the interval first: it also
# says how large the difference may be.
#
# Now the two prompts. The careful prompt changes two behaviours, so compare it where each
# shows: questions the handbook answers (F1 of the answer) and questions it does not
# (refusals).


# %%
def only(run, kind):
    mask = run["type"] == "unanswerable"
    return run[mask] if kind == "unanswerable" else run[~mask]


comparisons = {
    "careful - naive, answerable": compare_runs(
        only(prototype, "answerable"), only(careful, "answerable"), "score", seed=seed
    ),
    "careful - naive, unanswerable": compare_runs(
        only(prototype, "unanswerable"), only(careful, "unanswerable"), "score", seed=seed
    ),
    "careful - naive, all questions": compare_runs(prototype, careful, "score", seed=seed),
    f"seed {seed + 1} - seed {seed}, same prompt": same_prompt,
}
for name, result in comparisons.items():
    print(f"{name:32} {result}")

# %% [markdown]
# The same results as a figure: each row is one comparison, the dot its mean difference, the
# bar its 95% interval, the black line zero. Green rows exclude zero; grey rows do not.

# %%
from course_lib.evaluation import plot_paired

plot_paired(comparisons, label="answer score, B - A")
plt.show()

# %% [markdown]
# Read the rows from the top. On answerable questions the careful prompt is *worse*, and the
# interval says it is real: it says "I don't know" to questions the naive prompt answered,
# often partly right. On unanswerable questions it refuses more, which is what it was written
# for, and that is real too; with only 14 such questions its interval is wide, so the size of
# the gain is uncertain. Over all questions the two effects roughly cancel, and the difference
# is not distinguishable from noise: one overall number would have hidden two real changes.
# The last row is the two seeds: noise, correctly called.
#
# So the careful prompt, which a vibe check would approve (it cites!), trades answers for
# refusals, and the overall mean only says how that trade comes out for this mix of question
# types. The next step is not a third prompt: a refusal is only as good as the passages the
# model was given, and section 3 pointed at retrieval.
#
# A 95% interval misses 5% of the time by design, so a comparison of two runs of the same
# prompt should look real about one time in twenty. Check that promise on noise you can make
# for free: from the samples you already have, draw 200 more pairs of runs, where for every
# question each run of the pair gets a different one of that question's sampled answers, picked
# at random. Every pair is noise by construction. The cell counts the pairs called real by a
# 95% interval and by a stricter 99% one.
#
# The one dense line picks the two samples: `argsort` of a row of random numbers is a random
# order of that question's sample columns, and its first two entries are two different
# samples.

# %%
from course_lib.evaluation import paired_bootstrap

sampled = np.column_stack([run["score"].to_numpy() for run in samples])  # questions x samples
rng = np.random.default_rng(seed)
rows = np.arange(len(sampled))
n_pairs = 200
false_alarms = {0.95: 0, 0.99: 0}
differing = []
for _ in range(n_pairs):
    first, second = np.argsort(rng.random(sampled.shape), axis=1)[:, :2].T
    a, b = sampled[rows, first], sampled[rows, second]
    for level in false_alarms:
        result = paired_bootstrap(a, b, confidence=level, n_resamples=1000, seed=seed)
        false_alarms[level] += result.significant
    differing.append(int(np.count_nonzero(a != b)))
for level, count in false_alarms.items():
    label, rate = f"{level:.0%} interval", count / n_pairs
    print(f"{label}: {count:2} of {n_pairs} pairs look real, {rate:.1%} (nominal {1 - level:.0%})")
print(f"questions whose score differs within a pair: median {np.median(differing):.0f}")

# %% [markdown]
# Compare each rate with its nominal one (5% is 10 of 200). Here both land close to theirs,
# but one count is a noisy estimate: it moves by many pairs from one `seed` to another,
# because all 200 pairs are drawn from the same few samples. The percentile bootstrap is known to be somewhat
# anti-conservative for a mean at small sample sizes (Hesterberg, 2015): its intervals come
# out a little too narrow, so its false-alarm rate tends to run above the nominal level. And
# the sample here is smaller than it looks: the mean difference rests only on the questions
# whose score differs, a small share of the dev set (the last line).
#
# So, for a decision such as shipping a prompt, do not take a 95% verdict at face value. Ask
# for a stricter level: the 99% interval is wider, so it never calls more noise pairs real than
# the 95% one (the second line), at the price of missing some small real changes. Or use a permutation test
# (a sign-flip test): flip the sign of each question's difference at random, thousands of
# times, and count how often the flipped mean is as far from zero as the one you measured. For
# pure noise a flip changes nothing, so this test keeps its false-alarm rate at the nominal
# level. And count the questions that changed: a verdict that rests on a handful of them is
# weak evidence whatever its interval says.
#
# False alarms also add up. Test twenty prompt variants against a baseline and one or more
# will "win" by chance: decide what you compare before you look, re-run a surprising winner on
# fresh samples, and keep the test split for the final measurement.

# %% [markdown]
# ## 8. A model as judge, checked before it is trusted
#
# Token F1 punishes a right answer worded differently from the reference. A **model as
# judge** reads the question, the reference and the answer, and says whether the facts match:
# it handles paraphrase, and it costs a model call per answer. `grade` from
# `course_lib.evaluation` sends a judge prompt to the model the registry assigns to the
# `judge` role (section 1), at temperature 0, and asks for a JSON verdict (a 1-to-5 score,
# pass or fail, a reason):

# %%
from course_lib.evaluation import JUDGE_TEMPLATE, grade

print(JUDGE_TEMPLATE)
graded = grade(
    client, question=changed.question, reference=changed.answer, answer=changed.stale_answer
)
print(graded.verdict)

# %% [markdown]
# It failed the outdated answer, as it should. One verdict proves nothing; a judge is a model,
# and models are wrong in patterns. Measure it the way you would measure a new colleague:
# give it answers whose verdict you already know. The golden set provides them, per
# answerable question:
#
# - a **right** answer: the handbook sentence the golden set cites (it states the facts, in
#   different words from the reference);
# - a **wrong** answer: the outdated answer of a version-sensitive question, or otherwise the
#   reference answer of another question (preferably about the same document): fluent, on
#   topic, and wrong.
#
# `calibration_set` builds those two rows per question. The handbook is written in Markdown,
# so a quoted sentence can carry formatting characters (`*`, `` ` ``, `|`, `#`, `>`): the
# regular expression replaces each with a space, and `" ".join(....split())` collapses the
# spaces, leaving plain text.

# %%
import re


def calibration_set(questions):
    """Known-right and known-wrong answers, with their true labels, from the golden set."""
    answerable = [q for q in questions if q.answerable]
    rows = []
    for i, q in enumerate(answerable):
        same_doc = [o for o in answerable if o.id != q.id and o.doc_ids[0] == q.doc_ids[0]]
        other = same_doc[0] if same_doc else answerable[(i + 1) % len(answerable)]
        right = " ".join(re.sub(r"[*`|#>]", " ", q.sources[0].quote).split())
        wrong = q.stale_answer or other.answer
        for answer, label in ((right, True), (wrong, False)):
            rows.append(
                {"question": q.question, "reference": q.answer, "answer": answer, "label": label}
            )
    return pd.DataFrame(rows)


labelled = calibration_set(dev)
print(labelled["label"].value_counts().to_dict())

# %% [markdown]
# `grade_all` grades every row and adds the judge's columns. A judge's reply that is not a
# valid verdict would be recorded in `judge_error` rather than counted as a pass or a fail.

# %%
from course_lib.evaluation import grade_all

judged = grade_all(client, labelled)
print("unusable verdicts:", int(judged["judge_error"].notna().sum()))
pd.crosstab(judged["label"], judged["judge_passed"], rownames=["true"], colnames=["judge"])

# %% [markdown]
# The diagonal is agreement. Raw agreement flatters a judge when one verdict is common: a
# judge that passes everything agrees with 90% of labels when 90% of answers are right.
# **Cohen's kappa** (Cohen, 1960) corrects for that: kappa = (observed agreement − chance
# agreement) / (1 − chance agreement), where chance agreement is what two raters with the same
# label frequencies would reach by guessing. 1 is perfect, 0 is chance.
#
# ### Exercise 1.4.4: Cohen's kappa by hand
#
# Complete `cohen_kappa(labels_a, labels_b)` for labels of any kind (booleans, strings). The
# chance agreement sums, over every label, the product of the share of items each rater gave
# that label, using each rater's own shares. You may assume the chance agreement is below 1
# (it is 1 only when both raters give every item the same single label, and the formula would
# divide by zero; the checker does not test that case).


# %%
def cohen_kappa(labels_a: list, labels_b: list) -> float:
    """Agreement of two raters beyond chance: 1 perfect, 0 chance, below 0 worse than chance."""
    # BEGIN SOLUTION
    n = len(labels_a)
    observed = sum(a == b for a, b in zip(labels_a, labels_b, strict=True)) / n
    chance = sum(
        (labels_a.count(c) / n) * (labels_b.count(c) / n) for c in set(labels_a) | set(labels_b)
    )
    return (observed - chance) / (1 - chance)
    # END SOLUTION


# %%
check("1.4.4", cohen_kappa)

# %% [markdown]
# The judge's agreement with the true labels, and its rates on each kind of answer, next to a
# judge-free rule on the same answers (token F1 of at least 0.5 counts as a pass):

# %%
kappa = answer_or_reference("1.4.4", cohen_kappa)
truth = judged["label"].to_numpy(dtype=bool)


def agreement_with_truth(verdicts):
    verdicts = np.asarray(verdicts, dtype=bool)
    return {
        "kappa": kappa(truth.tolist(), verdicts.tolist()),
        "passes right answers": verdicts[truth].mean(),
        "passes wrong answers": verdicts[~truth].mean(),
    }


f1_rule = [f1(a, r) >= 0.5 for a, r in zip(judged["answer"], judged["reference"], strict=True)]
agreement = pd.DataFrame(
    {
        "model judge": agreement_with_truth(judged["judge_passed"]),
        "F1 >= 0.5": agreement_with_truth(f1_rule),
    }
).T
agreement.round(3)

# %% [markdown]
# Kappa equals the judge's "passes right answers" rate, and that is no coincidence: the set has
# as many right answers as wrong ones, so chance agreement is exactly 0.5, and kappa reduces to
# (pass rate on right answers) − (pass rate on wrong answers). The judge passes no wrong
# answer, so its kappa is its pass rate on right ones; check the F1 row the same way.
#
# The judge agrees with the labels better than the F1 rule, and it errs in one direction:
# it fails some right answers worded differently from the reference, and passes no wrong one.
# Report those two rates (true-positive and false-positive rates) with kappa: they say which
# way a judge errs. A judge that passes too many wrong answers inflates every score you
# compute with it. Calibrate on a hundred or so labelled answers before the judge grades
# anything that matters, and again whenever its model or prompt changes.
#
# ### The judge's length bias
#
# Model judges favour longer answers (Zheng et al., 2023, call it verbosity bias). The
# stand-in's judge has this bias planted on purpose, to imitate what was measured in real
# judges, so the sizes below say nothing about any real model; the method is what transfers.
# Measure it directly: pad every answer with filler that adds words and no facts, and grade
# again. The content is the same, so an unbiased judge gives the same scores. The table gives
# the mean judge score (1 to 5) of right and of wrong answers at each amount of filler.

# %%
FILLER = " That is all there is to it, and it is what it is."
levels = (0, 2) if fast else (0, 1, 2, 4)
padded = {
    n: grade_all(client, labelled.assign(answer=labelled["answer"] + FILLER * n)) for n in levels
}
by_length = pd.DataFrame(
    {
        n * len(FILLER.split()): frame.groupby("label")["judge_score"].mean()
        for n, frame in padded.items()
    }
).T.rename(columns={True: "right answers", False: "wrong answers"})
by_length = by_length.rename_axis(index="filler words", columns=None)
by_length.round(2)

# %% [markdown]
# The same table as a figure: the mean score the judge gives as filler words are added.

# %%
ax = by_length.plot(marker="o", figsize=(6, 3.2))
ax.set_xlabel("filler words added to every answer")
ax.set_ylabel("mean judge score (1-5)")
ax.set_title("Same facts, more words")
plt.show()

# %% [markdown]
# Both lines climb while the facts stay the same. Is the rise real? Pair each answer with its
# padded self, and look at the wrong answers the judge now lets through:

# %%
longest = max(levels)
bias = paired_bootstrap(
    padded[0]["judge_score"].astype(float), padded[longest]["judge_score"].astype(float), seed=seed
)
print(f"padded - original judge score: {bias}")
for n, frame in padded.items():
    false_passes = frame.loc[~frame["label"], "judge_passed"].astype(bool).mean()
    words = n * len(FILLER.split())
    print(f"{words:3} filler words: the judge passes {false_passes:.1%} of wrong answers")

# %% [markdown]
# A real difference, made of nothing but words: planted in the stand-in, but the same test
# finds it in a real judge when it is there. Two consequences for production. Comparing two
# prompts with this judge favours the one with longer answers, whatever their content, so a
# judge score must never be the only metric: keep a deterministic one (F1, refusals, a check
# for the key number) beside it. And the padding test is cheap: run it whenever the judge's
# model or prompt changes, with filler the judge should ignore, and record the slope.
#
# Last, a judge's reply that breaks the format, as real models sometimes do even when asked
# for JSON: `parse_verdict` refuses it with a message, instead of guessing a score. (The
# message names `RESPONSE_FORMAT`, from `course_lib.evaluation.judge`: the JSON schema of a
# verdict, which `grade` sends with every request to ask for JSON.)

# %%
from course_lib.evaluation import UnparseableVerdictError, parse_verdict

try:
    parse_verdict("Score: 4/5. The answer looks right to me.")
except UnparseableVerdictError as error:
    print(error)

# %% [markdown]
# ## 9. The production version: an evaluation is a table
#
# Everything above comes from one kind of object: a run table with one row per question. It
# holds what a release decision needs, quality with its uncertainty, tokens, cost and latency,
# so the same table answers "is the bigger model worth it?". Run the careful prompt on
# `chat-large` and compare it with `chat-small`, paired. The table gives the cost per 1,000
# questions, the tokens (billed word pieces) per question, and the **p95 latency**: the time
# within which 95% of the calls answer, a better guide to what users wait than the mean.

# %%
large = run_golden(
    lambda q: ask(q.question, system=CAREFUL_PROMPT, model="chat-large"),
    dev,
    scorers={"score": answer_score},
    run="careful, chat-large",
)
print(compare_runs(careful, large, "score", seed=seed))
report = pd.DataFrame(
    {
        run["run"][0]: {
            "answer score": run["score"].mean(),
            "cost per 1,000 questions (USD)": 1000 * run["cost_usd"].mean(),
            "modelled p95 latency (ms)": run["simulated_latency_ms"].quantile(0.95),
            "tokens per question": run["input_tokens"].mean() + run["output_tokens"].mean(),
        }
        for run in (careful, large)
    }
)
report.round(3)

# %% [markdown]
# The latency is the stand-in's modelled latency (the registry's formula), not a measurement
# of this machine. Read the comparison line first: on these questions the difference between
# the two models is not distinguishable from noise, while the table shows what the larger one
# costs per question and how much slower it answers. Paying for it would buy nothing you can
# show; a larger golden set might show a real difference, and the paired comparison is how you
# would find out.
#
# Keep every run. The next cell writes the runs of this lesson to the course work directory;
# lesson 2.6 versions such files, and lesson 4.2 stores them in SQL.

# %%
from course_lib.workdir import work_path

runs = pd.concat([prototype, careful, large, *samples], ignore_index=True)
path = work_path("lesson_1_4", "runs.csv")
runs.to_csv(path, index=False)
print(f"{len(runs)} rows from {runs['run'].nunique()} runs saved to {path.name}")

# %% [markdown]
# To evaluate a real model, change nothing here: set the provider in your settings (see
# `docs/local-model.md`), and `LLMClient.from_settings()` returns a client for it. The judge
# then runs on the real `judge` model, and its bias and agreement are what you measure, not
# what this lesson found. Hosted models often vary a little even at temperature 0, so
# repeated runs, as in section 6, are how you find out by how much.
#
# Frameworks wrap the same ideas: `inspect_ai` (samples, solvers, scorers), `promptfoo`
# (assertions and `llm-rubric` in a config file), `ragas` and `deepeval` (RAG metrics and
# judges), MLflow's `mlflow.genai.evaluate`. Whichever you pick, check that it keeps one row
# per question, reports intervals, and lets you calibrate its judge.

# %% [markdown]
# ## Takeaways
#
# - A vibe check reads the answers nobody was worried about. A golden set with a dev and a
#   test split measures every question, every time.
# - Choose the metric for the answer's shape: exact match for labels and numbers, token F1
#   for sentences, a refusal check for questions the documents do not answer, and recall@k
#   and MRR to score retrieval on its own.
# - An evaluation run is a table, one row per question, with answers, scores, tokens and
#   cost. Keep it: metrics can be added later without calling the model again.
# - A mean without an interval is half a number. The bootstrap gives the interval; it narrows
#   only with the square root of the number of questions.
# - Compare two versions on the same questions with a paired comparison, per question type
#   when a change moves several behaviours. A 95% percentile bootstrap tends to call noise
#   real somewhat more often than one time in twenty: decide at a stricter level or with a
#   sign-flip test, and count the questions that changed.
# - A model judge is a model: measure its agreement with known labels (kappa, and its pass
#   rates on right and wrong answers) and its length bias before trusting it, and never use it
#   as the only metric.

# %% [markdown]
# ## Production checklist
#
# - A versioned golden set with a dev and a test split, covering every question type users
#   send, including questions the system must refuse.
# - Deterministic metrics first (exact match, F1, refusals, retrieval recall); a judge only
#   where they cannot decide, calibrated on labelled answers, with its pass rates recorded.
# - Every score reported with its interval and its number of questions.
# - Every change compared with the baseline by a paired comparison, decided before looking,
#   with the number of questions whose answer changed reported next to the verdict.
# - Temperature 0 for evaluation where possible; otherwise several samples per question.
# - Every run stored with its answers, prompt version, model, tokens and cost (lesson 2.6).
# - The evaluation runs in CI as a gate before a prompt or model change ships (lesson 3.5).

# %% [markdown]
# ## Questions to ask
#
# 1. Your evaluation says a new prompt raised the mean score by two points on about a hundred
#    questions. What do you compute before you believe it?
# 2. Why does a paired comparison detect differences that two overlapping intervals cannot?
# 3. A judge agrees with human labels on nine answers in ten. Why is that not enough to trust
#    it?
# 4. Which of this lesson's metrics would reward a prompt that makes answers longer, and which
#    would punish it?
# 5. You read a test question's wrong answers and changed the prompt because of them. Which
#    split does that question belong to now, and why may a question move from test to dev but
#    never from dev to test?

# %% [markdown]
# ## Further reading
#
# - P. Rajpurkar, J. Zhang, K. Lopyrev, P. Liang, "SQuAD: 100,000+ Questions for Machine
#   Comprehension of Text", EMNLP 2016 (https://arxiv.org/abs/1606.05250). Exact match and
#   token F1. The follow-up, P. Rajpurkar, R. Jia, P. Liang, "Know What You Don't Know:
#   Unanswerable Questions for SQuAD", ACL 2018 (https://arxiv.org/abs/1806.03822), scores
#   abstention.
# - E. Miller, "Adding Error Bars to Evals: A Statistical Approach to Language Model
#   Evaluations", Anthropic, 2024 (https://arxiv.org/abs/2411.00640). Standard errors, paired
#   differences, clustered questions, repeated samples.
# - B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall, 1993.
# - J. Cohen, "A Coefficient of Agreement for Nominal Scales", Educational and Psychological
#   Measurement 20(1), 1960.
# - L. Zheng et al., "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena", NeurIPS 2023
#   (https://arxiv.org/abs/2306.05685). How well model judges agree with people, and their
#   position, verbosity and self-enhancement biases.
# - T. C. Hesterberg, "What Teachers Should Know About the Bootstrap: Resampling in the
#   Undergraduate Statistics Curriculum", The American Statistician 69(4), 2015
#   (https://arxiv.org/abs/1411.5279). How the bootstrap works, why percentile intervals are
#   too narrow in small samples, and permutation tests.
# - H. Husain, "Your AI Product Needs Evals", 2024 (https://hamel.dev/blog/posts/evals/).
#   Levels of evaluation, from assertions to human review.
#
# **Next:** lesson 1.5, Agents and tool calling.
