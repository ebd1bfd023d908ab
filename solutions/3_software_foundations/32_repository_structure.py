# %% [markdown]
# # 3.2 Repository structure
#
# Most AI systems start life as one long notebook cell: load, chunk, retrieve, prompt,
# answer, score. That cell is fine for finding out whether an idea works, and poor for
# running, testing or sharing it: every part depends on every other part, and on the folder
# Python started in.
#
# You take the Handbook Assistant's prototype and measure what testing it costs. Then you
# refactor it into a package: `pyproject.toml`, unit tests, a command and import contracts.
# Everything happens in a throwaway git repository; the course's own repository is the worked
# example at the end.
#
# **Time:** about 48 minutes: 11 to read, 12 to run the code and read its outputs (2 of them
# waiting on tools), 22 for the three exercises (6, 6 and 10), 3 for the questions. **You need:** Python functions and
# modules; lesson 3.1 (git, `.gitignore`) helps but is not required.
#
# ## Learning objectives
# - Say where data, application, evaluation and infrastructure code live in a src-layout
#   repository, and why the data folder stays out of git.
# - Turn a script's globals into function arguments, so that each piece can be tested alone.
# - Give a package a command-line entry point in `[project.scripts]`, and run it offline.
# - Write import contracts for `lint-imports` and see them fail on a tangled import.

# %% [markdown]
# ## Setup
#
# Nothing here is random or slow: `seed` and `fast` are kept for the course's convention.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# The imports every section uses, and the throwaway repository:

# %%
import pandas as pd

from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100 (hint: when stuck)
from course_lib.labs import (
    ScratchRepo,
    checkout_without_data,
    copy_lesson_data,
    import_side_effects,
    pytest_summary,
    structure_tree,
)
from course_lib.workdir import work_path

pd.set_option("display.width", 120)
repo = ScratchRepo.create(work_path("lesson_3_2", "repo"))

# %% [markdown]
# ## 1. The prototype
#
# Here is the prototype as it left the notebook: one script, `prototype.py`. Read it once
# top to bottom; it is the starting point of everything that follows.

# %%
from course_lib.labs import prototype_repo_files

for name, text in prototype_repo_files().items():
    repo.write(name, text)
print(repo.read("prototype.py"))

# %% [markdown]
# It does six jobs in one flat file:
#
# - **load** the handbook's pages, dropping their front matter (the `---` block of metadata
#   at the top of each page);
# - **chunk** them into paragraphs;
# - **retrieve** the three paragraphs sharing most words with a question;
# - build a **prompt**;
# - **answer** by quoting the best sentence of the top passage with its citation (no model);
# - **evaluate** recall@3, the share of questions with a right page among the top three, and
#   write `results.json`.
#
# The paths are hard-coded, relative to wherever Python starts. A colleague also wrote a unit
# test for `chunk`. The data goes into `data/`, which the `.gitignore` keeps out of git: 120
# handbook pages and the answerable questions of the golden set's dev split (the questions with
# known answers that the course tunes on). Commit, and run the prototype:

# %%
print(copy_lesson_data(repo, "dev"))
repo.commit("Prototype exported from the notebook", add_all=True)
prototype_output = repo.run("python", "prototype.py").output
print(prototype_output)

# %% [markdown]
# ## 2. What breaks, measured
#
# The script works, on this machine, from this folder. Now try to **test** one function.
# A test has to import `prototype` to reach `chunk`, and importing a script runs it. The lab
# imports the module in a fresh Python with an audit hook (a function Python calls on every
# file it opens) and counts the files opened and the lines printed:

# %%
import ast

tree = ast.parse(repo.read("prototype.py"))
functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
print("functions:", ", ".join(functions))
before = import_side_effects(repo, "prototype")
pd.DataFrame([before.as_row()])

