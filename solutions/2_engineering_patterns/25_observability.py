# %% [markdown]
# # 2.5 Observability
#
# The Handbook Assistant has answered Kestrel Freight's staff for a week. Now the questions
# come. Why did the bill go up? Is the slowest one percent of answers getting slower? Which
# prompt version was serving when the complaints came in? And did the logs just keep a
# customer's phone number? A tutorial's observability is `print()`, which answers none of them.
#
# This lesson replaces it with traces: a timed record of every step of every request, free of
# personal data, stored in a real trace backend. Then you use a week of production traffic the
# way an on-call engineer would: latency percentiles, cost per team, a queue of answers for
# people to review, and a search for what went wrong that week.
#
# **Time:** about 45 minutes (about 15 minutes of reading, 10 of running and reading output,
# 20 for the exercises). **You need:** lesson 1.1 (tokens, cost and latency of a call)
# and lesson 2.2 (the Handbook Assistant and its index).
#
# ## Learning objectives
# - Trace every step of a request with OpenTelemetry, the open standard for traces, and know
#   what the official `openai` instrumentation records and what it cannot know.
# - Keep message content out of traces by default, and redact personal data from any text that
#   gets in.
# - Send traces to a trace backend (MLflow's server here) and read them back.
# - Report latency as p50, p95 and p99 per feature, and cost per team.
# - Pick answers for human review, a fixed number from every feature, the same on every run.
# - Find an incident in a week of traffic with a generic detector.

# %% [markdown]
# ## Setup
#
# `seed` picks the review sample; `fast` traces fewer questions.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# The imports, and a trace backend (a server that stores traces) started early: section 4
# uses [MLflow](https://mlflow.org)'s tracking server, which takes seconds to start. It runs in
# the background on a free local port, with its database in your course work directory, and
# stops after section 4 or with the kernel.

# %%
import json
from collections import Counter

import matplotlib.pyplot as plt
import pandas as pd

from course_lib.assistant import HandbookAssistant
from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100 (hint: when stuck)
from course_lib.datasets import load_traffic, load_traffic_incident
from course_lib.labs import (
    PERSONAL_DATA_QUESTIONS,
    canary_week,
    compare_span_attributes,
    lesson_index,
    plot_week,
    score_finding,
)
from course_lib.llm import LLMClient
from course_lib.models import get_registry
from course_lib.observability import (
    anomaly_table,
    bucket_scores,
    detect_anomalies,
    explain_anomaly,
    find_personal_data,
    model_prices,
    setup_tracing,
    spans_frame,
    start_mlflow_backend,
    traced_chat,
    usage_report,
)
from course_lib.rag import HandbookIndex, User
from course_lib.standin import local_client, local_server_provider

backend = start_mlflow_backend()  # returns at once; the server starts meanwhile
pd.set_option("display.width", 120)
pd.set_option("display.max_colwidth", 100)

# %% [markdown]
# ## 1. The prototype: print statements
#
# The assistant from lesson 2.2, with a tutorial's logging: one `print` per question. The
# model is the course's **local stand-in**, an offline program that answers from the
# passages it is given. Some of the questions are what people really type into a support tool:
# a parcel number, a phone number, an email address.

# %%
client = local_client()
index = HandbookIndex.open(lesson_index())
employee = User.employee("e-1042", team="payments")
questions = ["When is the on-call handover?", *PERSONAL_DATA_QUESTIONS[:2]]
questions = questions[:2] if fast else questions

prototype = HandbookAssistant(index, client=client)
log = []
for question in questions:
    answer = prototype.ask(question, user=employee)
    line = f"Q: {question} | A: {answer.text[:50]}... | ${answer.cost_usd:.6f}"
    print(line)
    log.append(line)

# %% [markdown]
# ## 2. What breaks
#
# **Personal data.** Those lines go wherever logs go: a log store kept for 30 days, an error
# tracker, a screenshot in an incident channel. The handbook's own page `logging-and-pii`
# forbids it. Count what they hold:

# %%
kinds = Counter(match.kind for line in log for match in find_personal_data(line))
print(
    f"{sum(bool(find_personal_data(line)) for line in log)} of {len(log)} lines hold personal data:",
    dict(kinds),
)

