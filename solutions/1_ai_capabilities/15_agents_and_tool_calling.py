# %% [markdown]
# # 1.5 Agents and tool calling: a loop that always ends
#
# A model that can call tools stops being a text box. It can look up who owns a service, track
# a parcel, open a ticket, and chain those steps to finish a task. The code that makes this
# happen is a loop: ask the model, run the tool it names, send back the result, ask again, until
# the model answers. That loop, a model choosing which tools to call until it can answer, is
# what this lesson (and most of the industry) calls an **agent**. A tutorial writes it in a
# dozen lines.
#
# In production, that loop is the part of your system you control least. The model decides
# what to call, with which arguments, and when to stop. It will send arguments your function
# does not accept, call a tool that fails, ask for the same failing call again and again, and
# reach for a tool it should not use. Every one of those must end in a safe, cheap, recorded
# outcome, never in a crash, a bill, or a page sent to someone at 3 a.m.
#
# In this lesson you write the tutorial's loop, measure how it fails on a suite of tool-use
# tasks, and then build and measure the production version.
#
# **Time:** about 60 minutes. **You need:** lesson 1.1 (calling a model, tokens and cost);
# Python type hints (`Literal`, `X | None`). Lesson 1.2 (structured output) helps. No API key,
# no network.
#
# ## Learning objectives
# - Explain what a tool call is: the model asks, your code runs the tool and reports back.
# - Measure how a tutorial's tool loop fails: bad arguments, tool errors that crash it, and a
#   runaway loop that never ends.
# - Derive a tool's schema from a typed Python function, and validate the arguments a model
#   sends against it.
# - Guarantee that every agent run ends, with step, token and cost budgets and repeated-call
#   detection, and keep a trace of every step.
# - Limit what an agent may do with an allow-list, and measure task success on a suite.

# %% [markdown]
# ## Setup
#
# The parameters first. `seed` changes which of the model's tool calls come out malformed (a
# small model breaks some of its structured output, as real ones do); `fast = True` caps the
# runaway loop sooner. The lesson reads the same either way.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# Then the imports. `course_lib.agents` is the production library this lesson builds: tool
# schemas from typed functions, the agent loop with its budgets, the Handbook Assistant's
# tools, and a suite of tasks to measure it on.

# %%
import json
import textwrap

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from course_lib.agents import run_agent, tool, tool_help
from course_lib.course import answer_or_reference, check, hint
from course_lib.labs import (
    OUTCOMES,
    READ_ONLY_TOOLS,
    TASKS,
    TUTORIAL_SCHEMAS,
    CallCapReachedError,
    CappedClient,
    HandbookWorld,
    run_suite,
)
from course_lib.llm import LLMClient

pd.set_option("display.max_colwidth", 90)
pd.set_option("display.width", 200)
RUNAWAY_CAP = 15 if fast else 30  # the most model calls the notebook lets a loop make

# %% [markdown]
# The model is the course's **local stand-in**: a small program on your machine that answers
# like a hosted model, through the same API, the same way on every run. It picks tools by how
# well their names and descriptions match the request, and takes arguments from the request by
# their names and types. [`docs/local-model.md`](../../docs/local-model.md) says how it works,
# including one habit this lesson relies on: when a tool reports an error, the small model
# calls it again with the same arguments, while the large one explains the error.
#
# The client comes from `LLMClient.from_settings()`, which gives the stand-in by default. To
# run everything below against a real provider, set `llm_provider = "openai-compatible"`, its
# base URL and a model registry for that provider in `course.toml` (the doc shows how), and the
# key in `COURSE_LLM_API_KEY`. The code is unchanged. The numbers will differ: a real model
# makes other mistakes, but the same kinds.

# %% [markdown]
# As in lesson 1.1, the code never names a model: it asks the **model registry** (the course's
# list of models, with their prices and context sizes) for a role, `chat-small` or
# `chat-large`. This lesson uses both. Their prices per million tokens will matter later, when
# you compare what runs cost:

# %%
client = LLMClient.from_settings()
for role in ("chat-small", "chat-large"):
    spec = client.registry.resolve(role)
    print(
        f"{role}: {spec.id}, ${spec.input_price_per_million:g} per million input tokens, "
        f"${spec.output_price_per_million:g} per million output tokens"
    )

# %% [markdown]
# ## 1. What a tool call is
#
# You describe each tool to the model with a **schema**: a name, a one-line description, and
# the JSON schema of its arguments. Here is the schema a tutorial would write by hand for a
# parcel tracker:

# %%
parcel_schema = TUTORIAL_SCHEMAS[3]
print(json.dumps(parcel_schema, indent=2))

# %% [markdown]
# Send it with a question. The model does not answer in text: it replies with a **tool call**,
# the name of the tool and its arguments as JSON text, and the finish reason (why the model
# stopped writing, lesson 1.1) is `tool_calls` instead of `stop`.

# %%
question = "Where is parcel KF-20931?"
reply = client.chat(question, tools=[parcel_schema])
print(reply.finish_reason, reply.content)
print(reply.tool_calls)

