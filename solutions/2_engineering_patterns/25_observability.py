# %% [markdown]
# # 2.5 Observability
#
# The Handbook Assistant has answered Kestrel Freight's staff for a week. Why did the bill go
# up? Which prompt version was live when the complaints came in? Did the logs keep a
# customer's phone number? A tutorial's `print()` answers none of these.
#
# This lesson replaces it with traces: a timed record of every step of every request, free of
# personal data, in a real trace backend. Then you read a week of traffic as on-call would.
#
# **Time:** about 50 minutes: 12 of reading, 9 of running cells and reading code and output,
# 27 for the three exercises (3, 7 and 17), 2 for the questions. **You need:** lesson 1.1
# (tokens, cost and latency of a call) and lesson 2.2 (the Handbook Assistant and its index).

# %% [markdown]
# ## Learning objectives
# - Trace every step of a request with OpenTelemetry, beside the official `openai`
#   instrumentation, and send the traces to a backend (MLflow).
# - Keep message content out of traces, and redact personal data from any that gets in.
# - Report latency percentiles per feature and cost per team.
# - Sample answers for review, every feature, reproducibly.
# - Find an incident in a week of traffic with a generic detector.

# %% [markdown]
# ## Setup
#
# `seed` picks the review sample; `fast` traces fewer questions.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# The imports. [MLflow](https://mlflow.org)'s tracking server, section 4's trace backend,
# starts here in the background, with its database in your course work directory.

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
    plot_version_share,
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
    nearest_rank_percentile,
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
# The assistant from lesson 2.2 on the course's **local stand-in** model (an offline program),
# with one `print` per question. Two questions hold what people really type into a support
# tool: a parcel number, a phone number, an email address.

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
# tracker, a screenshot in an incident channel. The handbook's page `logging-and-pii` forbids
# it. Count what they hold:

# %%
kinds = Counter(match.kind for line in log for match in find_personal_data(line))
leaky = sum(bool(find_personal_data(line)) for line in log)
print(f"{leaky} of {len(log)} lines hold personal data:", dict(kinds))

# %% [markdown]
# **Averages.** The course ships a week of simulated traffic: 20,000 requests, each with ids,
# timestamp, feature, team, model, prompt version, tokens, cost, latency, outcome and `cited`
# (whether the answer cited the handbook). The number a prototype dashboard shows:

# %%
requests = load_traffic()
latency = requests["latency_ms"]
print(f"{len(requests):,} requests, mean latency {latency.mean():,.0f} ms")
print(f"median latency {latency.median():,.0f} ms")

# %% [markdown]
# A long tail pulls the mean far above the typical request, and the mean says nothing about
# the requests that wait longest. The print lines also carry no prompt version and no team,
# and nothing ties a model call to its retrieval.

# %% [markdown]
# ## 3. Traces with the GenAI semantic conventions
#
# A **trace** is one request; a **span** is one timed step of it, with a parent and
# attributes. OpenTelemetry's **GenAI semantic conventions** (still "Development" status) name
# the attributes of model calls (`gen_ai.request.model`, `gen_ai.usage.input_tokens`...), so
# any backend shows your spans as model calls. Cost, prompt version and team go under
# `course.`.
#
# A **tracer provider** is the process's tracing set-up: it hands every finished span to its
# **exporters**, which send spans somewhere (to memory here, to a backend in section 4).
# `setup_tracing` builds both. Content capture is off (spans carry sizes and costs, not text),
# and personal data is redacted from any text that gets in:

# %%
tracing = setup_tracing("memory", capture_message_content=False, redact_personal_data=True)
assistant = HandbookAssistant(index, client=client, tracing=tracing)
for question in questions:
    assistant.ask(question, user=employee)

spans = spans_frame(tracing)
spans["parent"] = spans["parent_id"].map(spans.set_index("span_id")["name"])
spans[["name", "parent", "kind", "gen_ai.usage.input_tokens", "course.cost_usd"]].head(4)