# %% [markdown]
# To test a one-line function, the test reads every handbook page and the golden set,
# prints four lines and overwrites `results.json`. Every test of the prototype pays that.
#
# Worse, it only works where the data is. Check out the repository as a colleague or a CI
# runner would: the committed files, without the git-ignored `data/`. Then run the tests:

# %%
checkout = checkout_without_data(repo, work_path("lesson_3_2", "checkout"))
print(structure_tree(checkout))
tests_before = pytest_summary(checkout)
print(tests_before)
lines = checkout.run("python", "prototype.py", ok=(1,)).output.splitlines()
print("python prototype.py:", " | ".join(lines[:2] + lines[-1:]))

# %% [markdown]
# `glob` on a missing folder finds nothing, so the prototype loaded 0 documents and 0 passages
# without complaint, then crashed with an `IndexError` far from the cause. Nothing about
# `chunk` is wrong; it simply cannot be reached.
#
# So, before: **no** function testable without the data, a test run that **fails** in a
# fresh checkout, and a hard-coded path that fails silently. Those are the figures to beat.

# %% [markdown]
# ## 3. A home for each part
#
# The refactoring keeps the behaviour and moves each job to one place. The layout is the
# **src layout**: the importable code lives under `src/`, not at the root, so Python finds it
# only where you point it on purpose (an install, or pytest's `pythonpath`). A stray script
# or folder in the current directory cannot shadow the package.
#
# | what | where |
# |---|---|
# | loading pages and questions, chunking | `src/handbook_assistant/data/` |
# | ranking passages | `src/handbook_assistant/retrieval/` |
# | prompt, answer, citation | `src/handbook_assistant/app/` |
# | recall@k on golden questions | `src/handbook_assistant/evaluation/` |
# | command line: reads paths, builds everything | `src/handbook_assistant/cli.py` |
# | tests, one file per part | `tests/` |
# | deployment: the service's image (written, not built here) | `infra/Dockerfile` |
# | the handbook, golden questions (git-ignored, passed in as a path) | `data/` |
#
# Write the package (the lab holds its files), delete the prototype, and commit. Two
# function bodies are left as stubs: you write them in exercises 3.2.1 and 3.2.2.

# %%
from course_lib.labs import package_files

package = package_files(contracts=False, solved=False)
for name, text in package.items():
    if name.startswith(("src/", "pyproject.toml")):
        repo.write(name, text)
repo.git("rm", "-q", "prototype.py", "tests/test_prototype.py")
repo.commit("Split the prototype into a src-layout package", add_all=True)
print(repo.git("ls-files", "src"))

# %% [markdown]
# Count the layers: `app`, `evaluation`, `retrieval`... and no `data`. The prototype's
# `.gitignore` says `data/`, and a pattern without a leading slash matches a folder of that
# name **anywhere**. Ask git which rule ignores the data layer:

# %%
print(repo.git("check-ignore", "-v", "src/handbook_assistant/data/loading.py"))

# %% [markdown]
# Anchor the pattern to the repository's root (`/data/`), check again (exit code 1 means
# "not ignored"), and commit the missing layer:

# %%
repo.write(".gitignore", repo.read(".gitignore").replace("\ndata/", "\n/data/"))
recheck = repo.run("git", "check-ignore", "src/handbook_assistant/data/loading.py", ok=(1,))
print("git check-ignore exit code:", recheck.returncode)
repo.commit("Anchor /data/ to the root: the data layer is code", add_all=True)
print(repo.git("ls-files", "src/handbook_assistant/data"))

# %% [markdown]
# The prototype's `retrieve` read the passages and `k` from globals. In the package they are
# arguments, so a test can hand it three passages made up on the spot. Its signature, and
# the stub you replace:

# %%
search_py = repo.read("src/handbook_assistant/retrieval/search.py")
print(search_py[search_py.index("def rank_passages") :])

