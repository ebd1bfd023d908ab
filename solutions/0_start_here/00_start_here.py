# %% [markdown]
# # 00 Start here: from prototype to production
#
# Most AI prototypes never reach production, and the model is rarely the reason. What is
# missing is the engineering around it: retries, evaluation, versioned prompts, tracing,
# tests, configuration, storage. This course teaches that engineering, one layer at a time,
# on one system that grows with you: the **Handbook Assistant**, which answers questions
# about a company's engineering handbook.
#
# In this first lesson you map the course, measure where the code of a production AI system
# really goes, and learn how the exercises check themselves.
#
# **Time:** about 25 minutes. **You need:** Python (functions, dicts, loops). No AI
# background, no API key, no network: everything runs on your machine.
#
# ## Learning objectives
# - Name the four layers of a production AI system and place a concern in the right one.
# - Measure the size of each part of a real library, and read Sculley et al.'s famous
#   diagram from your own measurement.
# - List what a ten-line AI prototype lacks, and which lesson adds each piece.
# - Use `check`, `hint` and the solution notebooks to work through exercises.
# - Check that your machine is ready for the rest of the course.

# %% [markdown]
# ## Setup
#
# Every lesson opens with a **parameters** cell. You can change these values; the course's
# own tests run every lesson again with other ones (another seed, a fast mode) to make sure
# nothing depends on luck.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# Next come the imports. `course_lib` is the course's helper library: its production half is
# code you can lift into your own services, and `course_lib.course` is the classroom
# (checkers, hints, the environment check).
#
# The settings are layered the way production services layer theirs: defaults, then a
# `course.toml` file, then `COURSE_*` environment variables, then explicit overrides, like
# the seed here. Lesson 3.3 builds this from scratch.

# %%
from course_lib.course import answer_or_reference, check, hint
from course_lib.settings import load_settings

settings = load_settings({"seed": seed})
settings.seed

# %% [markdown]
# ## 1. Four layers
#
# An AI system is a distributed software system with extra complexity: its core component
# is non-deterministic, expensive per call, and changes under you when the provider updates a
# model. The hard part is not calling the model; it is operating the system that calls it.
# The course is organised in four layers, from the model outwards:
#
# | layer | what it covers | example lessons |
# |---|---|---|
# | 1 AI capabilities | what models do and how to measure it | calling a model, structured output, embeddings, evaluation, agents |
# | 2 Engineering patterns | the patterns built around model calls | RAG, orchestration, prompt versioning, observability, datasets |
# | 3 Software engineering foundations | how any software is built and shipped | version control, configuration, testing, CI/CD, secrets, dependencies |
# | 4 Infrastructure | where it runs and keeps its state | compute, storage and caching, data pipelines, event-driven inference |
#
# Every lesson walks the same arc: the **prototype** a tutorial would stop at, **what
# breaks** when you run it against realistic conditions (measured), and the **production**
# version (measured again). The figures are computed live in the notebook, never typed in.

# %% [markdown]
# ## 2. How the exercises work
#
# Each lesson has two to four exercises. An exercise has a heading such as
# **Exercise 00.1**, a cell for you to complete (it starts with a stub that raises
# `NotImplementedError`, or with `...` to replace), and a cell that calls `check`.
#
# - `check("00.1", your_answer)` runs your answer on cases you have not seen and prints one
#   line: ✅ solved, or ❌ not yet, and why.
# - `hint("00.1")` prints a hint. Call it again for a more specific one.
# - Stuck? Every lesson has a worked version under `solutions/`, a folder at the top of the
#   course (beside `notebooks/`, where this lesson is). Peek when you have tried; that is what
#   it is for.
# - An answer that raises an exception is not a crash: `check` catches it and names, in
#   the same one line, the call that failed and the exception, never a long traceback.
# - Skipped an exercise? The lesson goes on: later cells use the course's reference answer
#   until yours passes.
#
# Try it: ask for the first hint of the next exercise before you have even read it.

# %%
hint("00.1")

# %% [markdown]
# ## 3. Where the code of an AI system goes
#
# In 2015, Sculley and colleagues at Google drew a picture that became famous: in a real
# machine learning system, the model code is a small box in the middle of much larger ones
# (configuration, data collection, feature extraction, serving, monitoring). Their point:
# building a model is fast and cheap; maintaining the system around it is not.
#
# Rather than copy their sketch, you will redraw it from a measurement of `course_lib` itself,
# the library this course builds. First you need a way to count lines of code.
#
# ### Exercise 00.1: Count lines of code
#
# Complete `count_code_lines(source)`: given the text of a Python file, return how many of
# its lines hold code. Do not count blank lines, lines that hold only a comment, or the lines
# of a docstring (the string that opens a module, class or function). A line with code and a
# trailing comment counts; every line of a statement spread over several lines counts.
#
# For example, this function has 2 lines of code, the `def` line and the `return` line:
#
# ```python
# def double(x):
#     """Return twice x."""
#     # no tricks here
#     return 2 * x  # simple
# ```

