# %% [markdown]
# # 3.1 Version control for AI work
#
# An AI project has data, model weights, API keys, notebooks full of outputs and caches.
# Commit them the way a tutorial does, `git add .`, and the repository gets heavy, leaks a
# key, and shows diffs nobody can review. Deleting the file later undoes none of it.
#
# You will commit the Handbook Assistant's project as a tutorial leaves it, measure the cost,
# then build the production version and measure again, in **throwaway repositories** of the
# course work directory. Git runs on a fixed clock, so with the default parameters and the
# reference answers the commit ids are the ones printed here.
#
# **Time:** about 49 minutes: 10 to read, 10 to run the code and read its outputs, 26 for the
# three exercises (10, 8, 8), 3 for the questions. **You need:** basic git (`add`, `commit`,
# `log`, `branch`).
#
# ## Learning objectives
# - Write a `.gitignore` for an AI project and prove it with `git check-ignore`.
# - Measure what a committed model costs every clone.
# - Keep notebooks reviewable with `nbdime`, `nbstripout` and `jupytext`.
# - Commit in steps, experiment on branches, and tag a release that pins data, prompt and model.

# %% [markdown]
# ## Setup
#
# `seed` fixes the fake model's bytes and key; `fast` makes the model file smaller.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# `ScratchRepo` runs the real `git` (and other tools) in the work directory and records each
# command:

# %%
from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100 (hint: when stuck)
from course_lib.labs import (
    KEEP_IN,
    KEEP_OUT,
    TUTORIAL_MODEL,
    TUTORIAL_NOTEBOOK,
    ScratchRepo,
    clone_objects_size,
    course_repository,
    diff_size,
    explore_notebook,
    ignore_report,
    mask_value,
    merge,
    nbdime_diff,
    notebook_diffs,
    pair_script,
    save_notebook,
    tutorial_project,
    write_project_files,
)
from course_lib.workdir import work_path

model_bytes = 1_000_000 if fast else 2_000_000
MB, KB = 1_000_000, 1_000

# %% [markdown]
# ## 1. The tutorial's repository
#
# Code, a prompt, the golden CSV, a `.env` with the key, a re-ranker's weights (seeded random
# bytes), a notebook with outputs and its checkpoint, bytecode and the built index. The
# tutorial ends with `git add .`:

# %%
tutorial = ScratchRepo.create(work_path("lesson_3_1", "tutorial"))
write_project_files(tutorial, tutorial_project(model_bytes=model_bytes, seed=seed))
tutorial.commit("first commit", add_all=True)
print(tutorial.transcript())
print("\n".join(tutorial.files()))

# %% [markdown]
# ## 2. What breaks, measured
#
# ### A secret in the history
#
# Anyone who can clone the repository can read the key (printed redacted):

# %%
key_line = tutorial.git("show", "HEAD:.env").strip()
name, _, value = key_line.partition("=")
print(f"{name}={mask_value(value)}  ({len(value)} characters, readable at HEAD:.env)")

# %% [markdown]
# A tutorial's fix is to delete the file and commit. `git log --all -- .env` lists every
# commit that touched it; the first still holds the key. A pushed key must be revoked
# (lesson 3.6).

# %%
tutorial.git("rm", "-q", "--cached", ".env")
tutorial.commit("remove .env")
print(tutorial.git("log", "--all", "--oneline", "--", ".env"))
print("still readable:", mask_value(tutorial.git("show", "HEAD~1:.env").partition("=")[2].strip()))

# %% [markdown]
# ### A model in every clone
#
# Remove the weights in a commit, then clone as a colleague or a CI runner would:
# `clone_objects_size` runs `git clone --no-local` (objects copied as a server sends them)
# and sums the clone's object store:

# %%
tutorial.git("rm", "-q", "--cached", TUTORIAL_MODEL)
tutorial.commit("remove model")
clone = clone_objects_size(tutorial, "tutorial-clone")
print(f"model file:           {model_bytes / KB:,.0f} KB (no longer at HEAD)")
print(f"clone's object store: {clone / KB:,.0f} KB")
print(f"of which other files: {(clone - model_bytes) / KB:,.0f} KB")