# %% [markdown]
# ### Exercise 3.2.1: The retrieval loop as a pure function
#
# Write `rank_passages(question, passages, k)` yourself: `passages` is a list of
# `(doc_id, text)` pairs. Score each passage by the number of **distinct** words of the
# question it contains (words: lower-cased runs of letters and digits, as `words` below
# gives them). Return the `k` best passages themselves, ties in their original order, and
# raise `ValueError` when `k < 1`. Read no files and no globals except `words`, and do not
# change the list you are given. Stuck? `hint("3.2.1")`.

# %%
import re


def words(text):
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def rank_passages(question, passages, k):
    """The k passages sharing most distinct words with the question; ties keep their order."""
    # BEGIN SOLUTION
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    q = words(question)
    order = sorted(range(len(passages)), key=lambda i: -len(q & words(passages[i][1])))
    return [passages[i] for i in order[:k]]
    # END SOLUTION


# %% [markdown]
# Check it on passages it has not seen:

# %%
check("3.2.1", rank_passages)

# %% [markdown]
# ## 4. Tests that need no data
#
# The package's `rank_passages` replaces the stub: it is the reference answer to 3.2.1.
# Each part gets a test file that builds its own tiny inputs (the command line's comes in
# section 5). Add them and the `infra/` folder, commit, and run the tests again in a fresh
# checkout, still without `data/`:

# %%
solved = package_files(contracts=False)
search = "src/handbook_assistant/retrieval/search.py"
repo.write(search, solved[search])
for name, text in package.items():
    if name.startswith(("tests/", "infra/")) and name != "tests/test_cli.py":
        repo.write(name, text)
repo.commit("Unit tests that build their own inputs, and the service image", add_all=True)
checkout = checkout_without_data(repo, work_path("lesson_3_2", "checkout"))
tests_after = pytest_summary(checkout)
print(tests_after)

# %% [markdown]
# The tests pass without the data because nothing in the package touches a file when it is
# imported. Measure it the same way as the prototype, on the command-line module, which
# imports every layer:

# %%
after = import_side_effects(repo, "handbook_assistant.cli", src="src")
pd.DataFrame([before.as_row(), after.as_row()])

# %% [markdown]
# `pyproject.toml` tells pytest where the code is, so the tests run from a checkout without
# installing anything. Its pytest table, and the tree a colleague now clones (`infra/` holds a
# Dockerfile that this lesson writes but never builds):

# %%
pytest_table = repo.read("pyproject.toml").partition("[tool.pytest.ini_options]")[2]
print("[tool.pytest.ini_options]" + pytest_table)
print(structure_tree(repo))

# %% [markdown]
# ## 5. An entry point
#
# The prototype ran as `python prototype.py`, from one folder. A package declares its
# commands in `pyproject.toml`, and the installer writes a small executable for each:

# %%
scripts = repo.read("pyproject.toml").partition("[project.scripts]")[2].partition("\n\n")[0]
print("[project.scripts]" + scripts)

# %% [markdown]
# `handbook_assistant.cli:main` is a function that parses the arguments and calls an `app`
# object it is given, so a test can pass a fake app and a list of arguments: no subprocess,
# no data, no model. The installed command calls `main()` with nothing, so the package's
# version adds defaults: `argv=None` reads `sys.argv`, `app=None` builds the real app.
#
# ### Exercise 3.2.2: A command line that can be tested
#
# `parser()` below is given: `ask QUESTION [--top-k N]` and `evaluate [--top-k N]`, `N` an
# integer, 3 by default. So is the start of `main(argv, app)`: it parses `argv` (never
# `sys.argv`) and returns 2, argparse's usage-error code, instead of exiting. Finish it:
#
# - `ask` prints `app.ask(question, top_k=N)`; `evaluate` prints
#   `f"recall@{N}: {app.evaluate(top_k=N):.3f}"` (a fake app returning 0.625 gives
#   `recall@3: 0.625`); then return 0;
# - an `N` below 1 is a usage error too: return 2 without calling the app.
#
# Stuck? `hint("3.2.2")`.

# %%
import argparse