# %% [markdown]
# One request, four spans: the workflow, and under it retrieval, packing and the model call.
# Only the model call uses tokens, so only it carries them and their cost.

# %% [markdown]
# ### The official instrumentation, side by side
#
# OpenTelemetry's
# [`opentelemetry-instrumentation-openai-v2`](https://opentelemetry-python-contrib.readthedocs.io/en/latest/instrumentation-genai/openai.html)
# patches the official `openai` SDK so that every chat call becomes a span, with no change to
# your code. Run both on one call, through the `openai` SDK to the stand-in's local server:

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
shown = ["gen_ai.provider.name", "gen_ai.request.model", "gen_ai.usage.input_tokens"]
shown += ["gen_ai.usage.output_tokens", "server.address", "course.cost_usd", "course.prompt.ref"]
compare_span_attributes(course_span, sdk_span, only=[*shown, "course.attempts"])

# %% [markdown]
# Request and usage attributes agree: both follow the conventions. The provider differs: the
# instrumentation names the API it calls (`openai`), the course who serves the model (`local`).
# The instrumentation sees only the SDK call, so cost, prompt version and retries are `-`.
# Use it for breadth (every SDK call, in libraries too), your own spans for what only your code
# knows, such as the team (on the course's workflow span).
#
# Neither span holds the prompt or the answer. With capture on, content leaks into spans and
# into **log events** (OpenTelemetry's separate log signal). The course redacts every span at
# its exporter; a production log pipeline must redact too. One span, before and after:

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
# Emails, phone, card and tracking numbers, IBANs, addresses and national insurance numbers
# (`national_id`) become `[REDACTED:<kind>]`. Like any pattern, the detector misses names: "Anna Nowak" went through, and the handbook
# counts her name as personal data. Redaction is a safety net; capture off is the rule.

# %% [markdown]
# ## 4. Export to a trace backend, and read it back
#
# Spans leave the process over **OTLP**, OpenTelemetry's protocol, to a **collector** (a
# relay that batches and forwards spans) or straight to a backend. MLflow's server accepts
# OTLP at `/v1/traces`. Send it the assistant's traces, content capture on, SDK instrumented:

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
# Read them back through MLflow's own client, as a dashboard would:

# %%
stored = backend.spans_frame()
chat_spans = stored[stored["span_type"] == "CHAT_MODEL"]
chat_spans[["trace", "name", "parent", "span_type", "gen_ai.provider.name"]].head(2)

# %% [markdown]
# Both kinds of span arrived in one tree: the course's `chat` span (provider `local`) and
# under it the instrumentation's (`openai`). MLflow typed both `CHAT_MODEL` from their GenAI
# attributes. What does the backend hold?

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
# Zero matches is a weak claim: the same detector redacted the spans. It sees no names, so the
# recipient's name is now in the backend. That is what content capture costs.

# %% [markdown]
# ## 5. Latency and cost, the way people ask
#
# Back to the week. p95 is the latency that 95% of requests stay under. Of the **percentile**
# definitions (Hyndman and Fan list nine), **nearest-rank** suits monitoring: sort the values
# and take the one at rank `ceil(q / 100 * n)`. Its answer is a real request, whose trace you
# can open. On four values, p50 is the 2nd smallest, not 25 interpolated. Then p50, p95 and
# p99 per feature, and for all requests pooled:

# %%
pct = nearest_rank_percentile
print("p50 of [40, 10, 30, 20]:", pct([40, 10, 30, 20], 50))
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
# `ask`, the feature most people use, has a p95 several times lower than the slowest
# features, and the pooled p95 hides it. Watch percentiles per feature. Cost per feature, with
# its model and its share of the spend:

# %%
by_feature = usage_report(requests, "feature")
by_feature["model"] = requests.groupby("feature")["model"].agg(lambda m: ", ".join(m.unique()))
by_feature[["requests", "model", "cost_usd", "cost_share", "cost_per_1k_requests"]].round(4)