# %% [markdown]
# **Averages.** The course ships a week of the assistant's traffic: 20,000 simulated requests
# with feature, team, model, prompt version, tokens, cost, latency and outcome (the datasets
# README, section 4). Something went wrong that week (section 7). First, the number a
# prototype dashboard shows, the mean latency:

# %%
requests = load_traffic()
latency = requests["latency_ms"]
print(f"{len(requests):,} requests, mean latency {latency.mean():,.0f} ms")
print("median and 99th percentile:", latency.quantile([0.5, 0.99]).round().tolist(), "ms")

# %% [markdown]
# A long tail pulls the mean far above the typical request, and it says nothing about the
# requests that wait longest. And the print lines carry no id tying a model call to its
# retrieval, no prompt version, no team: "which prompt version was live?" and "which team
# spent it?" have no answer in them.
#
# ## 3. Traces with the GenAI semantic conventions
#
# A **trace** is one request; a **span** is one timed step of it, with a parent, a status and
# attributes. OpenTelemetry is the open standard for both, and its **GenAI semantic
# conventions** name the attributes of model calls (`gen_ai.operation.name`,
# `gen_ai.request.model`, `gen_ai.usage.input_tokens`...), so any backend that reads them
# shows your spans as model calls. They are still of "Development" status and may change.
# What they do not cover (cost, prompt version, retrieval details) goes under `course.`.
#
# A **tracer provider** is the process's tracing set-up: code asks it for a
# tracer, and it hands every finished span to its **exporters**. An exporter sends spans
# somewhere: to memory here, to a backend in section 4. `setup_tracing` builds both and returns
# a `Tracing`. The assistant traces each step when it is given one. Content capture is off
# (spans carry sizes, ids and costs, not text), and personal data is redacted from whatever
# text does get in:

# %%
tracing = setup_tracing("memory", capture_message_content=False, redact_personal_data=True)
assistant = HandbookAssistant(index, client=client, tracing=tracing)
for question in questions:
    assistant.ask(question, user=employee)

spans = spans_frame(tracing)
spans["parent"] = spans["parent_id"].map(spans.set_index("span_id")["name"])
spans[["name", "parent", "kind", "gen_ai.usage.input_tokens", "course.cost_usd"]].head(4)

# %% [markdown]
# One request, four spans: the workflow, and under it retrieval, packing and the model call,
# each with its own duration. Here is the model call's span, attribute by attribute:

# %%
chat = spans[spans["name"].str.startswith("chat ")].iloc[0]
chat[[c for c in spans.columns if c.startswith(("gen_ai.", "course.")) and pd.notna(chat[c])]]

# %% [markdown]
# ### The official instrumentation, side by side
#
# You rarely write spans for every library yourself. OpenTelemetry's
# [`opentelemetry-instrumentation-openai-v2`](https://opentelemetry-python-contrib.readthedocs.io/en/latest/instrumentation-genai/openai.html)
# patches the official `openai` SDK, so every chat call it makes becomes a span, with no change
# to your code. Run both on the same call: the course's client over HTTP to the stand-in's
# local server, through the `openai` SDK, instrumented.

# %%
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

http_client = LLMClient(local_server_provider())  # the stand-in behind the openai SDK
both = setup_tracing("memory", capture_message_content=False)
instrumentor = OpenAIInstrumentor()
instrumentor.instrument(tracer_provider=both.provider)
traced_chat(
    http_client,
    both,
    questions[0],
    temperature=0.0,
    max_tokens=200,
    seed=7,
    prompt_version="handbook-answer@v3",
)
instrumentor.uninstrument()
sdk_span, course_span = both.spans()  # the SDK's span ends first: it is the child
compare_span_attributes(course_span, sdk_span)

