# %% [markdown]
# # 1.4 Evaluation: is the answer right, and is the change real?
#
# Every change to an AI system changes its answers: a prompt edit, a new model, a provider's
# silent update. You cannot reread every answer after every change. An **evaluation** turns
# "it looks fine" into a number over a fixed set of questions; statistics then says whether
# that number really moved.
#
# **Time:** about 55 minutes: 22 to read, 8 to run the code and read its outputs, 25 for
# the exercises. **You need:** lesson 00; lessons 1.1 (calling a model) and 1.3
# (embeddings) help. No statistics background is assumed.
#
# ## Learning objectives
# - Score answers against a golden set (exact match, token F1, a fact check, refusals) and
#   retrieval (recall@k, MRR), and say what each misses.
# - Put a bootstrap confidence interval on a score, and read it.
# - Decide with a paired comparison whether two prompts really differ, and improve a prompt
#   until a held-out comparison says so.
# - Test a model judge before trusting it: agreement on easy and hard wrong answers, length
#   bias and position bias.

# %% [markdown]
# ## Setup
#
# `seed` drives every random draw; `fast` runs fewer repeated samples.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# `LLMClient.from_settings()` returns the course's **local stand-in model** unless your
# settings name a provider ([`docs/local-model.md`](../../docs/local-model.md)). It runs
# offline, answers the same way on every run, and picks sentences rather than writing new
# ones. The judge biases measured here are **planted** in it, to imitate ones reported in
# real judges: their sizes say nothing about real models; the method transfers.
#
# `HandbookAssistant` is a small retrieval prototype: embed every handbook section
# (lesson 1.3), retrieve the three closest to the question, and ask the model to answer from
# them. Models are named by **role** (`chat-small`, `chat-large`, `judge`).

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100  hint("1.4.1") if stuck
from course_lib.datasets import load_golden_set
from course_lib.labs import CAREFUL_PROMPT, NAIVE_PROMPT, HandbookAssistant
from course_lib.llm import LLMClient

pd.set_option("display.max_colwidth", 70)
pd.set_option("display.width", 120)
client = LLMClient.from_settings()
assistant = HandbookAssistant(client)
dev = load_golden_set("dev")
print(f"{len(dev)} questions in the dev split; {len(assistant.sections)} sections indexed")
print("naive prompt:", NAIVE_PROMPT)

# %% [markdown]
# ## 1. The prototype, and the vibe check
#
# Three questions of the kind a demo shows:

# %%
demo = [q for q in dev if q.id in ("ops-005", "ops-013", "org-049")]
for question in demo:
    print(f"Q: {question.question}\nA: {assistant.ask(question.question).content}\n")

# %% [markdown]
# Fluent, on topic, and right. But a **vibe check** never sees the wrong answers, nor how
# often answers are right.

# %% [markdown]
# ## 2. A golden set, and metrics for answers
#
# A **golden set** is a fixed list of questions with agreed reference answers. Tune on the
# `dev` split; measure on `test` once, at the end, so your tuning cannot flatter the number
# you report. Each question has a type:

# %%
pd.Series([q.type for q in dev]).value_counts().rename("dev questions")

# %% [markdown]
# `fact` questions are answered by one passage, `multi_doc` by several documents,
# `restricted` by a restricted document (lesson 2.2). The handbook does not cover
# `unanswerable` ones: the right answer is a refusal. `version_sensitive` ones ask about a
# fact that changed, and also carry the outdated answer:

# %%
changed = next(q for q in dev if q.type == "version_sensitive")
print("Q:", changed.question)
print("reference answer:", changed.answer)
print("outdated answer: ", changed.stale_answer)

# %% [markdown]
# `run_golden` calls an answer function once per question and returns a table: one row per
# question, with the answer, each score, the tokens and the cost. A failed call scores 0: it
# failed the user too. The first metric, **exact match**, is 1 when the answer equals the
# reference after lower-casing and removing punctuation and articles (Rajpurkar et al., 2016).

# %%
from course_lib.evaluation import exact_match, run_golden

prototype = run_golden(
    lambda q: assistant.ask(q.question),
    dev,
    scorers={"exact_match": lambda q, answer: exact_match(answer, q.answer)},
    run="naive prompt",
)
print("calls that failed:", int(prototype["error"].notna().sum()))
print("exact match:", prototype["exact_match"].mean())
prototype[["question", "answer", "reference", "exact_match"]].head(3)