# %% [markdown]
# `summarise` sends fewer than one request in ten and pays about half of the bill. It and
# `ticket-triage` run on the large model, which is also why they are slow: that latency gap is
# planted in the simulated traffic, not measured on real models.

# %% [markdown]
# ### Exercise 2.5.1: Cost by team at new prices
#
# The provider has cut the large model's prices by 40%. What would last week have cost each
# team? `prices` maps a model id to its (input, output) price in US dollars **per million
# tokens**. The function maps each request to its prices; write each request's `cost`, then
# return its sum per team (the stub's last line says how). Do not read `cost_usd`: it holds
# the old prices.

# %%
old_prices = model_prices(["chat-small", "chat-large"])  # model id -> (input, output) USD
large = get_registry().model_id("chat-large")
new_prices = {**old_prices, large: tuple(round(price * 0.6, 4) for price in old_prices[large])}
new_prices


# %%
def cost_by_team(requests, prices):
    """Each team's cost in US dollars: tokens times its model's prices per million tokens."""
    price_in = requests["model"].map(lambda model: prices[model][0])  # USD per million
    price_out = requests["model"].map(lambda model: prices[model][1])
    # BEGIN SOLUTION
    cost = (requests["input_tokens"] * price_in + requests["output_tokens"] * price_out) / 1_000_000
    return cost.groupby(requests["team"]).sum()
    # END SOLUTION
    # STUB: cost = ...  # your line: each request's cost in US dollars
    # STUB: raise NotImplementedError("Exercise: compute cost; then return cost.groupby(requests['team']).sum()")


# %%
check("2.5.1", cost_by_team)

# %% [markdown]
# Each team's saving at the new prices:

# %%
repriced = pd.Series(answer_or_reference("2.5.1", cost_by_team)(requests, new_prices))
old = requests.groupby("team")["cost_usd"].sum()
print((1 - repriced / old).sort_values().round(2).to_dict())

# %% [markdown]
# Every team saves 27% to 35%: 40% of its spend on the large model. Answering it needed
# tokens, model and team on every request.

# %% [markdown]
# ## 6. Answers for people to review
#
# Only a reviewer (or a judge checked against reviewers, lesson 1.4) can say an answer was
# right. Reviewers read a few dozen a round, so which ones matters. Take 20 at random from the
# answered requests:

# %%
answered = requests[requests["outcome"].isin(["ok", "refused"])]
picked = answered.sample(20, random_state=seed)
print(picked["feature"].value_counts().to_dict())
again = answered[::-1].sample(20, random_state=seed)  # the same rows in reverse order
print("the same requests after reversing the rows:", len(set(picked.index) & set(again.index)))

# %% [markdown]
# The sample follows the traffic: `ask` takes 11 of 20 places, while `summarise` and
# `ticket-triage`, three quarters of the bill, get two answers each. Reverse the rows and the
# same seed picks 20 other requests. The fix is a **stratified** sample: a fixed number from
# each group (stratum), here each feature.

# %% [markdown]
# ### Exercise 2.5.2: A review queue
#
# Complete `review_queue(requests, per_feature, seed)`: the `request_id`s of up to
# `per_feature` answered requests from **each feature** (the stub keeps the answered ones).
# Every answered request must have the same chance within its feature. The same call must
# give the same queue whatever the order of the rows, and another seed another queue. Write
# the sampling yourself: `sample_key(trace_id, seed)` gives a number fixed by the id and the
# seed (a SHA-256 hash); sort by it.

# %%
from course_lib.observability import sample_key


