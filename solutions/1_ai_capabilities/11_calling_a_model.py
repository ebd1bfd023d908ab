# %% [markdown]
# # 1.1 Calling a model: timeouts, retries, fallbacks and cost
#
# Calling a model is one line of code. In production that line fails: the provider says
# "too many requests", a server returns an error, a response never comes. It is also slow
# (seconds, not milliseconds) and it costs money on every call. A tutorial stops at the line
# that works once; a service has to decide, for every call, how long to wait, what to retry,
# what to do when a model is down, and how much one call may spend.
#
# The model here is a **chat model**: an LLM (large language model) that takes a conversation
# and writes the next message, the kind behind chat assistants. It reads and writes text in
# **tokens**: pieces of words, about three quarters of an English word on
# average (a short common word is one token, a long or rare word several). Prices, limits and
# lengths of model calls are all counted in tokens.
#
# In this lesson you make one call with the official `openai` SDK, break it with injected
# faults and measure how often it fails, then build and measure the production version.
#
# **Time:** about 60 minutes. **You need:** lesson 00; Python exceptions and functions. No
# API key, no network.
#
# ## Learning objectives
# - Call a chat model with the official `openai` SDK and read its answer, finish reason and
#   token usage.
# - Name the ways a model call fails (429 with Retry-After, 5xx, timeouts) and decide which are
#   worth retrying.
# - Write the wait of a retry policy: exponential backoff with a cap and jitter, never shorter
#   than Retry-After; and keep one retry layer so retries never multiply.
# - Measure the success rate of a bare call and of a call under a reliability policy, at a 20%
#   fault rate.
# - Use a fallback model, a circuit breaker and a per-call budget.
# - Stream an answer and measure its time to first token.
# - Compute the cost of a call from its usage and the model's prices, and compare two models.

# %% [markdown]
# ## Setup
#
# The parameters first. `fast = True` sends fewer calls; the lesson reads the same.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# Then the imports. Everything under `course_lib.llm` is the production library this lesson
# studies: the client, its reliability policy, the model registry and the local model server.

# %%
import random
import time

import matplotlib.pyplot as plt
import openai
import pandas as pd
from openai import OpenAI

from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100 (hint: for you)
from course_lib.errors import BudgetExceededError
from course_lib.labs import (
    handbook_prompts,
    outcome_summary,
    price_table,
    run_calls,
    simulate_success_rate,
)
from course_lib.llm import LLMClient, ReliabilityPolicy
from course_lib.models import get_registry
from course_lib.standin import FaultPlan, local_client, serve_model, shared_server

pd.set_option("display.max_colwidth", 80)
n_calls = 100 if fast else 200

# %% [markdown]
# The calls need prompts. The course's running example is the Handbook Assistant, which
# answers questions about the engineering handbook of a fictional company (a set of Markdown
# documents that ships with the course). `handbook_prompts` builds prompts from the course's
# **golden set**, a fixed list of handbook questions with known answers and sources (lesson 1.4
# uses it to evaluate answers). Each prompt holds the handbook section that answers a question,
# and the question, the way a retrieval system (the part that finds the relevant passages;
# lessons 2.1 and 2.2 build it) would send them.
#
# A chat prompt is a list of messages, each with a **role**: `system` holds the instructions
# for the model, `user` the text sent on the user's behalf; the model's reply comes back with
# the role `assistant`. Here is the start of the first prompt:

# %%
prompts = handbook_prompts(n_calls)
registry = get_registry()
print(f"{len(prompts)} prompts. The first, cut short:\n")
for message in prompts[0]:
    print(f"[{message['role']}] {message['content'][:300]}\n")

# %% [markdown]
# ## 1. The prototype: one call
#
# The model in this course is a **local stand-in**: a small program on your machine that
# answers through the same HTTP API as a hosted model (the OpenAI Chat Completions API: you
# send a list of messages, you get the next message back; most providers and open-source
# servers offer the same API), the same way on every run, offline. It picks sentences rather than writing new ones; it behaves
# like a model where the lessons need it to, down to rate limits and prices.
# [docs/local-model.md](../../docs/local-model.md) says what it does and how to switch to a
# real provider. The next cell starts its server in the background:

# %%
server = shared_server()  # the local model server, running until the kernel stops
print("The local model server is running.")

# %% [markdown]
# Now the call, as a tutorial writes it. Against a hosted model, `OpenAI()` reads your key
# from the `OPENAI_API_KEY` environment variable (the SDK's own setting; the course's client
# reads `COURSE_LLM_API_KEY`, section 4) and `MODEL` is the provider's model name; the two
# comments show the only differences. The course never writes a model's name in a lesson: it
# asks the model registry for a **role** (`chat-small`), so that swapping models is an edit of
# one file. (This is a second sense of "role": the job a model does in the course, such as
# small chat model, large chat model or judge, not the role of a message.)

# %%
sdk = OpenAI(base_url=server.base_url, api_key="local")  # a tutorial: OpenAI()
MODEL = registry.model_id("chat-small")  # a tutorial: a model's name

response = sdk.chat.completions.create(model=MODEL, messages=prompts[0])
print(response.choices[0].message.content)

# %% [markdown]
# The answer comes with more than text. `finish_reason` says why the model stopped (`stop`:
# it finished; `length`: it hit a token limit and the answer is cut short), and `usage` counts
# the tokens that went in and came out, which is what you pay for. The SDK calls them
# `prompt_tokens` (in) and `completion_tokens` (out); the course's client, later, calls the
# same two counts `input_tokens` and `output_tokens`, the names price lists use:

# %%
usage = response.usage
print(f"model: {response.model}")
print(f"finish_reason: {response.choices[0].finish_reason}")
print(f"usage: {usage.prompt_tokens} tokens in, {usage.completion_tokens} tokens out")

# %% [markdown]
# Two settings you did not choose came with the client. The SDK waits up to ten minutes for a
# response, and it quietly retries failed requests twice:

# %%
print(f"read timeout: {sdk.timeout.read} s, connect timeout: {sdk.timeout.connect} s")
print(f"retries: {sdk.max_retries}")

# %% [markdown]
# A ten-minute wait is far longer than any user will wait, and retries you cannot see are
# retries you cannot count, bound or log. Keep both in mind: section 3 comes back to them.
#
# ## 2. What breaks: rate limits, server errors, timeouts
#
# Hosted models fail in three ordinary ways:
#
# | fault | HTTP | what the provider means | the SDK raises |
# |---|---|---|---|
# | rate limit | 429, with a `Retry-After` header | too many requests or tokens this minute: slow down | `openai.RateLimitError` |
# | server error | 500, 502, 503 | the server failed or is overloaded | `openai.InternalServerError` |
# | timeout | (no response in time) | the model is slow or stuck | `openai.APITimeoutError` |
#
# The local server injects these on demand with a **fault plan**: here one request in five
# fails, mostly with rate limits and server errors, sometimes with a timeout. Real `Retry-After`
# values are seconds to a minute and real timeouts are tens of seconds; this plan scales them
# down to milliseconds, so that the lesson runs in seconds. The seed makes the faults the same
# on every run.

# %%
READ_TIMEOUT_S = 0.5  # how long the client waits for a response in this lesson
plan = FaultPlan(
    rate=0.2,  # one request in five fails
    mix={"rate_limit": 0.5, "server_error": 0.4, "timeout": 0.1},  # relative weights
    retry_after_s=0.01,  # the wait a 429 asks for
    timeout_s=0.8,  # how late a "timed out" response would come, if you waited
    seed=seed,
)
server.set_faults(plan)

# %% [markdown]
# To see each fault as it happens, call the SDK with its retries off and a short timeout, and
# keep the first failure of each kind:

# %%
fragile = sdk.with_options(max_retries=0, timeout=READ_TIMEOUT_S)
first_failures = {}  # exception name -> (call, HTTP status, retry-after, retry-after-ms)
for i, messages in enumerate(prompts):
    try:
        fragile.chat.completions.create(model=MODEL, messages=messages)
    except openai.APIStatusError as error:
        headers = error.response.headers  # a header that is absent shows as a blank
        waits = (headers.get("retry-after", ""), headers.get("retry-after-ms", ""))
        first_failures.setdefault(type(error).__name__, (i, error.status_code, *waits))
    except openai.APITimeoutError as error:  # no response, so no status and no headers
        first_failures.setdefault(type(error).__name__, (i, "", "", ""))
    if len(first_failures) == 3:
        break
columns = ["first failing call", "HTTP status", "retry-after", "retry-after-ms"]
pd.DataFrame.from_dict(first_failures, orient="index", columns=columns)

# %% [markdown]
# The 429 says when to come back. The standard `Retry-After` header counts whole seconds, so a
# wait shorter than a second shows as 1; OpenAI and this server also send `retry-after-ms` with
# the exact wait. A 5xx says nothing about when. The timeout is the worst case: the client
# waited the full read timeout and got nothing.
#
# How often does a call with no retries fail? The course's client, `LLMClient`, sends the same
# SDK request; with `ReliabilityPolicy.bare()` it makes one attempt and nothing else, like the
# prototype. `run_calls` sends each prompt once and returns a table with one row per call,
# failures included. Resetting the fault plan first means every client in this lesson meets
# the same faults:

# %%
server.set_faults(plan)
bare = LLMClient.for_server(
    server.base_url, policy=ReliabilityPolicy.bare(read_timeout_s=READ_TIMEOUT_S)
)
bare_calls = run_calls(bare, prompts)
bare_summary = outcome_summary(bare_calls)
succeeded, calls, rate = (bare_summary[k] for k in ("succeeded", "calls", "success_rate"))
print(f"{succeeded} of {calls} calls succeeded ({rate:.1%})")
print("failures by error:", bare_summary["errors"])

# %% [markdown]
# About one call in five fails, as the fault plan says. Every failure is an error your users
# see, or an answer your batch job is missing.
#
# The error names differ from the table above because `LLMClient` raises the course's own
# exception types (from `course_lib.errors`), and maps the SDK's to them: `openai.RateLimitError`
# becomes `RateLimitError` (with its `retry_after`), `openai.InternalServerError` becomes
# `ServerError`, `openai.APITimeoutError` becomes `ModelTimeoutError`. Code above the client
# then does not depend on one provider's SDK.
#
# ### Exercise 1.1.1: Which errors are worth retrying?
#
# A retry helps only when the next attempt can succeed. Complete `worth_retrying(error)`: return
# `True` for an error that is transient and `False` for one that will fail the same way again.
#
# - Worth retrying: a rate limit (429), a server error (500 and above), a request timeout sent
#   by the server (408), a response that did not come in time (`openai.APITimeoutError`), a
#   connection that failed (`openai.APIConnectionError`).
# - One 429 is not transient: when its `error.code` is `"insufficient_quota"`, the account is
#   out of credit, and waiting does not refill it.
# - Not worth retrying: every other status (400 bad request, 401 bad key, 404 unknown model...)
#   and any error that is not from the SDK at all, such as a bug in your own code or a call the
#   client refused because it was over budget.
#
# The check passes your function the SDK's own exception objects (`openai.RateLimitError`,
# `openai.InternalServerError`, `openai.APITimeoutError`, `openai.BadRequestError`..., built as
# the SDK builds them), plus errors that are not the SDK's: a `ValueError` and the course's
# `BudgetExceededError`, for which the answer is `False`. You do not need the course's own error
# types here. The SDK's status errors are all `openai.APIStatusError` with a `status_code` and
# a `code`; its timeout and connection errors are `openai.APIConnectionError`.