def parser():
    cli = argparse.ArgumentParser(prog="handbook-assistant")
    commands = cli.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask")
    ask.add_argument("question")
    ask.add_argument("--top-k", type=int, default=3)
    evaluate = commands.add_parser("evaluate")
    evaluate.add_argument("--top-k", type=int, default=3)
    return cli


def main(argv, app):
    """The command line: ask a question, or evaluate on the golden questions."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse's usage error: return its code, 2
        return exc.code
    # BEGIN SOLUTION
    if args.top_k < 1:
        return 2
    if args.command == "ask":
        print(app.ask(args.question, top_k=args.top_k))
    else:
        print(f"recall@{args.top_k}: {app.evaluate(top_k=args.top_k):.3f}")
    return 0
    # END SOLUTION


# %% [markdown]
# Check it with command lines it has not seen:

# %%
check("3.2.2", main)

# %% [markdown]
# The package's `main` replaces the stub. Its parser also takes the data folders
# (`--handbook`, `--golden`; default: the folder `HANDBOOK_DATA` names, else `data`), and it
# builds the real app when given none. `python -m handbook_assistant` runs it without
# installing anything:

# %%
cli_files = ["src/handbook_assistant/cli.py", "tests/test_cli.py"]
for name in cli_files:
    repo.write(name, solved[name])
repo.commit("The command line's main, and its tests", *cli_files)
src = {"PYTHONPATH": str(repo.file("src"))}
question = "Are partial on-call weeks paid?"
package_answer = repo.run("python", "-m", "handbook_assistant", "ask", question, env=src).output
package_recall = repo.run("python", "-m", "handbook_assistant", "evaluate", env=src).output
print(package_answer, package_recall, sep="\n")

# %% [markdown]
# The refactoring kept the behaviour: the prototype's answer and recall@3. And without the
# data? A fresh checkout again, all tests, then the command with no `data/` folder:

# %%
checkout = checkout_without_data(repo, work_path("lesson_3_2", "checkout"))
tests_after = pytest_summary(checkout)
no_data = checkout.run(
    "python",
    "-m",
    "handbook_assistant",
    "ask",
    question,
    env={"PYTHONPATH": str(checkout.file("src"))},
    ok=(1,),
)
print(tests_after)
print(no_data.output.splitlines()[-1])

# %% [markdown]
# Every test passes, and the missing folder now fails loudly, at the start, with its name
# and the option to pass. Build the wheel (the archive an installer unpacks) as a release
# would, with `python -m build`; `--no-isolation` reuses the installed backend, so nothing is
# downloaded. The entry point the installer will turn into a command:

# %%
import zipfile

repo.run("python", "-m", "build", "--wheel", "--no-isolation")
wheel = "dist/handbook_assistant-0.1.0-py3-none-any.whl"
with zipfile.ZipFile(repo.file(wheel)) as built:
    print(built.read("handbook_assistant-0.1.0.dist-info/entry_points.txt").decode())

# %% [markdown]
# ## 6. Import contracts
#
# A README cannot stop someone importing the app from retrieval. A contract can:
# `import-linter` reads **import contracts** from `pyproject.toml`, and its command,
# `lint-imports`, checks every import, including those inside functions. A first contract
# covers the path a question travels, each layer importing only the layers below it:

# %%
print("[tool.importlinter]" + package_files()["pyproject.toml"].partition("[tool.importlinter]")[2])

# %% [markdown]
# Commit it and run `lint-imports` in the scratch repository:

# %%
from course_lib.labs import lint_imports

repo.write("pyproject.toml", package_files()["pyproject.toml"])
repo.commit("Import contracts: the layers, one way down", "pyproject.toml")
print(lint_imports(repo))

# %% [markdown]
# Now tangle it: retrieval starts importing the app. The tangle adds one line at the top of
# `search.py`; run the contracts again:

# %%
from course_lib.labs import VISIBLE_TANGLES

VISIBLE_TANGLES[0].apply(repo)
print(repo.read(search).splitlines()[0])
tangled = lint_imports(repo)
print(tangled.explanation)

# %% [markdown]
# `lint-imports` names the contract, the two layers and the line. Undo that tangle and make
# another: the app imports evaluation. The contract does not name evaluation, so it passes:

# %%
repo.git("checkout", "-q", "--", "src")
VISIBLE_TANGLES[1].apply(repo)
print(repo.read("src/handbook_assistant/app/answering.py").splitlines()[0])
missed = lint_imports(repo)
repo.git("checkout", "-q", "--", "src")
print(missed)

# %% [markdown]
# ### Exercise 3.2.3 (open-ended): Contracts that catch tangles you have not seen
#
# The first contract leaves out the command line and evaluation, so nothing stops them from
# tangling. Write contracts for the whole package (TOML, as above; contract types `layers`,
# `forbidden` or `independence`, see the import-linter docs in further reading). Targets:
#
# - the clean package **passes**, and every tangled copy **fails**: the checker uses
#   tangles you have not seen, and reports only how many it missed;
# - the contracts name every part: `app`, `cli`, `data`, `evaluation`, `retrieval` (listed
#   alphabetically: which part sits above which is yours to work out from the code, e.g.
#   `print(repo.read("src/handbook_assistant/evaluation/metrics.py"))`, and `try_contracts`).
#
# `try_contracts(contracts)` runs `lint-imports` with your contracts on the clean package and
# the two visible tangles. Tune on those; check once. Stuck? `hint("3.2.3")`.

# %%
# BEGIN SOLUTION
contracts = """
[tool.importlinter]
root_package = "handbook_assistant"

