# %% [markdown]
# # 1.6 Prompting, RAG or fine-tuning?
#
# When a model does not do what you need, there are three levers: change the **prompt**, give
# it the right documents at question time (**RAG**, retrieval-augmented generation), or
# **train** it on examples (fine-tuning). Teams pick one by habit: some fine-tune to teach a
# model facts that change next month, others pay a large model per call for a task a small
# trained model would do as well, faster and for almost nothing. The choice depends on what is
# missing, and you can measure it.
#
# In this lesson you route support tickets to the right queue twice, once by prompting and
# once with a small classifier you train on labelled tickets, and compare accuracy, cost and
# latency side by side. Then you ship the trained model the way production needs it:
# versioned, with its metadata, and refusing to load where it would silently give wrong
# answers.
#
# **Time:** about 45 minutes. **You need:** lessons 1.2 (structured output) and 1.3
# (embeddings) help but are not required. No GPU, no network, no API key.
#
# ## Learning objectives
# - Tell a gap in **knowledge** from a gap in **behaviour** or **format**, and pick prompting,
#   RAG or fine-tuning for each.
# - Route tickets **zero-shot** (the prompt holds instructions but no solved examples) with a
#   JSON schema, and measure accuracy, macro-F1, cost per 1,000 tickets and latency.
# - Train a small classifier on embeddings (the cheapest form of fine-tuning: training on your
#   labels) and compare it with prompting on the same tickets.
# - Read a learning curve: how many labelled examples training needs to beat the prompt.
# - Save a trained model as a versioned artifact with metadata, and refuse to load it with the
#   wrong embedder or a changed file.

# %% [markdown]
# ## Setup
#
# The parameters: `seed` drives every random choice, and `fast` scores on a fixed sample of
# 60 test tickets instead of all of them, for quick runs (the lesson reads the same either
# way).

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# The imports. `course_lib.classify` is this lesson's package: the zero-shot router, the
# classifier, the scores and the artifact functions. The client is the course's model client
# from lesson 1.1, here talking to the local model in process. Lessons never name a model:
# they ask for a **role** (`chat-small`, `chat-large`, `embed`: a job, not a product), and the
# course's **model registry** (lesson 1.1) maps each role to a model and its prices. The table
# shows the three models this lesson uses, with the prices the registry gives them.

# %%
import matplotlib.pyplot as plt
import pandas as pd

from course_lib.classify import (
    EmbeddingClassifier,
    classification_scores,
    confusion_counts,
    learning_curve,
    load_artifact,
    save_artifact,
    ticket_texts,
    zero_shot_route,
)
from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100 (hint: when stuck)
from course_lib.datasets import TICKET_CATEGORIES, load_handbook, load_tickets, split_sections
from course_lib.embeddings import get_embedder
from course_lib.llm import LLMClient
from course_lib.models import get_registry
from course_lib.workdir import work_path

pd.set_option("display.float_format", "{:.4g}".format)
registry = get_registry()
client = LLMClient.from_settings()
pd.DataFrame(
    [
        (role, spec.id, spec.input_price_per_million, spec.output_price_per_million)
        for role in ("chat-small", "chat-large", "embed")
        for spec in [registry.resolve(role)]
    ],
    columns=["role", "model", "input $ per million tokens", "output $ per million tokens"],
)

# %% [markdown]
# The model behind `client` is the course's **local stand-in**: a small program that answers
# like a hosted model (same API, token counts, prices and modelled latency), offline and the
# same way on every run. It does not reason; it picks sentences, and it fills a JSON schema by
# matching the input against each option and its description. `docs/local-model.md` describes
# it. To run this lesson against a real provider, set `llm_provider`, `llm_base_url` and a
# model registry in `course.toml` (and the key in `COURSE_LLM_API_KEY`), then create the client
# with `LLMClient.from_settings()`; every cell below stays the same. Expect a real model to
# route far better zero-shot than the stand-in: the *method* of comparison is the lesson, the
# stand-in's scores are not a measure of any real model.

# %% [markdown]
# ## 1. Three levers, three kinds of gap
#
# Before any ticket, the frame. Ask what is missing:
#
# | what is missing | example | lever | why |
# |---|---|---|---|
# | **knowledge**: facts, especially facts that change or must be cited | "What is the on-call allowance?" | RAG | the model reads the current text when it answers; update a document, not a model |
# | **behaviour or format** you can describe | "answer as JSON with these fields", "decline salary questions" | prompting (instructions, a schema, a few examples) | no data, no training, changed in minutes |
# | a **narrow skill** learned from many labelled examples | "route 40,000 tickets a day into ten queues" | fine-tuning | when prompting plateaus, or each call is too slow or too dear |
#
# Prompting is always the first try: it is the only lever that needs no data. Lesson 00 showed
# why knowledge is a different kind of gap. Here is that failure again, in two calls: the same
# question without the handbook page, then with it. Below them, the allowance rule as each
# version of the handbook states it (`load_handbook("v1")` is the older snapshot).

# %%
question = "What is the on-call allowance per week?"