# %%
import openai


def worth_retrying(error: BaseException) -> bool:
    """True when another attempt of the same request may succeed."""
    # BEGIN SOLUTION
    if isinstance(error, openai.APIConnectionError):  # APITimeoutError is a subclass
        return True
    if isinstance(error, openai.APIStatusError):
        if error.status_code == 429:
            return error.code != "insufficient_quota"
        return error.status_code == 408 or error.status_code >= 500
    return False
    # END SOLUTION


# %%
check("1.1.1", worth_retrying)

# %% [markdown]
# ## 3. Retrying well
#
# Retrying is the fix for transient faults, and a bad retry loop is how a small outage becomes
# a big one. Three rules:
#
# 1. **Back off exponentially.** Wait a little after the first failure, twice as long after
#    the second, and so on, up to a cap. A struggling server gets room to recover.
# 2. **Add jitter.** A thousand clients that failed at the same moment and wait exactly the
#    same time retry at the same moment too, and fail together again. A random extra wait
#    spreads them out (Marc Brooker's post in the further reading shows it with simulations).
# 3. **Honour `Retry-After`.** When the server says when to come back, never come back sooner.
#
# ### Exercise 1.1.2: The wait before a retry
#
# Complete `backoff_wait`. `attempt` is the number of the attempt that just failed (1 for the
# first call). The wait is `initial × 2^(attempt − 1)`, capped at `cap`, plus a random jitter
# drawn uniformly between 0 and `jitter` with `rng.uniform`. Cap first, then add the jitter:
# at the cap the wait lies between `cap` and `cap + jitter` (8.0 to 8.2 s with the defaults),
# so that clients at the cap still spread out. When the server sent a Retry-After
# (`retry_after`, in seconds, or `None`), return the longer of that and the wait.

# %%
import random