[[tool.importlinter.contracts]]
name = "The whole package, one way down"
type = "layers"
layers = [
    "handbook_assistant.cli",
    "handbook_assistant.evaluation",
    "handbook_assistant.app",
    "handbook_assistant.retrieval",
    "handbook_assistant.data",
]
"""
# END SOLUTION
# STUB: contracts = """
# STUB: [tool.importlinter]
# STUB: root_package = "handbook_assistant"
# STUB:
# STUB: [[tool.importlinter.contracts]]
# STUB: name = "The question's path: the app over retrieval over data"
# STUB: type = "layers"
# STUB: layers = [
# STUB:     "handbook_assistant.app",
# STUB:     "handbook_assistant.retrieval",
# STUB:     "handbook_assistant.data",
# STUB: ]
# STUB: """

# %% [markdown]
# Try it on the visible variants (run this as often as you like):

# %%
from course_lib.labs import try_contracts

pd.DataFrame([vars(t) | {"right": t.right} for t in try_contracts(contracts)])

# %% [markdown]
# When you are happy with it, check it once on the hidden tangles:

# %%
check("3.2.3", contracts)

# %% [markdown]
# A contract cannot protect a part it does not name (the second tangle passed the first
# contract). A ban per tangle seen so far has the same weakness. A contract that states the
# whole direction catches the next tangle too.

# %% [markdown]
# ## 7. The course's own structure
#
# This course is built the same way, at a larger scale. `pyproject.toml` holds its import
# contracts; here are their names:

# %%
from course_lib.labs import course_structure

course = course_structure()
if course is None:
    print("course_lib is installed as a package here: open the course's repository to follow.")
else:
    for name in course["contracts"]:
        print("contract:", name)
    print("entry point: course =", course["course script"])
    print("classroom packages:", ", ".join(course["classroom packages"]))
    print("production packages, e.g.:", ", ".join(course["production examples"]))
    kept = "all kept" if course["contracts kept"] else "some broken"
    print("lint-imports on the course itself:", kept)

# %% [markdown]
# The first contract is the same idea as yours, one level up: the classroom (`course`,
# `labs`, `standin`, `datasets`) sits over the production library, and no production package
# imports the classroom. The second keeps the retrieval code one way down inside
# `course_lib.rag`. `lint-imports` keeps both, and the `course` command is a
# `[project.scripts]` entry, like `handbook-assistant`.