def review_queue(requests, per_feature=5, seed=0):
    """Request ids of up to per_feature answered requests per feature, sorted by sample_key."""
    answered = requests[requests["outcome"].isin(["ok", "refused"])]
    # BEGIN SOLUTION
    keys = answered["trace_id"].map(lambda trace_id: sample_key(trace_id, seed))
    ranked = answered.assign(key=keys).sort_values(["feature", "key"])
    return ranked.groupby("feature").head(per_feature)["request_id"].tolist()
    # END SOLUTION


# %%
check("2.5.2", review_queue)

# %% [markdown]
# This round's queue, five answers per feature:

# %%
queue = answer_or_reference("2.5.2", review_queue)(requests, 5, seed)
print(requests.set_index("request_id").loc[queue, "feature"].value_counts().to_dict())

# %% [markdown]
# ## 7. Finding the incident
#
# Something went wrong during the week. Find it without knowing what to look for.
#
# The detector in `course_lib.observability` cuts the week into 30-minute buckets and scores
# each **segment** (a slice of traffic, here one feature) on its own. For each bucket and
# per-request metric (tokens, cost, latency, error, refusal and citation rates), a **z-score**
# says how many standard errors the bucket's mean lies from the segment's usual value: the
# median of its bucket means over the week (for a rate, its rate over the week).
#
# |z| >= 6 marks an anomaly, a threshold chosen on simulated weeks the course does not grade
# on. Rates go on Anscombe's arcsine scale, latency on a log scale, so rare events such as two
# errors in a small bucket don't look extreme.

# %%
scores = bucket_scores(requests)
anomalies = detect_anomalies(requests)
plot_week(requests, scores, anomalies)
plt.show()

# %% [markdown]
# Top: requests per bucket. The Monday morning peak is not shaded: request counts are not a
# metric. Bottom: each feature's largest |z| per bucket. Gaps are buckets of under 20 requests,
# too few to score: nights, the weekend, and most of `summarise` and `ticket-triage`, which
# need longer buckets. What the detector found:

# %%
anomaly_table(anomalies)

# %% [markdown]
# Two anomalies, both in `ask`. `explain_anomaly` compares each window's requests with the
# feature's requests outside it, and names the prompt version, model and team whose share
# changed most:

# %%
for number, anomaly in enumerate(anomalies, start=1):
    print(f"anomaly {number}:")
    print(explain_anomaly(requests, anomaly, exclude=anomalies).to_string(index=False), "\n")

# %% [markdown]
# The first is the incident: hours long, tokens and cost up, citations down, and a prompt
# version that, this week, exists only inside the window. No team stands out. The second is
# short, only errors moved, and nothing changed with it: a serving problem, not a release.
#
# Now, and only now, the ground truth. Score the detector's first finding:

# %%
truth = load_traffic_incident()
top = anomalies[0]
suspect = explain_anomaly(requests, top, exclude=anomalies).iloc[0]["value"]
score_finding({"start": top.start, "end": top.end, "prompt_version": suspect}, truth)

# %% [markdown]
# The right version, and a window off by less than a bucket. The truth also lists two
# harmless anomalies planted to mislead:

# %%
print([f"{planted.kind}, {planted.start:%a %H:%M}" for planted in truth.distractors])

# %% [markdown]
# The Monday peak was never flagged. The error burst is anomaly 2, which no change explains.

# %% [markdown]
# ## 8. Exercise 2.5.3 (open-ended): the incident in weeks you have not seen
#
# Before a release goes to everyone, a **canary** serves it to a few requests. In this
# exercise's weeks, the bad prompt version first ran as a canary on about 10% of its feature's
# requests, hours before the full rollout. So its first request is not when the incident began.
# `canary_week()` is the bundled week with such a canary added. There, the version's share of
# its feature's requests, per 10 minutes:

# %%
tuning, tuning_truth = canary_week(requests)  # the bundled week, loaded in section 2
plot_version_share(tuning, suspect)
plt.show()