# %%
import ast


def count_code_lines(source: str) -> int:
    """Count the lines of `source` that hold code: not blank, not comments, not docstrings."""
    # BEGIN SOLUTION
    docstring_lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstring_lines.update(range(first.lineno, first.end_lineno + 1))
    count = 0
    for number, line in enumerate(source.splitlines(), start=1):
        text = line.strip()
        if text and not text.startswith("#") and number not in docstring_lines:
            count += 1
    return count
    # END SOLUTION


# %% [markdown]
# Run the check. If it says "not solved yet", read the reason, fix your function, run its
# cell again, then run the check again.

# %%
check("00.1", count_code_lines)

# %% [markdown]
# Now measure `course_lib`, one concern at a time (model calls, embeddings, configuration,
# storage and so on). The next cell uses your `count_code_lines` if it passed the check, and
# the course's own otherwise.
#
# The numbers change as the library grows, so your table may differ from the one stored in
# this notebook.

# %% tags=["nbval-ignore-output"]
from course_lib.course import MODEL_CALL_CONCERN, measure_code_size, plot_code_boxes

counter = answer_or_reference("00.1", count_code_lines)
sizes = measure_code_size(count=counter)
sizes

# %% [markdown]
# Rows in the `classroom` layer are not the system you are learning to build: the course
# machinery (building notebooks, checkers, this lesson's helpers), the local stand-in model
# that plays the part of a model provider, and the generators of the course's data. The
# picture leaves them out. Here is every other concern as a box whose area is its share of the
# code, with the model calls highlighted:

# %%
import matplotlib.pyplot as plt

system = sizes[sizes["layer"] != "classroom"]
plot_code_boxes(system, highlight=MODEL_CALL_CONCERN)
plt.show()

# %% [markdown]
# And the share of the code that calls a model, computed from the same table:

# %% tags=["nbval-ignore-output"]
model_lines = int(system.loc[system["concern"] == MODEL_CALL_CONCERN, "lines"].sum())
total_lines = int(system["lines"].sum())
rank = int((system["lines"] > model_lines).sum()) + 1
print(
    f"Model calls: {model_lines} of {total_lines} lines ({model_lines / total_lines:.0%}), "
    f"box {rank} of {len(system)} by size; the other {total_lines - model_lines} lines are "
    "everything around them."
)

# %% [markdown]
# So the model-call box is not small here: it is one of the larger boxes. Look inside it,
# though, and it is mostly not the call. It holds timeouts, retries, a fallback, a circuit
# breaker, budgets and cost accounting: the reliability work of lesson 1.1. The call itself
# is one line.
#
# That is Sculley's point in another form. The model is a small part of the system; making
# it dependable, and everything around it (retrieval, evaluation, versioning, tracing,
# queues), is most of the code. Run this section again when you finish a layer.

# %% [markdown]
# ## 4. The prototype, and what it lacks
#
# Here is the Handbook Assistant as a tutorial would end it: ten lines that find the
# handbook pages sharing words with the question and ask a model to answer from them, with
# the official `openai` SDK.
#
# The model here is the course's **local stand-in**: a small program that answers through
# the same HTTP API as a hosted model, offline and the same way on every run. It does not
# write new text; it picks sentences, and it behaves like a model where the lessons need it
# to (`docs/local-model.md` says how, and how to point this code at a real provider). The
# next cell starts it on this machine:

# %%
from course_lib.standin import shared_server

server = shared_server()  # the local model server, running until the kernel stops
print("The local model server is running on this machine.")

# %% [markdown]
# Now the prototype. A tutorial would write `OpenAI()` and a model's name; the two comments
# show the only differences. (The course never writes a model's name in a lesson: it asks the
# model registry for a role, so that changing models is a one-line change in one file.)

# %%
from openai import OpenAI

from course_lib.datasets import load_handbook
from course_lib.models import get_registry

client = OpenAI(base_url=server.base_url, api_key="local")  # a tutorial: OpenAI()
MODEL = get_registry().model_id("chat-small")  # a tutorial: a model's name
pages = load_handbook()