def backoff_wait(
    attempt: int,
    retry_after: float | None = None,
    *,
    initial: float = 0.2,
    cap: float = 8.0,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first call)."""
    rng = rng or random.Random()
    # BEGIN SOLUTION
    wait = min(cap, initial * 2 ** (attempt - 1)) + rng.uniform(0, jitter)
    if retry_after is not None:
        wait = max(wait, retry_after)
    return wait
    # END SOLUTION


# %%
check("1.1.2", backoff_wait)

# %% [markdown]
# Here are the waits it gives (yours once it passes, the course's until then), drawn 40 times
# per attempt, with the policy's defaults of 0.2 s to start and an 8 s cap, and again after a
# 429 that asked for 2 s:

# %%
wait_for = answer_or_reference("1.1.2", backoff_wait)
rng = random.Random(seed)
attempts = range(1, 9)
fig, ax = plt.subplots(figsize=(7, 3.5))
for retry_after, colour, label in [
    (None, "tab:blue", "no Retry-After"),
    (2.0, "tab:orange", "after a 429 with Retry-After: 2 s"),
]:
    xs = [a + (0.12 if retry_after else -0.12) for a in attempts for _ in range(40)]
    ys = [wait_for(a, retry_after, rng=rng) for a in attempts for _ in range(40)]
    ax.scatter(xs, ys, s=6, alpha=0.5, color=colour, label=label)
ax.set(
    yscale="log",
    xlabel="attempt that just failed",
    ylabel="wait before the next (s)",
    title="Capped exponential backoff with jitter",
)
ax.set_yticks([0.2, 0.5, 1, 2, 4, 8], labels=["0.2", "0.5", "1", "2", "4", "8"])
ax.minorticks_off()
ax.legend()
plt.show()

# %% [markdown]
# Each column is one attempt: the wait doubles until it reaches the 8 s cap, and the jitter
# smears each column upwards so that clients do not retry in step. The y axis is logarithmic
# (each doubling is the same height), so the same 0 to 0.2 s of jitter looks tall at 0.2 s and
# thin at 8 s. After the 429, the first waits rise to the 2 s the server asked for, never
# below it.
#
# ### One retry layer, not two
#
# The standard Python tool for retries is [tenacity](https://tenacity.readthedocs.io/): you
# give it when to stop, how long to wait and what to retry, and it runs the loop. Here it is
# around the SDK call, with your two functions; `retry_after_of` reads the wait the server
# asked for from the error's headers.
#
# `Retrying(...)` takes three rules: `stop` (after four attempts), `retry` (retry an exception
# only when your `worth_retrying` says so) and `wait` (a function of the retry state:
# `state.attempt_number` is the attempt that just failed, `state.outcome.exception()` its
# error). The loop `for attempt in retrying: with attempt: ...` runs the block, catches its
# exception, and either waits and goes round again or, with `reraise=True`, raises the last
# error. The waits are scaled down (10 ms to start, a 0.1 s cap) like the faults, so that the
# lesson runs in seconds; section 4 says what production values look like.

# %%
from tenacity import Retrying, retry_if_exception, stop_after_attempt

retry_filter = answer_or_reference("1.1.1", worth_retrying)


def retry_after_of(error):
    """Seconds the server asked to wait, from `retry-after-ms` or `Retry-After`; else None."""
    headers = error.response.headers if isinstance(error, openai.APIStatusError) else {}
    if "retry-after-ms" in headers:
        return float(headers["retry-after-ms"]) / 1000
    if "retry-after" in headers:
        return float(headers["retry-after"])  # may also be an HTTP date; LLMClient handles both
    return None


def call_with_retries(client, messages):
    retrying = Retrying(
        stop=stop_after_attempt(4),
        retry=retry_if_exception(retry_filter),
        wait=lambda state: wait_for(
            state.attempt_number,
            retry_after_of(state.outcome.exception()),
            initial=0.01,
            cap=0.1,
            jitter=0.01,
            rng=rng,
        ),
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            return client.chat.completions.create(model=MODEL, messages=messages)


# %% [markdown]
# Now a provider that rate-limits every request, which happens when a whole team shares one
# key during an incident. Your loop makes four attempts. Count the requests that reach the
# server, first with the SDK's own retries left on, then with them off:

# %%
import contextlib

server.set_faults(FaultPlan(rate=1.0, mix={"rate_limit": 1.0}, retry_after_s=0.01))
for label, client in [
    ("SDK retries on (max_retries=2)", sdk.with_options(max_retries=2, timeout=1.0)),
    ("SDK retries off (max_retries=0)", sdk.with_options(max_retries=0, timeout=1.0)),
]:
    before = server.model.requests_received
    with contextlib.suppress(openai.RateLimitError):  # the call fails in the end; count requests
        call_with_retries(client, prompts[0])
    sent = server.model.requests_received - before
    print(f"{label}: 1 call, 4 attempts of yours -> {sent} requests sent")

# %% [markdown]
# With both layers on, every one of your attempts is three of the SDK's: retries multiply.
# Add a gateway that retries too, and one call becomes dozens of requests against a provider
# that is already saying "slow down". So a production client keeps **one** retry layer, its
# own, where it can count, log and bound every attempt, and it turns the SDK's off
# (`max_retries=0`). (A **gateway** is a proxy service between your code and the providers
# that routes, rate-limits and logs model calls. LiteLLM is an open-source one; its router is
# likewise the only retry loop, and sets the provider SDK's `max_retries` to 0.)
#
# ## 4. The production client, measured
#
# `LLMClient` puts all of this in one place, a `ReliabilityPolicy`: explicit connect and read
# timeouts, retries with tenacity (exponential backoff with jitter, honouring Retry-After,
# only on transient errors), and the SDK's own retries off. It adds a circuit breaker, a
# fallback model and budgets, which the next sections show. The values here are scaled down
# like the faults; in production the read timeout would be tens of seconds, and the backoff
# would start at a fraction of a second and stop at several.

# %%
production = ReliabilityPolicy(
    connect_timeout_s=1.0,
    read_timeout_s=READ_TIMEOUT_S,
    max_attempts=4,  # the first attempt and up to three retries
    backoff_initial_s=0.01,
    backoff_max_s=0.5,
    jitter_s=0.01,
    max_retry_after_s=5.0,  # a longer Retry-After fails the call rather than blocking it
    breaker_failure_threshold=10,  # ten failures in a row open the circuit (section 6)
)

# %% [markdown]
# Same fault plan, same prompts, reset so that every first attempt meets the fault the bare
# client met. `jitter_seed` makes the jitter reproducible for this lesson; leave it out in
# production.

# %%
server.set_faults(plan)
before = server.model.requests_received
client = LLMClient.for_server(server.base_url, policy=production, jitter_seed=seed)
production_calls = run_calls(client, prompts)
production_summary = outcome_summary(production_calls)
received = server.model.requests_received - before
succeeded, calls, rate = (production_summary[k] for k in ("succeeded", "calls", "success_rate"))
print(f"{succeeded} of {calls} calls succeeded ({rate:.1%})")
print(f"requests the client sent: {client.stats.attempts}; the server received: {received}")
print("equal:", client.stats.attempts == received)
failed = production_calls.loc[~production_calls["ok"].astype(bool), ["call", "error", "attempts"]]
print("failed calls:", failed.to_dict("records") or "none")

# %% [markdown]
# The requests the server received are exactly the attempts the client made: no hidden
# retries anywhere. A call that still failed (the last line) sent all its attempts and met a
# fault on each; section 5 works out how often that should happen.
#
# The same client talks to a real provider with one change, its address and key (and a model
# registry file that maps the roles to that provider's model names). The course reads them
# from its settings: `llm_provider`, `llm_base_url` and `model_registry` in `course.toml`, and
# the key in the `COURSE_LLM_API_KEY` environment variable, never in a file (see "Using a real
# model" in [docs/local-model.md](../../docs/local-model.md)). Then:
#
# ```python
# client = LLMClient.from_settings(policy=production)  # the timeouts come from the settings
# ```
#
# Now the two clients side by side:

# %%
comparison = pd.DataFrame(
    [bare_summary, production_summary], index=["bare call", "production client"]
)
comparison[["calls", "succeeded", "success_rate", "requests", "requests_per_call", "errors"]]

# %% [markdown]
# And as a picture. On the left, the share of calls that succeeded; on the right, what that
# cost in requests sent per call:

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
colours = ["tab:red", "tab:green"]
left.bar(comparison.index, comparison["success_rate"], color=colours)
left.set(ylim=(0, 1.15), ylabel="calls that succeeded", title=f"At a {plan.rate:.0%} fault rate")
right.bar(comparison.index, comparison["requests_per_call"], color=colours)
right.set(ylim=(0, 1.5), ylabel="requests sent per call", title="The price: a few more requests")
for axis, column, fmt in [(left, "success_rate", "{:.1%}"), (right, "requests_per_call", "{:.2f}")]:
    for x, value in enumerate(comparison[column]):
        axis.annotate(fmt.format(value), (x, value), ha="center", va="bottom")
fig.tight_layout()
plt.show()

# %% [markdown]
# The retries turned about one failure in five into (almost) none, for a few more requests
# per call. A retry is not free: each one is another request against your rate limit, and it
# adds its wait to the user's latency. That is why the policy caps attempts and waits, and
# gives up early on a Retry-After longer than `max_retry_after_s`.
#
# ## 5. Explore: fault rate and policy
#
# Twenty percent is one fault rate. `simulate_success_rate` runs the same experiment for any
# rate and policy, without the real waiting, so it takes a moment. It runs the model **in
# process**: inside this Python process, called as a function, with no HTTP server between
# (`local_client()` does the same). It turns the circuit breaker off, because skipping the
# waits would also skip the pause that lets a circuit close again. It is a plain function;
# here it is across fault rates for three policies, the third adding a fallback model
# (section 6). `context="quotes"` builds short prompts, holding only the sentence that answers
# instead of the whole section, which keeps it quick:

# %%
policies = {
    "bare call": ReliabilityPolicy.bare(),
    "retries": production,
    "retries + fallback": production.with_changes(fallback="chat-large"),
}
quick_prompts = handbook_prompts(60 if fast else 200, context="quotes")
rates = [0.0, 0.2, 0.4] if fast else [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
sweep = pd.DataFrame(
    [
        {"policy": name, **simulate_success_rate(rate, policy, prompts=quick_prompts, seed=seed)}
        for name, policy in policies.items()
        for rate in rates
    ]
)
sweep.pivot(index="fault_rate", columns="policy", values="success_rate").round(3)

# %% [markdown]
# The same table as a figure: success rate against fault rate, one line per policy.

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, group in sweep.groupby("policy", sort=False):
    ax.plot(group["fault_rate"], group["success_rate"], marker="o", label=name)
ax.set(
    xlabel="share of requests that fail",
    ylabel="calls that succeed",
    ylim=(0, 1.05),
    title="What each policy buys",
)
ax.legend()
plt.show()

# %% [markdown]
# The bare call falls in a (roughly) straight line: every fault is a failed call. With four
# attempts a call fails only when all four meet a fault. If faults are independent, at a fault
# rate p that happens with probability p⁴ (at 20%, 0.2⁴ = 0.0016: one call in 625), so the line
# stays near the top until faults are common. A fallback model, failing independently, adds
# its own four attempts: p⁸.
#
# The calls that did fail are worth a look. The next cell lists them for the two retrying
# policies, beside the number of failures p⁴ and p⁸ predict (calls × p⁴ or × p⁸), their
# errors, and whether each failed call sent every attempt its policy allows:

# %%
allowed = {"retries": production.max_attempts, "retries + fallback": 2 * production.max_attempts}
failures = sweep[sweep["policy"].isin(list(allowed)) & (sweep["fault_rate"] > 0)].copy()
failures["failed"] = failures["calls"] - failures["succeeded"]
failures["predicted"] = [
    row.calls * row.fault_rate ** allowed[row.policy] for row in failures.itertuples()
]
failures["every attempt sent"] = [
    all(sent == allowed[row.policy] for sent in row.failed_call_attempts)
    for row in failures.itertuples()
]
columns = ["policy", "fault_rate", "calls", "failed", "predicted", "errors", "every attempt sent"]
failures[columns].round(2).reset_index(drop=True)

# %% [markdown]
# Every call that failed sent all its attempts (4, or 8 with the fallback) and met a fault on
# each: these are the p⁴ and p⁸ cases, not calls cut short by the circuit breaker (off here)
# or by a Retry-After over `max_retry_after_s` (the plan asks for 0.2 s). The `errors` column
# names the fault of each failed call's last attempt.
#
# The counts scatter around the predictions, as counts of rare events do: where 0.3 failures
# are expected, one run sees none and another sees one. The plan also draws the same random
# numbers at every fault rate, so a call that failed at one rate fails again at the higher
# ones. And one failed call moves a success rate by 1/calls, half a point with 200 prompts,
# which is why a rate measured on a few dozen calls can look worse than p⁴ says. (Real faults
# are often *not* independent: when a provider is down, every retry fails. That is what the
# fallback and the breaker are for.)
#
# Try it yourself: move the slider and pick a policy. The control calls the same function.
# (In a copy of this notebook that is not running, the control shows only as `VBox(...)`;
# the plain call after it gives the same result as text.)

# %% tags=["nbval-ignore-output"]
import ipywidgets as widgets

rate_slider = widgets.FloatSlider(value=0.2, min=0.0, max=0.8, step=0.05, description="fault rate")
policy_menu = widgets.Dropdown(options=list(policies), value="retries", description="policy")
verdict = widgets.HTML()


def show_success_rate(_=None):
    result = simulate_success_rate(
        rate_slider.value, policies[policy_menu.value], prompts=quick_prompts, seed=seed
    )
    verdict.value = (
        f"<b>{result['success_rate']:.1%}</b> of {result['calls']} calls succeed, "
        f"sending {result['requests_per_call']:.2f} requests per call"
    )


rate_slider.observe(show_success_rate, names="value")
policy_menu.observe(show_success_rate, names="value")
show_success_rate()
widgets.VBox([rate_slider, policy_menu, verdict])

# %% [markdown]
# The same function without the control, at the slider's starting point (20%, retries):

# %%
at_20 = simulate_success_rate(0.2, policies["retries"], prompts=quick_prompts, seed=seed)
print(
    f"{at_20['success_rate']:.1%} of {at_20['calls']} calls succeed, "
    f"sending {at_20['requests_per_call']:.2f} requests per call"
)

# %% [markdown]
# ## 6. When a model is down: fallback and circuit breaker
#
# Retries help with faults that come and go. When a model is down for minutes, every retry
# fails too, and each one still waits and still loads the struggling endpoint. Two patterns
# handle that:
#
# - a **fallback model**: after the primary's attempts fail, ask another model (another size,
#   or another provider);
# - a **circuit breaker** (from Michael Nygard's *Release It!*): after several failures in a
#   row, stop calling the model for a while and fail at once ("open"); after a pause, let one
#   trial call through ("half-open"); close again when it succeeds.
#
# The fault plan can take one model down and leave the others up. Take the primary down:

# %%
primary = registry.model_id("chat-small")
server.set_faults(FaultPlan(rate=1.0, mix={"server_error": 1.0}, models=(primary,)))

# %% [markdown]
# Now six calls through a client whose policy falls back to `chat-large` and opens the circuit
# after three failures in a row. The `attempts` column counts the requests each call sent:

# %%
resilient = LLMClient.for_server(
    server.base_url,
    policy=production.with_changes(
        fallback="chat-large", breaker_failure_threshold=3, read_timeout_s=5.0
    ),
    jitter_seed=seed,
)
before = server.model.requests_received
outage = run_calls(resilient, prompts[:6])
print("requests received by the server:", server.model.requests_received - before)
print("circuit of the primary model:", resilient.circuit_state("chat-small"))
outage[["call", "ok", "model", "fallback_used", "attempts"]]

# %% [markdown]
# Every call succeeded, answered by the fallback. The first call tried the primary until the
# circuit opened after its third failure, then fell back; every later call skipped the
# primary at once (one request each, to the fallback), instead of spending four attempts and
# their waits on a model that is down. After `breaker_reset_s` (a policy setting: how long an
# open circuit fails fast, 30 s by default) the breaker lets one trial call through to the
# primary, and closes if it succeeds.
#
# A fallback is a different model: it is slower and dearer here (section 8 measures by how
# much), and its answers differ. In production it should pass the same evaluation as the
# primary (lesson 1.4). Note too that a fallback can only happen before the first token of a
# streamed answer reaches the user.
#
# ## 7. A budget per call
#
# A call's cost is known before it is sent, up to the length of the answer: the prompt's
# tokens are counted, and the answer is at most `max_tokens` long (the request's limit on the
# answer's tokens; without one, the model's own maximum). So the client can work out the worst
# case before it spends anything: it lowers `max_tokens` to what the budget can pay for, and
# refuses the call when even the prompt alone costs more. A budget of $0.0005 per call, on the
# same prompt, to each model (chat-large's price per token is many times chat-small's;
# section 8 shows the prices):

# %%
server.set_faults(None)
budget = ReliabilityPolicy(max_cost_per_call_usd=0.0005)
small_answer = local_client(policy=budget).chat(prompts[0], model="chat-small")
print(f"chat-small: answered for ${small_answer.cost_usd:.6f}")
try:
    local_client(policy=budget).chat(prompts[0], model="chat-large")
except BudgetExceededError as error:
    print(f"chat-large: {type(error).__name__}: {error}")

# %% [markdown]
# The error says what happened and what to do. When the prompt fits but a long answer might
# not, the client caps `max_tokens` instead, and the answer may stop early. That is when
# `finish_reason` matters. The policy can also budget tokens: `max_tokens_per_call` counts
# the whole call, prompt and answer together, so the client sends `max_tokens` = the budget
# minus the prompt's tokens. Here the budget is the prompt's tokens (`usage.input_tokens`, the
# course's name for the SDK's `prompt_tokens`) plus 10, which leaves room for 10 tokens of
# answer:

# %%
room = small_answer.usage.input_tokens + 10
capped = local_client(policy=ReliabilityPolicy(max_tokens_per_call=room)).chat(
    prompts[0], model="chat-small"
)
print(f"finish_reason: {capped.finish_reason}")
print(f"{capped.usage.output_tokens} tokens: {capped.content!r}")

# %% [markdown]
# A cut answer looks like an answer. Check `finish_reason` on every call, and treat `length` as
# a failure or a prompt to shorten.
#
# ## 8. Tokens and cost per model
#
# Providers bill per token, with a price per million input tokens and a higher one per million
# output tokens, and larger models cost more per token. The registry holds the prices (made up
# for the local models, in the proportions real small and large models have), the
# `context_window` (the most tokens one call may hold, prompt and answer together) and the
# latency model of each: a call's modelled latency is `latency_base_ms`, plus
# `ms_per_input_token` for each input token, plus `ms_per_output_token` for each output token.

# %%
price_table(["chat-small", "chat-large"])

# %% [markdown]
# ### Exercise 1.1.3: What a call costs
#
# Complete `call_cost(usage, spec)`: the cost in US dollars of a call whose `usage` is the
# SDK's (`usage.prompt_tokens` in, `usage.completion_tokens` out), on the model `spec` from
# the registry (`spec.input_price_per_million` and `spec.output_price_per_million`, in dollars
# per million tokens). These are the attributes' names; the table above shows the same two
# prices in its columns `input_per_million_usd` and `output_per_million_usd`. Do not round: a
# call costs a fraction of a cent.


# %%
def call_cost(usage, spec) -> float:
    """The cost of one call in US dollars, from its token usage and the model's prices."""
    # BEGIN SOLUTION
    return (
        usage.prompt_tokens * spec.input_price_per_million
        + usage.completion_tokens * spec.output_price_per_million
    ) / 1_000_000
    # END SOLUTION


