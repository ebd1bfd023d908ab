# %% [markdown]
# # 1.2 Prompts and structured output: templates, schemas, validation and repair
#
# A chat reply is text for a person. Most production uses of a model feed a program instead.
# A service desk that triages tickets with a model needs a category to route on, a priority
# to sort by, and a flag for tickets a person must see. If one reply in ten does not parse,
# one ticket in ten is lost or, behind a bare `except`, misrouted silently.
#
# You build the service desk's triage, from prototype to production.
#
# **Time:** about 50 minutes: 13 to read, 9 to run the code and read its outputs, 24 for the
# three exercises (6, 5 and 13), 4 for the questions. **You need:** lesson 1.1; Python
# classes and exceptions. No API key, no network.
#
# ## Learning objectives
# - Build prompts from Jinja2 templates, with roles and few-shot examples, that fail loudly
#   on a missing variable.
# - Measure how often prompt-only JSON validates, and sort its failures into kinds.
# - Write the output as a pydantic model and send its schema in strict mode.
# - Choose a repair policy from measurements, for a provider without strict mode.
# - Tell a valid answer from a right one, and test a prompt change with a paired interval.

# %% [markdown]
# ## Setup
#
# The parameters first. `fast = True` triages 80 tickets instead of 200: quicker, but every
# figure changes, and a conclusion drawn from 200 tickets may not hold on 80.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# Then the imports. `course_lib.structured` is the production library this lesson builds;
# `course_lib.labs` holds the lesson's measurements. Keep `check(...)` on the last line of
# its cell: its verdict is the cell's result.

# %%
import json

import jinja2
import pandas as pd
from pydantic import BaseModel, Field, ValidationError

from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100 (hint: for you)
from course_lib.datasets import TICKET_CATEGORIES as CATEGORIES, TICKET_PRIORITIES as PRIORITIES
from course_lib.errors import PromptRenderError
from course_lib.evaluation import paired_bootstrap
from course_lib.labs import cost_row, json_wrapping, kinds_table, lesson_tickets, repair_report
from course_lib.llm import LLMClient
from course_lib.standin import FaultPlan
from course_lib.structured import (
    extract_json,
    generate_structured,
    render_prompt,
    response_format_for,
    validate_output,
)

pd.set_option("display.max_colwidth", 70)
pd.set_option("display.width", 110)
n_tickets = 80 if fast else 200
MODELS = ["chat-small", "chat-large"]  # roles of the model registry, never model names

# %% [markdown]
# The model is the course's **local stand-in**: a small program that answers through the
# same API as a hosted model, offline, the same way on every run. Some of its behaviour is
# **planted**: built in on purpose so that a lesson has something to measure. Here, it breaks
# a share of its JSON replies, and wraps JSON asked for in the prompt alone in a Markdown
# code fence, a preamble or a trailing comment. [docs/local-model.md](../../docs/local-model.md)
# describes it.

# %%
client = LLMClient.from_settings()  # the in-process stand-in, unless course.toml says otherwise
for model in MODELS:
    print(f"{model}: {client.registry.resolve(model).description}")

# %% [markdown]
# ## 1. The prototype: a prompt built from a template
#
# The service desk's 720 tickets ship with the course, each labelled by a person with a
# category and a priority (datasheet: `course_lib/datasets/README.md`). You triage a fixed
# sample of them:

# %%
tickets = lesson_tickets(n_tickets)
first = tickets.iloc[0]
print(f"{len(tickets)} tickets; the first one:\n\nSubject: {first.subject}\n\n{first.body}\n")
print(f"label: category={first.category}, priority={first.priority}")

# %% [markdown]
# ### Templates
#
# A prompt is text with holes. Once prompts live in files and get reviewed (lesson 2.4), the
# frame is a **template**, and [Jinja2](https://jinja.palletsprojects.com/) is the usual
# engine:

# %%
TICKET_TEMPLATE = "Subject: {{ subject }}\n\n{{ body }}"

print(render_prompt(TICKET_TEMPLATE, subject=first.subject, body=first.body)[:120])

# %% [markdown]
# Jinja2 has a trap. By default, a variable nobody passed renders as an empty string, so a
# typo ships a prompt with a hole in it. Watch the subject disappear:

# %%
typo = "Subject: {{ subjet }}\n\n{{ body }}"
print(repr(jinja2.Template(typo).render(subject=first.subject, body="...")))

# %% [markdown]
# `render_prompt` renders with Jinja2's `StrictUndefined`, so the typo is an error that names
# the missing variable:

# %%
try:
    render_prompt(typo, subject=first.subject, body="...")
except PromptRenderError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# ### Roles and examples
#
# Chat models take a list of messages, each with a **role**: `system` for your instructions,
# `user` for the input, `assistant` for the model's replies. The ticket is text written by
# someone else, so it goes in its own `user` message, never spliced into your instructions.
#
# A few solved examples in the prompt, **few-shot prompting**, show the model the shape of
# the answer you want. Two solved tickets, written for this lesson:

# %%
EXAMPLES = [
    {
        "ticket": "Subject: locked out\n\nNew phone, and Okta Verify is gone. I have no other "
        "factor left and can't sign in to anything today.",
        "answer": {"category": "login_mfa", "priority": "P2", "service": None,
                   "summary": "Locked out of Okta after a phone change, no factor left",
                   "needs_human": True},
    },
    {
        "ticket": "Subject: Grafana seat\n\nCould I get a Grafana Cloud editor seat for the "
        "routing dashboards? No rush.",
        "answer": {"category": "software_licence", "priority": "P4", "service": None,
                   "summary": "Wants a Grafana Cloud editor seat", "needs_human": False},
    },
]  # fmt: skip

# %% [markdown]
# Two pieces of Jinja2 put them in a prompt: `{% for x in items %} ... {% endfor %}` repeats
# its text once per item, and the `tojson` filter writes a value as JSON. On made-up data:

# %%
DEMO = """{% for service, team in owners.items() %}
* {{ service }} belongs to {{ team }}
{% endfor %}
without tojson: {{ limits }}
with tojson:    {{ limits | tojson }}"""

owners = {"parcel-api": "Routing", "ledgerly": "Finance"}
print(render_prompt(DEMO, owners=owners, limits={"strict": True, "region": None}))

# %% [markdown]
# ### Exercise 1.2.1: A few-shot prompt template
#
# Complete `FEW_SHOT_TEMPLATE`, the system prompt. It receives `categories` (a dict of name
# -> meaning) and `examples` (a list of dicts with a `ticket` text and an `answer` dict).
# List every category on its own line as `- name: meaning`. Write each example, in order, as
# `Ticket:`, its text, then `Answer: ` and its answer **as JSON** on one line:
#
# ```text
# Ticket:
# Subject: Grafana seat ...
# Answer: {"category": "software_licence", "priority": "P4", ...}
# ```
#
# Keep the closing instructions. The checker renders your template with categories and
# examples you have not seen, and with none.

# %%
# BEGIN SOLUTION
FEW_SHOT_TEMPLATE = """You triage support tickets for the Kestrel Freight service desk.

Categories:
{% for name, meaning in categories.items() %}
- {{ name }}: {{ meaning }}
{% endfor %}

Examples:
{% for example in examples %}
Ticket:
{{ example.ticket }}
Answer: {{ example.answer | tojson }}

{% endfor %}
Respond in JSON, like the examples.
category is one of {{ categories | join(", ") }}.
priority is one of P1, P2, P3, P4.
summary is one line, at most 120 characters."""
# END SOLUTION
# STUB: FEW_SHOT_TEMPLATE = """You triage support tickets for the Kestrel Freight service desk.
# STUB:
# STUB: Categories:
# STUB: {# every category on its own line: - name: meaning #}
# STUB:
# STUB: Examples:
# STUB: {# every example: "Ticket:" and its text, then "Answer: " and its answer as JSON #}
# STUB:
# STUB: Respond in JSON, like the examples.
# STUB: category is one of {{ categories | join(", ") }}.
# STUB: priority is one of P1, P2, P3, P4.
# STUB: summary is one line, at most 120 characters."""

# %%
check("1.2.1", FEW_SHOT_TEMPLATE)