# %% [markdown]
# Zero everywhere: a sentence almost never equals a reference word for word. Exact match
# suits labels and numbers. For sentences:
#
# - **token F1** gives partial credit: the harmonic mean of the shares of shared words in the
#   answer (precision) and in the reference (recall);
# - the **fact check** `contains_fact`: does the answer state all the reference's numbers
#   and enough of its content words? Extra words cost nothing;
# - on an **unanswerable** question a refusal scores 1 and any answer 0 (Rajpurkar, Jia and
#   Liang, 2018); on answerable ones a refusal scores 0.
#
# `rescore` adds them from the stored answers, without calling the model again:

# %%
from course_lib.evaluation import is_refusal, rescore, summarize, token_f1
from course_lib.labs import fact_score


def answer_score(question, answer):
    """Token F1 against the reference; for an unanswerable question, 1 for a refusal."""
    if not question.answerable:
        return float(is_refusal(answer))
    return 0.0 if is_refusal(answer) else token_f1(answer, question.answer)


scorers = {"score": answer_score, "fact": fact_score}
prototype = rescore(prototype, dev, scorers)
summarize(prototype, ["score", "fact"], by="type")[["n", "score", "fact"]].round(3)

# %% [markdown]
# The prototype never refuses, so it scores 0 on every unanswerable question. With only 8
# `restricted` questions, one more right answer would move its fact score from 0.000 to
# 0.125. An interval (section 4) and a comparison (section 6) give such scores meaning.

# %% [markdown]
# ## 3. Metrics for retrieval: recall@k and MRR
#
# A wrong answer has two suspects: retrieval sent the wrong passages, or the model misused
# the right ones. The golden set cites the documents that answer each question, so retrieval
# is scored alone:
#
# - **recall@k**: the share of a question's cited documents among the top k documents (a
#   document with several sections in the ranking counts once);
# - **MRR**: the mean over questions of 1 / the position of the first cited document (0 if
#   none).

# %%
from course_lib.evaluation import recall_at_k, reciprocal_rank

answerable = [q for q in dev if q.answerable]
rankings = [[doc for doc, _ in assistant.retrieve(q.question, 10)] for q in answerable]
relevant = [set(q.doc_ids) for q in answerable]
pairs = list(zip(rankings, relevant, strict=True))
retrieval = {
    f"recall@{k}": np.mean([recall_at_k(r, s, k) for r, s in pairs]) for k in (1, 3, 5, 10)
}
retrieval["MRR"] = np.mean([reciprocal_rank(r, s) for r, s in pairs])
pd.Series(retrieval).round(3).to_frame("retrieval (embeddings), dev")

# %% [markdown]
# The assistant sends the model three sections. Split the answer scores on whether any cited
# document is among them:

# %%
in_context = {
    q.id: bool(set(q.doc_ids) & {doc for doc, _ in assistant.retrieve(q.question)})
    for q in answerable
}
found = prototype[prototype["id"].isin(in_context)]
found = found.assign(cited_doc_in_context=found["id"].map(in_context))
print(f"a cited document is sent for {sum(in_context.values())} of {len(in_context)} questions")
found.groupby("cited_doc_in_context")[["score", "fact"]].agg(["count", "mean"]).round(3)

# %% [markdown]
# In the `False` row the cited passage never reaches the model; other sections earn its few
# points. In the `True` row scores stay low too: the model also misuses the right passage. The two kinds of metric say
# which part to fix.

# %% [markdown]
# ## 4. One number is not enough: a confidence interval
#
# The dev set is a sample of the questions users ask; another sample would give another
# mean. The **bootstrap** (Efron and Tibshirani, 1993) measures by how much. Draw a new golden
# set of the same size from your scores, with replacement, and take its mean; repeat a few
# thousand times. The middle 95% of those means is a 95% confidence interval:

# %%
from course_lib.evaluation import bootstrap_ci, plot_bootstrap

interval = bootstrap_ci(prototype["score"], seed=seed)
print("answer score:", interval)
plot_bootstrap(prototype["score"], (interval.low, interval.high), seed=seed, label="answer score")
plt.show()

# %% [markdown]
# In theory, about 95% of intervals built this way contain the true score; four times the
# questions halve the width.

# %% [markdown]
# ## 5. A second prompt, and a second source of noise
#
# The obvious improvement: answer only from the documents, cite them, and say "I don't know"
# when they do not answer.