# %% [markdown]
# The clone carries the deleted model in full (random bytes do not compress): git keeps every
# version of every file ever committed. A 200 MB model would cost every clone and CI run
# 200 MB, and each retrained model adds as much again. `git filter-repo` rewrites history
# (lesson 3.6), but every clone must then be replaced.

# %% [markdown]
# ### A notebook diff nobody can review
#
# A colleague changes one line of the notebook, the chunk size from 384 to 256, and re-runs
# it: execution counts, a timing, the plot's image and the metadata change too.
# `notebook_diffs` measures the change as `git diff` shows it and as nbdime's `nbdiff` shows
# it (cell by cell); the last line counts the diff lines that hold the image:

# %%
save_notebook(tutorial, TUTORIAL_NOTEBOOK, explore_notebook(chunk_size=256, run=2))
tutorial_diffs = notebook_diffs(tutorial)
raw = tutorial.git("diff", "--no-textconv", "--", TUTORIAL_NOTEBOOK)
tutorial_diffs["of which image"] = diff_size(
    "\n".join(line for line in raw.splitlines() if '"image/png"' in line)
)
for tool, size in tutorial_diffs.items():
    print(f"{tool:<15} {size.lines:>3} changed lines, {size.chars:>6,} characters")

# %% [markdown]
# JSON keeps each base64 image on one line, so nearly all of `git diff`'s characters are
# image data. `nbdiff`'s 416 characters cannot hold the image: it names each change by its
# place instead. Its start (the lab calls nbdime's Python API, the code behind `nbdiff`):

# %%
print("\n".join(nbdime_diff(tutorial, TUTORIAL_NOTEBOOK).splitlines()[:16]))

# %% [markdown]
# Readable, but the one line of code is still buried, and every re-run commits a new copy of
# the image. Commit the re-run, as the tutorial's author would:

# %%
tutorial.commit("update", add_all=True)

# %% [markdown]
# ## 3. A `.gitignore` for an AI project
#
# A `.gitignore` lists patterns of paths git should not add. The rules you need:
#
# - a pattern with no slash, or only a trailing one, matches at any depth: `data/` ignores
#   `tests/data/` too; a trailing `/` matches only folders;
# - a slash at the start or in the middle anchors it at the root: `/data/` and `data/raw/`
#   match only the top `data` folder;
# - `*` matches within one path component; `!pattern` re-includes what an earlier line
#   excluded, but never inside a folder that is itself excluded.
#
# `git check-ignore -v` names the line that ignores each path. A tutorial's first attempt:

# %%
naive = "*.csv\n.env\nmodels/\n"
checker = ScratchRepo.create(work_path("lesson_3_1", "first-attempt"), files={".gitignore": naive})
paths = ["data/golden_dev.csv", "data/raw/tickets.jsonl", ".env.local", "tests/data/questions.csv"]
print(checker.git("check-ignore", "-v", "--no-index", *paths, ok=(0, 1)))

# %% [markdown]
# Paths it does not print are not ignored: the raw tickets and `.env.local` get in, and a
# test fixture is ignored. `ignore_report` runs the check over `KEEP_OUT` (paths to keep out
# of git) and `KEEP_IN` (paths to keep):

# %%
print(ignore_report(naive, KEEP_OUT, KEEP_IN))