# %% [markdown]
# The low step is the canary, the plateau the rollout. The incident's **start** is the first
# request once the version serves most of its feature's requests (at least half of those
# around it); its **end** is the last such request. The rollback's bucket holds both sides:
# clock buckets blur the edges.
#
# **Task.** Complete `find_incident(requests)`: return a dict with `start` and `end` (UTC
# timestamps) and `prompt_version`. The stub already finds the version; change anything.
#
# **Target.** Start and end within 5 minutes of the truth, on every week.
#
# **How it is checked.** Tune on the canary week, scored by the cell after yours. The checker
# runs your function on three weeks you never see, with other seeds, days and prompt names.
# Two are in EU summer time, so a fixed UTC hour fails.


# %%
from course_lib.observability import detect_anomalies, explain_anomaly  # so the cell stands alone


def find_incident(requests):
    """The incident's start, end and prompt version, found in a week of requests."""
    anomalies = detect_anomalies(requests)  # worst first, cut at 30-minute buckets
    version = explain_anomaly(requests, anomalies[0], exclude=anomalies).iloc[0]["value"]
    # BEGIN SOLUTION
    features = requests.loc[requests["prompt_version"] == version, "feature"].unique()
    rows = requests[requests["feature"].isin(features)].sort_values("timestamp")
    carrying = (rows["prompt_version"] == version).astype(float)
    share = carrying.rolling(21, center=True, min_periods=1).mean()  # of 21 nearby requests
    rollout = rows.loc[(share >= 0.5) & (carrying == 1), "timestamp"]
    return {"start": rollout.min(), "end": rollout.max(), "prompt_version": version}
    # END SOLUTION


# %% [markdown]
# Your function on the tuning week (dashes until it is written):

# %%
try:
    found = find_incident(tuning)
except NotImplementedError:
    found = {}
score_finding(found, tuning_truth)

# %%
check("2.5.3", find_incident)

# %% [markdown]
# ## Takeaways
#
# - `print` leaks what users typed and answers no question about a week. Trace every step,
#   with the GenAI conventions; the SDK instrumentation adds breadth, your spans add meaning.
# - Keep content capture off; redact at the span and log-event exporters.
# - Latency as percentiles per feature; cost from tokens and a price table.
# - Review a stratified, hash-based sample. Detect per segment, then ask what changed.

# %% [markdown]
# ## Production checklist
#
# - One tracer provider per process, SDK instrumentation on it; a span per model call,
#   retrieval and tool call; cost and prompt version on model calls, the team on the root span.
# - Content capture off; redaction at the span and log-event exporters, with a test.
# - OTLP export in batches; traces kept 7 days (the handbook's policy).
# - p50/p95/p99 and cost per feature, team and prompt version.
# - A daily review queue by feature and prompt version (`review_sample` in
#   `course_lib.observability` takes any strata), verdicts stored with the trace.
# - Anomaly alerts per feature that say what changed; every feature scored.

# %% [markdown]
# ## Check your understanding
#
# 1. The mean latency of the week is well under two seconds. Why is that not a reassuring
#    number, and what would you report instead?
# 2. The openai-v2 instrumentation and your own chat span both record input tokens. Why keep
#    your own span at all?
# 3. Why does the review queue sort by a hash of the trace id instead of calling
#    `DataFrame.sample`?
# 4. A detector flags the busiest hour of every Monday. What is wrong with its metrics?
#
# <details><summary>Short answers</summary>
#
# 1. A long tail pulls the mean above the typical request and hides the slowest ones; pooling
#    lets the slow features decide it. Report p50, p95 and p99 per feature.
# 2. The SDK cannot know your cost, prompt version, team, retries, or the retrieval and
#    packing steps before the call.
# 3. A hash of id and seed gives every request the same chance and the same queue in any row
#    order, on every machine; a new seed gives a new queue.
# 4. It watches request counts, which rise every morning. Watch per-request metrics (tokens,
#    cost, latency, error and citation rates) per segment instead.
#
# </details>

# %% [markdown]
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