# %%
print("careful prompt:", CAREFUL_PROMPT)
careful = run_golden(
    lambda q: assistant.ask(q.question, system=CAREFUL_PROMPT),
    dev,
    scorers=scorers,
    run="careful prompt",
)
both = pd.concat([summarize(run, ["score"], seed=seed) for run in (prototype, careful)])
both.index = ["naive prompt", "careful prompt"]
both[["n", "score", "score_low", "score_high"]].round(3)

# %% [markdown]
# The intervals overlap, so comparing them cannot decide. Count each prompt's refusals:


# %%
def refusals(run):
    kind = run["type"].eq("unanswerable").map({True: "unanswerable", False: "answerable"})
    return run["answer"].map(is_refusal).groupby(kind).sum()


pd.DataFrame({"naive prompt": refusals(prototype), "careful prompt": refusals(careful)})

# %% [markdown]
# The careful prompt refuses 4 of the 14 unanswerable questions (it still answers 10), and 9
# that the handbook does answer.
#
# The **temperature** of a model call sets how random its choice of words is: at 0 it gives
# its most likely answer. Production often samples above 0, so one prompt gives different
# answers from call to call; a seed per call makes that reproducible here. Run the careful
# prompt at temperature 0.8 with several seeds:

# %%
n_samples = 4 if fast else 10
samples = [
    run_golden(
        lambda q, s=s: assistant.ask(q.question, system=CAREFUL_PROMPT, temperature=0.8, seed=s),
        dev,
        scorers={"score": answer_score},
        run=f"seed {s}",
    )
    for s in range(seed, seed + n_samples)
]
means = pd.Series([run["score"].mean() for run in samples])
answers = pd.DataFrame({run["run"][0]: run["answer"].to_numpy() for run in samples})
print(f"temperature 0: {careful['score'].mean():.3f}")
print(f"temperature 0.8: run means from {means.min():.3f} to {means.max():.3f}, {n_samples} seeds")
print(f"{int((answers.nunique(axis=1) > 1).sum())} of {len(answers)} questions got several answers")
print("first run alone:", bootstrap_ci(samples[0]["score"], seed=seed))

# %% [markdown]
# Two kinds of noise sit in every evaluation number: **sampling noise**, the spread between
# seeds, and **question noise**, the bootstrap interval, from which questions happened to be
# in the set. Here the second is larger: the seeds' run means span 0.161 to 0.170, one
# run's interval 0.130 to 0.200. Miller (2024) gives two remedies: evaluate at temperature 0
# when you can; otherwise answer each question several times and score the mean per question.
#
# Every sampled run scores a little above temperature 0; section 6 tests whether that is real.

# %% [markdown]
# ## 6. Real or noise? The paired comparison
#
# Both prompts answered the *same* questions, and a question hard for one is usually hard for
# the other. A **paired** comparison bootstraps the mean of the per-question differences
# (B minus A); if its interval excludes 0, the difference is unlikely to be noise. The
# **p-value** is how often a resampled difference falls on the other side of zero, doubled;
# p=0.000 means no resample crossed zero.
# Compare the prompts where each behaviour shows, and two seeds of one prompt as a
# known-noise control:

# %%
from course_lib.evaluation import compare_runs, plot_paired


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
    f"seed {seed + 1} - seed {seed}, same prompt": compare_runs(
        samples[0], samples[1], "score", seed=seed
    ),
}
for name, result in comparisons.items():
    print(f"{name:32} {result}")
plot_paired(comparisons, label="answer score, B - A")
plt.show()

# %% [markdown]
# Read from the top. On answerable questions the careful prompt is *worse*, and really so:
# it refuses 9 of them, and its document-id citations add words that F1 charges for. On
# unanswerable ones it refuses more, with a wide interval: there are only 14. Over all
# questions the two effects cancel: one overall number hides two real changes. The two seeds
# are noise, correctly called.
#
# Now section 5's question. Miller's remedy scores each question by its mean over the seeds,
# matching rows by question id; compare that, paired, with temperature 0:

# %%
averaged = (
    pd.concat(samples)
    .groupby("id", as_index=False, sort=False)
    .agg(type=("type", "first"), score=("score", "mean"))
)
print("one sample - temperature 0:", compare_runs(careful, samples[0], "score", seed=seed))
print("mean       - temperature 0:", compare_runs(careful, averaged, "score", seed=seed))