def ask(question):
    words = set(question.lower().split())
    context = [p.text for p in pages if words & set(p.text.lower().split())][:5]
    prompt = f"Answer from these pages:\n{context}\n\nQuestion: {question}"
    reply = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": prompt}]
    )
    return reply.choices[0].message.content


question = "What is the on-call allowance per week?"
answer = ask(question)
answer

# %% [markdown]
# A confident answer. Is it right? The handbook's on-call policy says:

# %%
import re

policy = next(p for p in pages if p.id == "oncall-policy")
truth = next(line for line in policy.text.splitlines() if "allowance: EUR" in line)
print(truth.strip())


def amounts(text):
    return sorted(set(re.findall(r"EUR [\d,]+", text)))


print("amounts in the handbook:", amounts(truth), "| in the prototype's answer:", amounts(answer))
words = set(question.lower().split())
print("pages the prototype sent:", [p.id for p in pages if words & set(p.text.lower().split())][:5])

# %% [markdown]
# If the amounts differ, the answer came from what the model remembers of an older version of
# the handbook, not from the pages: the prototype sent the first five pages sharing any word
# with the question ("the", "is", "what"), which are about something else, and nothing told
# the model to answer only from them or to say when it does not know. A real model fails the
# same way: it answers from its training data, confidently. This is the failure that retrieval,
# grounding and evaluation exist to fix, and lessons 1.3, 1.4 and 2.1 fix it, with numbers.
#
# For contrast, here is the production Handbook Assistant that the course builds, asked the same
# question by an employee, with the same local model behind it. It indexes the handbook (a few
# seconds, once), retrieves the passages this reader may see, and uses a versioned prompt that
# asks for citations:

# %%
from course_lib.assistant import HandbookAssistant
from course_lib.llm import LLMClient
from course_lib.rag import HandbookIndex, User

index = HandbookIndex.build(pages)  # stored in the course work directory, not the repository
assistant = HandbookAssistant(index, client=LLMClient.from_settings())
employee = User("u-0042", team="shipments", clearance={"public", "internal"})
production = assistant.ask(question, user=employee)
print(production.text)
print("cites:", list(production.cited_doc_ids), "| prompt:", production.prompt_ref)
print("amounts in the production answer:", amounts(production.text))

# %% [markdown]
# Same model, different system around it. The rest of the course builds that system piece by
# piece, and measures what each piece buys.
#
# Even when its answers are right, in production the prototype meets rate limits, answers nobody checked,
# a model id that was retired, restricted pages shown to the wrong people, a prompt changed
# in place with no way back, and a bill nobody can explain. Each gap is a lesson:
#
# | what the prototype lacks | lesson |
# |---|---|
# | timeouts, retries, a fallback model, a cost per call | 1.1 Calling a model |
# | output you can parse and validate | 1.2 Prompts and structured output |
# | retrieval that finds paraphrases, not only shared words | 1.3 Embeddings, 2.1 and 2.2 RAG |
# | a measurement of answer quality | 1.4 Evaluation |
# | access control: restricted pages only for those allowed | 2.2 RAG II |
# | prompts as versioned files, with a rollback | 2.4 Prompt versioning |
# | a trace of each call with its tokens and cost | 2.5 Observability |
# | settings instead of constants, secrets out of the code | 3.3 Configuration, 3.6 Secrets |
# | tests and a CI gate on answer quality | 3.4 Testing, 3.5 CI/CD |
# | caching, queues and capacity for real traffic | 4.2 Storage, 4.4 Event-driven inference |
#
# ### Exercise 00.2: Place each concern in its layer
#
# Each key of `layer_of` is a concern the Handbook Assistant needs in production. Replace
# every `...` with the number of the layer that teaches it: 1 (AI capabilities),
# 2 (engineering patterns), 3 (software engineering foundations) or 4 (infrastructure).
# Use the table in section 1.

# %%
# BEGIN SOLUTION
layer_of = {
    "measure answers against a golden set of questions": 1,
    "let the model call a tool such as a search function": 1,
    "split documents into chunks and retrieve the relevant ones": 2,
    "trace every model call with its tokens and cost": 2,
    "pin every dependency in a lock file": 3,
    "keep API keys out of the repository": 3,
    "cache the answers to repeated questions": 4,
    "run model calls from a task queue with retries": 4,
}
# END SOLUTION
# STUB: layer_of = {
# STUB:     "measure answers against a golden set of questions": ...,
# STUB:     "let the model call a tool such as a search function": ...,
# STUB:     "split documents into chunks and retrieve the relevant ones": ...,
# STUB:     "trace every model call with its tokens and cost": ...,
# STUB:     "pin every dependency in a lock file": ...,
# STUB:     "keep API keys out of the repository": ...,
# STUB:     "cache the answers to repeated questions": ...,
# STUB:     "run model calls from a task queue with retries": ...,
# STUB: }