# %%
check("1.1.3", call_cost)

# %% [markdown]
# Now 50 of the prompts, sent with the SDK to each model and priced with your function (or the
# course's). Each call becomes one row: its tokens, its cost, and its modelled latency, from
# the registry's formula above for a call of that size (what the local model reports, not a
# wall-clock time):

# %%
price = answer_or_reference("1.1.3", call_cost)
rows = []
for role in ["chat-small", "chat-large"]:
    spec = registry.resolve(role)
    for messages in prompts[:50]:
        usage = sdk.chat.completions.create(model=spec.id, messages=messages).usage
        rows.append(
            {
                "role": role,
                "input_tokens": usage.prompt_tokens,
                "output_tokens": usage.completion_tokens,
                "cost_usd": price(usage, spec),
                "modelled_latency_ms": spec.latency_ms(
                    usage.prompt_tokens, usage.completion_tokens
                ),
            }
        )
per_call = pd.DataFrame(rows)
per_call.head(3)

# %% [markdown]
# Then one row per model: the mean tokens per call, the cost per 100 calls, and the median
# and 95th percentile (the latency that 95% of calls stay under) of the modelled latency:

# %%
costs = per_call.groupby("role", sort=False).agg(
    calls=("cost_usd", "size"),
    input_tokens=("input_tokens", "mean"),
    output_tokens=("output_tokens", "mean"),
    cost_per_100_calls_usd=("cost_usd", lambda c: 100 * c.mean()),
    median_latency_ms=("modelled_latency_ms", "median"),
    p95_latency_ms=("modelled_latency_ms", lambda s: s.quantile(0.95)),
)
costs.round(4)