# %% [markdown]
# The system prompt with the ten real categories and the two examples (your template once
# it passes, the course's until then):

# %%
few_shot = answer_or_reference("1.2.1", FEW_SHOT_TEMPLATE)
print(render_prompt(few_shot, categories=CATEGORIES, examples=EXAMPLES)[:600], "\n...")

# %% [markdown]
# ### The prototype call
#
# The prototype sends the system prompt and the ticket, and reads the reply with
# `json.loads`, as a tutorial would. `seed=seed` makes the model's random choices repeat
# (hosted providers promise this only on a best-effort basis). The first five tickets:


# %%
from course_lib.labs import FEW_SHOT_TEMPLATE as COURSE_TEMPLATE

# The course's template, not yours: the exact text changes the replies (section 2 measures
# how much), so the figures below stay as printed whichever variant of yours passed.
system_prompt = render_prompt(COURSE_TEMPLATE, categories=CATEGORIES, examples=EXAMPLES)


def prototype_messages(ticket):
    user = render_prompt(TICKET_TEMPLATE, subject=ticket.subject, body=ticket.body)
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": user}]


for ticket in tickets.head(5).itertuples():
    reply = client.chat(prototype_messages(ticket), model="chat-small", seed=seed).content
    try:
        json.loads(reply)
        print("json.loads: ok")
    except ValueError as error:
        print(f"json.loads: {type(error).__name__}")
        print(f"    starts {reply[:40]!r}\n    ends   {reply[-40:]!r}")

# %% [markdown]
# A person reads past a Markdown fence or a comment; `json.loads` does not.
#
# ## 2. What breaks: the whole sample
#
# One reply proves nothing. The prototype on the whole sample, for both models:


# %%
def prototype_replies(model):
    return [
        client.chat(prototype_messages(t), model=model, seed=seed).content
        for t in tickets.itertuples()
    ]


replies = {model: prototype_replies(model) for model in MODELS}
small_replies = replies["chat-small"]


def parses(reply, parse):
    try:
        parse(reply)
    except ValueError:
        return False
    return True


parsed = sum(parses(reply, json.loads) for reply in small_replies)
print(f"chat-small: json.loads parsed {parsed} of {len(small_replies)} replies.")

# %% [markdown]
# How much does the exact text matter? The same run, with one blank line more at the end of
# the system prompt:


# %%
def padded_messages(ticket):
    system, user = prototype_messages(ticket)
    return [{**system, "content": system["content"] + "\n"}, user]


padded = [
    client.chat(padded_messages(t), model="chat-small", seed=seed).content
    for t in tickets.itertuples()
]
changed = sum(a != b for a, b in zip(small_replies, padded, strict=True))
padded_parsed = sum(parses(reply, json.loads) for reply in padded)
print(f"{changed} of {len(padded)} replies change; json.loads parses {padded_parsed}.")

# %% [markdown]
# This is **planted**: the stand-in draws its faults from the prompt's text. A hosted model
# is sensitive to its prompt too, by how much only your provider can tell. The rest of the
# lesson keeps the prompt as it was.
#
# `json_wrapping` sorts each reply of the small model by how its JSON was wrapped:

# %%
pd.Series([json_wrapping(r) for r in small_replies]).value_counts().rename("replies").to_frame()

# %% [markdown]
# Most failures are wrapping, easy to undo: find the JSON object inside the reply.
# `extract_json` tries the standard library's `json.JSONDecoder.raw_decode` at each `{` and
# returns the first complete object, so a brace in a preamble or a string does not fool it:

# %%
print(extract_json('Sure {see below}: {"summary": "VPN {down}", "needs_human": true} Thanks!'))
cleaned = sum(parses(reply, extract_json) for reply in small_replies)
print(f"json.loads parsed {parsed} of {len(small_replies)}; extract_json, {cleaned}.")

# %% [markdown]
# Far better. But a dict is not yet a triage: nothing checks that `category` is one of the
# ten, that `needs_human` is a boolean, or that a field is there at all.
#
# ## 3. A schema for the answer
#
# A **schema** says what a valid answer is: which fields, of which types, with which values.
# [pydantic](https://docs.pydantic.dev/) writes one as a class with typed fields. A field
# without a default is required, `= None` makes one optional, and `Field` adds rules. The
# triage's schema, with the allowed values as enums:

# %%
from enum import Enum

Category = Enum("Category", {name: name for name in CATEGORIES}, type=str)  # the ten categories
Priority = Enum("Priority", {name: name for name in PRIORITIES}, type=str)  # P1 to P4


class TicketTriage(BaseModel):
    """How the service desk routes one ticket."""

    category: Category  # required: one of the ten
    priority: Priority
    service: str | None = None  # optional: may be left out, or be null
    summary: str = Field(max_length=120)  # at most 120 characters
    needs_human: bool


# %% [markdown]
# `TicketTriage.model_validate(data)` returns a typed object, or raises a `ValidationError`
# that lists every problem with a type. A made-up bad triage:

# %%
bad = {"category": "Login Mfa", "priority": "P2", "summary": ["Locked out"], "needs_human": "Yes."}
try:
    TicketTriage.model_validate(bad)
except ValidationError as error:
    for problem in error.errors():
        print(problem["loc"], problem["type"], "-", problem["msg"])

# %% [markdown]
# The class is also the schema a model is sent, as JSON Schema; `$ref` points to the allowed
# values, defined once under `$defs`:

# %%
schema = TicketTriage.model_json_schema()
for name, spec in schema["properties"].items():
    print(f"{name:<12} {json.dumps(spec)}")
print("required:", schema["required"])
for name, spec in schema["$defs"].items():
    print(f"$defs/{name}: {len(spec['enum'])} values, from {spec['enum'][0]!r}")

# %% [markdown]
# `validate_output(reply, TicketTriage)` extracts and validates, and never raises: it returns
# the triage (`.value`) or the problems, each with pydantic's error type (`.kinds`). With
# `extract=False` it reads the reply as `json.loads` would.
#
# ### Exercise 1.2.2: Sort the replies into kinds
#
# A failure's kind says which fix it needs. Complete `failure_kind(reply, schema)` with
# `validate_output`. It returns one of four kinds:
#
# - `"valid"`: the reply validates as it is;
# - `"wrapped"`: it validates once the JSON is extracted (extraction is the fix);
# - `"no JSON object"`: no complete object can be extracted, as in prose or an object cut
#   off (a new reply is the fix);
# - `"breaks the schema"`: an object was found, and it breaks a rule of the schema.
#
# A bare JSON list, not an object, may count as either.
#
# The checker sorts hidden replies against a schema you have not seen.

# %%
from course_lib.structured import validate_output


def failure_kind(reply, schema):
    """Which fix a reply needs: "valid", "wrapped", "no JSON object" or "breaks the schema"."""
    # BEGIN SOLUTION
    if validate_output(reply, schema, extract=False).ok:
        return "valid"
    checked = validate_output(reply, schema)
    if checked.ok:
        return "wrapped"
    if "json_invalid" in checked.kinds:
        return "no JSON object"
    return "breaks the schema"
    # END SOLUTION


# %%
check("1.2.2", failure_kind)

# %% [markdown]
# Parsing is not validating: some replies `json.loads` reads still break the schema. Your
# function (or the course's, until yours passes) sorts the small model's replies:

# %%
as_is = sum(validate_output(r, TicketTriage, extract=False).ok for r in small_replies)
print(f"json.loads read {parsed} replies; {parsed - as_is} of them break the schema.")
kind_of = answer_or_reference("1.2.2", failure_kind)
kinds = pd.Series([kind_of(r, TicketTriage) for r in small_replies])
kinds.value_counts().rename("replies").to_frame()

# %% [markdown]
# Replies that break the schema or have no JSON object need a new reply. Which rules do the
# broken ones break? Error types, counted once per reply:

# %%
kinds_table(validate_output(r, TicketTriage).kinds for r in small_replies)