# %% [markdown]
# The model never runs anything. Your code does: it looks the tool up, calls it with those
# arguments, and sends the result back as a `tool` message that names the call it answers.
# (A message's role says who wrote it: `user` for the person, `assistant` for the model, and
# `tool` for a tool's result; lesson 1.1 introduced the first two.) Then it asks the model
# again, with the whole conversation so far. The tools here belong to the Handbook
# Assistant's world: Kestrel Freight's handbook, plus invented data about services, parcels
# and tickets.

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
# That is all there is to it: the model chooses, your code acts. Everything that can go wrong
# happens at the seams: the model's choice of tool, the arguments it writes, what your code does
# when a tool fails, and when the back-and-forth stops.
#
# ## 2. The prototype: the tutorial's tool loop
#
# A task may need several calls, so a tutorial puts the exchange above in a loop that runs
# until the model answers in text. Here it is, as tutorials write it. The flag
# `send_errors_back` is the first fix people add; it stays off for now.


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
# It gets one hand-written schema per tool. This is the one for opening a ticket: a
# short description and two plain strings, as a tutorial writes it:

# %%
print(json.dumps(TUTORIAL_SCHEMAS[5]["function"], indent=2))

# %% [markdown]
# On the happy path it works. (`seed` is the notebook's parameter; the prototype's run on the
# suite below uses the same seed, so this request gets the same answer there.)

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
# One happy question proves little. `course_lib.labs.agent_tasks` holds a suite of requests the
# Handbook Assistant gets, each with a check of success that looks only at what a user sees
# and what the world records: the answer's text, the tickets opened, who was paged. Some need
# one tool; some need two in order; some hit a failing tool, where the right answer is to tell
# the user so; one asks for something the assistant must not do on its own (page a person).

# %%
with pd.option_context("display.max_colwidth", None):  # show every request in full
    display(
        pd.DataFrame(
            [(t.id, t.kind, t.request, t.check.description) for t in TASKS],
            columns=["task", "kind", "request", "success means"],
        )
    )

# %% [markdown]
# `run_suite` runs an agent on every task, each in a fresh world, and sorts each outcome into
# one of five kinds: a correct answer, a wrong one, a run the loop **stopped safely** (you will
# build that below), a **crash** (an exception escaped the agent), or a loop that **ran away**
# (it was still calling tools when the notebook's hard cap of model calls stopped it; without
# the cap, this notebook would hang). Here is the prototype on the suite, with both models:


# %%
def prototype(model):
    def solve(client, request, world):
        return naive_agent(
            client, request, TUTORIAL_SCHEMAS, world.functions(), model=model, seed=seed
        )

    return solve


runs = {
    model: run_suite(prototype(model), client, hard_cap=RUNAWAY_CAP)
    for model in ("chat-small", "chat-large")
}
outcomes = pd.DataFrame({model: frame["outcome"].value_counts() for model, frame in runs.items()})
outcomes.reindex(OUTCOMES).fillna(0).astype(int)

# %% [markdown]
# Most runs crash. Read why: the `detail` column holds the first line of each exception.

# %%
crashes = runs["chat-small"].query("outcome == 'crashed'")
crashes[["task", "kind", "detail"]]

# %% [markdown]
# Three kinds of failure, all of them ordinary:
#
# - **Wrong arguments.** The hand-written schema says `service`, `currency` and `category` are
#   any string, so the model puts the whole sentence there: `service_owner` finds no service
#   called "Which team owns ledger?" (a `LookupError`), `convert_currency` raises a `KeyError`,
#   and the service desk's own check rejects the ticket (a `ValidationError`). The model did
#   what the schema allowed.
# - **Malformed arguments.** Now and then the small model writes arguments that do not fit at
#   all: JSON that is cut off (`json.loads` raises a `JSONDecodeError`), an argument left out
#   (Python's `TypeError: ... missing 1 required positional argument`: the model sent `{}` or
#   dropped one key), or a list where a string belongs. Which calls come out malformed depends
#   on the seed (the notebook's parameter). Real models do this too: less often, but not never.
# - **Tool errors.** An unknown parcel, a missing document or a restricted one makes the tool
#   raise, as good code should.
#
# In every case one exception ends the whole run, and the user gets nothing.
#
# ### 3.2 The obvious fix, and the runaway loop
#
# The first fix anyone reaches for: catch the exception and send the error back to the model,
# so it can tell the user or try something else. With the large model, that works:

# %%
RUNAWAY_TASK = "What is the status of parcel KF-99999?"
world = HandbookWorld()
naive_agent(
    client,
    RUNAWAY_TASK,
    TUTORIAL_SCHEMAS,
    world.functions(),
    model="chat-large",
    seed=seed,
    send_errors_back=True,
)

# %% [markdown]
# The small model does something else: it calls the failing tool again, with the same
# arguments, and again. Nothing in the loop stops it. So the notebook wraps the client in a
# `CappedClient`, which refuses model calls beyond a hard cap and raises instead; without it,
# the next cell would never finish.

# %%
capped = CappedClient(client, max_calls=RUNAWAY_CAP)
world = HandbookWorld()
try:
    naive_agent(
        capped, RUNAWAY_TASK, TUTORIAL_SCHEMAS, world.functions(), seed=seed, send_errors_back=True
    )