# %% [markdown]
# One sample cannot tell sampling from temperature 0; the mean over the seeds can. The gain
# is real and under 0.01 (+0.008): averaging shrinks the sampling noise until small
# differences show. It comes from the stand-in sometimes picking a second-best sentence, not
# from anything true of sampling.
#
# A 95% interval calls noise real about one time in twenty. For a decision such as shipping
# a prompt, ask for 99%. Fix what you compare, and what size would matter, before you look:
# test twenty variants and one will "win" by chance.
#
# ### Exercise 1.4.1 (open-ended): Beat the naive prompt without losing refusals
#
# Write a system prompt, `MY_PROMPT`, of at least 8 words that tells the model to answer from
# the documents ("using the documents", say). It must beat the naive prompt on answerable
# questions: fact check, paired, 95% interval above 0. It must also refuse at least as many
# unanswerable questions as the careful prompt. Tune on dev with
# `trial_prompt(assistant, MY_PROMPT, dev)`; the checker measures on the test split plus
# off-topic questions you have not seen. `hint("1.4.1")` gives graded hints.
#
# Only two things steer the stand-in, so passing prompts score alike. Both are **planted**,
# and simpler than a real model. The stand-in matches words, not meaning, so the checker
# refuses a prompt whose words say the opposite ("ignore the documents", "never answer in
# several sentences").
#
# - Length: `chat-small` gives its one best sentence. It gives more only for a few wordings
#   (e.g. "at most three sentences", "a few sentences", "two or three sentences"), not for
#   "in two sentences".
# - Refusals: only when the prompt allows them ("If the documents do not answer, say that you
#   don't know"), and then below a fixed relevance threshold. A prompt can switch refusals
#   on, not tune them.

# %%
# BEGIN SOLUTION
MY_PROMPT = (
    "Answer in at most two sentences, using only the documents. "
    "If the documents do not answer the question, say that you don't know."
)
# END SOLUTION
# STUB: MY_PROMPT = ...  # your system prompt, as a string

# %% [markdown]
# Your prompt on dev first, then the check on the held-out questions:

# %%
from course_lib.labs import trial_prompt

if isinstance(MY_PROMPT, str):
    print(trial_prompt(assistant, MY_PROMPT, dev, seed=seed))
check("1.4.1", MY_PROMPT)

# %% [markdown]
# The solution's prompt gains +0.088 on dev and +0.034 held out; the intervals overlap.
# Other questions give another number, and tuning on dev can add luck: report the held-out
# one. Your gain was measured by the fact check. Does token F1 agree?

# %%
asked = careful["type"] != "unanswerable"
if isinstance(MY_PROMPT, str):
    mine = run_golden(
        lambda q: assistant.ask(q.question, system=MY_PROMPT), dev, scorers=scorers, run="mine"
    )
    print(
        "token F1, yours - naive:", compare_runs(prototype[asked], mine[asked], "score", seed=seed)
    )

# %% [markdown]
# It does not, likely because the extra sentence adds words the reference lacks, which F1
# charges for. Choose the metric before the prompt, or the prompt chases it.

# %% [markdown]
# ## 7. A model as judge, tested before it is trusted
#
# Token F1 punishes a right answer in other words. A **model as judge** reads the question,
# the reference and the answer, and says whether the facts match. `grade` asks the `judge`
# role, at temperature 0, for a JSON verdict: a 1-to-5 score, pass or fail, a reason.

# %%
from course_lib.evaluation import grade

graded = grade(
    client, question=changed.question, reference=changed.answer, answer=changed.stale_answer
)
print(graded.verdict)

# %% [markdown]
# It failed the outdated answer, but one verdict proves nothing: test the judge on answers
# whose verdict you know. Per answerable question, `calibration_set` builds a right answer
# (the cited handbook sentence) and three kinds of wrong one:
#
# - **other question**: another document's reference answer. Wrong topic: an **easy wrong
#   answer** (an easy negative).
# - **stale** (two per changed question): the outdated answer and the old handbook sentence.
#   Right topic, old fact.
# - **near miss**: the right sentence with one figure changed. Right topic, same words.
#
# Stale answers and near misses are **hard wrong answers**.
#
# ### Exercise 1.4.2: Near misses for the judge
#
# Write `near_miss(answer, reference)`: return `answer` with a number the reference states
# changed to a different value, or `None` when it has none. Keep every other word. The checker
# runs it on test-split answers, and at least 80% must become near misses. Each must fail
# the fact check, keep as many numbers, and keep a token F1 of at least 0.75 with the
# original. Return `None` rather than a doubtful near miss: any string you return must pass.

# %%
import re


