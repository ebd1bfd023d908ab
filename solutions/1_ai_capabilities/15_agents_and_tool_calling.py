# %% [markdown]
# # 1.5 Agents and tool calling: a loop that always ends
#
# A model that can call tools stops being a text box. It can look up who owns a service, track
# a parcel or open a ticket, and chain those steps to finish a task. The code behind it is a
# loop: ask the model, run the tool it names, send back the result, ask again, until the model
# answers. That loop is an **agent**.
#
# The model decides what to call, with which arguments, and when to stop. So every failure
# must end in a safe, cheap, recorded outcome, never a crash or a bill.
#
# **Time:** about 55 minutes: 23 to read, 8 to run the code and read its outputs, 25 for
# the two exercises. **You need:** lessons 1.1 (tokens and cost) and 1.4 (paired
# intervals); Python type hints (`Literal`, `X | None`). No API key, no network.
#
# ## Learning objectives
# - Explain a tool call: the model asks, your code runs the tool and reports back.
# - Measure how a tutorial's loop fails: bad arguments, crashes, a runaway loop.
# - Derive a tool's schema from a typed function and validate arguments with `jsonschema`.
# - Guarantee that every run ends, with budgets and repeated-call detection, and trace it.
# - Limit an agent with an allow-list, and compare loops over seeds with paired intervals.

# %% [markdown]
# ## Setup
#
# `seed` picks which tool calls come out malformed; `fast = True` runs fewer seeds.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# The imports. `course_lib.agents` is the production library this lesson builds;
# `course_lib.labs` holds the practice world, the task suite and the lesson's figures.

# %%
import json

import pandas as pd
from IPython.display import display

from course_lib.agents import run_agent, stop_reason, tool, tool_help
from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100  hint("1.5.2") if stuck
from course_lib.labs import (
    ASSISTANT_TOOLS,
    DEV_SEEDS,
    TASKS,
    TUTORIAL_SCHEMAS,
    CallCapReachedError,
    CappedClient,
    HandbookWorld,
    ShowsEveryTool,
    compare_success,
    lost_and_gained,
    plot_outcomes,
    plot_runaway,
    run_loops,
    run_suite,
    success_by_kind,
    success_table,
)
from course_lib.llm import LLMClient
from course_lib.workdir import ensure_work_dir

pd.set_option("display.max_colwidth", 90)
pd.set_option("display.width", 200)
RUNAWAY_CAP = 15 if fast else 30  # the most model calls the notebook lets a loop make
SEEDS = DEV_SEEDS[:3] if fast else DEV_SEEDS
_ = ensure_work_dir()  # a WorkDirError here says how to fix COURSE_WORK_DIR

# %% [markdown]
# The model is the course's **local stand-in**: a small program that answers through the same
# API as a hosted model, the same way on every run. It picks a tool by how well its name and
# description match the request. Some of its behaviour is **planted**, built in so the lesson
# has something to measure. A share of its tool calls come out malformed. After a tool error,
# the small model repeats the call and the large one explains the error
# ([`docs/local-model.md`](../../docs/local-model.md)). A real model fails in other ways.
#
# The code asks the **model registry** for a role, never a model. Their prices:

# %%
client = LLMClient.from_settings()
for role in ("chat-small", "chat-large"):
    spec = client.registry.resolve(role)
    print(
        f"{role}: {spec.id}, ${spec.input_price_per_million:g} / ${spec.output_price_per_million:g}"
        " per million input / output tokens"
    )

# %% [markdown]
# ## 1. What a tool call is
#
# You describe each tool with a **schema**: a name, a description, and the JSON schema of its
# arguments. Here is one a tutorial writes by hand for a parcel tracker:

# %%
parcel_schema = TUTORIAL_SCHEMAS[3]
print(json.dumps(parcel_schema, indent=2))

# %% [markdown]
# Send it with a question. The model replies with a **tool call**, a tool's name and its
# arguments as JSON text, and the finish reason is `tool_calls` instead of `stop`:

# %%
question = "Where is parcel KF-20931?"
reply = client.chat(question, tools=[parcel_schema])
print(reply.finish_reason, reply.content)
print(reply.tool_calls)

# %% [markdown]
# The model never runs anything. Your code runs the tool and sends the result back as a `tool`
# message naming the call it answers, then asks again with the whole conversation. The tools
# belong to the Handbook Assistant's world: Kestrel Freight's handbook, services, parcels and
# tickets.

# %%
world = HandbookWorld()
call = reply.tool_calls[0]
result = world.parcel_status(**json.loads(call.arguments))
messages = [
    {"role": "user", "content": question},
    reply.message,  # the assistant's tool call, as the model sent it
    {"role": "tool", "tool_call_id": call.id, "content": result},
]
final = client.chat(messages, tools=[parcel_schema])
print(final.finish_reason, "|", final.content)

# %% [markdown]
#
# ## 2. The prototype: the tutorial's tool loop
#
# A task may need several calls, so a tutorial loops until the model answers in text. The
# flag `send_errors_back` is the first fix people add; it stays off for now.


# %%
def naive_agent(
    client, task, tools, functions, *, model="chat-small", seed=None, send_errors_back=False
):
    messages = [{"role": "user", "content": task}]
    while True:  # until the model answers in text
        reply = client.chat(messages, model=model, tools=tools, seed=seed)
        if not reply.tool_calls:
            return reply.content
        messages.append(reply.message)
        for call in reply.tool_calls:
            try:
                result = functions[call.name](**json.loads(call.arguments))
            except Exception as exc:
                if not send_errors_back:
                    raise
                result = f"Error: {exc}"
            messages.append({"role": "tool", "tool_call_id": call.id, "content": str(result)})


# %% [markdown]
# On the happy path it works:

# %%
world = HandbookWorld()
naive_agent(
    client, "Who is on call for billing-service?", TUTORIAL_SCHEMAS, world.functions(), seed=seed
)

# %% [markdown]
# ## 3. What breaks
#
# ### 3.1 A suite of tool-use tasks
#
# The suite holds 20 requests the assistant gets, each with a check of success. Some tasks
# need two tools in order. Some hit a failing tool, where success is
# telling the user so. One asks to page a person, which the assistant must not do.

# %%
with pd.option_context("display.max_colwidth", None):
    display(
        pd.DataFrame(
            [(t.id, t.kind, t.request, t.check.description) for t in TASKS],
            columns=["task", "kind", "request", "success means"],
        )
    )

# %% [markdown]
# One task is beyond the stand-in: `owner-then-ticket` needs a ticket naming the team the
# first call found, and the stand-in writes no free text from a tool's result. Read it as a
# fixed cost in every success rate.
#
# `run_suite` runs an agent on every task, each in a fresh world, and sorts the outcome:
# **correct**, **wrong answer**, **stopped safely** (by the production loop, below),
# **crashed** (an exception escaped), or **ran away** (still calling tools when the notebook's
# cap of model calls stopped it). The prototype with the small model, on one seed:


# %%
def prototype(model, seed):
    def solve(client, request, world):
        return naive_agent(
            client, request, TUTORIAL_SCHEMAS, world.functions(), model=model, seed=seed
        )

    return solve


first = run_suite(prototype("chat-small", seed), client, hard_cap=RUNAWAY_CAP)
print(first["outcome"].value_counts().to_string())
fx_schema = next(s for s in TUTORIAL_SCHEMAS if s["function"]["name"] == "convert_currency")
print("tutorial's convert_currency:", fx_schema["function"]["parameters"]["properties"])
first.query("outcome == 'crashed'")[["task", "detail"]].head(8)

# %% [markdown]
# Three kinds of failure, all ordinary:
#
# - **Wrong arguments.** The hand-written schemas say `service`, `currency` (printed above) and
#   `category` are any string, so the stand-in puts a phrase of the request there. A real
#   model guesses better, but still guesses; a schema that lists the allowed values does not.
# - **Malformed arguments.** JSON cut off, a key left out, a list where a string belongs.
#   Which calls break depends on the seed and on the request (planted, at a fixed share).
# - **Tool errors.** An unknown parcel or a restricted document makes the tool raise.
#
# Each time, one exception ends the run, and the user gets nothing.
#
# ### 3.2 The obvious fix, and the runaway loop
#
# The first fix: catch the exception and send the error back to the model. The small model
# then calls the failing tool again, with the same arguments, forever (planted). A
# `CappedClient` refuses calls beyond a cap; without it, this cell would never finish.