except CallCapReachedError as exc:
    print("Stopped by the notebook:", exc)
asked = {(c.name, c.arguments) for r in capped.replies for c in r.tool_calls}
print(
    f"{capped.calls} model calls, {len(world.calls)} tool runs, "
    f"{len(asked)} distinct tool call(s): {sorted(asked)}"
)
print(f"still asking for a tool in its last reply: {bool(capped.replies[-1].tool_calls)}")
print(f"spent: {capped.tokens:,} tokens, ${capped.cost_usd:.4f}")

# %% [markdown]
# Every call asked for the same thing, and the last reply asked for it once more: the loop
# would have continued for as long as the provider kept answering. Worse, each turn costs more
# than the last, because every call re-sends the whole conversation, with one more failed
# attempt in it each time. The bars are each call's input tokens; the line is the money spent
# so far:

# %%
tokens = [r.usage.input_tokens for r in capped.replies]
spent = pd.Series([r.cost_usd for r in capped.replies]).cumsum()
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.bar(range(1, len(tokens) + 1), tokens, color="#9ecae1")
ax.set_xlabel("model call")
ax.set_ylabel("input tokens of the call")
line = ax.twinx()
line.plot(range(1, len(tokens) + 1), spent, color="#d62728", marker=".")
line.set_ylabel("dollars spent so far")
ax.set_title("A runaway loop: the same failing call, each time dearer")
fig.tight_layout()
plt.show()

# %% [markdown]
# Look at the bars first: each is taller than the last by the same step, the failed call and
# its error message that the previous turn added. The cell below reads off that step, and
# splits the spending between the first and the second half of the calls:

# %%
step = tokens[1] - tokens[0]
half = len(tokens) // 2
print(
    f"input tokens: {tokens[0]:,} in call 1, {tokens[-1]:,} in call {len(tokens)} "
    f"(+{step} per call)"
)
print(
    f"first {half} calls: ${spent.iloc[half - 1]:.4f}; "
    f"last {len(tokens) - half} calls: ${spent.iloc[-1] - spent.iloc[half - 1]:.4f}"
)

# %% [markdown]
# Each call's input grows by that fixed step, so the bars rise in a straight line, and the
# total, the sum of the bars, grows with the square of the number of calls: it is quadratic
# in the length of the loop. The red line is that sum. It curves upward only gently over these
# calls, because every call also re-sends a part that does not grow (the question and seven
# tool schemas: the first bar); still, the second half of the calls cost more than the first.
# The longer the loop, and the bigger what each turn adds (a document instead of a one-line
# error), the more the growing part takes over, until doubling the length of the loop roughly
# quadruples its cost. At the small
# model's prices it is a fraction of a cent here; on a large model, with long documents in the
# context and thousands of users, a loop like this is how a bill surprises a team. A loop that
# depends on the model to stop is not a loop you can ship.
#
# ## 4. The production loop
#
# The production version adds five things, each small: schemas derived from typed functions;
# arguments validated before a tool runs, with every failure sent back as an error message
# rather than raised; budgets that end every run; an allow-list of tools; and a trace of
# every step. You write three of them yourself.
#
# ### 4.1 Tool schemas from typed functions
#
# A hand-written schema drifts from the function it describes, and says less than the function
# knows. A typed Python function already holds everything the schema needs: its name, its
# docstring's first line, and each parameter's type and default. A `Literal` type lists the
# allowed values, which the model then chooses from instead of guessing. Here is the Handbook
# Assistant's currency converter, its signature and docstring as `help()` would show them
# (`tool_help` prints the same text on every Python version; `help()`'s layout changes):

# %%
world = HandbookWorld()
print(tool_help(world.convert_currency))

# %% [markdown]
# ### Exercise 1.5.1: A tool schema from a typed function
#
# Complete `tool_schema_for(func)`: return the tool schema of a typed function in the format
# of the Chat Completions API (the OpenAI request format the course's client speaks, which most
# providers accept), `{"type": "function", "function": {"name", "description", "parameters"}}`,
# where:
#
# - `name` is the function's name and `description` the first line of its docstring (`""`
#   when it has none);
# - `parameters` is `{"type": "object", "properties": {...}, "required": [...]}`;
# - each property's `"type"` follows its type hint: `str` is `"string"`, `int` is `"integer"`,
#   `float` is `"number"`, `bool` is `"boolean"`; `Literal["a", "b"]` is `"string"` with
#   `"enum": ["a", "b"]`; `X | None` is `[X's type, "null"]`; and `Literal["a", "b"] | None`
#   is `{"type": ["string", "null"], "enum": ["a", "b", None]}` (None joins the enum, or a
#   `null` value would fail it);
# - `required` lists the parameters that have no default, in order.
#
# `hint("1.5.1")` gives a hint when you are stuck; call it again for a more specific one. The
# check runs your function on functions you have not seen, including one whose hints are
# written as strings, as they are in any module that starts with
# `from __future__ import annotations`.

# %%
import inspect
import types
import typing
from typing import Literal