# %% [markdown]
# `json_invalid` is an object cut off, `missing` a required field left out; you met `enum`
# and `string_type` above. The stand-in's share of them is planted; the kinds are what
# pydantic reports for any source.
#
# ## 4. Production: strict mode, validation, and a bounded repair
#
# ### The schema in the request, in strict mode
#
# `response_format` carries the JSON Schema with the request. With `"strict": true`, a
# provider that supports it uses **constrained decoding**: while the model writes, only
# tokens that keep the reply valid against the schema are allowed. OpenAI calls this
# Structured Outputs.
#
# Strict mode accepts only part of JSON Schema. Every object must set `additionalProperties:
# false` and list *all* its fields in `required`; an optional field becomes a required one
# that may be null. pydantic's schema sets no `additionalProperties` and leaves `service`
# out of `required`. `response_format_for` rewrites the schema and adds `strict`:

# %%
response_format = response_format_for(TicketTriage)
strict_schema = response_format["json_schema"]["schema"]
print("strict:              ", response_format["json_schema"]["strict"])
print("pydantic's required: ", schema["required"])
print("strict required:     ", strict_schema["required"])
print("additionalProperties:", strict_schema["additionalProperties"])
print("service:             ", json.dumps(strict_schema["properties"]["service"]))

# %% [markdown]
# ### Validate every reply
#
# A reply is input from outside your program, constrained or not: check it with the same
# pydantic class. `generate_structured` sends the strict schema, validates the reply, and
# counts **tokens** (lesson 1.1). With the schema in the request, the system prompt shrinks
# to one sentence. The first ticket, next to its label:

# %%
SCHEMA_SYSTEM = "You triage support tickets for the Kestrel Freight service desk."


def schema_messages(ticket):
    user = render_prompt(TICKET_TEMPLATE, subject=ticket.subject, body=ticket.body)
    return [{"role": "system", "content": SCHEMA_SYSTEM}, {"role": "user", "content": user}]


result = generate_structured(client, schema_messages(first), TicketTriage, seed=seed)
print(f"attempts: {result.attempts}, tokens: {result.total_tokens}, stopped: {result.stopped}")
labels = {"category": first.category, "priority": first.priority}
pd.DataFrame({"reply": result.value.model_dump(mode="json"), "label": labels}).fillna("-")

# %% [markdown]
# Every field is valid, yet the category and priority disagree with the label, and
# `service` holds the subject line. **Valid is not right**; section 5 measures the gap. Now
# the whole sample in strict mode, for both models:


# %%
def run_schema(model, schema_class, *, strict=True, max_repairs=2):
    return [
        generate_structured(
            client,
            schema_messages(t),
            schema_class,
            model=model,
            max_repairs=max_repairs,
            seed=seed,
            strict=strict,
        )
        for t in tickets.itertuples()
    ]


runs = {model: run_schema(model, TicketTriage) for model in MODELS}
for model in MODELS:
    first_try = sum(r.ok and r.attempts == 1 for r in runs[model])
    print(f"{model}, strict: {first_try} of {n_tickets} valid at the first attempt")

# %% [markdown]
# Like a strict provider, the stand-in never breaks a reply in strict mode.
#
# ### Without strict mode: repair, with a bound
#
# Some providers offer only "JSON mode" (any JSON object), and many self-hosted servers
# nothing at all. There the schema is a hint, and validation finds broken replies. The
# answer is a loop: send the errors back, ask for a fixed object, and stop after
# `max_repairs`, so a model that keeps failing costs a known amount. `strict=False` sends
# pydantic's schema as a hint:

# %%
loose = {model: run_schema(model, TicketTriage, strict=False) for model in MODELS}
small = loose["chat-small"]
example = next((r for r in small if r.errors and r.ok), None)
failure = example.errors[0]
print("reply 1:", failure.content[:160], "\n")
print("sent back:\n" + "\n".join(p.describe() for p in failure.problems), "\n")
print(f"after {example.attempts} attempts:", example.value.model_dump(mode="json"))

# %% [markdown]
# ### The valid-output rate, every way
#
# Five ways of reading a reply, for both models: the share that validates as a
# `TicketTriage`. The "no strict" row counts replies valid at the first attempt of the
# repair runs, the same call a run without repair makes.


# %%
def rate(flags):
    flags = list(flags)
    return sum(flags) / len(flags)


def valid_share(model_replies, extract):
    return rate(validate_output(r, TicketTriage, extract=extract).ok for r in model_replies)