# %%
check("00.2", layer_of)

# %% [markdown]
# Here are the concerns sorted by layer, from the course's answer (or yours, once it passes):

# %%
import pandas as pd

pd.set_option("display.max_colwidth", None)
layers = answer_or_reference("00.2", layer_of)
pd.DataFrame(
    sorted(layers.items(), key=lambda item: (item[1], item[0])), columns=["concern", "layer"]
)

# %% [markdown]
# ## 5. Check your environment
#
# Before a workshop, instructors run `course doctor` (or `./run doctor`) on every laptop. It
# checks the Python version, the installed packages against the lock file, the Jupyter
# kernel, the work directory, SQLite extensions and the bundled embedding model, and prints
# the fix for anything that fails. The same checks run here (without starting a second
# kernel; in fast mode, without loading the embedding model):

# %% tags=["nbval-ignore-output"]
from course_lib.course import run_checks

results = run_checks(kernel=False, embeddings=not fast)
for result in results:
    print(result.short_line)

# %% [markdown]
# Every line should start with `[ok  ]`. If one says `FAIL`, it ends with the command that
# fixes it. Run `course doctor` in a terminal for the details of each check (versions,
# paths, free disk space).
#
# Everything a lesson writes (indexes, databases, caches) goes to one **work directory**
# outside the repository, `settings.work_dir`. To start over, run `course reset`.
#
# Your progress lives there too: every `check` is noted, and this table (or `course
# progress` in a terminal) shows which exercises you have solved in each lesson. It survives
# a kernel restart; `course reset` asks before deleting it.

# %% tags=["nbval-ignore-output"]
from course_lib.course import progress_table

progress_table().head(4)

# %% [markdown]
# ## Takeaways
#
# - A production AI system has four layers: AI capabilities, engineering patterns, software
#   engineering foundations, infrastructure. The model call is one small part of layer 1.
# - Measured on this course's own library, most of the code is around the model. The
#   model-call box is not small, but it is reliability code around a one-line call: Sculley's
#   point holds, though not his small box.
# - A ten-line prototype is a good start and a poor system: it lacks reliability, evaluation,
#   access control, versioning, observability, tests and capacity.
# - In this course, every claim is measured in the notebook, every exercise checks itself,
#   and every notebook runs offline.
#
# ## Production checklist
#
# Questions to ask of any AI prototype before it ships:
# - What happens when the model call fails, is slow, or is rate-limited?
# - How do you know the answers are good, and how will you know when they get worse?
# - Who may see which documents, and where is that enforced?
# - Which prompt and model version produced this answer?
# - What does one answer cost, and who is paying for it?
# - Can a new colleague set it up, test it and deploy it with one command each?
#
# ## Check your understanding
#
# 1. Why does Sculley et al.'s diagram draw the model code as a small box?
# 2. In which layer is "trace every model call", and why not in layer 1?
# 3. Name three things the ten-line prototype does not handle.
# 4. What does `check` do with an answer that raises an exception?
#
# <details><summary>Short answers</summary>
#
# 1. Because in a production system the model is the smallest part of the work. Sculley et
#    al. argue that configuration, data, serving and monitoring cost far more to build and
#    maintain than the model code.
# 2. In layer 2, engineering patterns (observability). Tracing is not a capability of the
#    model; it is a pattern built around every model call, like retrieval or prompt
#    versioning.
# 3. Any three of: a failed, slow or rate-limited call; answers nobody evaluates; who may see
#    which pages; which prompt and model produced an answer; tracing; tests; cost and
#    capacity.
# 4. It catches the exception and prints one line naming the call that failed and the
#    exception, as a "not yet"; the checker's own traceback is never shown.
#
# </details>
#
# ## Further reading
#
# - D. Sculley et al., "Hidden Technical Debt in Machine Learning Systems", NeurIPS 2015.
#   The box diagram, and the debts (glue code, configuration, entanglement) this course
#   teaches you to avoid.
# - E. Breck et al., "The ML Test Score: A Rubric for ML Production Readiness and Technical
#   Debt Reduction", IEEE Big Data 2017. A checklist of 28 tests for production ML.
# - A. Rule et al., "Ten simple rules for writing and sharing computational analyses in
#   Jupyter Notebooks", PLoS Computational Biology, 2019. How the course's notebooks are written.
# - The Twelve-Factor App (12factor.net): the software engineering foundations in twelve rules.
#
# **Next:** lesson 1.1, Calling a model.