# %% [markdown]
# ## 8. Before and after
#
# The figures from this notebook, side by side:

# %%
pd.DataFrame(
    {
        "prototype": {
            "files read when a test imports it": before.files_read,
            "files written when a test imports it": before.files_written,
            "tests passing in a fresh checkout": tests_before.passed,
            "test errors in a fresh checkout": tests_before.errors,
            "error when data/ is missing": lines[-1].split(":")[0],
            "contracts broken by one tangled import": "no contracts",
        },
        "package": {
            "files read when a test imports it": after.files_read,
            "files written when a test imports it": after.files_written,
            "tests passing in a fresh checkout": tests_after.passed,
            "test errors in a fresh checkout": tests_after.errors,
            "error when data/ is missing": no_data.output.splitlines()[-1].split(":")[0],
            "contracts broken by one tangled import": tangled.broken,
        },
    }
)

# %% [markdown]
# ## Takeaways
#
# - A script's globals are hidden arguments: make them real ones, and each piece can be tested
#   with inputs made up on the spot.
# - Importing a module must do no work; reading, writing and printing belong in a `main`.
# - Code under `src/`, tests in `tests/`, deployment in `infra/`, data in a git-ignored
#   `/data/`, passed in as a path. Commands go in `[project.scripts]`.
# - Import contracts, run with the tests, catch tangles nobody has written yet.
#
# ## Production checklist
#
# - Does importing any module of the package read, write or print nothing?
# - Do the tests pass in a fresh checkout without the data folder?
# - Is the data folder ignored by a root-anchored pattern, and is all code tracked
#   (`git ls-files src`)?
# - Does `pyproject.toml` declare the package, its dependencies and its commands, and does a
#   wheel build offline?
# - Are the import contracts part of the test command, and do they name every part?
#
# ## Check your understanding
#
# 1. Why did the prototype's test fail in a fresh checkout although `chunk` was correct?
# 2. What is the difference between `data/` and `/data/` in a `.gitignore`?
# 3. Why does the src layout make tests more honest than a package at the repository root?
# 4. Why does `main` take `argv` and `app` as arguments instead of reading `sys.argv` and
#    building everything itself?
# 5. A team forbids the three illegal imports it has seen so far. Why is a layers contract
#    better?
#
# <details>
# <summary>Short answers</summary>
#
# 1. Importing the script ran the whole pipeline, which needed the git-ignored data.
# 2. `data/` ignores any folder named `data` at any depth (the package's data layer too);
#    `/data/` only the one at the root.
# 3. The package is importable only where you point Python on purpose (an install, or
#    pytest's `pythonpath = ["src"]`), so nothing in the current folder can shadow it.
# 4. A test can then call it with any arguments and a fake app, in process, without data.
# 5. It states the allowed direction, so it also fails on imports nobody has written yet.
#
# </details>
#
# ## Further reading
#
# - Python Packaging User Guide, "src layout vs flat layout"
#   (https://packaging.python.org/en/latest/discussions/src-layout-vs-flat-layout/).
# - Python Packaging User Guide, "Writing your pyproject.toml"
#   (https://packaging.python.org/en/latest/guides/writing-pyproject-toml/): `[project.scripts]`.
# - import-linter documentation, contract types
#   (https://import-linter.readthedocs.io/en/stable/contract_types.html).
# - Goku Mohandas, Made With ML, "Scripting"
#   (https://madewithml.com/courses/mlops/scripting/): from notebook to package.
# - A. Rule et al., "Ten simple rules for writing and sharing computational analyses in
#   Jupyter notebooks", PLoS Comput Biol 15(7), 2019
#   (https://doi.org/10.1371/journal.pcbi.1007007).
#
# **Next:** lesson 3.3, configuration management.