rates = pd.DataFrame(
    {
        model: {
            "prompt, as it is": valid_share(replies[model], extract=False),
            "prompt, extract_json": valid_share(replies[model], extract=True),
            "schema, no strict": rate(r.ok and r.attempts == 1 for r in loose[model]),
            "schema, no strict + repair": rate(r.ok for r in loose[model]),
            "schema, strict": rate(r.ok and r.attempts == 1 for r in runs[model]),
        }
        for model in MODELS
    }
)
rates.map(lambda share: f"{share:.1%}")

# %% [markdown]
# Without strict mode, the stand-in breaks a planted share of schema replies, so that repair
# has work; repair fixes the rest. The larger model breaks fewer (planted too).
#
# ### The cost of repair
#
# A repair is another call, and a longer one: its input is the conversation so far, the
# broken reply and the problems. `cost_row` reads each run's calls, tokens and dollars; with
# `repair=False` it counts each ticket's first call only:

# %%
cost = pd.DataFrame(
    {
        (model, label): cost_row(loose[model], repair=repair)
        for model in MODELS
        for label, repair in [("no repair", False), ("repair", True)]
    }
).T
cost

# %% [markdown]
# When failures are rare, repair adds few calls. The bound matters on a bad day.
#
# ### Exercise 1.2.3 (open-ended): Valid triage with the smallest repair budget
#
# Your provider has no strict mode, and today it breaks 30% of replies on top of the model's
# usual failures, whichever the model (planted). Write the triage policy:
# `triage(client, schema, subject, body, seed)` returns what `generate_structured` returns.
# The stub makes no repair.
#
# **Target**, on 300 held-out tickets with fresh seeds: at least 95% of triages valid, at
# most $0.50 per 1,000 valid, and the **smallest worst case** that reaches both. The checker
# measures that worst case on a provider that breaks every reply, and refuses a bound larger
# than the target needs. A triage counts only if it is one of the model's replies: when
# nothing validates, return the result with value `None`, never a made-up default.
#
# What to vary: `max_repairs`; the model; a fresh call with a new seed instead of a repair;
# the large model only after the small one failed. What to read: `repair_report`'s line
# below, your policy on the lesson's tickets on the same bad day. Change one thing, rerun,
# compare. More than one policy passes.

# %%
from course_lib.structured import generate_structured, render_prompt


def triage(client, schema, subject, body, seed):
    """Triage one ticket on a provider without strict mode."""
    user = render_prompt("Subject: {{ subject }}\n\n{{ body }}", subject=subject, body=body)
    system = "You triage support tickets for the Kestrel Freight service desk."
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    # BEGIN SOLUTION
    return generate_structured(
        client, messages, schema, model="chat-small", max_repairs=2, seed=seed, strict=False
    )
    # END SOLUTION
    # STUB: return generate_structured(
    # STUB:     client, messages, schema, model="chat-small", max_repairs=0, seed=seed, strict=False
    # STUB: )


# %% [markdown]
# Your policy on the lesson's tickets, on the bad day (valid share, calls, dollars, worst case):

# %%
print(repair_report(triage, TicketTriage, tickets, seed=seed).line())

# %% [markdown]
# The lesson's tickets are a sample, and the checker triages 300 others: within a couple of
# points of 95%, run `check`.

# %%
check("1.2.3", triage)

# %% [markdown]
# The bound keeps the bill known on the worst day. Replies still invalid at the bound go to a
# person or a retry queue, not to another call.
#
# ## 5. Valid is not right
#
# Validation says the replies are usable. Are they right? The strict runs, against the
# labels:


# %%
def accuracy(results, field):
    return [
        r.ok and getattr(r.value, field).value == label
        for r, label in zip(results, tickets[field], strict=True)
    ]


strict_small = runs["chat-small"]
plain_correct = accuracy(strict_small, "category")
print(f"chat-small: {sum(plain_correct)} of {n_tickets} categories right.")
right_service = sum(
    r.ok and r.value.service == (None if pd.isna(label) else label)
    for r, label in zip(strict_small, tickets["service"], strict=True)
)
print(f"chat-small: {right_service} of {n_tickets} services right.")