# %% [markdown]
# ### Exercise 3.1.1 (open-ended): A `.gitignore` that generalises
#
# Write `GITIGNORE` for the Handbook Assistant. It must keep out:
#
# - everything under the top `data/` folder but `data/README.md`;
# - model weights (`.bin`, `.safetensors`, `.pt`, `.pth`, `.onnx`, `.gguf`, `.ckpt`) anywhere;
# - every `.env` file except `.env.example`;
# - caches (`__pycache__`, bytecode, `.pytest_cache`, `.mypy_cache`, `.ruff_cache`), notebook
#   checkpoints and virtual environments, at any depth;
# - the top `workdir/` folder (indexes and traces).
#
# It must keep everything else: code (including code packages named `models`), prompts, tests
# and their fixtures, notebooks, docs. Tune it on the visible lists. The checker runs `git
# check-ignore` on **held-out** paths of the same kinds and reports counts only: it must keep
# every path to keep, and may miss at most one to keep out. Stuck? `hint("3.1.1")`.

# %%
# BEGIN SOLUTION
GITIGNORE = """\
# Data and weights live in storage made for them; data/README.md says where
/data/*
!/data/README.md
/models/
*.safetensors
*.bin
*.pt
*.pth
*.onnx
*.gguf
*.ckpt

# Secrets: every .env file but the example
.env
.env.*
!.env.example

# Caches, environments and notebook checkpoints, at any depth
__pycache__/
*.py[cod]
.ipynb_checkpoints/
.pytest_cache/
.mypy_cache/
.ruff_cache/
.venv/
venv/

# The work directory: indexes, traces, caches the code rebuilds
/workdir/
*.sqlite
"""
# END SOLUTION
# STUB: GITIGNORE = """\
# STUB: *.csv
# STUB: .env
# STUB: models/
# STUB: """

# %% [markdown]
# On the visible lists (tune here):

# %%
print(ignore_report(GITIGNORE, KEEP_OUT, KEEP_IN))

# %% [markdown]
# When every visible path is sorted right, check it once on the held-out paths:

# %%
check("3.1.1", GITIGNORE)

# %% [markdown]
# ## 4. The production repository
#
# A `.gitignore` never untracks a committed file, so the production repository starts with
# it, then the code, then the notebook. Data and model stay on disk, ignored; `data/README.md`
# says where they live.

# %%
gitignore = answer_or_reference("3.1.1", GITIGNORE)
files = tutorial_project(model_bytes=model_bytes, seed=seed)
files[".env.example"] = b"OPENAI_API_KEY=\n"
files["data/README.md"] = b"# Data\n\nThe golden set lives in the team's bucket; see the tag.\n"
prod = ScratchRepo.create(work_path("lesson_3_1", "production"), files={".gitignore": gitignore})
prod.commit("Keep data, models, secrets, caches and the work directory out of git", ".gitignore")
later = ("notebooks/", "data/README.md")
write_project_files(prod, {k: v for k, v in files.items() if not k.startswith(later)})
prod.commit("Add the assistant, its answer prompt and an example .env", add_all=True)
write_project_files(prod, {"data/README.md": files["data/README.md"]})
prod.commit("Say where the golden set lives", "data/README.md")
print("\n".join(prod.files()))

# %% [markdown]
# Before the notebook goes in, install `nbstripout` as a git **filter**: `git add` passes every
# `.ipynb` through it, so outputs are not stored. The filter lives in `.git/config`, which is
# not cloned (each clone runs `nbstripout --install`); the committed `.gitattributes` says
# which files it applies to.
#
# A `jupytext.toml` pairs every notebook with a **percent script**, a `.py` file where `# %%`
# lines mark the cells. `pair_script` writes it through jupytext's Python API (what
# `jupytext --sync` does):

# %%
prod.run("nbstripout", "--install", "--attributes", ".gitattributes")
prod.write("jupytext.toml", 'formats = "ipynb,py:percent"\n')
save_notebook(prod, TUTORIAL_NOTEBOOK, explore_notebook(chunk_size=384, run=1))
pair_script(prod, TUTORIAL_NOTEBOOK)
prod.commit("Strip notebook outputs on commit and pair notebooks with .py scripts", add_all=True)
print(prod.transcript(last=3))
print(prod.git("show", "--name-status", "--format=%s", "HEAD"))

# %% [markdown]
# Now the same re-run. `git add` passes the notebook through the filter; `git diff --cached`
# shows what the commit would store:

# %%
save_notebook(prod, TUTORIAL_NOTEBOOK, explore_notebook(chunk_size=256, run=2))
pair_script(prod, TUTORIAL_NOTEBOOK)
prod.git("add", "--", TUTORIAL_NOTEBOOK)
stripped = prod.git("diff", "--cached", "--no-textconv", "--", TUTORIAL_NOTEBOOK)
paired = prod.git("diff", "--numstat", "--", "notebooks/explore.py")
rows = {
    "raw git diff (tutorial, section 2)": tutorial_diffs["git diff"],
    "nbdiff (tutorial, section 2)": tutorial_diffs["nbdiff"],
    "git diff, stripped (production)": diff_size(stripped),
}
for what, size in rows.items():
    print(f"{what:<35} {size.lines:>3} changed lines, {size.chars:>6,} characters")
print(f"{'paired .py (production)':<35} {paired.split()[0]:>3} added, {paired.split()[1]} removed")
print()
print(stripped)

# %% [markdown]
# The stripped diff shows the one line of code, and the Python version in the metadata, which
# `nbstripout` keeps by default (`--extra-keys` removes more). The paired `.py` shows the
# change as plain Python for any review tool and `git blame`. Commit it, saying what and why:

# %%
prod.commit("Explore chunk size 256 to compare it with 384 (lesson 2.1)", add_all=True)
print(prod.git("show", "--name-status", "--format=%s", "HEAD"))

# %% [markdown]
# Measure the clone again. The tutorial's figure is from section 2, before its last commit
# added the re-run notebook, so it is a lower bound:

# %%
prod_clone = clone_objects_size(prod, "production-clone")
print(f"tutorial clone (section 2): {clone / KB:,.0f} KB")
print(f"production clone:           {prod_clone / KB:,.0f} KB")
print(f".env tracked: {'.env' in prod.files()}; model tracked: {TUTORIAL_MODEL in prod.files()}")

# %% [markdown]
# ### Commits that tell a story
#
# The tutorial's log says nothing about why. Each production commit does one thing and says
# what and why, so `git revert` can undo one decision alone:

# %%
print("tutorial:\n" + tutorial.log())
print("\nproduction:\n" + prod.log())

# %% [markdown]
# ## 5. Experiments on branches
#
# An experiment is a branch: change one thing, measure, then merge it or delete it. Suppose
# chunk size 256 kept the golden set's quality (lesson 2.1 measures such a change): merge it
# with `--no-ff`, which always makes a merge commit, so the log shows the experiment as one
# unit. The lab's `merge` runs it with the scratch repository's fixed author and clock, then
# deletes the branch.

# %%
prod.git("switch", "-q", "-c", "exp/chunk-size-256")
prod.write("src/assistant.py", prod.read("src/assistant.py").replace("384", "256"))
prod.commit("Experiment: chunk size 256 in the assistant", "src/assistant.py")
prod.git("switch", "-q", "main")
merge(prod, "exp/chunk-size-256", "Merge chunk size 256")
print(prod.git("log", "--oneline", "--graph", "--decorate", "--all"))

# %% [markdown]
# ### Exercise 3.1.2: The largest files in the whole history
#
# Git stores **objects** named by their hash: a **blob** is one version of a file's bytes, a
# **tree** lists a folder, a commit points to a tree. A **ref** (branch, tag) names a commit.
#
# Write `largest_blobs(repo, n)`: the `n` largest files ever committed, on any branch or tag,
# deleted or not, as `(path, bytes)` pairs, largest first. Two git commands, via `repo.git`:
#
# - `rev-list --objects --all` prints one line per object reachable from any ref:
#   `<id> <path>` (a commit, or the root tree, has no path);
# - `cat-file "--batch-check=%(objectname) %(objecttype) %(objectsize)"` reads ids on stdin
#   (`repo.git(..., stdin="id1\nid2\n")`) and prints `<id> <type> <bytes>` for each.
#
# Only blobs count: a folder with many files has a large tree. The checker uses a repository
# you have not seen. Stuck? `hint("3.1.2")`.


