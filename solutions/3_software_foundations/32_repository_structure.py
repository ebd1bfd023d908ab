# %% [markdown]
# # 3.2 Repository structure
#
# Most AI systems start as one long notebook cell: load, chunk, retrieve, prompt, answer,
# score. That is fine for trying an idea and poor for testing or sharing it: every part
# depends on every other part, and on the folder Python started in.
#
# You take the Handbook Assistant's prototype, measure what testing it costs, then refactor it
# into a package with `pyproject.toml`, unit tests, a command and import contracts, all in a
# throwaway git repository. The course's own repository is the worked example at the end.
#
# **Time:** about 45 minutes: 9 to read, 14 to run the code and read its outputs (2 of them
# waiting on tools), 20 for the three exercises (6, 7 and 7), 3 for the questions.
# **You need:** Python functions and modules; lesson 3.1 (git, `.gitignore`) helps.
#
# ## Learning objectives
# - Say where data, application, evaluation and infrastructure code live in a src layout,
#   and why the data folder stays out of git.
# - Turn a script's globals into function arguments, so that each piece can be tested alone.
# - Give a package a command-line entry point in `[project.scripts]`.
# - Write import contracts for `lint-imports` and see them fail on a tangled import.

# %% [markdown]
# ## Setup
#
# `seed` and `fast` follow the course's convention (nothing here is random). Then the imports
# and the throwaway repository:

# %% tags=["parameters"]
seed = 0
fast = False

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
# The prototype as it left the notebook, `prototype.py`; everything below starts from it:

# %%
from course_lib.labs import prototype_repo_files

for name, text in prototype_repo_files().items():
    repo.write(name, text)
print(repo.read("prototype.py"))

# %% [markdown]
# It **loads** the pages, **chunks** them into paragraphs, **retrieves** the three sharing most
# words with a question, builds a **prompt**, **answers** by quoting the top passage's best
# sentence (no model), and **evaluates** recall@3: the share of questions with a right page in
# the top three. Its paths are relative to wherever Python starts.
#
# A colleague wrote a test for `chunk`. The data (the handbook, the golden set's dev
# questions) goes into `data/`, which the `.gitignore` keeps out of git. Commit and run:

# %%
print(copy_lesson_data(repo, "dev"))
repo.commit("Prototype exported from the notebook", add_all=True)
prototype_output = repo.run("python", "prototype.py").output
print(prototype_output)

# %% [markdown]
# ## 2. What breaks, measured
#
# Now try to **test** `chunk`. The test must import `prototype`, and importing a script runs
# it. The lab imports it in a fresh Python with an audit hook (called on every file opened)
# and counts files and printed lines:

# %%
before = import_side_effects(repo, "prototype")
pd.DataFrame([before.as_row()])

# %% [markdown]
# To test a one-line function, the test reads every page and the golden set, prints four
# lines and overwrites `results.json`.
#
# Worse, it only works where the data is. Check out the repository as a colleague or a CI
# runner would, without the git-ignored `data/`, and run the tests and the script:

# %%
checkout = checkout_without_data(repo, work_path("lesson_3_2", "checkout"))
tests_before = pytest_summary(checkout)
print(tests_before)
lines = checkout.run("python", "prototype.py", ok=(1,)).output.splitlines()
print("python prototype.py:", " | ".join(lines[:2] + lines[-1:]))

# %% [markdown]
# With no folder, the prototype loaded 0 documents without complaint, then crashed with an
# `IndexError` far from the cause. The figures to beat: **no** function testable without the
# data, a test run that **errors** in a fresh checkout, and a missing folder that fails silently.

# %% [markdown]
# ## 3. A home for each part
#
# The refactoring gives each job one place, in the **src layout**: the code lives under
# `src/`, so Python finds it only where you point it (an install, or pytest's `pythonpath`),
# and nothing in the current folder can shadow it.
#
# | what | where (`src/handbook_assistant/...` for code) |
# |---|---|
# | loading, chunking | `data/` |
# | ranking passages | `retrieval/` |
# | prompt, answer, citation | `app/` |
# | recall@k | `evaluation/` |
# | command line: reads paths, builds everything | `cli.py` |
# | tests, one file per part | `tests/`, at the root |
# | the service's image (not built here) | `infra/Dockerfile`, at the root |
# | the handbook and golden questions (git-ignored) | `data/`, at the root |
#
# Write the package (the lab holds its files), delete the prototype, and commit. Two function
# bodies are stubs: you write them in exercises 3.2.1 and 3.2.2.

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
# Count the layers: `app`, `evaluation`, `retrieval`... no `data`. The `.gitignore` pattern
# `data/` has no leading slash, so it matches a folder of that name **anywhere**. Ask git
# which rule ignores the data layer:

# %%
print(repo.git("check-ignore", "-v", "src/handbook_assistant/data/loading.py"))