# %%
RUNAWAY_TASK = "What is the status of parcel KF-99999?"
capped = CappedClient(client, max_calls=RUNAWAY_CAP)
world = HandbookWorld()
try:
    naive_agent(
        capped, RUNAWAY_TASK, TUTORIAL_SCHEMAS, world.functions(), seed=seed, send_errors_back=True
    )
except CallCapReachedError as exc:
    print("Stopped by the notebook:", exc)
asked = {(c.name, c.arguments) for r in capped.replies for c in r.tool_calls}
print(f"{capped.calls} model calls, {len(asked)} distinct tool call(s): {sorted(asked)}")
print(f"spent: {capped.tokens:,} tokens, ${capped.cost_usd:.4f}")

# %% [markdown]
# Every call asked for the same thing, and each cost more than the last: it re-sends the whole
# conversation, with one more failed attempt in it. The bars are each call's input tokens;
# they rise by a fixed step, so the money spent (the line) grows faster than the number of
# calls:

# %%
fig = plot_runaway(capped.replies)

# %% [markdown]
#
# ## 4. The production loop
#
# The production loop, `run_agent`, adds five things: schemas from typed functions, validated
# arguments, budgets, an allow-list and a trace.
#
# ### 4.1 Tool schemas from typed functions
#
# A hand-written schema drifts from its function and says less than the function knows. A
# typed function holds it all: a name, a docstring, each parameter's type and default. A
# `Literal` lists the allowed values. The currency converter:

# %%
world = HandbookWorld()
print(tool_help(world.convert_currency))

# %% [markdown]
# `course_lib.agents.tool` derives the schema; its arguments:

# %%
print(json.dumps(tool(world.convert_currency).schema["function"]["parameters"], indent=2))

# %% [markdown]
# Compare `currency` with the tutorial's plain `"string"`, printed in section 3: the model now
# chooses from an `enum` instead of guessing.
#
# ### 4.2 Validating arguments
#
# A schema tells the model what to send; it does not make it so. Check the arguments before
# the tool runs, and send any problem back as the tool's result, so the model can fix its
# call. (The stand-in never does: after any error the small model repeats the call and the
# large one explains it. So here validation turns crashes into safe stops, not successes. A
# real model often fixes its call.) Use the standard validator, the `jsonschema` package, not
# your own.
#
# ### Exercise 1.5.1: Validate a model's arguments with `jsonschema`
#
# Complete `validate_arguments(parameters, arguments)`: `parameters` is a tool's argument
# schema, `arguments` the JSON text the model wrote. Return a list with one string per problem
# (empty when the arguments are fine), and leave `parameters` unchanged:
#
# - text that is not JSON: one problem mentioning "JSON", without raising;
# - every error `jsonschema` finds (not only the first), each naming the argument concerned;
# - an argument the schema does not declare is an error too (as in strict mode, lesson 1.2).
#
# `hint("1.5.1")` helps.

# %%
import json  # imported in the setup too; repeated so that this cell stands on its own

from jsonschema import Draft202012Validator


def validate_arguments(parameters, arguments):
    """Every problem of the JSON text ``arguments`` against the schema ``parameters``."""
    # BEGIN SOLUTION
    try:
        values = json.loads(arguments)
    except ValueError as exc:
        return [f"the arguments are not valid JSON ({exc})"]
    validator = Draft202012Validator({**parameters, "additionalProperties": False})
    return [
        f"{'.'.join(map(str, error.absolute_path)) or 'arguments'}: {error.message}"
        for error in validator.iter_errors(values)
    ]
    # END SOLUTION


# %%
check("1.5.1", validate_arguments)