def allowance_rule(version):
    """One handbook version's on-call policy, its allowance section, and the rule as one line."""
    page = next(p for p in load_handbook(version) if p.id == "oncall-policy")
    part = next(s for s in split_sections(page.text) if "allowance: EUR" in s.text)
    rule = part.text.split("\n- ")[0].removeprefix("- ")  # the first bullet of the list
    return page, part, " ".join(rule.replace("**", "").split())  # no markdown, one line


policy, section, current_rule = allowance_rule("current")
old_policy, _, old_rule = allowance_rule("v1")

from_memory = client.chat(question, model="chat-small")
with_page = client.chat(
    f"[oncall-policy] {section.text}\n\nQuestion: {question}",
    system="Answer only from the passages and cite them.",
    model="chat-small",
)
print("from memory:  ", from_memory.content)
print("with the page:", with_page.content)
for page, rule in ((old_policy, old_rule), (policy, current_rule)):
    print(f"handbook version {page.version} (updated {page.updated}): {rule}")

# %% [markdown]
# From memory, the model gives the amount of the older handbook (version 1), confidently. With
# the page in the prompt, it answers from the current text and cites it. Fine-tuning would not
# fix this: it would bake whichever amount was in the training data into the **weights** (the
# numbers a model learned in training, which are the model), with no citation, until the next
# training run. Ovadia et al. (2024) measured exactly this comparison
# on knowledge-heavy questions: retrieval beat fine-tuning, both for facts the model had seen
# and for new ones. **Facts go in retrieval** (lessons 2.1 and 2.2 build it).
#
# Ticket routing is the other kind of gap: not a fact to look up but a decision to make the
# way the service desk makes it. That is where prompting and fine-tuning compete, and where
# the rest of this lesson measures them.

# %% [markdown]
# ## 2. The task: route tickets to the right queue
#
# The tickets are the Kestrel Freight service desk's: 720 of them, each labelled with one of
# ten categories (`course_lib/datasets/README.md` is their datasheet). Each ticket was written
# from a **template**, a scenario with slots (a service, a name, an amount) and typos filled in
# at random. The **test split holds out whole templates**: every test ticket comes from a
# scenario the training tickets never used, so the test measures what happens on new wording,
# which is what production sends.

# %%
train = load_tickets("train")
test = load_tickets("test")
evaluation = test.sample(60, random_state=seed).sort_values("id") if fast else test
eval_texts = ticket_texts(evaluation)
truth = evaluation["category"].tolist()
labels = sorted(train["category"].unique())
print(f"{len(train)} training tickets, {len(test)} test tickets; scoring on {len(evaluation)}.")
print(f"{len(labels)} categories:", ", ".join(labels))

# %% [markdown]
# A router reads the subject and the body, as one text (`ticket_texts` builds it the same way
# for every approach, so the comparison measures the methods and not their inputs). One of the
# test tickets, picked by its id, with its true category (the typos are part of the data):

# %%
example = test.set_index("id").loc["TCK-0020"]
print(ticket_texts(example.to_frame().T)[0])
print("->", example["category"])

# %% [markdown]
# ## 3. The prototype: routing by prompting
#
# A tutorial would stop here: give a model the ticket and a JSON schema whose `category` field
# is an enum of the ten queues, each value explained in the field's description
# (`value: meaning`, the service desk's own definitions). No training data, one call per
# ticket. This is **zero-shot** prompting: instructions and definitions, but no solved example
# tickets in the prompt. `zero_shot_route` does exactly that, and returns the category, or
# `None` with the reason when the answer cannot be parsed. Here is everything it sends, once:
# the system message (the instructions), the user message (the ticket text, as above) and the
# schema, with its description cut after the first of the ten definitions:

# %%
import json
import textwrap

from course_lib.classify import ROUTING_SYSTEM_PROMPT, routing_response_format

request_format = routing_response_format(
    TICKET_CATEGORIES
)  # a fresh dict, safe to shorten for printing
category_field = request_format["json_schema"]["schema"]["properties"]["category"]
first_definition = category_field["description"].split(" login_mfa:")[0]
category_field["description"] = first_definition + " login_mfa: ... (all ten, one by one)"
print("system message:", textwrap.fill(ROUTING_SYSTEM_PROMPT, 100), "\n")
print("user message: the ticket's subject and body, as printed above\n")
print("response_format:", textwrap.fill(json.dumps(request_format), 100))


# %% [markdown]
# One call, on the ticket above. `prompt_version` is a label the client records with every
# call (`ticket-routing@1` is this prompt, version 1), so logs and evaluations say which
# wording produced each answer; change the prompt, bump the version.

# %%
route = zero_shot_route(client, example, categories=TICKET_CATEGORIES, seed=seed)
print(route.category, "| error:", route.error)
print(f"cost ${route.cost_usd:.6f}, modelled latency {route.simulated_latency_ms:.0f} ms")
print("prompt version:", route.result.prompt_version)