# %% [markdown]
# Anchor the pattern to the root (`/data/`), check again (exit code 1 means "not ignored"),
# and commit the missing layer:

# %%
repo.write(".gitignore", repo.read(".gitignore").replace("\ndata/", "\n/data/"))
recheck = repo.run("git", "check-ignore", "src/handbook_assistant/data/loading.py", ok=(1,))
print("git check-ignore exit code:", recheck.returncode)
repo.commit("Anchor /data/ to the root: the data layer is code", add_all=True)
print(repo.git("ls-files", "src/handbook_assistant/data"))

# %% [markdown]
# ### Exercise 3.2.1: The retrieval loop as a pure function
#
# The prototype's `retrieve` read the passages and `k` from globals; in the package they are
# arguments, so a test can pass three made-up passages. Write `rank_passages(question,
# passages, k)`: `passages` is a list of `(doc_id, text)` pairs. Score each by the number of
# **distinct** question words it contains (use `words`). Return the `k` best passages, ties in
# their original order; raise `ValueError` when `k < 1`; leave the list unchanged.
# Stuck? `hint("3.2.1")`.

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
# The package's `rank_passages` (the reference answer to 3.2.1) replaces the stub. Each part
# gets a test file that builds its own tiny inputs. Add them and `infra/`, commit, and run the
# tests in a fresh checkout, still without `data/`:

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
# They pass because nothing in the package touches a file on import. Measured as before, on
# the command-line module, which imports every layer:

# %%
after = import_side_effects(repo, "handbook_assistant.cli", src="src")
pd.DataFrame([before.as_row(), after.as_row()])

# %% [markdown]
# `pyproject.toml` tells pytest where the code is, so a checkout runs its tests without
# installing anything. Its pytest table, and the tree a colleague now clones:

# %%
pytest_table = repo.read("pyproject.toml").partition("[tool.pytest.ini_options]")[2]
print("[tool.pytest.ini_options]" + pytest_table)
print(structure_tree(repo))

# %% [markdown]
# ## 5. An entry point
#
# The prototype ran as `python prototype.py`, from one folder. A package declares its
# commands in `pyproject.toml`, and the installer writes an executable for each:

# %%
scripts = repo.read("pyproject.toml").partition("[project.scripts]")[2].partition("\n\n")[0]
print("[project.scripts]" + scripts)

# %% [markdown]
# `main` parses the arguments and calls an `app` object it is given, so a test can pass a fake
# app and a list of arguments: no subprocess, no data, no model.
#
# ### Exercise 3.2.2: A command line that can be tested
#
# `parser()` is given (`ask QUESTION [--top-k N]`, `evaluate [--top-k N]`, `N` an integer, 3
# by default), and so is the start of `main(argv, app)`, which returns 2 (argparse's
# usage-error code) instead of exiting. Finish it:
#
# - `ask` prints `app.ask(question, top_k=N)`; `evaluate` prints
#   `f"recall@{N}: {app.evaluate(top_k=N):.3f}"`; then return 0;
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
# Check it on command lines it has not seen:

# %%
check("3.2.2", main)

# %% [markdown]
# The package's `main` replaces the stub; its parser also takes the data paths (`--handbook`,
# `--golden`; `data/` by default), and it builds the real app when given none. Run it and
# compare with the prototype:

# %%
cli_files = ["src/handbook_assistant/cli.py", "tests/test_cli.py"]
for name in cli_files:
    repo.write(name, solved[name])
repo.commit("The command line's main, and its tests", *cli_files)
src = {"PYTHONPATH": str(repo.file("src"))}
question = "Are partial on-call weeks paid?"
package_answer = repo.run("python", "-m", "handbook_assistant", "ask", question, env=src).output
package_recall = repo.run("python", "-m", "handbook_assistant", "evaluate", env=src).output
same = package_answer in prototype_output and package_recall.split()[-1] in prototype_output
print(package_answer, package_recall, f"same as the prototype: {same}", sep="\n")

# %% [markdown]
# And without the data? A fresh checkout again, all tests, then the command with no `data/`:

# %%
checkout = checkout_without_data(repo, work_path("lesson_3_2", "checkout"))
tests_after = pytest_summary(checkout)
env = {"PYTHONPATH": str(checkout.file("src"))}
no_data = checkout.run("python", "-m", "handbook_assistant", "ask", question, env=env, ok=(1,))
print(tests_after)
print(no_data.output.splitlines()[-1])

# %% [markdown]
# Every test passes, and the missing folder now fails loudly, at the start, naming the option
# to pass. A release builds the wheel (the archive an installer unpacks); `--no-isolation`
# builds it offline. Inside, the entry point that becomes a command:

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
# `lint-imports` (from `import-linter`) checks every import against the **import contracts**
# in `pyproject.toml`. A first contract covers a question's path, each layer importing
# only those below it:

# %%
print("[tool.importlinter]" + package_files()["pyproject.toml"].partition("[tool.importlinter]")[2])

# %% [markdown]
# Commit it and run `lint-imports`:

# %%
from course_lib.labs import lint_imports

repo.write("pyproject.toml", package_files()["pyproject.toml"])
repo.commit("Import contracts: the layers, one way down", "pyproject.toml")
print(lint_imports(repo))

# %% [markdown]
# Now tangle it: one line at the top of `search.py` makes retrieval import the app:

# %%
from course_lib.labs import VISIBLE_TANGLES

VISIBLE_TANGLES[0].apply(repo)
print(repo.read(search).splitlines()[0])
tangled = lint_imports(repo)
print(tangled.explanation)

# %% [markdown]
# `lint-imports` names the contract, the two layers and the line. Undo it and tangle again:
# the app imports evaluation. The contract does not name evaluation, so it passes:

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
# The contract leaves out `cli` and `evaluation`. Add them to `layers` below, each where it
# belongs (a layer may import those after it), so that the clean package **passes** and every
# tangled copy **fails**: the checker uses tangles you have not seen. What do the two parts
# import?

# %%
print(repo.git("grep", "^from handbook_assistant", "--", "src/*/cli.py", "src/*/evaluation/*"))

# %%
contracts = """
[tool.importlinter]
root_package = "handbook_assistant"

[[tool.importlinter.contracts]]
name = "The whole package, one way down"
type = "layers"
layers = [
"""
# BEGIN SOLUTION
layers = ["cli", "evaluation", "app", "retrieval", "data"]
# END SOLUTION
# STUB: layers = ["app", "retrieval", "data"]  # add "cli" and "evaluation", each in its place
contracts += "".join(f'    "handbook_assistant.{name}",\n' for name in layers) + "]\n"

# %% [markdown]
# `try_contracts` runs `lint-imports` with your contracts on the clean package and the two
# visible tangles, as often as you like. Stuck? `hint("3.2.3")`.

# %%
from course_lib.labs import try_contracts

pd.DataFrame([vars(t) | {"right": t.right} for t in try_contracts(contracts)])

# %% [markdown]
# Then check once on the hidden tangles:

# %%
check("3.2.3", contracts)

# %% [markdown]
# A contract cannot protect a part it does not name, and a ban per tangle seen so far has the
# same weakness. A contract that states the whole direction catches the next tangle too.

# %% [markdown]
# ## 7. The course's own structure
#
# This course is built the same way, at a larger scale. Its import contracts, its command,
# and `lint-imports` run on it:

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
    kept = "all kept" if course["contracts kept"] else "some broken"
    print("lint-imports on the course itself:", kept)

# %% [markdown]
# The first contract is yours, one level up: the classroom packages sit over the production
# library (`course_lib.rag`, `course_lib.llm`, ...), which never imports them. The second
# keeps retrieval one way down inside `course_lib.rag`.

# %% [markdown]
# ## 8. Before and after

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
#   with made-up inputs.
# - Importing a module must do no work; reading, writing and printing belong in a `main`.
# - Code under `src/`, tests in `tests/`, deployment in `infra/`, data in a git-ignored
#   `/data/`, passed in as a path; commands in `[project.scripts]`.
# - Import contracts that state the whole direction catch tangles nobody has written yet.
#
# ## Production checklist
#
# - Does importing any module of the package read, write or print nothing?
# - Do the tests pass in a fresh checkout without the data folder?
# - Is the data folder ignored by a root-anchored pattern, and is all code tracked?
# - Does `pyproject.toml` declare the package and its commands?
# - Do the import contracts name every part and state the whole direction?
#
# ## Check your understanding
#
# 1. Why did the prototype's test end in an error in a fresh checkout, though `chunk` was correct?
# 2. What is the difference between `data/` and `/data/` in a `.gitignore`?
# 3. Why does the src layout make tests more honest than a package at the root?
# 4. Why does `main` take `argv` and `app` as arguments?
# 5. A team forbids the three illegal imports it has seen. Why is a layers contract better?
#
# <details>
# <summary>Short answers</summary>
#
# 1. Importing the script ran the whole pipeline, which needed the git-ignored data.
# 2. `data/` ignores any folder named `data` at any depth (the data layer too); `/data/` only
#    the one at the root.
# 3. The package is importable only where you point Python (an install, or pytest's
#    `pythonpath`), so nothing in the current folder can shadow it.
# 4. A test can call it with any arguments and a fake app, in process, without data.
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
#   Jupyter notebooks", PLoS Comput Biol, 2019 (https://doi.org/10.1371/journal.pcbi.1007007).
#
# **Next:** lesson 3.3, configuration management.