def tool_schema_for(func):
    """The Chat Completions tool schema of a typed function."""
    # BEGIN SOLUTION
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}

    def describe(hint):
        origin = typing.get_origin(hint)
        if origin is Literal:
            return {"type": "string", "enum": list(typing.get_args(hint))}
        if origin in (typing.Union, types.UnionType):
            inner = describe(next(a for a in typing.get_args(hint) if a is not type(None)))
            if "enum" in inner:
                inner["enum"] = [*inner["enum"], None]
            return {**inner, "type": [inner["type"], "null"]}
        return {"type": names[hint]}

    hints = typing.get_type_hints(func)
    parameters = inspect.signature(func).parameters
    doc = inspect.getdoc(func) or ""
    return {
        "type": "function",
        "function": {
            "name": func.__name__,
            "description": doc.splitlines()[0] if doc else "",
            "parameters": {
                "type": "object",
                "properties": {name: describe(hints[name]) for name in parameters},
                "required": [n for n, p in parameters.items() if p.default is p.empty],
            },
        },
    }
    # END SOLUTION


# %%
check("1.5.1", tool_schema_for)

# %% [markdown]
# Here is the schema of the currency converter, from your function if it passed the check and
# from the course's otherwise. Compare the `currency` property with the tutorial's plain
# `"string"`:

# %%
schema_of = answer_or_reference("1.5.1", tool_schema_for)
print(json.dumps(schema_of(world.convert_currency)["function"]["parameters"], indent=2))

# %% [markdown]
# `course_lib.agents.tool` does the same and a little more: it adds each parameter's
# description from the docstring's `Args:` section, where the meaning of each allowed value
# helps the model choose (`GBP: British pounds`), and it builds a validator from the same
# signature. `HandbookWorld().tools()` wraps each of the world's methods this way, so the
# schemas cannot drift from the code:

# %%
converter = tool(world.convert_currency)
print(json.dumps(converter.schema, indent=2))

# %% [markdown]
# ### 4.2 Validating arguments
#
# A schema tells the model what to send; it does not make it so. The arguments still arrive as
# text that may be cut off, of the wrong type, outside the enum, or missing. Check them before
# the tool runs, and when they are wrong, do not raise: tell the model what is wrong, as the
# tool's result, so it can fix its call.
#
# ### Exercise 1.5.2: Validate a model's arguments
#
# Complete `validate_arguments(parameters, arguments)`. `parameters` is the JSON schema of a
# tool's arguments (the `"parameters"` of a schema like the ones above); `arguments` is the
# JSON text the model wrote. Return a list of problems, one string each, naming the argument
# concerned (the check looks for its name in the text); an empty list means the arguments are
# fine. Report:
#
# - text that is not valid JSON, or JSON that is not an object: one problem, without raising.
#   No argument can be named here, so the check looks for the word "JSON" in the first case
#   and "object" in the second (any case);
# - a required argument that is missing, and an argument that is not in `properties`;
# - a value whose type does not fit its `"type"` (a string, or a list such as
#   `["string", "null"]`): `"string"`, `"integer"`, `"number"` (an int or a float),
#   `"boolean"`, `"null"`. In JSON, `true` is not a number;
# - a value that is not one of its `"enum"`.


# %%
import json  # imported in the setup too; repeated so that this cell stands on its own


def validate_arguments(parameters, arguments):
    """Every problem of the JSON text ``arguments`` against the schema ``parameters``."""
    # BEGIN SOLUTION
    try:
        values = json.loads(arguments)
    except ValueError as exc:
        return [f"the arguments are not valid JSON ({exc})"]
    if not isinstance(values, dict):
        return ["the arguments must be a JSON object"]
    properties = parameters.get("properties", {})
    problems = [f"{n} is missing" for n in parameters.get("required", []) if n not in values]
    problems += [f"{n} is not a parameter" for n in values if n not in properties]
    fits = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    for name, value in values.items():
        if name not in properties:
            continue
        kinds = properties[name].get("type", [])
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if kinds and not any(fits.get(k, lambda v: True)(value) for k in kinds):
            problems.append(f"{name} should be {' or '.join(kinds)}, got {value!r}")
        elif "enum" in properties[name] and value not in properties[name]["enum"]:
            problems.append(f"{name} must be one of {properties[name]['enum']}, got {value!r}")
    return problems
    # END SOLUTION


# %%
check("1.5.2", validate_arguments)

# %% [markdown]
# Run it on arguments the prototype choked on, against the typed schema of `create_ticket`
# (your validator if it passed, the course's otherwise):

# %%
validator = answer_or_reference("1.5.2", validate_arguments)
ticket_parameters = schema_of(world.create_ticket)["function"]["parameters"]
for arguments in [
    '{"category": "Open a ticket: my laptop screen is cracked.", "summary": "Screen cracked"}',
    '{"category": "hardware", "summary": ["Screen cracked"]}',
    '{"category": "hardware", "summary": "Scr',
    '{"category": "hardware", "summary": "Screen cracked"}',
]:
    print(f"{arguments[:60]:62} -> {validator(ticket_parameters, arguments)}")