# %% [markdown]
# Now every evaluation ticket, with the small and the large chat model. Latency here is the
# local model's **modelled** latency (`simulated_latency_ms`: a fixed base plus a cost per
# token, from the registry), so it is the same on every machine.

# %%
routes = {
    model: [
        zero_shot_route(client, row, categories=TICKET_CATEGORIES, model=model, seed=seed)
        for _, row in evaluation.iterrows()
    ]
    for model in ("chat-small", "chat-large")
}


def summarise(predicted, cost_usd, latency_ms):
    scores = classification_scores(truth, predicted, labels=labels)
    return {
        "accuracy": scores.accuracy,
        "invalid answers": scores.invalid,
        "cost per 1,000 tickets ($)": cost_usd / len(predicted) * 1000,
        "latency per ticket (ms)": latency_ms,
    }


rows = {}
for model, results in routes.items():
    rows[f"prompt, {model}"] = summarise(
        [r.category for r in results],
        sum(r.cost_usd for r in results),
        sum(r.simulated_latency_ms for r in results) / len(results),
    )
pd.DataFrame.from_dict(rows, orient="index")

# %% [markdown]
# Read the table row by row. The small model routes only part of the held-out tickets right,
# with nothing to go on but the instructions and the definitions; the large one does better,
# and costs many times more per ticket and takes longer. Every answer is at least usable (the
# "invalid answers" column): `routing_response_format` sends the schema with `"strict": true`,
# so the provider constrains the reply to the schema, and the category is always one of the
# enum's values. The local server honours strict mode as OpenAI does; lesson 1.2 measured the
# cut-off documents and misspelt categories you get without it, and the one failure strict
# mode still allows (a reply cut short by `max_tokens`). A router still counts an unusable
# answer as a miss, or sends the ticket to a person, for providers without the feature.
#
# Accuracy hides one more thing: the small queues. A router that never says `security_report`
# loses only a few points of accuracy but misses every phishing report. The usual remedy is
# **macro-F1**: the F1 score of each class, averaged with every class weighing the same. A
# class's F1 combines its **precision** (of the tickets sent to this queue, the share that
# belong there) and its **recall** (of the tickets that belong there, the share sent there)
# as their harmonic mean; lesson 1.4 introduces the three.


# %% [markdown]
# ### Exercise 1.6.1: Macro-F1 by hand
#
# Complete `macro_f1(true_labels, predicted)`. For each class `c` that occurs in
# `true_labels`, count:
#
# - `tp`: items whose true label is `c` and that were predicted `c`;
# - `fp`: items predicted `c` whose true label is something else;
# - `fn`: items whose true label is `c` but that were predicted something else.
#
# The class's F1 is `2 * tp / (2 * tp + fp + fn)`, or 0 when `tp` is 0. Return the plain mean
# over the classes. A prediction of `None` (an unusable answer, which a provider without
# strict mode can return) or of a label that is not in `true_labels` is wrong, but it is not a
# class. Do not change the lists you are given.


# %%
def macro_f1(true_labels, predicted):
    """The mean over the classes of true_labels of each class's F1 score."""
    # BEGIN SOLUTION
    classes = list(dict.fromkeys(true_labels))
    scores = []
    for c in classes:
        pairs = list(zip(true_labels, predicted, strict=True))
        tp = sum(1 for t, p in pairs if t == c and p == c)
        fp = sum(1 for t, p in pairs if t != c and p == c)
        fn = sum(1 for t, p in pairs if t == c and p != c)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)
    # END SOLUTION


# %%
check("1.6.1", macro_f1)

# %% [markdown]
# The table again, with macro-F1 from your function (or the course's, until yours passes):

# %%
f1 = answer_or_reference("1.6.1", macro_f1)
for model, results in routes.items():
    rows[f"prompt, {model}"]["macro-F1"] = f1(truth, [r.category for r in results])
pd.DataFrame.from_dict(rows, orient="index")[["accuracy", "macro-F1", "invalid answers"]]

# %% [markdown]
# Compare the two columns. Accuracy weighs each queue by its number of tickets, macro-F1 weighs
# every queue the same. So when macro-F1 falls well below accuracy, the small queues are routed
# worse than the big ones. When the two are close, as here, the small queues do about as well
# as the big ones *on average*; that does not prove the misses are spread evenly (one queue
# can still be routed badly, and section 5 finds one). That is the prototype measured. It
# needs no data and it is the right first step; whether it is good enough is a question for
# the numbers, and for what the alternative costs.


# %% [markdown]
# ## 4. Training on your labels: a small classifier on embeddings
#
# The alternative learns from the 584 labelled training tickets. It is the cheapest form of
# fine-tuning, and the word needs care. A **full fine-tune** changes the weights of a model
# itself. Here the embedding model of lesson 1.3 stays **frozen** (unchanged): it only turns
# each ticket into a vector of 256 numbers. What is trained is a small classifier on top of
# those vectors (a classification "head"): a **logistic regression** (scikit-learn), which
# gives each queue a weighted sum of the 256 numbers, turns the ten sums into probabilities,
# and learns the weights that make the training tickets' true queues most probable. Its
# setting `C=10` says how closely it may fit the training tickets (larger: closer, with more
# risk of memorising them). Below, "the classifier" is this trained head; section 8 says what
# a full fine-tune of a generative model involves.
#
# Embed once, reuse the vectors for training, scoring and the learning curve later. The last
# line prints the embedder's identity: its name in the registry, the vector length, and a
# version string (the embedding library's version, the model configuration it loaded, the
# dimension). Section 7 shows why the trained model must remember it.