# %% [markdown]
# The request and usage attributes agree: both follow the same conventions. `gen_ai.provider.name` differs: the instrumentation names the API it calls
# (`openai`), the course names who serves the model (`local`, from its model registry).
#
# The instrumentation sees only the SDK call. Cost, prompt version, retries, team, retrieval
# and packing are invisible to it: `-` in its column. Its `server.address` is empty for another
# reason: this release (2.4b0) reads the address only from an `httpx.URL`, and `openai` 3
# keeps its base URL as an `httpx2.URL`, so the check fails. It adds the vendor's
# `openai.response.system_fingerprint`, and records token and duration metrics when given a
# meter provider. Use it for breadth (every SDK call, in libraries you did not write too) and
# your own spans for what only your code knows.
#
# Neither recorded the prompt or the answer. In this release, the instrumentation captures
# content only when `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` is `span_only`,
# `event_only` or `span_and_event`. The value `true`, which older releases and many guides
# use, is rejected with a warning and captures nothing. With `event_only`, content leaves as
# **log events**, which no span exporter sees: redacting spans does not cover them. Whoever
# turns capture on to debug a bad answer puts what users typed into every span. That is why the
# course's tracing redacts at its span exporter, for every span of its provider, whoever made
# it. Here is one span recorded with content capture on, before and after redaction:

# %%
for redact in (False, True):
    with setup_tracing(
        "memory", capture_message_content=True, redact_personal_data=redact
    ) as debug:
        traced_chat(client, debug, PERSONAL_DATA_QUESTIONS[0])
        (span,) = debug.spans()
    typed = json.loads(span.attributes["gen_ai.input.messages"])[0]["parts"][0]["content"]
    print("after: " if redact else "before:", typed)

# %% [markdown]
# Emails, phone numbers, IBANs, card numbers (checked with the Luhn algorithm), Kestrel
# tracking numbers, street addresses and National Insurance numbers become `[REDACTED:<kind>]`,
# as the handbook's logging page asks. The same detector guards answers in lesson 2.7. Like any
# pattern, it misses names: "Anna Nowak" went through, and the handbook counts a recipient's
# name as personal data. Redaction is a safety net; keeping content capture off is the rule.
#
# ## 4. Export to a trace backend, and read it back
#
# In production, spans leave the process over **OTLP**, OpenTelemetry's protocol, to a
# **collector** (a relay that batches, filters and forwards spans) or straight to a backend.
# MLflow's tracking server accepts OTLP at `/v1/traces`, with the experiment's id in a header
# (`x-mlflow-experiment-id`). The server started in the setup cell; wait for it, then send
# the assistant's traces there, with the SDK instrumented too:

# %%
backend.wait_until_ready()
exported = setup_tracing(
    "otlp",
    otlp_endpoint=backend.otlp_endpoint,
    otlp_headers=backend.otlp_headers,
    capture_message_content=True,
    redact_personal_data=True,
)
instrumentor.instrument(tracer_provider=exported.provider)
remote = HandbookAssistant(index, client=http_client, tracing=exported)
for question in questions:
    remote.ask(question, user=employee)
instrumentor.uninstrument()
print("every span sent:", exported.force_flush())  # OTLP sends in batches: flush the last one

# %% [markdown]
# Now read the traces back through MLflow's own client, as a dashboard would:

# %%
stored = backend.spans_frame()
stored[
    ["trace", "name", "parent", "span_type", "gen_ai.provider.name", "gen_ai.usage.input_tokens"]
].head(5)

# %% [markdown]
# Both kinds of span arrived, in one tree per request: the course's `chat` span (provider
# `local`) and, under it, the instrumentation's (`openai`). MLflow typed the model calls
# `CHAT_MODEL` from their GenAI attributes. Content capture was on, so check what it holds:

# %%
stored_text = json.dumps(stored.to_dict("records"), default=str)
print("traces:", stored["trace"].nunique(), "| spans:", len(stored))
print(
    "pattern matches in the backend:",
    len(find_personal_data(stored_text)),
    "| redacted:",
    stored_text.count("[REDACTED:"),
    "| 'Anna Nowak' stored:",
    "Anna Nowak" in stored_text,
)
backend.stop()

# %% [markdown]
# Zero pattern matches is a weak claim: the same detector redacted the spans and counted what
# is left, so it can only confirm itself. It sees no names, and the recipient's name is stored
# in the backend. That is what content capture on costs.
#