# %% [markdown]
# The library's `Tool.validate` does this with pydantic (the validation library of lesson 1.2),
# from the same signature, and raises
# a `ToolArgumentError` whose message is written for the model to read. The production loop
# sends that message back as the tool's result, prefixed with `Error:`:

# %%
from course_lib.agents import ToolArgumentError

try:
    tool(world.create_ticket).validate('{"category": "laptop", "summary": "Screen cracked"}')
except ToolArgumentError as exc:
    print(exc)

# %% [markdown]
# ### 4.3 Budgets that end every run
#
# Sending errors back is right, and it is exactly what made the small model loop. So the loop
# itself must decide when to stop, whatever the model does. After each model call that asks for
# a tool, and before the tool runs, it checks three limits:
#
# - a **step budget**: the most model calls one run may make;
# - a **token and cost budget**: the most one run may spend;
# - **repeated calls**: the same tool with the same arguments, asked for again and again.
#
# The first two guarantee that every run ends; the third ends a runaway loop sooner and
# cheaper, before the repeated call runs again (which matters when the tool opens tickets).
#
# ### Exercise 1.5.3: When must the loop stop?
#
# Complete `should_stop(steps, *, max_steps, max_tokens=None, max_cost_usd=None,
# max_repeats=2)`. `steps` is the trace so far: a list of `Step`s with `kind` (`"model"` for
# a model call; other kinds are tool outcomes), `tool` and `arguments` (the call a model step
# asked for, or None when it answered), `tokens` and `cost_usd`. The last step is the model
# call that just asked for a tool. Return the reason to stop, checking in this order:
#
# 1. `"max_steps"` when the number of model calls is at least `max_steps`;
# 2. `"budget"` when the tokens spent (all steps) are at least `max_tokens`, or the dollars at
#    least `max_cost_usd` (a budget of None is no limit);
# 3. `"repeated_call"` when the last model step asks for a call (same tool, same arguments)
#    that earlier model steps already asked for `max_repeats` times (None: never). Arguments
#    are the same when they are the same JSON, whatever the spacing or key order.
#
# Otherwise return None. The first hint is on the house; `hint("1.5.3")` again gives the next.

# %%
hint("1.5.3")


# %%
import json  # imported in the setup too; repeated so that this cell stands on its own


def should_stop(steps, *, max_steps, max_tokens=None, max_cost_usd=None, max_repeats=2):
    """Why the agent loop must stop now, or None to go on."""
    # BEGIN SOLUTION
    model_steps = [s for s in steps if s.kind == "model"]
    if len(model_steps) >= max_steps:
        return "max_steps"
    tokens = sum(s.tokens for s in steps)
    cost = sum(s.cost_usd for s in steps)
    if (max_tokens is not None and tokens >= max_tokens) or (
        max_cost_usd is not None and cost >= max_cost_usd
    ):
        return "budget"

    def call(step):
        return (step.tool, json.loads(step.arguments or "{}")) if step.tool else None

    if max_repeats is not None and model_steps and call(model_steps[-1]) is not None:
        last = call(model_steps[-1])
        if sum(1 for s in model_steps[:-1] if call(s) == last) >= max_repeats:
            return "repeated_call"
    return None
    # END SOLUTION


# %%
check("1.5.3", should_stop)

# %% [markdown]
# Now the runaway task again, through `run_agent`, the production loop, with your stop
# condition plugged in (or the course's). First with repeat detection off, so only the budgets
# can end it: at most 8 model calls and $0.001 (a tenth of a cent):

# %%
stopper = answer_or_reference("1.5.3", should_stop)
BUDGET_USD = 0.001
limits = {"max_steps": 8, "stop": stopper, "chat_options": {"seed": seed}}
world = HandbookWorld()
budgeted = run_agent(
    client, RUNAWAY_TASK, world.tools(), max_cost_usd=BUDGET_USD, max_repeats=None, **limits
)
print(budgeted.stopped_reason, "|", budgeted.reply)
budgeted.trace()

# %% [markdown]
# The trace has one row per step: each `model` row is a call to the model with its tokens and
# cost, and asks for the tool named in it; each `tool_error` row is the tool failing, and its
# `result` is the error text the model received. (So the trace has about two rows per model
# call; the reply counts model calls.) The same call repeats until a budget ends the run, and
# the user gets a reply that says why instead of silence.
#
# Did the run stay within its budget? Compare what it spent with the budget:

# %%
last_call = [s.cost_usd for s in budgeted.steps if s.kind == "model"][-1]
print(
    f"budget ${BUDGET_USD:.6f}, spent ${budgeted.totals.cost_usd:.6f}; "
    f"the last model call cost ${last_call:.6f}"
)

# %% [markdown]
# The loop learns what a call cost only after the call, so it checks the budget between calls:
# the call that crosses the budget is already paid for, and a run can end above its budget, by
# at most one call's cost. Where even that is too much, stop before a call whose likely cost
# (the last call's, say, since each re-sends everything) would cross the budget.
#
# With repeat detection on (the default, `max_repeats=2`), the loop stops at the third
# identical request. The cell also runs the large model on the same task, with a budget of
# $0.05:

# %%
world = HandbookWorld()
repeated = run_agent(client, RUNAWAY_TASK, world.tools(), max_cost_usd=BUDGET_USD, **limits)
large = run_agent(
    client, RUNAWAY_TASK, world.tools(), model="chat-large", max_cost_usd=0.05, **limits
)
print(repeated.stopped_reason, "|", repeated.reply)
print(large.stopped_reason, "|", large.reply)

# %% [markdown]
# Side by side with the prototype's runaway loop from section 3.2:

# %%
endings = [
    ("prototype, errors sent back", "notebook cap", capped.calls, capped.tokens, capped.cost_usd)
]
for name, run in [
    ("run_agent, budgets only", budgeted),
    ("run_agent, budgets + repeat detection", repeated),
    ("run_agent, chat-large", large),
]:
    totals = run.totals
    endings.append((name, run.stopped_reason, totals.model_calls, totals.tokens, totals.cost_usd))
prices = {
    role: client.registry.resolve(role).input_price_per_million
    for role in ("chat-small", "chat-large")
}
print(
    f"chat-large's input tokens cost {prices['chat-large'] / prices['chat-small']:.0f} times "
    f"chat-small's; its answered run cost {large.totals.cost_usd / capped.cost_usd:.1f} times "
    f"the prototype's whole runaway loop"
)
pd.DataFrame(endings, columns=["loop", "ended by", "model calls", "tokens", "cost_usd"])

# %% [markdown]
# Same task, four endings. The prototype spent until the notebook cut it off. The budgets end
# the run close to a cost you chose in advance (one call over it at most, as you saw); repeat
# detection ends it earlier and cheaper, before the failing call runs a third time. The large
# model explains the error on its own and answers in two calls, yet those two calls cost more
# than the prototype's whole runaway loop: each of its tokens costs many times as much (the
# first line above). A bigger model is not a cheaper way out of a loop. Budgets do not make a
# model smarter; they make its failures bounded, cheap and visible.
#
# ### 4.4 Allow-lists: what the agent may do
#
# The world has two tools that change things: `create_ticket` and `page_oncall`, which wakes an
# engineer up. The Handbook Assistant may open tickets (people triage them), but paging is for
# the incident process, not for a chat assistant: it is on no allow-list of the assistant. The
# OWASP Top 10 for LLM applications calls this risk **excessive agency**: a model with more
# functions, permissions or autonomy than its job needs will, sooner or later, use them wrongly.
#
# Watch the prototype, which offers every tool, take a request to page someone:

# %%
PAGE_TASK = next(t for t in TASKS if t.kind == "not allowed").request
world = HandbookWorld()
print(naive_agent(client, PAGE_TASK, TUTORIAL_SCHEMAS, world.functions(), seed=seed))
print("pages sent:", world.pages)

# %% [markdown]
# `run_agent` takes `allowed_tools`, the names this assistant may use. Only those are shown to
# the model. Here the model, not offered the pager, looks up who is on call instead:

# %%
ALLOWED = [*READ_ONLY_TOOLS, "create_ticket"]
world = HandbookWorld()
guarded = run_agent(
    client, PAGE_TASK, world.tools(), allowed_tools=ALLOWED, chat_options={"seed": seed}
)
print(guarded.stopped_reason, "|", guarded.reply)
print("pages sent:", world.pages, "| tools that ran:", world.calls)

# %% [markdown]
# Hiding a tool is not enough. A model can name a tool it was never shown: from a
# **hallucination** (a model stating or inventing something that is not there), or from a
# **prompt injection** (text in a document or tool result that tells the model what to do;
# [`docs/local-model.md`](../../docs/local-model.md) shows how the stand-in falls for one). So
# `run_agent` also refuses any call to a tool outside the list, without running it, and ends
# the run with `tool_not_allowed`. To see that happen, the next cell wraps the client so that
# the model is shown every tool's schema, the pager's too, whatever the loop offers it:


# %%
class ShowsEveryTool:
    """A client that offers the model every tool: a model that names a tool it was not shown."""

    def __init__(self, client, schemas):
        self.client, self.schemas = client, schemas

    def chat(self, messages, **options):
        return self.client.chat(messages, **{**options, "tools": self.schemas})


world = HandbookWorld()
leaky = ShowsEveryTool(client, [t.schema for t in world.tools()])
refused = run_agent(
    leaky, PAGE_TASK, world.tools(), allowed_tools=ALLOWED, chat_options={"seed": seed}
)
print(refused.stopped_reason, "|", refused.reply)
print("pages sent:", world.pages, "| tools that ran:", world.calls)
refused.trace()

# %% [markdown]
# ### 4.5 A trace of every step
#
# Every run keeps its trace, so you can answer the questions a support engineer asks the
# morning after: what did the agent do, in which order, with which arguments, what did each
# step return, and what did it cost? Here is a task that needs two tools in order, the
# second acting on what the first returned: the search finds the document, and the model must
# read the document whose id the search returned (the request does not name it). Only that
# document holds the fact asked for, so the success check, on the answer, can pass only if
# the chain worked:

# %%
MULTI_TASK = next(t for t in TASKS if t.id == "search-then-read")
world = HandbookWorld()
multi = run_agent(
    client, MULTI_TASK.request, world.tools(), allowed_tools=ALLOWED, chat_options={"seed": seed}
)
print(MULTI_TASK.request)
print(
    f"{multi.stopped_reason}; success check ({MULTI_TASK.check.description}): "
    f"{MULTI_TASK.check(multi.answer, world)}"
)
multi.trace()

# %% [markdown]
# Read it top to bottom: the model asks to search, the search lists documents with their ids,
# the model asks for the first one (its `doc_id` in the `arguments` column is the id at the
# start of the search's `result`), the document comes back, and the model answers from it.
# (With another seed the small model may break its arguments instead, and the trace shows
# that.) The `tokens` and `cost_usd` columns show where the money went: only the model calls
# cost anything here, and each one costs more than the last as the conversation grows, the
# last most of all, since it re-sends the whole document. The run's totals add them up
# (the latency is the local model's modelled latency, added up, not a measured time):

# %%
spent_on = multi.totals
print(
    f"{spent_on.model_calls} model calls, {spent_on.tool_calls} tool calls; "
    f"{spent_on.input_tokens:,} input and {spent_on.output_tokens:,} output tokens, "
    f"${spent_on.cost_usd:.6f}; model latency {spent_on.latency_ms / 1000:.1f} s (modelled)"
)

# %% [markdown]
# In a service you would send these steps to your tracing system, one **span** (a named, timed
# record of one operation, nested in the request's) per model call and per tool call, and keep
# the trace with the request. Lesson 2.5 does this with OpenTelemetry, the open standard for
# traces.
#
# ## 5. Measured: task success, prototype versus production
#
# Now the whole suite, three ways, with both models:
#
# - **prototype**: the tutorial's loop and hand-written schemas;
# - **patched**: the tutorial's loop with the two obvious fixes, typed schemas and errors sent
#   back to the model, but no budgets, no validation and no allow-list;
# - **production**: `run_agent` with typed schemas, validation, budgets (8 model calls and
#   $0.05 per run), repeat detection and the assistant's allow-list.


# %%
FIXES = {"seed": seed, "send_errors_back": True}
PRODUCTION = {"max_steps": 8, "max_cost_usd": 0.05, "allowed_tools": ALLOWED}


def patched(model):
    def solve(client, request, world):
        schemas = [t.schema for t in world.tools()]
        return naive_agent(client, request, schemas, world.functions(), model=model, **FIXES)

    return solve


def production(model):
    def solve(client, request, world):
        options = {"seed": seed}
        return run_agent(
            client, request, world.tools(), model=model, chat_options=options, **PRODUCTION
        )

    return solve


# %% [markdown]
# Run all six, each on every task. The table has one row per task and one column per model
# and loop: read along a row to follow one task from the prototype to the production loop.

# %%
loops = {"prototype": prototype, "patched": patched, "production": production}
frames = [
    run_suite(make(model), client, hard_cap=RUNAWAY_CAP).assign(loop=name, model=model)
    for model in ("chat-small", "chat-large")
    for name, make in loops.items()
]
suite = pd.concat(frames, ignore_index=True)
columns = [(m, loop) for m in ("chat-small", "chat-large") for loop in loops]
suite.pivot(index="task", columns=["model", "loop"], values="outcome").reindex(
    index=[t.id for t in TASKS], columns=columns
)

# %% [markdown]
# Each bar is one loop with one model; its segments count the tasks by outcome:

# %%
counts = (
    pd.crosstab([suite["model"], suite["loop"]], suite["outcome"])
    .reindex(columns=list(OUTCOMES), fill_value=0)
    .reindex([(m, loop) for m in ("chat-small", "chat-large") for loop in loops])
)
colours = ["#2ca02c", "#ff7f0e", "#7f7f7f", "#d62728", "#9467bd"]
ax = counts.plot.barh(stacked=True, color=colours, figsize=(8, 4.2), width=0.75)
ax.set_yticklabels([f"{m}, {loop}" for m, loop in counts.index])
ax.invert_yaxis()
ax.set_xlabel(f"tasks (of {len(TASKS)})")
ax.set_ylabel("")
ax.legend(loc="upper center", bbox_to_anchor=(0.4, -0.16), ncol=5, frameon=False)
ax.set_title("Outcomes on the tool-use suite")
plt.tight_layout()
plt.show()

# %% [markdown]
# Look at the red and purple first. The prototype crashes on most tasks, with either model.
# The patched loop never crashes (every exception goes back to the model), and typed schemas
# fix the wrong arguments; but with the small model, tasks whose tool call failed became loops
# that never ended (purple: only the notebook's cap stopped them; the `ran_away` column below
# counts them). The production loop has neither:
# every one of its runs ended on its own, answered or stopped safely (grey), whatever the
# model did. The numbers behind the bars, with the model calls and dollars each loop spent on
# the whole suite:

# %%
summary = suite.groupby(["model", "loop"], sort=False).agg(
    correct=("outcome", lambda o: (o == "correct").sum()),
    crashed=("outcome", lambda o: (o == "crashed").sum()),
    ran_away=("outcome", lambda o: (o == "ran away").sum()),
    model_calls=("model_calls", "sum"),
    cost_usd=("cost_usd", "sum"),
)
summary["success"] = (summary["correct"] / len(TASKS)).map("{:.0%}".format)
summary.round({"cost_usd": 4})