# %% [markdown]
# Valid JSON, wrong answers. Validation checked that `service` is a string or null, not that
# it is the right one. The wrong services are **planted**: the stand-in fills a free-text
# field with the ticket's sentence nearest the field's name, often the subject line.
#
# Do the wrong categories have a pattern? Count the answers for the schema's first category:

# %%
answers = [r.value.category.value if r.ok else None for r in strict_small]
first_category = next(iter(CATEGORIES))
answered = sum(answer == first_category for answer in answers)
labelled = int((tickets["category"] == first_category).sum())
print(f"'{first_category}' is category 1 of {len(CATEGORIES)} in the schema's enum.")
print(f"chat-small answered it for {answered} tickets; it is the label of {labelled}.")

# %% [markdown]
# Planted: with names only, the stand-in falls back on the first category when no name
# matches the ticket. The method carries over: compare answer counts with label counts and
# look for a default.
#
# The schema lists the ten names and nothing else. Put each value's meaning (from
# `CATEGORIES` and `PRIORITIES`) in the field's description, which travels inside the JSON
# Schema:


# %%
def described(values, lead):
    return lead + "\n" + "\n".join(f"{value}: {meaning}" for value, meaning in values.items())


class DescribedTriage(TicketTriage):
    category: Category = Field(description=described(CATEGORIES, "The main issue of the ticket."))
    priority: Priority = Field(description=described(PRIORITIES, "How urgent the ticket is."))


described_runs = {model: run_schema(model, DescribedTriage) for model in MODELS}
scores = pd.DataFrame(
    {
        model: {
            f"{field} right ({how})": rate(accuracy(results[model], field))
            for field in ("category", "priority")
            for how, results in [("names only", runs), ("described", described_runs)]
        }
        for model in MODELS
    }
)
priority_answers = pd.Series([r.value.priority.value for r in strict_small if r.ok])
print("chat-small's priorities, names only:", priority_answers.value_counts().to_dict())
print(f"tickets labelled P1: {(tickets['priority'] == 'P1').mean():.1%}")
scores.map(lambda share: f"{share:.1%}")

# %% [markdown]
# Priority with names only is below a random pick among four. chat-small answers `P1` every
# time: the same planted fallback, since the names `P1` to `P4` share no word with any
# ticket.
#
# Is the gain in category accuracy real, or luck of the sample? A **paired bootstrap**
# redraws the tickets at random, with repeats, thousands of times. On each draw it computes
# the difference in accuracy, both versions scored on the same tickets (hence paired). The
# middle 95% of those differences is the interval; if it excludes 0, luck is an unlikely
# explanation (lesson 1.4 goes further):

# %%
described_correct = accuracy(described_runs["chat-small"], "category")
comparison = paired_bootstrap(
    [float(c) for c in plain_correct], [float(c) for c in described_correct], seed=seed
)
print(
    "chat-small category accuracy, described minus names only: "
    f"{100 * comparison.mean_difference:+.1f} percentage points "
    f"(95% interval {100 * comparison.low:+.1f} to {100 * comparison.high:+.1f})"
)
excludes_zero = comparison.low > 0 or comparison.high < 0
print("The interval excludes 0." if excludes_zero else "The interval includes 0: it may be luck.")

# %% [markdown]
# The size of this gain is planted as well: the stand-in matches a ticket's words against
# the descriptions, by design. How much descriptions help a hosted model, only the same loop
# run against your provider can tell.
#
# ## 6. The same code against a real provider
#
# The official `openai` SDK does much the same in its `parse` helper: a pydantic class in, a
# strict schema sent, the reply validated. Strict mode cannot prevent a reply cut short by
# `max_tokens`; the SDK raises `LengthFinishReasonError` for it. Ten calls each way against
# the local server, set to break 30% of replies. `parse` sends the schema in strict mode,
# so the server breaks none; only `max_tokens=12` makes calls fail:

# %%
from collections import Counter

from openai import LengthFinishReasonError, OpenAI

from course_lib.standin import shared_server