# ## 5. Latency and cost, the way people ask
#
# Back to the week. Latency is reported as **percentiles**: p95 is the latency that 95% of
# requests stay under. There are several definitions (Hyndman and Fan list nine); for
# monitoring, the **nearest-rank** one has a useful property: the answer is the latency of a
# real request, whose trace you can open.
#
# ### Exercise 2.5.1: Nearest-rank percentile
#
# Complete `percentile(values, q)`: sort the values and return the one at rank
# `ceil(q / 100 * n)`, counting from 1 (rank 1 when `q` is 0). Raise `ValueError` when there
# are no values.


# %%
import math


def percentile(values, q):
    """The nearest-rank q-th percentile of values (q from 0 to 100)."""
    # BEGIN SOLUTION
    ordered = sorted(values)
    if not ordered:
        raise ValueError("No values: a percentile of nothing is undefined.")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
    # END SOLUTION


# %%
check("2.5.1", percentile)

# %% [markdown]
# Now p50, p95 and p99 per feature with your function, next to all requests pooled:

# %%
pct = answer_or_reference("2.5.1", percentile)
everyone = requests.assign(feature="(all requests)")
latency_by_feature = (
    pd.concat([requests, everyone])
    .groupby("feature")["latency_ms"]
    .agg(
        requests="size",
        mean="mean",
        p50=lambda s: pct(s, 50),
        p95=lambda s: pct(s, 95),
        p99=lambda s: pct(s, 99),
    )
)
latency_by_feature.round(0)

# %% [markdown]
# `ask`, the feature most people use, has a p95 several times lower than the slowest features,
# and the pooled p95 hides it. Watch percentiles per feature, where a regression of that feature
# shows. (`latency_report` in `course_lib.observability` does the same; pandas' `quantile`
# interpolates between two requests instead.)
#
# Which model serves each feature, as a share of its requests, and its p95? The latency gap
# between the models is planted in the simulated traffic, not measured on real models:

# %%
mix = pd.crosstab(requests["feature"], requests["model"], normalize="index").round(2)
mix["p95_ms"] = latency_by_feature["p95"].round()
mix

# %% [markdown]
# Tokens and money come from the same log. Per feature, with each one's share of the spend:

# %%
usage_report(requests, "feature").round(4)

# %% [markdown]
# `summarise` sends fewer than one request in ten and pays about half of the bill: the table
# above shows it on the large model. A feature's cost per request matters more than its
# traffic.
#
# ### Exercise 2.5.2: Cost by team at new prices
#
# Spans record tokens and the model, not dollars: prices change, and live in one table. The
# provider has just cut the large model's prices by 40%, and finance asks what last week would
# have cost each team at the new prices. Complete `cost_by_team(requests, prices)`: `prices`
# maps a model id to its (input, output) price in US dollars **per million tokens**; return
# each team's total cost (a Series indexed by team, or a dict). Every request with tokens is
# billed, failed ones included. Do not read `cost_usd`: it holds the old prices.

# %%
old_prices = model_prices(["chat-small", "chat-large"])  # model id -> (input, output) USD
large = get_registry().model_id("chat-large")
new_prices = {**old_prices, large: tuple(round(price * 0.6, 4) for price in old_prices[large])}
new_prices


# %%
def cost_by_team(requests, prices):
    """Each team's cost in US dollars: tokens times its model's prices per million tokens."""
    # BEGIN SOLUTION
    price_in = requests["model"].map(lambda model: prices[model][0])
    price_out = requests["model"].map(lambda model: prices[model][1])
    cost = (requests["input_tokens"] * price_in + requests["output_tokens"] * price_out) / 1_000_000
    return cost.groupby(requests["team"]).sum()
    # END SOLUTION


# %%
check("2.5.2", cost_by_team)

# %% [markdown]
# The week per team at both price tables, with each team's share and cost per 1,000 requests:

# %%
repriced = pd.Series(answer_or_reference("2.5.2", cost_by_team)(requests, new_prices))
teams = usage_report(requests, "team")[
    ["requests", "cost_usd", "cost_share", "cost_per_1k_requests"]
]
teams["at_new_prices"] = repriced
teams["change"] = (teams["at_new_prices"] / teams["cost_usd"] - 1).map("{:+.0%}".format)
teams.round(3)