# %% [markdown]
# Read the `correct` column first: most of the gain in success comes from the typed schemas,
# which the patched loop already has. What the production loop adds is in the other columns:
# no crashes, no runaway loops, and, with the small model, a fraction of the patched loop's
# model calls and cost, because each runaway task in the patched loop burned the whole cap.
# Where does the production loop still fail?

# %%
failures = suite.query("loop == 'production' and outcome != 'correct'")
for row in failures.itertuples():
    print(f"{row.model}, {row.task}: {row.outcome} ({row.detail})")
    print(
        textwrap.fill(f"reply: {row.reply}", 100, initial_indent="    ", subsequent_indent="    ")
    )

# %% [markdown]
# These are the model's limits, now visible and cheap. Read the replies: they are what the
# user saw. The small model retries a failing tool instead of explaining it, or breaks its
# arguments and repeats them; the loop stops it, and the user gets an apology that names the
# error, not silence. The large model explains tool errors on its own, which is why it
# succeeds on those tasks; where it still fails, its reply shows why (a malformed call of its
# own that it explained instead of repairing, say). And where `owner-then-ticket` fails, the
# ticket was opened, but its summary copies the request instead of naming the team the first
# call found: the stand-in carries an id or a service name from one tool's result into the
# next call's arguments, but writes no free text from it. The engineering guarantees that a
# run ends, bounded in cost, with a record of every step; success past that point comes from
# the model, the prompts and the tools' descriptions, and you now have a suite that measures
# it.

# %% [markdown]
# ## Takeaways
#
# - A tool call is a request: the model names a tool and writes its arguments; your code runs
#   it and reports back. Every failure happens in that hand-over.
# - The tutorial's `while True` loop crashes on the first tool error or malformed argument,
#   and once you send errors back, a model that retries a failing call makes it run forever,
#   each turn dearer than the last.
# - Derive tool schemas from typed functions (`Literal` for the allowed values, docstrings for
#   the descriptions), so they never drift from the code; validate arguments before a tool
#   runs, and send every failure back as an error message, never as an exception.
# - Step, token and cost budgets guarantee that a run ends; repeated-call detection ends a
#   runaway loop early, before a repeated call runs again.
# - Offer the model only the tools its job needs, and refuse any other call.
# - Keep a trace of every step, and measure task success on a suite, per model.
#
# ## Production checklist
#
# - Does every agent run have a step budget and a cost budget, enforced by your code?
# - What does the user see when a run is stopped, and is the stop logged with its reason?
# - Are tool schemas generated from the code, and are arguments validated before any tool runs?
# - Does a tool's exception reach the model as a message, never the user as a crash?
# - Which tools change something (tickets, payments, pages, emails)? Are they on an
#   allow-list per use case, with human approval for the ones that cannot be undone, and
#   idempotency keys (a unique id sent with each action, so that a retried call acts only
#   once) so a retry does not open two tickets (lesson 4.4)?
# - Do tools have their own timeouts and retries, so one slow backend does not stall a run?
# - Is every model call and tool call traced, with tokens and cost (lesson 2.5)?
# - Is there a suite of tool-use tasks, run on every change of model, prompt or tool
#   description, with success, cost and the share of runs stopped by a budget?
#
# ## Check your understanding
#
# 1. The model never runs a tool. Who does, and what does the model receive afterwards?
# 2. Why does a runaway loop cost more than the number of its calls suggests?
# 3. A `Literal` parameter and a `str` parameter can accept the same values in Python. Why is
#    the `Literal` better for a tool?
# 4. Why should the repeated-call check run before the tool runs, not after?
# 5. The production loop still fails some tasks with the small model. What would you change
#    to raise its success, and how would you know it worked?
#
# ## Further reading
#
# - OpenAI, "Function calling" (API guide),
#   https://platform.openai.com/docs/guides/function-calling. Tool schemas, tool calls and
#   results, parallel calls, and strict mode (arguments constrained to the schema).
# - S. Yao et al., "ReAct: Synergizing Reasoning and Acting in Language Models", ICLR 2023,
#   https://arxiv.org/abs/2210.03629. The reason-act-observe loop that agent loops descend from.
# - T. Schick et al., "Toolformer: Language Models Can Teach Themselves to Use Tools",
#   NeurIPS 2023, https://arxiv.org/abs/2302.04761. How models learned to call tools at all.
# - E. Schluntz and B. Zhang (Anthropic), "Building effective agents", December 2024,
#   https://www.anthropic.com/research/building-effective-agents. Workflows versus agents,
#   and the advice to start with the simplest thing that works.
# - OWASP, "LLM06:2025 Excessive Agency", OWASP Top 10 for LLM Applications 2025,
#   https://genai.owasp.org/llmrisk/llm062025-excessive-agency/. Excessive functionality,
#   permissions and autonomy, and how to limit each.
#
# **Next:** lesson 1.6, Prompting, RAG or fine-tuning?