# %%
classifier = EmbeddingClassifier()  # the default embedder, logistic regression (C=10)
train_texts = ticket_texts(train)
train_vectors = classifier.embed(train_texts)
eval_vectors = classifier.embed(eval_texts)
print(classifier.embedder_identity)

# %% [markdown]
# Training takes seconds at most on a laptop CPU, most of it loading scikit-learn (the time
# varies between machines and runs, so this output is not compared):


# %% tags=["nbval-ignore-output"]
import time

started = time.perf_counter()
classifier.fit_vectors(train_vectors, train["category"].tolist())
print(f"trained {classifier} in {time.perf_counter() - started:.2f} s")

# %% [markdown]
# Its cost per ticket is the embedding: the tokens of the ticket at the embedding model's price
# (what an embeddings API would bill). Training costs the same for the 584 training tickets,
# once.

# %%
embed_spec = registry.resolve("embed")
predicted = classifier.predict_vectors(eval_vectors)
eval_tokens = classifier.count_tokens(eval_texts)
train_tokens = classifier.count_tokens(train_texts)
rows["classifier on embeddings"] = summarise(predicted, embed_spec.cost(eval_tokens), float("nan"))
rows["classifier on embeddings"]["macro-F1"] = f1(truth, predicted)
print(f"training: {train_tokens:,} embedding tokens, ${embed_spec.cost(train_tokens):.6f} once")
pd.DataFrame.from_dict(rows, orient="index")[
    ["accuracy", "macro-F1", "invalid answers", "cost per 1,000 tickets ($)"]
]

# %% [markdown]
# Its latency is measured, not modelled: one ticket at a time, as a service would see them,
# embedding plus prediction. (With a hosted embeddings API you would add a network round trip.)

# %% tags=["nbval-ignore-output"]
import statistics

timings = []
for text in eval_texts[:50]:
    started = time.perf_counter()
    classifier.predict([text])
    timings.append((time.perf_counter() - started) * 1000)
classifier_ms = statistics.median(timings)
rows["classifier on embeddings"]["latency per ticket (ms)"] = classifier_ms
print(f"classifier: median {classifier_ms:.2f} ms per ticket (measured on this machine)")

# %% [markdown]
# ## 5. Side by side
#
# All three approaches, on the same tickets. The latency column mixes the modelled latency of
# the model calls with the measured one of the classifier (which varies between runs, so this
# output is not compared); the other columns are the same on every run.

# %% tags=["nbval-ignore-output"]
comparison = pd.DataFrame.from_dict(rows, orient="index")[
    [
        "accuracy",
        "macro-F1",
        "invalid answers",
        "cost per 1,000 tickets ($)",
        "latency per ticket (ms)",
    ]
]
comparison

# %% [markdown]
# The picture of the same table: accuracy against cost per 1,000 tickets, on a log scale
# because the costs differ by orders of magnitude. Up and to the left is better.

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for name, row in comparison.iterrows():
    ax.scatter(row["cost per 1,000 tickets ($)"], row["accuracy"], s=60)
    ax.annotate(
        name,
        (row["cost per 1,000 tickets ($)"], row["accuracy"]),
        textcoords="offset points",
        xytext=(6, 6),
    )
ax.set_xscale("log")
costs = comparison["cost per 1,000 tickets ($)"]
ax.set_xlim(costs.min() / 2, costs.max() * 5)
ax.set_xlabel("cost per 1,000 tickets (US$, log scale)")
ax.set_ylabel("accuracy on held-out tickets")
ax.set_ylim(0, 1)
ax.set_title("Routing tickets: accuracy against cost")
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# How sure can you be with this many tickets? Compare the classifier with each prompt, ticket
# by ticket: a **paired bootstrap** (lesson 1.4) resamples the per-ticket differences.

# %%
from course_lib.evaluation import paired_bootstrap

classifier_correct = [float(p == t) for p, t in zip(predicted, truth, strict=True)]
for model, results in routes.items():
    prompt_correct = [float(r.category == t) for r, t in zip(results, truth, strict=True)]
    print(f"A = prompt, {model}; B = classifier on embeddings")
    print("  ", paired_bootstrap(prompt_correct, classifier_correct, seed=seed))

# %% [markdown]
# Read the verdict at the end of each line: it says whether the accuracy difference is larger
# than the noise of a sample this size. With a hundred-odd tickets, a gap of a few points is
# not, and even the classifier's lead of more than ten points over the small model's prompt
# sits at the edge of the noise: its interval starts near zero. Accuracy alone does not settle
# the choice here. The other columns do, and there the gap is not a few points but orders of
# magnitude:


# %%
classifier_cost = rows["classifier on embeddings"]["cost per 1,000 tickets ($)"]
for model in routes:
    ratio = rows[f"prompt, {model}"]["cost per 1,000 tickets ($)"] / classifier_cost
    print(f"prompt, {model} costs {ratio:,.0f} times as much per ticket as the classifier")

# %% [markdown]
# Where does the best approach (by macro-F1) still go wrong? `confusion_counts` counts, for
# each true queue (a row), where its tickets went (a column per queue, in the order of
# `labels`, plus one last column for unusable answers). The diagonal is right, everything
# else is a mistake. `[:, : len(labels)]` keeps every row and the first ten columns: the
# square queue-by-queue part, for the picture. The cell prints the share each true queue gets
# right, worst first, dividing by the full row so unusable answers count as misses.

# %%
import numpy as np

best = comparison["macro-F1"].idxmax()
best_predictions = (
    predicted
    if best == "classifier on embeddings"
    else [r.category for r in routes[best.split(", ")[1]]]
)
full_counts = confusion_counts(truth, best_predictions, labels=labels)
counts = full_counts[:, : len(labels)]
per_queue = counts.diagonal() / full_counts.sum(axis=1)
print(f"{best}, tickets right per true queue, the four worst:")
for i in np.argsort(per_queue, kind="stable")[:4]:
    print(f"  {labels[i]:<16} {counts[i, i]:2} of {full_counts[i].sum():2}")

# %% [markdown]
# The picture of the square part: darker means more tickets, and each cell shows its count.

# %%
fig, ax = plt.subplots(figsize=(6.5, 5.5))
ax.imshow(counts, cmap="Blues")
for (i, j), n in np.ndenumerate(counts):
    if n:
        ax.text(
            j, i, n, ha="center", va="center", color="white" if n > counts.max() / 2 else "black"
        )
ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
ax.set_yticks(range(len(labels)), labels)
ax.set_xlabel("predicted queue")
ax.set_ylabel("true queue")
ax.set_title(f"Confusion matrix: {best}")
plt.show()

# %% [markdown]
# Most tickets sit on the diagonal, but the queues are far from equal, although macro-F1 was
# close to accuracy: the worst queue (`software_licence` here) gets only a few of its tickets
# right, and `deploy_ci` loses many of its own, spread over several queues. The largest
# off-diagonal cells, as a list, then the worst queue's misrouted tickets (their first line):

# %%
mistakes = [
    (counts[i, j], labels[i], labels[j])
    for i in range(len(labels))
    for j in range(len(labels))
    if i != j and counts[i, j]
]
for n, true_label, wrong_label in sorted(mistakes, key=lambda m: (-m[0], m[1], m[2]))[:4]:
    print(f"{n} x {true_label} routed to {wrong_label}")

worst = labels[int(np.argmin(per_queue))]
print(f"\n{worst} ({(train['category'] == worst).sum()} training tickets), routed elsewhere:")
for text, true_label, guess in zip(eval_texts, truth, best_predictions, strict=True):
    if true_label == worst and guess != worst:
        print(f"  -> {guess}: {text.splitlines()[0]}")

# %% [markdown]
# Most mistakes sit on the boundaries the datasheet describes: failing to sign in against
# asking for access, access to a dataset against a question about data, a broken device
# against an expense claim. The worst queue is a different story: `software_licence` is one
# of the two smallest queues in training (28 tickets, printed above), and its test tickets
# come from scenarios the training tickets never used (a Zoom licence for a customer's
# onboarding webinar, a small one-off purchase to be expensed). With few examples and none of
# these scenarios, the classifier sends most of them elsewhere (the list shows where).
# Those are the tickets to label more of, or to send to a person. The classifier gives a
# probability with each answer, so a production router can do exactly that: route
# automatically when it is confident, and queue the rest for the service desk.


# %%
probabilities = classifier.proba_vectors(eval_vectors).max(axis=1)
correct = np.array(classifier_correct)
for threshold in (0.0, 0.5, 0.7):
    sure = probabilities >= threshold
    print(
        f"probability >= {threshold:.1f}: routes {sure.mean():.0%} of tickets automatically,",
        f"{correct[sure].mean():.0%} of them right",
    )

# %% [markdown]
# ## 6. How many labelled tickets do you need?
#
# The classifier had 584 labelled tickets. Prompting needs none, and labels cost a person's
# time. A **learning curve** shows the trade: train on random subsets of growing size
# (several seeded draws each), score each on the same tickets, and compare with the prompts.
# The subsets are **stratified**: each keeps every queue at about its share of the full
# training set, so a small subset is not missing a queue by bad luck.

# %%
sizes = [25, 50, 100, 200, len(train)]
curve = learning_curve(
    classifier,
    train_vectors,
    train["category"].tolist(),
    eval_vectors,
    truth,
    sizes=sizes,
    repeats=2 if fast else 5,
    seed=seed,
)
summary = curve.groupby("size")["accuracy"].agg(["mean", "min", "max"])
summary