# %% [markdown]
# Your validator on arguments the prototype choked on, against `create_ticket`'s schema (the
# course's validator stands in until yours passes):

# %%
validator = answer_or_reference("1.5.1", validate_arguments)
ticket_parameters = tool(world.create_ticket).schema["function"]["parameters"]
for arguments in [
    '{"category": "my laptop screen is cracked", "summary": "Screen cracked"}',
    '{"category": "hardware", "summary": ["Screen cracked"], "urgent": true}',
    '{"category": "hardware", "summary": "Scr',
    '{"category": "hardware", "summary": "Screen cracked"}',
]:
    print(f"{arguments[:58]:60} -> {validator(ticket_parameters, arguments)}")

# %% [markdown]
# The library's `Tool.validate` does the same job with pydantic (lesson 1.2). The production
# loop sends its message back to the model as the tool's result, prefixed with `Error:`.
#
# ### 4.3 Budgets that end every run
#
# Sending errors back is right, and it is exactly what made the small model loop. So the loop
# decides when to stop, whatever the model does. After each model call that asks for a tool,
# before the tool runs, `run_agent` asks the library's `stop_reason`. It checks, in order:
#
# 1. the **step budget**: model calls so far at least `max_steps`;
# 2. the **token and cost budgets**: tokens or dollars spent at least their budget;
# 3. **repeated calls**: earlier model calls already asked `max_repeats` times for the same
#    tool with the same arguments (compared as parsed JSON). With `max_repeats=1`, a call runs
#    once and is stopped if asked again; 0 stops every tool call.
#
# The stand-in also reports a modelled latency for each call; exercise 1.5.2 adds a time
# budget on their sum (`max_seconds`).
#
# Here is the runaway task with repeat detection off, so only the budgets end it (at most 8
# model calls, or $0.001).

# %%
BUDGET_USD = 0.001
limits = {"max_steps": 8, "max_cost_usd": BUDGET_USD, "chat_options": {"seed": seed}}
world = HandbookWorld()
budgeted = run_agent(client, RUNAWAY_TASK, world.tools(), max_repeats=None, **limits)
print(budgeted.stopped_reason, "|", budgeted.reply)
budgeted.trace()

# %% [markdown]
# A `tool_error` row shows the error the model received. The user gets a reply that says
# why.
#
# Replay `stop_reason` on the trace after each model call, with repeat detection off and on
# (`max_repeats=2`):

# %%
calls = 0
for n, step in enumerate(budgeted.steps, start=1):
    if step.kind == "model":
        calls += 1
        so_far = budgeted.steps[:n]
        off, on = (
            stop_reason(so_far, max_steps=8, max_cost_usd=BUDGET_USD, max_repeats=r)
            for r in (None, 2)
        )
        spent = sum(s.cost_usd for s in so_far)
        print(f"model call {calls}: spent ${spent:.6f}; repeats off -> {off}; on -> {on}")

# %% [markdown]
# Three things to read. With repeat detection off, the cost budget ends the run at model call
# 5, before the step budget of 8. With it on, the rule stops the third identical request,
# before its tool runs again. And the run ended above its budget: a call's cost is known only
# after the call, so the call that crosses the budget is already paid. A run overshoots by at
# most one call; where that matters, stop before a call whose likely cost would cross it.
#
# The loop with repeat detection on, and the large model with a budget of $0.05:

# %%
world = HandbookWorld()
repeated = run_agent(client, RUNAWAY_TASK, world.tools(), max_repeats=2, **limits)
large_limits = {**limits, "max_cost_usd": 0.05}
large = run_agent(client, RUNAWAY_TASK, world.tools(), model="chat-large", **large_limits)
endings = [("prototype, errors sent back", "notebook cap", capped.calls, capped.cost_usd)]
for name, run in [("budgets only", budgeted), ("+ repeats", repeated), ("chat-large", large)]:
    endings.append((name, run.stopped_reason, run.totals.model_calls, run.totals.cost_usd))
print(large.reply)
pd.DataFrame(endings, columns=["loop", "ended by", "model calls", "cost_usd"])