# %% [markdown]
# Read the `change` column: every team saves 27% to 35%. A 40% cut on one model saves that
# much only if that model is most of each team's bill. Is it? The large model's share of each
# team's requests and of its cost:

# %%
on_large = requests["model"] == large
by_team = requests.assign(large=on_large, large_cost=requests["cost_usd"].where(on_large, 0))
by_team = by_team.groupby("team").agg(
    large_requests=("large", "mean"), large_cost=("large_cost", "sum"), cost=("cost_usd", "sum")
)
by_team["large_cost_share"] = by_team.pop("large_cost") / by_team.pop("cost")
by_team.round(2)

# %% [markdown]
# The large model serves a minority of every team's requests and takes most of every team's
# bill. The teams that send it the most requests (a quarter or more: they summarise and triage
# tickets most) pay most per 1,000 requests and save most. That is the answer
# finance wanted, and it needed tokens, model and team on every request.
#
# ## 6. Answers for people to review
#
# Whether an answer was right needs a reviewer (or a judge checked against reviewers, lesson
# 1.4), who reads a few dozen answers per round, so which ones matters. Take 20 at random from the answered requests and count them per feature:

# %%
answered = requests[requests["outcome"].isin(["ok", "refused"])]
answered.sample(20, random_state=seed)["feature"].value_counts()

# %% [markdown]
# The busiest feature fills the queue and the smallest may not appear at all. A random sample
# also changes with the order in which a query returned the rows. The fix is a **stratified**
# sample: the population cut into groups (strata, here features), a fixed number from each.
#
# ### Exercise 2.5.3: A review queue
#
# Complete `review_queue(requests, per_feature, seed)`. Return the `request_id`s of up to
# `per_feature` **answered** requests (`outcome` "ok" or "refused") from **each feature**.
# Every answered request must have the same chance, the same call must give the same queue
# whatever the order of the rows, and another seed must give another queue. `hint("2.5.3")`
# if stuck.

# %%
from course_lib.observability import sample_key


def review_queue(requests, per_feature=5, seed=0):
    """Request ids of up to per_feature answered requests per feature, hash-sampled."""
    # BEGIN SOLUTION
    answered = requests[requests["outcome"].isin(["ok", "refused"])]
    keys = answered["trace_id"].map(lambda trace_id: sample_key(trace_id, seed))
    ranked = answered.assign(key=keys).sort_values(["feature", "key"])
    return ranked.groupby("feature").head(per_feature)["request_id"].tolist()
    # END SOLUTION


# %%
check("2.5.3", review_queue)

# %% [markdown]
# This round's queue, five answers per feature:

# %%
queue = answer_or_reference("2.5.3", review_queue)(requests, 5, seed)
to_review = requests.set_index("request_id").loc[queue]
print(to_review["feature"].value_counts().to_dict())
to_review[["feature", "question", "outcome", "cited"]].head(6)

# %% [markdown]
# `review_sample` in `course_lib.observability` does the same for any strata, e.g.
# `by=["feature", "prompt_version"]`: a new prompt version gets reviews from its first day.
#
# ## 7. Finding the incident
#
# Something went wrong during the week. Find it without knowing what to look for.
#
# The detector in `course_lib.observability` cuts the week into 30-minute buckets. Per feature,
# it compares each bucket's per-request metrics (tokens, cost, latency, error, refusal and
# citation rates) with their usual value, as a **z-score** (in standard errors). |z| >= 6 marks
# an anomaly. Rates use Anscombe's arcsine scale, so two errors in a small bucket do not look
# extreme. The week, in one figure:

# %%
scores = bucket_scores(requests)
anomalies = detect_anomalies(requests)
plot_week(requests, scores, anomalies)
plt.show()

# %% [markdown]
# The top panel is what a request counter shows: the tallest peak is a Monday morning, and it
# is not shaded. Request counts are not one of the detector's metrics: every morning is busier
# than every night. The bottom panel is the detector's view: each feature's largest |z| per
# bucket, with the anomalies shaded. Its gaps are night buckets with fewer than 20 requests,
# too few to score. What it found:

# %%
anomaly_table(anomalies)

# %% [markdown]
# Two anomalies. For each, `explain_anomaly` compares the requests inside the window with the
# same feature's requests outside it, and names the prompt version, model and team whose share
# changed most, with a z for that change:

# %%
for number, anomaly in enumerate(anomalies, start=1):
    print(f"anomaly {number}:")
    print(explain_anomaly(requests, anomaly, exclude=anomalies).to_string(index=False), "\n")

# %% [markdown]
# The first is the incident: hours long, tokens and cost up, citations down, and a prompt
# version that, in this week, exists only inside the window. No team stands out: everyone who asked was
# affected. The second is short, only errors moved, and no prompt, model or team changed: a
# serving problem, not a release. Segmented by model, it shows on the whole small model:

# %%
anomaly_table(detect_anomalies(requests, by="model"))

# %% [markdown]
# Now, and only now, the week's ground truth. Score the detector's first finding (its window
# is cut at bucket edges):

# %%
truth = load_traffic_incident()
top = anomalies[0]
suspect = explain_anomaly(requests, top, exclude=anomalies).iloc[0]["value"]
score_finding({"start": top.start, "end": top.end, "prompt_version": suspect}, truth)

# %% [markdown]
# The right prompt version, and a window within the bucket width. The truth also lists two
# harmless anomalies planted to mislead. Did either pass for the incident?

# %%
for planted in truth.distractors:
    flagged = [
        n for n, a in enumerate(anomalies, 1) if a.start < planted.end and planted.start < a.end
    ]
    verdict = f"found as anomaly {flagged[0]}" if flagged else "not flagged"
    print(f"{planted.kind}, {planted.start:%a %H:%M} to {planted.end:%H:%M}: {verdict}")

# %% [markdown]
# The Monday peak was never flagged, and the error burst came second, explained by no change.
#
# ## 8. Exercise 2.5.4 (open-ended): the incident in weeks you have not seen
#
# Before a release goes to everyone, a **canary** serves it to a few requests. In this
# exercise's weeks, the bad prompt version first ran as a canary on about 10% of its feature's
# requests, hours before the full rollout, and looked healthy. Its first request is not when
# the incident began.
#
# **Task.** Write `find_incident(requests)` returning a dict with the incident's `start` and
# `end` (UTC timestamps: the full rollout and the rollback) and the `prompt_version` that
# caused it. Use anything: the library's detector, your own thresholds, the rows.
#
# **Target.** Start and end within 5 minutes of the truth, which 30-minute buckets cannot give.
#
# **How it is checked.** Tune on `canary_week()`: the bundled week with a canary added, scored
# by the cell after yours. The checker then runs your function on three **other weeks** you
# never see: other seeds and days, prompt versions with other names, and two weeks in EU summer
# time, where every UTC time of day moves by an hour (so a fixed UTC hour fails). It must be
# right on all three.


# %%
from course_lib.observability import detect_anomalies, explain_anomaly


def find_incident(requests):
    """The incident's start, end and prompt version, found in a week of requests."""
    # BEGIN SOLUTION
    anomalies = detect_anomalies(requests)
    version = explain_anomaly(requests, anomalies[0], exclude=anomalies).iloc[0]["value"]
    features = requests.loc[requests["prompt_version"] == version, "feature"].unique()
    rows = requests[requests["feature"].isin(features)].sort_values("timestamp")
    carrying = (rows["prompt_version"] == version).astype(float)
    share = carrying.rolling(21, center=True, min_periods=1).mean()  # of 21 nearby requests
    rollout = rows.loc[(share >= 0.5) & (carrying == 1), "timestamp"]
    return {"start": rollout.min(), "end": rollout.max(), "prompt_version": version}
    # END SOLUTION


# %% [markdown]
# Your own function on the tuning week (dashes until it is written):

# %%
tuning, tuning_truth = canary_week()
try:
    found = find_incident(tuning)
except NotImplementedError:
    found = {}