# %%
def largest_blobs(repo, n=3):
    """The n largest blobs in the repository's history: [(path, bytes), ...], largest first."""
    # BEGIN SOLUTION
    path_of = {}
    for line in repo.git("rev-list", "--objects", "--all").splitlines():
        sha, _, path = line.partition(" ")
        if path:
            path_of.setdefault(sha, path)
    batch = repo.git(
        "cat-file",
        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
        stdin="\n".join(path_of) + "\n",
    )
    blobs = []
    for line in batch.splitlines():
        sha, kind, size = line.split()
        if kind == "blob":
            blobs.append((path_of[sha], int(size)))
    return sorted(blobs, key=lambda pair: -pair[1])[:n]
    # END SOLUTION


# %% [markdown]
# Check it:

# %%
check("3.1.2", largest_blobs)

# %% [markdown]
# On both repositories: the tutorial's largest are the deleted model and the index.
# Production's are small text: the notebook's two committed versions have the same size, as
# the re-run swapped strings of equal length (`384` for `256`, one Python version for another):

# %%
finder = answer_or_reference("3.1.2", largest_blobs)
for repo in (tutorial, prod):
    print(repo.path.name, [(path, f"{size:,} B") for path, size in finder(repo, 3)])

# %% [markdown]
# ## 6. A release tag that pins data, prompt and model
#
# A release also depends on what git does not hold: the evaluation data, the prompt version
# and the model. An **annotated** tag (`git tag -a`) is an object with a message, author and
# date, so it can carry a manifest; a lightweight tag is only a ref.
#
# ### Exercise 3.1.3: Tag a release
#
# Write `tag_release(repo, version, *, data_file, prompt_version, model)`. It raises
# `ValueError` when tracked files have uncommitted changes (`git status --porcelain
# --untracked-files=no` lists them); otherwise it tags HEAD with an annotated tag `version`
# whose message is `Release <version>`, a blank line, then `data_sha256: <hex>`,
# `prompt_version: <id>` and `model: <name>`, one per line. The hash is SHA-256 of the data
# file's **bytes** (`repo.file(data_file)` is its path). It returns the three values as a
# dict. Stuck? `hint("3.1.3")`.


# %%
def tag_release(repo, version, *, data_file, prompt_version, model):
    """Tag HEAD with an annotated tag whose message pins the data, prompt and model."""
    import hashlib

    # BEGIN SOLUTION
    dirty = repo.git("status", "--porcelain", "--untracked-files=no")
    if dirty:
        raise ValueError(f"Commit your changes before tagging {version}: {dirty}")
    data = repo.file(data_file).read_bytes()
    manifest = {
        "data_sha256": hashlib.sha256(data).hexdigest(),
        "prompt_version": prompt_version,
        "model": model,
    }
    lines = [f"Release {version}", ""] + [f"{k}: {v}" for k, v in manifest.items()]
    repo.git("tag", "-a", version, "-m", "\n".join(lines))
    return manifest
    # END SOLUTION


# %% [markdown]
# Check it on a repository it has not seen:

# %%
check("3.1.3", tag_release)

# %% [markdown]
# Tag production's first release. `handbook-answer@3` is version 3 of the answer prompt,
# named `name@version` as in lesson 2.4's prompt registry; the model's name comes from the
# course's model registry. Months later, hashing the data file again tells you whether it is
# still what the release was measured on.

# %%
from course_lib.models import get_registry

release = answer_or_reference("3.1.3", tag_release)
manifest = release(
    prod,
    "v1.0.0",
    data_file="data/golden_dev.csv",
    prompt_version="handbook-answer@3",
    model=get_registry().model_id("chat-small"),
)
print("v1.0.0 tags commit", prod.git("rev-parse", "--short", "v1.0.0^{commit}"), "=", prod.head())
print(prod.git("tag", "--list", "-n9", "v1.0.0"))