# %% [markdown]
# Repeat detection ends the run earliest and cheapest. The large model explains the error in
# two calls that cost more than the whole runaway loop: its tokens are dearer. Budgets make
# failures bounded and visible, not rarer.
#
# ### 4.4 Allow-lists: what the agent may do
#
# Two tools change things: `create_ticket` and `page_oncall`, which wakes an engineer.
# Paging belongs to the incident process, not the assistant. OWASP calls this risk
# **excessive agency**: more functions or permissions than the job needs. The prototype
# offers every tool:

# %%
PAGE_TASK = next(t for t in TASKS if t.kind == "not allowed").request
world = HandbookWorld()
print(naive_agent(client, PAGE_TASK, TUTORIAL_SCHEMAS, world.functions(), seed=seed))
print("pages sent:", world.pages)

# %% [markdown]
# `run_agent` takes `allowed_tools`, the names this assistant may use, and shows the model
# only those. A model can still name a tool it was not shown: a **hallucination**, or a
# **prompt injection** in a document. So the loop refuses any other call without running it.
# `ShowsEveryTool` stands in for such a call: it shows the model every schema, the pager's too.

# %%
for name in ("allow-list", "every tool shown"):
    world = HandbookWorld()
    chat = (
        client
        if name == "allow-list"
        else ShowsEveryTool(client, [t.schema for t in world.tools()])
    )
    run = run_agent(
        chat, PAGE_TASK, world.tools(), allowed_tools=ASSISTANT_TOOLS, chat_options={"seed": seed}
    )
    print(f"{name}: {run.stopped_reason} | pages sent: {world.pages} | {run.reply[:70]}")

# %% [markdown]
# ## 5. Measured: prototype, patched and production, over seeds
#
# Three loops, two models:
#
# - **prototype**: the tutorial's loop and hand-written schemas;
# - **patched**: the same loop with typed schemas and errors sent back, nothing more;
# - **production**: `run_agent` with validation, budgets (8 model calls, $0.05), repeat
#   detection and the allow-list.
#
# Lesson 1.4 showed that 20 items and one seed cannot resolve a difference of a few points.
# So `run_loops` runs each loop with each model on every task and seed.


# %%
def patched(model, seed):
    def solve(client, request, world):
        schemas = [t.schema for t in world.tools()]
        functions = world.functions()
        return naive_agent(
            client, request, schemas, functions, model=model, seed=seed, send_errors_back=True
        )

    return solve


PRODUCTION = {"max_steps": 8, "max_cost_usd": 0.05, "allowed_tools": ASSISTANT_TOOLS}


def production(model, seed):
    def solve(client, request, world):
        options = {"seed": seed}
        return run_agent(
            client, request, world.tools(), model=model, chat_options=options, **PRODUCTION
        )

    return solve


loops = {"prototype": prototype, "patched": patched, "production": production}
suite = run_loops(loops, client, seeds=SEEDS, hard_cap=RUNAWAY_CAP)
order = [(m, loop) for m in ("chat-small", "chat-large") for loop in loops]
fig = plot_outcomes(suite, order)

# %% [markdown]
# The prototype crashes on about half its runs, with either model. That rate is the
# stand-in's: its malformed calls are planted and its argument guesses are crude. A real model
# likely gains less from typed schemas. The
# patched loop never crashes, but with the small model, failing tools become runaway loops
# (purple). Every production run ended on its own, answered or stopped safely (grey). The
# numbers:

# %%
success_table(suite, order)

# %% [markdown]
# Grey is safe, not solved. Each loop's success rate by kind of task:

# %%
hard = suite.query("task == 'owner-then-ticket'")
print(f"owner-then-ticket: {hard['outcome'].eq('correct').sum()} correct of {len(hard)} runs")
success_by_kind(suite)

# %% [markdown]
# The small model solves no "tool error" task in any loop. It repeats the failing call
# (planted) until something stops it. That is systematic, not noise: a stopped run tells the
# user it failed; it does not answer.
#
# Is the production loop also more *successful* than the patched one? Compare them task by
# task: each task's success rate over the seeds, paired, with a bootstrap interval (lesson
# 1.4). Tasks, not runs, are resampled, since one task's seeds are not independent:

# %%
for m in ("chat-small", "chat-large"):
    runs = {loop: suite.query("model == @m and loop == @loop") for loop in loops}
    print(f"{m}, prototype -> patched:  {compare_success(runs['prototype'], runs['patched'])}")
    print(f"{m}, patched -> production: {compare_success(runs['patched'], runs['production'])}")

# %% [markdown]
# Prototype to patched is a large gain, its interval above zero, on the stand-in's planted
# failures. It changes two things (typed schemas, errors sent back), and this comparison
# cannot split them. Patched to production gains a few points, with an interval that includes
# zero: this suite cannot tell. What the table does show: no crashes, no runaways, and a
# fraction of the patched loop's cost with the small model.
#
# Why so noisy? Count the runs each loop solved and the other did not, and net them by task:

# %%
lost, gained = lost_and_gained(suite, "patched", "production")
print(f"production lost {len(lost)} runs the patched loop solved, and won {len(gained)} it lost")
net = (
    gained.groupby(["model", "task"])
    .size()
    .sub(lost.groupby(["model", "task"]).size(), fill_value=0)
)
page = suite.query("loop == 'production' and task == 'page-oncall'")
for m in ("chat-small", "chat-large"):
    paged = int(net[m].get("page-oncall", 0))
    ok = page.query("model == @m")["outcome"].eq("correct")
    print(f"{m}: net {int(net[m].sum()):+d} runs, of which page-oncall {paged:+d}", end=" ")
    print(f"(production solved it in {ok.sum()} of {len(ok)} runs)")
for row in page.query("outcome != 'correct'").itertuples():
    error = row.reply.partition("Error: ")[2].split(". ")[0]
    print(f"  missed: {row.model}, seed {row.seed}, {row.outcome}, after the error {error!r}")
net.unstack("model").fillna(0).astype(int)

# %% [markdown]
# Almost all of the net gain is one task: `page-oncall`, which the allow-list turns from none
# of its runs to most (the "not allowed" column above). In each run it missed, the model's call
# came out malformed (planted), and the stand-in never fixes a call. The other tasks win and
# lose runs both ways. Which calls the stand-in breaks depends on the whole request, tool list
# included (planted), and the production loop shows six tools, not seven. That part is noise.
# A paired interval over 20 tasks cannot resolve a one-task effect: report such effects per
# task.
#
# ### Exercise 1.5.2 (open-ended): budgets that end every run and lose nothing
#
# Choose all four budgets: model calls (`max_steps`), tokens (`max_tokens`), modelled model
# time (`max_seconds`) and `max_repeats`. Each guards a different failure: a long loop, a
# large context, slow calls, a repeated call.
#
# `run_with_budgets` runs the production loop with the small model. Token and time budgets are
# checked between calls, so a run can end one call above them: the worst run may exceed
# `max_tokens`.
#
# A budget's **edge** is the tightest value that still lets every success finish. A budget far
# above its edge never ends a run early: `score_budgets` calls it **loose** above 1.5 times
# its edge (above edge + 1, for steps and repeats).
#
# **Target**: every run the generous budgets (printed below) solve still solved; no run above
# 5,000 tokens or 1.5 s of model time; no budget loose. The next cell shows that `max_steps=3`
# alone meets the two limits: the loose rule is what makes each budget matter.
#
# Measure each edge on `baseline`, one row per run of the generous loop. For a success, the
# columns `model_calls` and `most_repeats` (the most times it asked for one call) count what it
# needed. `tokens_before_last` and `seconds_before_last` are what it had spent when a budget was
# last checked. The checker uses 12 tasks and 5 seeds you never see: leave a small margin.

# %%
from course_lib.labs import GENEROUS, budget_report, run_with_budgets

baseline = run_with_budgets(client, GENEROUS, seeds=SEEDS)


def score_budgets(budgets):
    return budget_report(run_with_budgets(client, budgets, seeds=SEEDS), baseline)