score_finding(found, tuning_truth)

# %%
check("2.5.4", find_incident)

# %% [markdown]
# ## Takeaways
#
# - `print` leaks what users typed and answers no question about a week. Trace instead: one
#   span per step, named and attributed by the GenAI semantic conventions, in one trace per
#   request.
# - The official instrumentation traces every SDK call for free; only your code knows cost,
#   prompt version, team and retrieval. Use both, in one tracer provider.
# - Keep content capture off by default; redact at the exporter, for every span.
# - Report latency as percentiles per feature; attribute cost from tokens and a price table,
#   per team and feature.
# - Review a stratified, hash-based sample of answers: every feature, every round, reproducible.
# - Detect departures per segment and per request, then ask what changed inside the window;
#   a busy hour is not an incident, and a short error burst with no change is not a release.
#
# ## Production checklist
#
# - One tracer provider per process; every model call, retrieval and tool call is a span with
#   `gen_ai.*` attributes, plus cost, prompt version and team.
# - The official instrumentation for the SDKs you use, on the same provider.
# - Content capture off in production (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`
#   unset); personal-data redaction on at the span exporter, and on any log-event exporter; a
#   test that fails if an email reaches a span or a log event.
# - Spans exported over OTLP in batches to a backend with retention matched to the data
#   policy (the handbook says 7 days for traces).
# - Dashboards of p50/p95/p99 and cost per feature, team and prompt version, from spans.
# - A review queue sampled by feature and prompt version every day, with reviewers' verdicts
#   stored next to the trace.
# - Anomaly detection per feature on per-request metrics, with alerts that say what changed
#   (prompt version, model, team) inside the window.
#
# ## Check your understanding
#
# 1. The mean latency of the week is well under two seconds. Why is that not a reassuring
#    number, and what would you report instead?
# 2. The openai-v2 instrumentation and your own chat span both record input tokens. Why keep
#    your own span at all?
# 3. Why does the review queue hash the trace id instead of calling `DataFrame.sample`?
# 4. A detector flags the busiest hour of every Monday. What is wrong with its metrics?
#
# <details><summary>Short answers</summary>
#
# 1. A long tail pulls the mean above the typical request while hiding the slowest ones, and
#    pooling features lets the slow features (on the large model, slow by the simulation's
#    design) decide it. Report p50, p95 and p99 per feature.
# 2. The SDK cannot know the cost in your price table, the prompt version, the team, the
#    retries, or the retrieval and packing steps that came before the call.
# 3. A hash of id and seed gives every request the same chance, the same queue whatever the
#    order of the rows and on every machine, and a new queue for a new seed.
# 4. It watches request counts, which rise every morning. Watch per-request metrics (tokens,
#    cost, latency, error and citation rates) per segment instead.
#
# </details>
#
# ## Further reading
#
# - OpenTelemetry, "Semantic conventions for generative AI systems"
#   (https://opentelemetry.io/docs/specs/semconv/gen-ai/).
# - OpenTelemetry Python contrib, "OpenTelemetry OpenAI Instrumentation"
#   (https://opentelemetry-python-contrib.readthedocs.io/en/latest/instrumentation-genai/openai.html).
# - MLflow, "Collect OpenTelemetry Traces into MLflow"
#   (https://mlflow.org/docs/latest/genai/tracing/opentelemetry/ingest).
# - B. Beyer, C. Jones, J. Petoff, N. R. Murphy (eds.), *Site Reliability Engineering*,
#   O'Reilly 2016, chapter 6, "Monitoring Distributed Systems"
#   (https://sre.google/sre-book/monitoring-distributed-systems/).
# - R. J. Hyndman, Y. Fan, "Sample Quantiles in Statistical Packages", The American
#   Statistician 50(4), 1996 (https://doi.org/10.1080/00031305.1996.10473566).
# - F. J. Anscombe, "The Transformation of Poisson, Binomial and Negative-Binomial Data",
#   Biometrika 35, 1948, pp. 246-254 (https://doi.org/10.1093/biomet/35.3-4.246).
#
# **Next:** lesson 2.6, Dataset lifecycle.