# %% [markdown]
# Cost and latency side by side, per model:

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
left.bar(costs.index, costs["cost_per_100_calls_usd"], color=["tab:blue", "tab:purple"])
left.set(ylabel="US dollars", title="Cost per 100 calls")
right.bar(costs.index, costs["median_latency_ms"], color=["tab:blue", "tab:purple"])
right.set(ylabel="milliseconds (modelled)", title="Median latency per call")
fig.tight_layout()
plt.show()

# %% [markdown]
# The large model costs many times more per call for the same prompts, and takes longer to
# answer. Most of the tokens are input: the handbook passages in the prompt, not the answer, so
# trimming the context (lesson 2.2) saves more than shortening answers. The numbers matter at
# scale:

# %%
ratio = (
    costs.loc["chat-large", "cost_per_100_calls_usd"]
    / costs.loc["chat-small", "cost_per_100_calls_usd"]
)
monthly = costs["cost_per_100_calls_usd"] / 100 * 10_000 * 30
print(f"chat-large costs {ratio:.1f}x chat-small per call.")
for role, dollars in monthly.items():
    print(f"{role}: ${dollars:,.2f} a month at 10,000 questions a day")

# %% [markdown]
# ## 9. Streaming and time to first token
#
# A model writes its answer token by token, and a long answer takes seconds. Without
# streaming, the user stares at nothing until the last token; with streaming
# (`stream=True`), the text appears as it is written. What the user feels is the **time to
# first token** (TTFT), not the total.
#
# The local model can make the waiting real: `serve_model(latency_scale=...)` starts a server
# that takes its modelled time, here 15% of it. The next cell asks for a detailed
# answer, once whole and once streamed, and records when each piece of the stream arrives.
# Timings depend on your machine, so your numbers will differ from the stored ones:

# %% tags=["nbval-ignore-output"]
detailed = [
    {"role": "system", "content": "Answer in detail from the documents below and cite them."},
    prompts[6][1],
]
large = registry.model_id("chat-large")
with serve_model(latency_scale=0.15) as slow_server:
    slow = OpenAI(base_url=slow_server.base_url, api_key="local", max_retries=0)
    started = time.perf_counter()
    slow.chat.completions.create(model=large, messages=detailed)
    whole_ms = (time.perf_counter() - started) * 1000

    arrivals, received = [], 0  # (milliseconds since the request, characters so far)
    started = time.perf_counter()
    for chunk in slow.chat.completions.create(model=large, messages=detailed, stream=True):
        piece = chunk.choices[0].delta.content if chunk.choices else None
        if piece:
            received += len(piece)
            arrivals.append(((time.perf_counter() - started) * 1000, received))
print(f"not streamed: the whole answer after {whole_ms:.0f} ms")
first_ms, last_ms = arrivals[0][0], arrivals[-1][0]
print(f"streamed: the first text after {first_ms:.0f} ms, the last after {last_ms:.0f} ms")

# %% [markdown]
# The figure plots the characters received against time. The streamed answer starts long
# before the unstreamed one arrives in one block:

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.step([t for t, _ in arrivals], [n for _, n in arrivals], where="post", label="streamed")
ax.vlines(whole_ms, 0, received, color="tab:red", label="not streamed: all at once")
ax.axvline(arrivals[0][0], color="grey", linestyle=":", label="time to first token")
ax.set(xlabel="milliseconds since the request", ylabel="characters received", xlim=(0, None))
ax.legend()
plt.show()

# %% [markdown]
# The course's client streams too, with the same policy (retries apply until the stream
# opens) and the timing recorded for you. Here in process (the model inside this Python
# process, no server; section 5), at the same 15% of the modelled time:

# %% tags=["nbval-ignore-output"]
stream = local_client(latency_scale=0.15).stream(detailed, model="chat-large")
text = stream.text()
print(f"time to first token: {stream.time_to_first_token_ms:.0f} ms")
print(f"total: {stream.result.latency_ms:.0f} ms")
print(f"{stream.result.usage.output_tokens} tokens, ${stream.result.cost_usd:.6f}")