# %% [markdown]
# The figure: the classifier's mean accuracy (the band spans the best and worst draw) against
# the number of training tickets, with the two prompts as horizontal lines, since they use
# no training tickets at all. At the right edge the band closes to a point: a "subset" of all
# 584 tickets is the whole training set, the same in every draw, so it is trained once.

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.plot(summary.index, summary["mean"], marker="o", label="classifier on embeddings")
ax.fill_between(summary.index, summary["min"], summary["max"], alpha=0.2)
for model, style in (("chat-small", ":"), ("chat-large", "--")):
    ax.axhline(
        rows[f"prompt, {model}"]["accuracy"],
        linestyle=style,
        color="grey",
        label=f"prompt, {model}",
    )
ax.set_xscale("log")
ax.minorticks_off()
ax.set_xticks(sizes, [str(s) for s in sizes])
ax.set_xlabel("labelled training tickets (log scale)")
ax.set_ylabel("accuracy on held-out tickets")
ax.set_ylim(0, 1)
ax.legend(loc="lower right")
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# Where the mean curve first reaches each line is the number of labels that pays for
# training, computed:

# %%
for model in ("chat-small", "chat-large"):
    target = rows[f"prompt, {model}"]["accuracy"]
    enough = summary.index[summary["mean"] >= target]
    print(
        f"to match prompt, {model} ({target:.0%}):",
        f"{enough[0]} labelled tickets" if len(enough) else "more than we have",
    )

# %% [markdown]
# One to two hundred labels bring the classifier level with the small model's prompt; the
# large model's takes several hundred. Read these as orders of magnitude, not exact counts:
# they compare means on one test set, and section 5 showed that a few points of accuracy are
# within its noise (the draws in the band already differ by more than that). The curve also
# says whether more labels would still help: it is still rising at the right edge, so
# labelling more tickets is the next step, before reaching for a bigger model.


# %% [markdown]
# ## 7. Shipping the trained model
#
# The tutorial ends with `joblib.dump(model, "model.joblib")`. Six months later, that file
# answers none of the questions production asks: which data made it, how good it was, which
# library wrote it, and above all **which embedder's vectors it expects**. That last one fails
# silently. Suppose an upgrade of the embedding library changes the vectors (same dimension,
# different space). Here a fixed random rotation of the vectors stands in for that other
# embedder. `np.linalg.qr` splits a matrix of random numbers into factors, the first of which
# is a random **rotation**: multiplying by it turns every vector by the same amount, keeping
# lengths and the angles between vectors, so the new vectors are exactly as good for
# similarity, only in a space the classifier has never seen, like another embedder's:

# %%
rotation, _ = np.linalg.qr(
    np.random.default_rng(seed).normal(size=(classifier.embedder_identity.dimension,) * 2)
)
other_space = (eval_vectors @ rotation).astype(np.float32)
silent = classification_scores(truth, classifier.predict_vectors(other_space))
before = rows["classifier on embeddings"]["accuracy"]
print(f"vectors from another space: accuracy {silent.accuracy:.0%} (was {before:.0%}), no error")

# %% [markdown]
# No exception, no warning: every ticket still gets a queue, most of them wrong. The fix is to
# save the model with its **metadata** and to check it on load. The metadata records the data
# the model was trained on, by a fingerprint of it: the next exercise.
#
# ### Exercise 1.6.2: Fingerprint the training data
#
# Complete `data_fingerprint(texts, labels)`: return the SHA-256 hex digest (64 hex
# characters) of the training examples, so that the same data always gives the same
# fingerprint and **any** change (a text, a label, which label goes with which text, an added
# example) gives another. Watch the boundaries: tickets contain newlines, tabs, commas and
# pipes, so the texts `["ab\ncd", "ef"]` and `["ab", "cd\nef"]` must not hash alike, and
# neither may where a text ends and its label begins: `(["ab\ncd"], ["x"])` against
# `(["ab"], ["cd\nx"])`. Do not change the lists you receive, not even by sorting them in
# place (the checker compares them afterwards). Whether reordering the examples changes the
# fingerprint is up to you, since it is not tested; hashing the pairs in the order given (so
# a new order gives a new fingerprint) is the simple choice.


# %%
import hashlib
import json