def near_miss(answer: str, reference: str) -> str | None:
    """``answer`` with a number that the reference states changed; None if there is none."""
    # BEGIN SOLUTION
    number = re.compile(r"(?<![\w.])\d+(?::\d\d|[.,]\d+)?(?![\w])")
    wanted = {m.group() for m in number.finditer(reference)}
    target = next((m.group() for m in number.finditer(answer) if m.group() in wanted), None)
    if target is None:
        return None
    if ":" in target:
        hours, minutes = target.split(":")
        new = f"{(int(hours) + 1) % 24:02d}:{minutes}"
    else:
        new = f"{float(target.replace(',', '')) * 2 or 1:g}"
    return number.sub(lambda m: new if m.group() == target else m.group(), answer)
    # END SOLUTION


# %%
check("1.4.2", near_miss)

# %% [markdown]
# Now grade every calibration answer. `agreement_by_kind` gives, per kind, how often the
# judge's verdict matches the label. It also computes **Cohen's kappa** (Cohen, 1960) with
# scikit-learn's `cohen_kappa_score`: agreement corrected for chance, 1 perfect, 0 no better
# than guessing. Kappa is computed with the easy wrong answers only, then with every kind.

# %%
from course_lib.evaluation import grade_all
from course_lib.labs import agreement_by_kind, calibration_set

labelled = calibration_set(dev, make_near_miss=answer_or_reference("1.4.2", near_miss))
judged = grade_all(client, labelled)
print("unusable verdicts:", int(judged["judge_error"].notna().sum()))
by_kind, kappas = agreement_by_kind(judged)
print(kappas.round(3).to_string())
by_kind.round(3)

# %% [markdown]
# The judge catches nearly every easy and stale wrong answer, but passes many near misses,
# whose words almost all agree with the reference, and passes only 0.823 of the right
# answers. The stand-in judge compares words, so this weakness is planted; measure a real
# judge, which may do better or worse.
#
# With the easy wrong answers alone, kappa looks good (0.823, equal to the `right` row
# because there are as many easy wrong answers as right ones, all failed); with the hard
# ones it drops, to 0.659 with the solution's near misses. A system's own wrong answers are rarely about another question:
# calibrate on hard wrong answers, report agreement per kind, and keep a deterministic check
# for the key number.
#
# ### Length bias
#
# Judges favour longer answers (Zheng et al., 2023, call it verbosity bias); the stand-in's
# judge has this bias planted. Pad every answer with four copies of a filler sentence that
# adds no facts, and grade again. An unbiased judge gives the same scores.

# %%
from course_lib.evaluation import paired_bootstrap

FILLER = " That is all there is to it, and it is what it is."
padded = grade_all(client, labelled.assign(answer=labelled["answer"] + FILLER * 4))
print(
    "judge score, padded - original:",
    paired_bootstrap(
        judged["judge_score"].astype(float), padded["judge_score"].astype(float), seed=seed
    ),
)
wrong = ~judged["label"].astype(bool)
before, after = (frame.loc[wrong, "judge_passed"].astype(bool).mean() for frame in (judged, padded))
print(f"wrong answers passed: {before:.3f} unpadded, {after:.3f} padded")

# %% [markdown]
# The facts stay the same, yet scores rise and the share of wrong answers passed goes from
# about 0.15 to about 0.34 (the exact figures depend on your near misses). Used alone, this judge would favour the prompt with longer answers. Rerun
# this cheap test whenever the judge's model or prompt changes.
#
# ### Position bias
#
# A pairwise judge names the better of two answers, and judges lean towards one position
# (Zheng et al., 2023). The stand-in's pairwise mode has a planted bias: when two answers
# agree with the reference about equally, it names the first. `position_bias` pits each
# right answer against each wrong one of its question, in both orders; a verdict that flips
# with the order follows the position:

# %%
from course_lib.labs import position_bias

position_bias(client, labelled).round(3)

# %% [markdown]
# Against easy wrong answers the order rarely matters; against near misses it often does.
# So ask in both orders, count a preference only when both agree, and record the
# `follows_position` share as a measure of the judge.
#
# **Self-preference.** Judges tend to favour answers written the way they write (Zheng et
# al.'s self-enhancement bias). Here the `judge` role is served by the same model as
# `chat-large`: in production, use a judge from another model family.

# %% [markdown]
# ## 8. The production version: an evaluation is a table
#
# A run table holds quality, tokens, cost and latency per question, so it also answers "is
# the bigger model worth it?". The **p95 latency** is the time within which 95% of calls
# answer (here, the stand-in's modelled latency). Run the careful prompt on `chat-large`:

# %%
large = run_golden(
    lambda q: assistant.ask(q.question, system=CAREFUL_PROMPT, model="chat-large"),
    dev,
    scorers={"score": answer_score},
    run="careful, chat-large",
)
print(compare_runs(careful, large, "score", seed=seed))
table = pd.DataFrame(
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
ratio = table["careful, chat-large"] / table["careful prompt"]
cost, latency = ratio["cost per 1,000 questions (USD)"], ratio["modelled p95 latency (ms)"]
print(f"chat-large / chat-small: {cost:.1f} times the cost, {latency:.1f} times the p95 latency")
table.round(3)

# %% [markdown]
# No measurable gain, at 22.5 times the cost and 6.0 times the modelled p95 latency. Keep
# every run: lesson 2.6 versions such files and lesson 4.2
# stores them in SQL.

# %%
from course_lib.workdir import work_path

runs = pd.concat([prototype, careful, large, *samples], ignore_index=True)
path = work_path("lesson_1_4", "runs.csv")
runs.to_csv(path, index=False)
print(f"{len(runs)} rows from {runs['run'].nunique()} runs saved to {path.name}")

# %% [markdown]
# ## Takeaways
#
# - Choose the metric for the answer's shape before tuning, and tune on dev, not test.
# - A mean needs its interval; a paired comparison, per question type, tells a change from
#   noise.
# - A judge is a model: calibrate it on hard wrong answers, measure its biases, and never use
#   it as the only metric.

# %% [markdown]
# ## Production checklist
#
# - A versioned golden set with dev and test splits, and questions the system must refuse.
# - Deterministic metrics first; a judge only where they cannot decide, calibrated per kind.
# - Every score with its interval and n; every change compared with the baseline, paired.
# - A pairwise judge asked in both orders, from another model family, with a human spot
#   check.
# - Every run stored with its answers, prompt version, model and cost (lesson 2.6), and run
#   in CI before a change ships (lesson 3.5).

# %% [markdown]
# ## Check your understanding
#
# 1. A new prompt raised the mean score by two points on about a hundred questions. What do
#    you compute before you believe it?
# 2. Why does a paired comparison detect differences that two overlapping intervals cannot?
# 3. A judge agrees with your labels on nine answers in ten. Why is that not enough?
# 4. Which of this lesson's metrics reward longer answers, and which punish them?
# 5. You read a test question's wrong answers and changed the prompt. Which split does that
#    question belong to now?
#
# <details><summary>Short answers</summary>
#
# 1. A paired comparison with the old prompt on the same questions, per question type if the
#    prompt changes several behaviours.
# 2. It removes what both runs share: a question hard for one prompt is hard for the other,
#    so the differences vary much less than the scores.
# 3. Raw agreement flatters a judge when most answers are right; kappa corrects for chance.
#    And easy wrong answers hide the near misses it passes.
# 4. The judge (length bias) and the fact check reward them; token F1 and exact match punish
#    them.
# 5. Dev: you tuned on it. A question may move from test to dev, never back.
#
# </details>

# %% [markdown]
# ## Further reading
#
# - P. Rajpurkar et al., "SQuAD: 100,000+ Questions for Machine Comprehension of Text", EMNLP
#   2016 (https://arxiv.org/abs/1606.05250); P. Rajpurkar, R. Jia, P. Liang, "Know What You
#   Don't Know: Unanswerable Questions for SQuAD", ACL 2018
#   (https://arxiv.org/abs/1806.03822).
# - E. Miller, "Adding Error Bars to Evals: A Statistical Approach to Language Model
#   Evaluations", 2024 (https://arxiv.org/abs/2411.00640).
# - B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall, 1993.
# - J. Cohen, "A Coefficient of Agreement for Nominal Scales", Educational and Psychological
#   Measurement 20(1), 1960.
# - L. Zheng et al., "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena", NeurIPS 2023
#   (https://arxiv.org/abs/2306.05685): position, verbosity and self-enhancement biases.
# - H. Husain, "Your AI Product Needs Evals", 2024 (https://hamel.dev/blog/posts/evals/).
# - Frameworks (`inspect_ai`, `promptfoo`, `ragas`, `deepeval`, `mlflow.genai.evaluate`):
#   check that one keeps one row per question, reports intervals and lets you calibrate its
#   judge.
#
# **Next:** lesson 1.5, Agents and tool calling.