# %% [markdown]
# Wall-clock numbers vary; the model's own are fixed. The local model sends the first piece of
# a stream after its base latency, so its modelled time to first token is `latency_base_ms`
# from the registry: read from there, not measured. (Real models also take longer to start on
# long prompts; the stand-in leaves that out.) The total is the registry's formula from
# section 8: the base, plus a little per input token, plus more per output token, so the gap
# between first token and total grows with the length of the answer. For this answer, at full
# speed, with each term of the formula:

# %%
modelled = []
for role in ["chat-small", "chat-large"]:
    result = local_client().chat(detailed, model=role)
    spec = registry.resolve(role)
    tokens_in, tokens_out = result.usage.input_tokens, result.usage.output_tokens
    modelled.append(
        {
            "role": role,
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "time_to_first_token_ms": spec.latency_base_ms,  # the base, from the registry
            "input_term_ms": tokens_in * spec.latency_per_input_token_ms,
            "output_term_ms": tokens_out * spec.latency_per_output_token_ms,
            "total_ms": result.simulated_latency_ms,  # what the model reported
        }
    )
pd.DataFrame(modelled).set_index("role").round(2)

# %% [markdown]
# Streaming does not make the model faster; it makes the wait feel shorter, and it lets you
# set a separate, short timeout on the first token. Its costs: the answer arrives in pieces
# (validate it once it is complete), and once the first token is out, a failure can no longer
# be hidden by a retry or a fallback.

# %% [markdown]
# ## Takeaways
#
# - A model call fails in ordinary ways: 429 with Retry-After, 5xx, timeouts. At a 20% fault
#   rate, a call with no retries failed about one time in five; under a reliability policy,
#   (almost) never.
# - Retry only transient errors, with capped exponential backoff and jitter, never sooner than
#   Retry-After. Keep one retry layer and turn the SDK's off, so retries never multiply:
#   requests received equalled attempts made.
# - Set timeouts yourself: the SDK's default read timeout is ten minutes.
# - When a model is down, a circuit breaker stops the waiting and a fallback model answers.
# - Every call has a cost you can compute from its usage and the model's prices; a per-call
#   budget refuses an expensive call before it is sent, and `finish_reason` tells you when an
#   answer was cut.
# - Streaming cuts the time to the first token, not the total.
#
# ## Production checklist
#
# - [ ] Connect and read timeouts are set explicitly (and a first-token timeout for streams).
# - [ ] Exactly one retry layer; the SDK's `max_retries` is 0 under it.
# - [ ] Only 408, 429 (not `insufficient_quota`), 5xx, timeouts and connection errors are
#   retried, with capped, jittered backoff that honours Retry-After.
# - [ ] A fallback model that passed the same evaluation, and a circuit breaker per model.
# - [ ] A per-call token and cost budget; `finish_reason == "length"` is handled.
# - [ ] Every call logs its model, attempts, tokens, cost and latency (lesson 2.5 traces them).
# - [ ] Model names live in one registry file, not in code.
#
# Questions to ask of a provider (or of the gateway in front of it) before you depend on it:
#
# - What are my limits, in requests and in tokens per minute, and what happens when I go over?
#   Does a 429 carry `Retry-After`?
# - Which model snapshot is behind the name I call, and when will it change?
# - Which errors does it return when overloaded (429, 503, or its own code), and where is its
#   status page?
# - How is a call billed: input, output, cached and reasoning tokens, each at what price?
#
# ## Check your understanding
#
# 1. Why is a 400 not worth retrying, and a 503 is?
# 2. Two retry layers of three attempts each: how many requests can one call send?
# 3. What does jitter prevent, and why does it matter more with many clients than with one?
# 4. The circuit is open and there is no fallback: what does the caller get, and how fast?
# 5. Why can a streamed answer not fall back to another model halfway through?
# 6. Most of a grounded call's tokens are input. Which lever lowers its cost most?
#
# ## Further reading
#
# - Marc Brooker, "Exponential Backoff and Jitter", AWS Architecture Blog, 2015
#   (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). Why jitter,
#   with simulations of competing clients; full, equal and decorrelated jitter compared.
# - OpenAI, "Rate limits" guide (https://developers.openai.com/api/docs/guides/rate-limits) and
#   Cookbook, "How to handle rate limits"
#   (https://cookbook.openai.com/examples/how_to_handle_rate_limits): requests and tokens per
#   minute, and the tenacity pattern for backoff.
# - The `openai` Python library's README (https://github.com/openai/openai-python), sections
#   "Handling errors", "Retries" and "Timeouts": which status raises which exception, which are
#   retried by default, and how to set `max_retries` and `timeout`.
# - tenacity documentation (https://tenacity.readthedocs.io/): stop, wait and retry
#   strategies, and retrying a code block.
# - Michael T. Nygard, *Release It! Design and Deploy Production-Ready Software*, 2nd edition,
#   Pragmatic Bookshelf, 2018: the circuit breaker, timeouts and other stability patterns.
#   Martin Fowler's short summary: "CircuitBreaker", 2014
#   (https://martinfowler.com/bliki/CircuitBreaker.html).
# - Alejandro Forero Cuervo, "Handling Overload", chapter 21 of *Site Reliability
#   Engineering* (Beyer, Jones, Petoff and Murphy, eds.), O'Reilly, 2016
#   (https://sre.google/sre-book/handling-overload/): client-side throttling and retry budgets.
#
# **Next:** lesson 1.2, Prompts and structured output.