server = shared_server()
sdk = OpenAI(base_url=server.base_url, api_key="local", max_retries=0)
model_name = client.registry.model_id("chat-small")
outcomes = Counter()
server.set_faults(FaultPlan(malformed_rate=0.3))
try:
    for limit in (None, 12):  # no token limit, then a limit too small for the reply
        for ticket in tickets.head(10).itertuples():
            try:
                sdk.chat.completions.parse(
                    model=model_name,
                    messages=schema_messages(ticket),
                    response_format=TicketTriage,
                    seed=seed,
                    max_tokens=limit,
                )
                outcome = "parsed"
            except (LengthFinishReasonError, ValidationError) as exc:
                outcome = f"raised {type(exc).__name__}"
            outcomes[(f"max_tokens={limit}", outcome)] += 1
finally:
    server.set_faults(None)  # back to the model's own rate
print(pd.Series(outcomes).rename("calls").to_frame())

# %% [markdown]
# Strict mode settles the shape; validation and the bounded loop stay for cut-off replies,
# refusals, providers without strict mode, and rules a schema cannot state.
#
# ## Takeaways
#
# - Render prompts with `StrictUndefined`, so a missing variable is an error, not a hole.
#   Instructions go in the system message, the input in the user message.
# - JSON asked for in the prompt alone can arrive wrapped or broken (the rates here are
#   planted; count the failure kinds on your provider).
# - Write the output as a pydantic model, send it in strict mode where the provider has it,
#   and validate every reply with it.
# - Without strict mode, repair with a bound chosen on a bad day; what still fails goes to a
#   person.
# - Valid is not right: measure accuracy on labelled examples, with a paired interval. Know
#   which behaviours of your test model are planted.
#
# ## Production checklist
#
# - Failures are counted by kind, since each kind needs a different fix.
# - A reply cut off at `max_tokens` (`finish_reason == "length"`) is a failure.
# - The schema uses only keywords strict mode accepts.
#
# ## Check your understanding
#
# 1. Why does Jinja2's default for a missing variable make prompt bugs hard to find?
# 2. Why should a ticket's text go in a user message rather than inside the system prompt?
# 3. What must a schema look like for strict mode, and what happened to `service`?
# 4. Strict mode guarantees the shape of a reply. What does it not guarantee?
# 5. Why does the checker of exercise 1.2.3 measure the worst case on a provider that breaks
#    every reply, instead of trusting `max_repairs`?
# 6. Every strict reply validated, yet many categories were wrong. What does validation
#    check, and what told you the described schema's gain was not luck?
#
# <details><summary>Short answers</summary>
#
# 1. It renders an empty string: the prompt ships with a hole, and nothing fails.
# 2. It is data written by someone else. In its own message it cannot pass for your
#    instructions, and the instructions stay the same for every ticket.
# 3. Every object has `additionalProperties: false` and lists all its fields in `required`;
#    only supported keywords appear. `service` became required but nullable.
# 4. That the reply is complete (`max_tokens` can cut it), that the model did not refuse,
#    rules the schema cannot state, and that the values are right.
# 5. A policy can retry in its own loop whatever `max_repairs` says; counting calls on a
#    provider that breaks everything measures the bound the bill actually has.
# 6. The shape: types, enums, lengths, required fields; not truth. The paired bootstrap's
#    interval excluded 0 on 200 tickets (on 80, with `fast = True`, read the printed line).
#
# </details>
#
# ## Further reading
#
# - OpenAI, "Structured model outputs" guide
#   (https://platform.openai.com/docs/guides/structured-outputs): JSON mode, strict mode's
#   subset of JSON Schema, refusals. "Introducing Structured Outputs in the API", 6 August
#   2024 (https://openai.com/index/introducing-structured-outputs-in-the-api/), measures
#   schema adherence with and without constrained decoding.
# - Instructor documentation, "Validation and Reasking"
#   (https://python.useinstructor.com/concepts/reask_validation/): the repair loop as a library.
# - Z. R. Tam et al., "Let Me Speak Freely? A Study on the Impact of Format Restrictions on
#   Performance of Large Language Models", EMNLP 2024 Industry Track (arXiv:2408.02442,
#   https://arxiv.org/abs/2408.02442). Strict formats can lower reasoning performance; the
#   finding is debated, so measure on your own task.
#
# **Next:** lesson 1.3, Embeddings.