# %% [markdown]
# ## 7. The course's own repository
#
# This course follows most of these practices. Its `.gitignore` covers (the last line is its
# pre-commit hooks):

# %%
root = course_repository()
if root is None:
    print("course_lib is installed as a package: there is no checkout to look at.")
else:
    rules = set((root / ".gitignore").read_text().splitlines())
    for pattern in (
        ".venv/",
        "__pycache__/",
        ".ipynb_checkpoints/",
        ".env",
        ".env.*",
        "!.env.example",
        "*.sqlite",
        ".course-work/",
    ):
        print(f"{pattern:<22} {'covered' if pattern in rules else 'missing'}")
    hooks = (root / ".pre-commit-config.yaml").read_text()
    print("size limit on added files:", "id: check-added-large-files" in hooks)

# %% [markdown]
# The last line is `False`: the course sets no size limit on added files. A project that
# commits more than code should add one, such as pre-commit-hooks' `check-added-large-files`
# (500 KB by default), and send data and weights to Git LFS or DVC, which commit a small
# pointer and keep the bytes elsewhere. The course's notebooks **keep** their outputs, on
# purpose: `nbval` re-executes each one and compares every output with the stored one.

# %% [markdown]
# ## Takeaways
#
# - Commit the `.gitignore` first, anchor root folders with `/`, prove it with
#   `git check-ignore`.
# - Deleting a committed file does not shrink a clone: keep data and weights outside git,
#   pinned by hash. A committed key is leaked: revoke it.
# - Review notebooks as code: `nbdiff`, `nbstripout` at the commit, a `jupytext` twin.
# - One change per commit, one experiment per branch, an annotated tag per release.
#
# ## Production checklist
#
# - `.gitignore` in the first commit, checked with `git check-ignore`, fixtures kept?
# - A size limit on added files (CI or a pre-commit hook)?
# - Notebooks stripped by a filter (`.gitattributes` committed, `nbstripout --install` in
#   each clone's setup) or paired with `.py`?
# - Release tags made from a clean tree, naming the data's hash, prompt and model?
#
# ## Check your understanding
#
# 1. You add `models/` to `.gitignore` after committing `models/reranker.bin`. Is it ignored?
# 2. Why does `git rm` plus a commit not make the clone smaller?
# 3. Why does `data/` in a `.gitignore` ignore `tests/data/questions.csv`, and how do you
#    stop it?
# 4. When should a notebook keep its outputs in git?
#
# <details>
# <summary>Short answers</summary>
#
# 1. No: ignore rules only affect untracked files. `git rm --cached` it; old commits still
#    hold it.
# 2. Earlier commits still reference the blob and a clone copies all reachable history; only
#    rewriting history (and replacing every clone) removes it.
# 3. A pattern with no slash, or only a trailing one, matches at any depth. A slash at the
#    start (or in the middle) anchors it at the root: `/data/`.
# 4. When they are a test's expected values (as with this course's nbval) or a published
#    report; then review the `.py` source, not the JSON.
#
# </details>
#
# ## Further reading
#
# - Pro Git, "Git Basics: Recording Changes" (https://git-scm.com/book/en/v2/Git-Basics-Recording-Changes-to-the-Repository)
#   and "Tagging" (https://git-scm.com/book/en/v2/Git-Basics-Tagging).
# - gitignore reference (https://git-scm.com/docs/gitignore).
# - nbdime documentation (https://nbdime.readthedocs.io/).
# - nbstripout (https://github.com/kynan/nbstripout).
# - Jupytext, paired notebooks (https://jupytext.readthedocs.io/en/stable/paired-notebooks.html).
# - pre-commit-hooks, `check-added-large-files` (https://github.com/pre-commit/pre-commit-hooks).
# - Git LFS (https://github.com/git-lfs/git-lfs).
# - DVC, `.dvc` files (https://dvc.org/doc/user-guide/dvc-files/.dvc).
#
# **Next:** lesson 3.2, repository structure.