print("generous budgets:", GENEROUS)
print("score:", score_budgets(GENEROUS))
print("max_steps=3 alone:", score_budgets({**GENEROUS, "max_steps": 3}))
solved = baseline.query("outcome == 'correct'")
tokens, seconds = solved["tokens"].max(), solved["model_seconds"].max()
print(f"successes spent at most {tokens:,} tokens and {seconds:.2f} s, last call included")

# %% [markdown]
# No budget may stop a success, so the dearest successes set the worst run's floor. Change the
# budgets, and score them in the next cell until it says "meets the target":

# %%
# BEGIN SOLUTION
from course_lib.labs import DEV_SEEDS, GENEROUS, run_with_budgets
from course_lib.llm import LLMClient

llm = LLMClient.from_settings()
generous_runs = run_with_budgets(llm, GENEROUS, seeds=DEV_SEEDS)
needs = generous_runs.query("outcome == 'correct'").max(numeric_only=True)
margin = 1.2  # the checker's tasks are phrased differently: leave room above each edge
budgets = {
    "max_steps": int(needs["model_calls"]),
    "max_tokens": round(margin * needs["tokens_before_last"]),
    "max_seconds": round(margin * needs["seconds_before_last"], 2),
    "max_repeats": int(needs["most_repeats"]),
}
# END SOLUTION
# STUB: budgets = {"max_steps": 12, "max_tokens": None, "max_seconds": None, "max_repeats": None}

# %%
print(score_budgets(budgets))

# %%
check("1.5.2", budgets)

# %% [markdown]
# ## 6. Current practice: parallel calls, MCP, cached prompts
#
# **Parallel tool calls.** A request that needs several independent lookups can get them in
# one turn. The model sends several tool calls in one message (`parallel_tool_calls`, on by
# default in OpenAI's API), and the loop runs each and answers each call's id:

# %%
PARALLEL_TASK = "Which teams own parcel-api, geo-cache and auth-service?"
for parallel in (True, False):
    options = {"seed": seed, "parallel_tool_calls": parallel}
    run = run_agent(client, PARALLEL_TASK, HandbookWorld().tools(), chat_options=options)
    totals = run.totals
    print(
        f"parallel_tool_calls={parallel}: {totals.model_calls} model calls, "
        f"{totals.tool_calls} tool calls, {totals.tokens:,} tokens, ${totals.cost_usd:.6f}"
    )

# %% [markdown]
# One turn instead of three saves two re-sends of the conversation. The model decides which
# calls share a turn, so tools must be safe to run in any order.
#
# **Tools over the Model Context Protocol (MCP).** MCP is an open standard for serving tools
# to any agent. A server lists its tools with their JSON schemas, and clients call them. The
# next cell serves the same tools from a local MCP server (the official `mcp` SDK; a local
# subprocess over stdio, no network) to the same `run_agent`:

# %%
from course_lib.agents import MCPTools

checked = [t for t in TASKS if t.kind in ("lookup", "handbook", "tool error")]
with MCPTools.serving("course_lib.labs.agent_world:HandbookWorld") as server:
    print("listed over MCP:", [t.name for t in server.tools()])
    agree = 0
    for task in checked:
        outcomes = []
        for tools in (server.tools(), HandbookWorld().tools()):
            options = {"allowed_tools": ASSISTANT_TOOLS, "chat_options": {"seed": seed}}
            run = run_agent(client, task.request, tools, **options)
            outcomes.append((run.stopped_reason, task.check(run.answer, HandbookWorld())))
        agree += outcomes[0] == outcomes[1]
print(f"{agree} of {len(checked)} tasks end the same way over MCP as in process")

# %% [markdown]
# Budgets, validation and the allow-list apply unchanged. An MCP server you did not write is
# code you did not review: its tools belong on an allow-list like any other.
#
# **Cached prompts.** Each model call of a run re-sends the same tool schemas and the
# conversation so far: a long shared prefix. Providers cache such prefixes for minutes and
# bill cached tokens at a discount (OpenAI: automatically, for prompts of 1,024 tokens or
# more). The stand-in models this, at made-up prices with real discounts. `caching_saving`
# runs the suite without a cache, with tasks back to back, and with tasks ten minutes apart:

# %%
from course_lib.labs import caching_saving

for role in ("chat-small", "chat-large"):
    spec = client.registry.resolve(role)
    cached = spec.cached_input_price_per_million / spec.input_price_per_million
    print(f"{role}: cached input tokens cost {1 - cached:.0%} less")

saving = caching_saving(TASKS, seeds=SEEDS[:2])
saving[["runs", "correct", "input_tokens", "cached_input_tokens", "cost_usd", "saving"]]

# %% [markdown]
# The answers do not change; the bill does. Ten minutes apart, only the calls within one run
# share a prefix. Keep the prefix stable: tools and system prompt first and fixed, what varies
# last.
#
# ## Takeaways
#
# - A tool call is a request: the model names a tool and writes arguments; your code runs it.
# - Derive schemas from typed functions; validate arguments with a real validator before a
#   tool runs, and send every failure back as a message.
# - Step, token and time budgets guarantee an end; repeat detection ends runaways early.
#   Set each near its edge: a loose budget guards nothing. Budgets are checked between calls,
#   so a run can pass one by a call.
# - Offer only the tools a job needs, and refuse any other call.
# - Compare agents over seeds with paired intervals, and claim only what the interval allows.
#
# ## Production checklist
#
# - Does every run have step, cost and time budgets, enforced by your code?
# - What does the user see when a run is stopped, and is the reason logged?
# - Are schemas generated from code, and arguments validated before any tool runs?
# - Are side-effecting tools on a per-use-case allow-list, with human approval where they
#   cannot be undone, and idempotency keys (lesson 4.4)?
# - Is every model and tool call traced, with tokens and cost (lesson 2.5)?
# - Is a task suite run over several seeds on every change of model, prompt or tool?
#
# ## Check your understanding
#
# 1. The model never runs a tool. Who does, and what does the model receive afterwards?
# 2. Why does a runaway loop cost more than the number of its calls suggests?
# 3. Why is a `Literal` parameter better for a tool than a `str` one?
# 4. Why should the repeated-call check run before the tool runs, not after?
# 5. The production loop scored a few points above the patched loop. What may you conclude?
#
# <details><summary>Short answers</summary>
#
# 1. Your code runs it, and sends its result (or its error) back as a `tool` message naming
#    the call; the model then sees the whole conversation again.
# 2. Each call re-sends the conversation, which grows by one failed attempt per turn: the
#    total grows faster than the number of calls.
# 3. The schema lists the allowed values as an `enum`, so the model chooses instead of
#    guessing, and the validator rejects anything else.
# 4. A repeated call may have side effects (a second ticket); stopping after it is too late.
# 5. Not that it succeeds more in general: the interval includes zero. Almost all of the gain
#    is one task, page-oncall, which the allow-list fixes by design; report such an effect per
#    task. It never crashed or ran away, and cost less.
#
# </details>
#
# ## Further reading
#
# - OpenAI, "Function calling" (API guide),
#   https://platform.openai.com/docs/guides/function-calling. Tool schemas, parallel calls,
#   strict mode.
# - OpenAI, "Prompt caching" (API guide), https://platform.openai.com/docs/guides/prompt-caching.
# - S. Yao et al., "ReAct: Synergizing Reasoning and Acting in Language Models", ICLR 2023,
#   https://arxiv.org/abs/2210.03629. The loop agents descend from.
# - E. Schluntz and B. Zhang (Anthropic), "Building effective agents", December 2024,
#   https://www.anthropic.com/research/building-effective-agents.
# - Model Context Protocol, specification and Python SDK, https://modelcontextprotocol.io.
# - OWASP, "LLM06:2025 Excessive Agency",
#   https://genai.owasp.org/llmrisk/llm062025-excessive-agency/.
# - JSON Schema, "Understanding JSON Schema", https://json-schema.org/understanding-json-schema.
#
# **Next:** lesson 1.6, Prompting, RAG or fine-tuning?