def data_fingerprint(texts, labels):
    """SHA-256 hex digest of the (text, label) examples, unambiguous about boundaries."""
    # BEGIN SOLUTION
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(json.dumps([text, label], ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()
    # END SOLUTION


# %%
check("1.6.2", data_fingerprint)

# %% [markdown]
# Now save the model with `save_artifact`. It writes the model with joblib and, next to it, a
# JSON sidecar: the artifact's version, the file's SHA-256, the data fingerprint, the label
# set, the embedder's identity, the scikit-learn version, the training size and the metrics.
# The path is inside the course work directory, never the repository.

# %% tags=["nbval-ignore-output"]
fingerprint = answer_or_reference("1.6.2", data_fingerprint)
artifact_path = work_path("lesson_1_6", "ticket_router.joblib")
metadata = save_artifact(
    classifier,
    artifact_path,
    metadata={
        "artifact_version": "ticket-router-1.0.0",
        "data_sha256": fingerprint(train_texts, train["category"].tolist()),
        "metrics": {
            "eval": classification_scores(truth, predicted, labels=labels).as_dict(),
            "eval_split": "test (sample of 60)" if fast else "test",
        },
    },
)
print(json.dumps(metadata, indent=2))

# %% [markdown]
# (`artifact_sha256` may differ on your machine: the classifier's weights can differ in their
# last bits with the CPU's maths library, and the hash sees every bit. So this output varies
# between machines and is not compared.)

#
# `load_artifact` checks, before it unpickles anything: that the sidecar is complete, that the
# file's hash matches the recorded one, that the embedder in use is the one the model was
# trained on, and that scikit-learn is the version that wrote it. Loaded back, the model gives
# the same answers:

# %%
loaded = load_artifact(artifact_path)
print(
    loaded.metadata["artifact_version"],
    "| same predictions:",
    loaded.classifier.predict_vectors(eval_vectors) == predicted,
)

# %% [markdown]
# Now the two failures it exists to catch. First, the embedding library was upgraded: the
# embedder has the same name and dimension but a new version. Loading refuses, naming both:

# %%
import copy
import dataclasses

from course_lib.errors import EmbedderMismatchError

upgraded = copy.copy(get_embedder())
upgraded.identity = dataclasses.replace(
    upgraded.identity, version="wordllama-0.5.0/l2_supercat/256"
)
try:
    load_artifact(artifact_path, embedder=upgraded)
except EmbedderMismatchError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# Second, the file was changed after it was saved (here, one byte appended to a copy).
# Loading refuses before unpickling it, naming both hashes (which differ by machine, so this
# output is not compared):

# %% tags=["nbval-ignore-output"]
import shutil

from course_lib.classify import ArtifactError, metadata_path

tampered = work_path("lesson_1_6", "tampered.joblib")
shutil.copyfile(artifact_path, tampered)
shutil.copyfile(metadata_path(artifact_path), metadata_path(tampered))
with tampered.open("ab") as handle:
    handle.write(b"\x00")
try:
    load_artifact(tampered)
except ArtifactError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# Why check the hash *before* loading? A joblib file is a pickle, and **loading a pickle can
# run any code its author put in it**; scikit-learn's model persistence guide says so in its
# first table. Load model files only from sources you trust. The hash proves the file is the
# one that was saved, but against an attacker only if the sidecar (or the hash) comes from a
# place the attacker cannot write: a model registry, a signed release. Safer formats exist:
# `skops.io` loads only the types you allow, and ONNX stores no Python objects at all (at the
# price of supporting fewer models).

# %% [markdown]
# ## 8. Choosing, and what a bigger fine-tune involves
#
# The measurements above are for one task on one stand-in model, but the method carries over:
# start with a prompt, measure it on held-out data with a metric that sees the small classes,
# price it per 1,000 calls, and train only when you have the labels and the numbers say it
# pays. Put facts in retrieval, whatever you choose for behaviour.
#
# Fine-tuning a generative model itself (to change its style or teach it a task it cannot be
# prompted into) is the same decision at a larger scale. It rarely means a full fine-tune that
# updates every weight. **LoRA** (low-rank adaptation; Hu et al., 2021) keeps the model's
# weights frozen and trains small **adapters** added to some of its layers: each adapter is
# the product of two thin ("low-rank") matrices, so it has few numbers to learn. On GPT-3
# 175B (175 billion weights, or *parameters*) it cut the trainable parameters about 10,000
# times and the GPU memory about 3 times, with no extra latency once the adapters are merged
# into the weights. **QLoRA** (Dettmers et al., 2023) also stores the frozen weights in 4 bits
# each instead of the usual 16 (**4-bit quantisation**: each weight rounded to one of 16
# levels), and fine-tuned a 65B-parameter model (65 billion weights) on a single 48 GB GPU.
# The production questions are the ones this lesson asked: a held-out evaluation against the
# prompted baseline, a versioned dataset and artifact, and a plan for when the base model is
# retired.
#
# ### Exercise 1.6.3: Prompting, RAG or fine-tuning?
#
# Each key of `approach_for` is a need. Replace every `...` with `"prompting"`, `"rag"` or
# `"fine-tuning"`, whichever fits best, using the table in section 1.

# %%
# BEGIN SOLUTION
approach_for = {
    "answer staff questions about the travel policy, which finance revises every quarter": "rag",
    "return every answer as JSON with the fields the ticketing system expects": "prompting",
    "route 40,000 tickets a day into ten queues; 5,000 routed tickets exist and the prompted "
    "model's accuracy stopped improving": "fine-tuning",
    "show under each answer the handbook page it came from, so staff can check it": "rag",
    "find out next week whether a model can summarise incident reports usefully; no examples "
    "exist yet": "prompting",
    "answer 'who is on call for routing right now?' from the rota, which changes every week": "rag",
    "flag each of 10 million log lines a day as noise or not within 5 ms, from 20,000 lines "
    "engineers already labelled": "fine-tuning",
    "make the assistant decline questions about colleagues' salaries": "prompting",
}
# END SOLUTION
# STUB: approach_for = {
# STUB:     "answer staff questions about the travel policy, which finance revises every quarter": ...,
# STUB:     "return every answer as JSON with the fields the ticketing system expects": ...,
# STUB:     "route 40,000 tickets a day into ten queues; 5,000 routed tickets exist and the prompted "
# STUB:     "model's accuracy stopped improving": ...,
# STUB:     "show under each answer the handbook page it came from, so staff can check it": ...,
# STUB:     "find out next week whether a model can summarise incident reports usefully; no examples "
# STUB:     "exist yet": ...,
# STUB:     "answer 'who is on call for routing right now?' from the rota, which changes every week": ...,
# STUB:     "flag each of 10 million log lines a day as noise or not within 5 ms, from 20,000 lines "
# STUB:     "engineers already labelled": ...,
# STUB:     "make the assistant decline questions about colleagues' salaries": ...,
# STUB: }

# %%
check("1.6.3", approach_for)

# %% [markdown]
# Once your answer passes, this cell lists your needs grouped by lever, to read them side by
# side (until then it shows nothing of the answer):

# %%
if check("1.6.3", approach_for):
    for lever in ("prompting", "rag", "fine-tuning"):
        print(f"{lever}:")
        for need, chosen in sorted(approach_for.items()):
            if chosen.strip().lower() == lever:
                print("  -", need)
else:
    print("Your answers appear here, grouped by lever, once exercise 1.6.3 passes.")


# %% [markdown]
# ## Takeaways
#
# - Decide by what is missing. **Knowledge** (facts that change, or must be cited) goes in
#   retrieval; **behaviour and format** you can describe go in the prompt; a **narrow skill at
#   volume**, learned from labelled examples, is what fine-tuning is for.
# - Prompting is the first try and the baseline: no data, changed in minutes. Measure it on
#   held-out data, with macro-F1 as well as accuracy, and price it per 1,000 calls.
# - A small classifier trained on frozen embeddings is the cheapest form of fine-tuning
#   (training on your labels, not changing a model's weights). Here it scored above both
#   prompts (neither lead clearly beyond the noise of this test set, by the paired bootstraps
#   of section 5), at hundreds of times less cost per ticket than the large one and a fraction
#   of the latency. The learning curve says how many labels that takes.

# - A trained model is an artifact: save it with its version, data fingerprint, label set,
#   embedder identity, library version, metrics and file hash, and refuse to load it when any
#   of them does not match. A wrong embedder fails silently otherwise.
# - Pickle-based files (joblib) run code when loaded: load only trusted files, check the hash
#   first, and prefer `skops.io` or ONNX where you can.
#
# ## Production checklist
#
# - Is the gap knowledge, behaviour or format? Is the fix in the right lever?
# - Is there a held-out evaluation set, never trained on, phrased the way production will be?
# - Are the prompted baseline and the trained model compared on the same items, with
#   accuracy, macro-F1, cost per 1,000 and latency, and with error bars?
# - Does every artifact carry its version, data fingerprint, embedder identity, library
#   versions, metrics and a hash, checked on load?
# - Are uncertain predictions sent to a person instead of routed blindly?
# - Who retrains the model when the labels, the embedder or the categories change?
#
# ## Check your understanding
#
# 1. Why would fine-tuning a model on the handbook not fix the stale on-call answer?
# 2. A router has 90% accuracy and a macro-F1 of 0.6. What does that tell you?
# 3. Why is a classifier fed vectors from another embedder dangerous even though it raises no
#    error?
# 4. Your learning curve is still rising at 584 examples. What do you do next, and why not a
#    larger model first?
# 5. Why does `load_artifact` check the file's hash before calling `joblib.load`, and when
#    does that check not protect you?
#
# ## Further reading
#
# - O. Ovadia, M. Brief, M. Mishaeli and O. Elisha, "Fine-Tuning or Retrieval? Comparing
#   Knowledge Injection in LLMs", EMNLP 2024 (arXiv:2312.05934). Retrieval beat unsupervised
#   fine-tuning for both known and new facts.
# - Y. Gao et al., "Retrieval-Augmented Generation for Large Language Models: A Survey",
#   arXiv:2312.10997 (2023, revised 2024). The map of RAG designs behind layer 2.
# - OpenAI, "Fine-tuning" guide (platform.openai.com/docs/guides/fine-tuning): when
#   fine-tuning is worth it, and why to try prompting first.
# - scikit-learn, "Model persistence" (scikit-learn.org/stable/model_persistence.html): pickle,
#   joblib, skops and ONNX compared, with their security risks.
# - E. J. Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models", 2021
#   (arXiv:2106.09685); T. Dettmers et al., "QLoRA: Efficient Finetuning of Quantized LLMs",
#   2023 (arXiv:2305.14314). What fine-tuning a generative model involves.
#
# **Next:** lesson 1.7, Multimodal inputs.
