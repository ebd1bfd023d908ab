# %% [markdown]
# # 3.1 Version control for AI work
#
# An AI project has data, model weights, API keys, notebooks full of outputs and caches.
# Commit them as a tutorial does, `git add .`, and the repository gets heavy, leaks a key and
# shows diffs nobody can review. Deleting the file later undoes none of it.
#
# You will commit the Handbook Assistant's project as a tutorial leaves it, measure the cost,
# then build the production version and measure again, in **throwaway repositories** of the
# course work directory. Git runs on a fixed clock, so the commit ids are the ones printed here.
#
# **Time:** about 53 minutes: 9 to read (1,740 words), 13 to run the code and read its
# outputs, 28 for the three exercises (10, 10, 8), 3 for the questions. **You need:** basic git
# (`add`, `commit`, `log`, `branch`).
#
# ## Learning objectives
# - Write a `.gitignore` for an AI project and prove it with `git check-ignore`.
# - Measure what a committed model costs every clone.
# - Keep notebooks reviewable with `nbdime`, `nbstripout` and `jupytext`.
# - Tag a release that pins data, prompt and model.

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
from course_lib.models import get_registry
from course_lib.workdir import work_path

model_bytes = 1_000_000 if fast else 2_000_000

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
name, _, value = tutorial.git("show", "HEAD:.env").strip().partition("=")
print(f"{name}={mask_value(value)}  ({len(value)} characters, readable at HEAD:.env)")

# %% [markdown]
# A tutorial deletes the file and commits. `git log --all -- .env` lists the commits that
# touched it; the first still holds the key. A pushed key must be revoked (lesson 3.6).

# %%
tutorial.git("rm", "-q", "--cached", ".env")
tutorial.commit("remove .env")
print(tutorial.git("log", "--all", "--oneline", "--", ".env"))
print("still readable:", mask_value(tutorial.git("show", "HEAD~1:.env").partition("=")[2].strip()))

# %% [markdown]
# ### A model in every clone
#
# Remove the weights in a commit, then clone as a CI runner would: `clone_objects_size` runs
# `git clone --no-local` (objects copied as a server sends them) and sums the object store:

# %%
tutorial.git("rm", "-q", "--cached", TUTORIAL_MODEL)
tutorial.commit("remove model")
clone = clone_objects_size(tutorial, "tutorial-clone")
print(f"model file:           {model_bytes / 1e3:,.0f} KB (no longer at HEAD)")
print(f"clone's object store: {clone / 1e3:,.0f} KB")
print(f"of which other files: {(clone - model_bytes) / 1e3:,.0f} KB")

# %% [markdown]
# The clone carries the deleted model in full: git keeps every version of every file ever
# committed. A 200 MB model costs every clone 200 MB, and each retrained model as much again.
# `git filter-repo` rewrites history (lesson 3.6), but every clone must then be replaced.

# %% [markdown]
# ### A notebook diff nobody can review
#
# A colleague changes the notebook's chunk size from 384 to 256 and re-runs it: execution
# counts, a timing, the plot's image and the metadata change too.
# `notebook_diffs` measures the change as `git diff` and as nbdime's `nbdiff` (cell by cell)
# show it; the last line counts the diff lines that hold the image:

# %%
save_notebook(tutorial, TUTORIAL_NOTEBOOK, explore_notebook(chunk_size=256, run=2))
tutorial_diffs = notebook_diffs(tutorial)
raw = tutorial.git("diff", "--no-textconv", "--", TUTORIAL_NOTEBOOK).splitlines()
tutorial_diffs["of which image"] = diff_size("\n".join(x for x in raw if '"image/png"' in x))
for tool, size in tutorial_diffs.items():
    print(f"{tool:<15} {size.lines:>3} changed lines, {size.chars:>6,} characters")

# %% [markdown]
# JSON keeps each base64 image on one line, so nearly all of `git diff`'s characters are
# image data. `nbdiff` names each change by its place instead. Its start (the lab calls
# nbdime's Python API, the code behind `nbdiff`):

# %%
print("\n".join(nbdime_diff(tutorial, TUTORIAL_NOTEBOOK).splitlines()[:16]))

# %% [markdown]
# Readable, but every re-run still commits a new copy of the image. The tutorial commits it:

# %%
tutorial.commit("update", add_all=True)

# %% [markdown]
# ## 3. A `.gitignore` for an AI project
#
# A `.gitignore` lists patterns of paths git should not add. The rules you need:
#
# - a pattern with no slash, or only a trailing one (folders only), matches at any depth:
#   `data/` ignores `tests/data/` too;
# - a slash at the start or in the middle anchors it at the root: `/data/`, `data/raw/`;
# - `!pattern` re-includes what an earlier line excluded, but never inside an excluded folder.
#
# `git check-ignore -v` names the line that ignores each path. A tutorial's first attempt:

# %%
naive = "*.csv\n.env\nmodels/\n"
checker = ScratchRepo.create(work_path("lesson_3_1", "first-attempt"), files={".gitignore": naive})
paths = ["data/golden_dev.csv", "data/raw/tickets.jsonl", ".env.local", "tests/data/questions.csv"]
print(checker.git("check-ignore", "-v", "--no-index", *paths, ok=(0, 1)))

# %% [markdown]
# Paths it does not print are not ignored: the raw tickets and `.env.local` get in, and a
# test fixture is ignored. `ignore_report` checks `KEEP_OUT` (paths to keep out of git) and
# `KEEP_IN` (paths to keep):

# %%
print(ignore_report(naive, KEEP_OUT, KEEP_IN))

# %% [markdown]
# ### Exercise 3.1.1 (open-ended): A `.gitignore` that generalises
#
# `ANY_DEPTH` holds the patterns that rightly match at any depth: weights, caches,
# environments. Your `GITIGNORE` adds four lines, all wrong: `data/`, `models/` and
# `workdir/` match at any depth, and `.env` misses `.env.local`. Fix them to keep out
# everything under the top `data/` but `data/README.md`, every `.env` file but `.env.example`,
# and the top `models/` and `workdir/`, while keeping code (packages named `models` or
# `workdir` too) and test fixtures. Tune on the visible lists; the checker runs on
# **held-out** paths, must keep every path to keep and may miss one to keep out. Stuck?
# `hint("3.1.1")`.

# %%
ANY_DEPTH = """\
*.safetensors
*.bin
*.pt
*.pth
*.onnx
*.gguf
*.ckpt
__pycache__/
*.py[cod]
.ipynb_checkpoints/
.pytest_cache/
.mypy_cache/
.ruff_cache/
.venv/
venv/
*.sqlite
"""
# BEGIN SOLUTION
GITIGNORE = (
    ANY_DEPTH
    + """\
/data/*
!/data/README.md
/models/
.env
.env.*
!.env.example
/workdir/
"""
)
# END SOLUTION
# STUB: GITIGNORE = (
# STUB:     ANY_DEPTH
# STUB:     + """\
# STUB: data/
# STUB: models/
# STUB: .env
# STUB: workdir/
# STUB: """
# STUB: )

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
# it. Data and model stay on disk, ignored; `data/README.md` says where they live.

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
# which files it applies to. A `jupytext.toml` pairs every notebook with a **percent
# script**, a `.py` file where `# %%` lines mark the cells; `pair_script` writes it with
# jupytext's Python API (what `jupytext --sync` does):

# %%
prod.run("nbstripout", "--install", "--attributes", ".gitattributes")
prod.write("jupytext.toml", 'formats = "ipynb,py:percent"\n')
save_notebook(prod, TUTORIAL_NOTEBOOK, explore_notebook(chunk_size=384, run=1))
pair_script(prod, TUTORIAL_NOTEBOOK)
prod.commit("Strip notebook outputs on commit and pair notebooks with .py scripts", add_all=True)
print(prod.transcript(last=3))

# %% [markdown]
# Now the same re-run. `git add` passes the notebook through the filter; `git diff --cached`
# shows what the commit would store:

# %%
save_notebook(prod, TUTORIAL_NOTEBOOK, explore_notebook(chunk_size=256, run=2))
pair_script(prod, TUTORIAL_NOTEBOOK)
prod.git("add", "--", TUTORIAL_NOTEBOOK)
stripped = prod.git("diff", "--cached", "--no-textconv", "--", TUTORIAL_NOTEBOOK)
size = diff_size(stripped)
print(f"stripped git diff: {size.lines} changed lines, {size.chars:,} characters")
print("paired .py, lines added and removed:", prod.git("diff", "--numstat", "--", "notebooks/"))
print(stripped)

# %% [markdown]
# The stripped diff holds the one line of code and the Python version in the metadata
# (`nbstripout --extra-keys` removes more); the paired `.py` shows the change as plain Python.
# Commit it, saying what and why:

# %%
prod.commit("Explore chunk size 256 to compare it with 384 (lesson 2.1)", add_all=True)

# %% [markdown]
# Measure the clone again (the tutorial's figure predates its last commit, so it is a lower
# bound):

# %%
prod_clone = clone_objects_size(prod, "production-clone")
print(f"tutorial clone (section 2): {clone / 1e3:,.0f} KB")
print(f"production clone:           {prod_clone / 1e3:,.0f} KB")
print(f".env tracked: {'.env' in prod.files()}; model tracked: {TUTORIAL_MODEL in prod.files()}")

# %% [markdown]
# ### Commits that tell a story
#
# The tutorial's log says nothing about why. Each production commit does one thing and says
# what and why, so `git revert` can undo one decision alone:

# %%
print("tutorial:", tutorial.log(), "\nproduction:", prod.log(), sep="\n")

# %% [markdown]
# ## 5. Experiments on branches
#
# An experiment is a branch: change one thing, measure, then merge it or delete it. Suppose
# chunk size 256 kept the golden set's quality (lesson 2.1 measures such a change). The lab's
# `merge` runs `git merge --no-ff`, which always makes a merge commit, so the log shows the
# experiment as one unit, then deletes the branch.

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
# Complete `largest_blobs(repo, n)`: the `n` largest files ever committed, on any branch or
# tag, deleted or not, as `(path, bytes)` pairs, largest first. `repo.git("rev-list",
# "--objects", "--all")` prints `<id> <path>` for each object reachable from any ref (a commit,
# or the root tree, has no path); the stub's `type_and_size` asks git for each id's type and
# size. Only blobs count: a folder has a tree. The checker uses a repository you have not seen.
# Stuck? `hint("3.1.2")`.


# %%
def largest_blobs(repo, n=3):
    """The n largest blobs in the repository's history: [(path, bytes), ...], largest first."""

    def type_and_size(ids):  # {id: (type, bytes)}, in one git call
        fmt = "--batch-check=%(objectname) %(objecttype) %(objectsize)"
        batch = repo.git("cat-file", fmt, stdin="\n".join(ids) + "\n")
        return {sha: (kind, int(size)) for sha, kind, size in map(str.split, batch.splitlines())}

    # BEGIN SOLUTION
    path_of = {}
    for line in repo.git("rev-list", "--objects", "--all").splitlines():
        sha, _, path = line.partition(" ")
        if path:
            path_of.setdefault(sha, path)
    found = type_and_size(path_of)
    blobs = [(path_of[sha], size) for sha, (kind, size) in found.items() if kind == "blob"]
    return sorted(blobs, key=lambda pair: -pair[1])[:n]
    # END SOLUTION


# %% [markdown]
# Check it:

# %%
check("3.1.2", largest_blobs)

# %% [markdown]
# The tutorial's largest are the deleted model and the index; production's are small text
# (the notebook's two versions have equal sizes: the re-run swapped strings of equal length):

# %%
finder = answer_or_reference("3.1.2", largest_blobs)
for repo in (tutorial, prod):
    print(repo.path.name, [(path, f"{size:,} B") for path, size in finder(repo, 3)])

# %% [markdown]
# ## 6. A release tag that pins data, prompt and model
#
# A release also depends on what git does not hold: the evaluation data, the prompt version
# and the model. An **annotated** tag (`git tag -a`) is an object with a message, so it can
# carry a manifest; a lightweight tag is only a ref.
#
# ### Exercise 3.1.3: Tag a release
#
# Complete `tag_release`. It raises `ValueError` when tracked files have uncommitted changes
# (`git status --porcelain --untracked-files=no` lists them). Otherwise it tags HEAD with an
# annotated tag `version` whose message (the stub's `message`) holds `data_sha256` (SHA-256
# of the data file's **bytes**; `repo.file(data_file)` is its path), `prompt_version` and
# `model`, and returns these three as a dict. Stuck? `hint("3.1.3")`.


# %%
def tag_release(repo, version, *, data_file, prompt_version, model):
    """Tag HEAD with an annotated tag whose message pins the data, prompt and model."""
    import hashlib

    def message(manifest):  # "Release <version>", a blank line, then "key: value" lines
        return "\n".join([f"Release {version}", ""] + [f"{k}: {v}" for k, v in manifest.items()])

    # BEGIN SOLUTION
    if dirty := repo.git("status", "--porcelain", "--untracked-files=no"):
        raise ValueError(f"Commit your changes before tagging {version}: {dirty}")
    data_sha256 = hashlib.sha256(repo.file(data_file).read_bytes()).hexdigest()
    manifest = {"data_sha256": data_sha256, "prompt_version": prompt_version, "model": model}
    repo.git("tag", "-a", version, "-m", message(manifest))
    return manifest
    # END SOLUTION


# %% [markdown]
# Check it on a repository it has not seen:

# %%
check("3.1.3", tag_release)

# %% [markdown]
# Tag production's first release: `handbook-answer@3` is version 3 of the answer prompt
# (lesson 2.4's naming); the model's name comes from the course's model registry. Hashing the
# data file later tells you whether it is still what the release was measured on.

# %%
release = answer_or_reference("3.1.3", tag_release)
data, prompt, model = "data/golden_dev.csv", "handbook-answer@3", "chat-small"
release(prod, "v1.0.0", data_file=data, prompt_version=prompt, model=get_registry().model_id(model))
print("v1.0.0 tags commit", prod.git("rev-parse", "--short", "v1.0.0^{commit}"), "=", prod.head())
print(prod.git("tag", "--list", "-n9", "v1.0.0"))

# %% [markdown]
# ## 7. The course's own repository
#
# This course follows most of these practices. Its `.gitignore` covers (the last line checks
# its pre-commit hooks):

# %%
root = course_repository()
if root is None:
    print("course_lib is installed as a package: there is no checkout to look at.")
else:
    rules = set((root / ".gitignore").read_text().splitlines())
    for pattern in (".venv/", "__pycache__/", ".env", ".env.*", "!.env.example", ".course-work/"):
        print(f"{pattern:<15} {'covered' if pattern in rules else 'missing'}")
    hooks = (root / ".pre-commit-config.yaml").read_text()
    print("size limit on added files:", "id: check-added-large-files" in hooks)

# %% [markdown]
# In a checkout the last line is `False`: the course sets no size limit on added files. A project that
# commits more than code should add one (pre-commit-hooks' `check-added-large-files`) and send
# data and weights to Git LFS or DVC, which commit a small pointer and keep the bytes
# elsewhere. The course's notebooks **keep** their outputs on purpose: `nbval` re-runs each
# one and compares every output with the stored one.

# %% [markdown]
# ## Takeaways
#
# - Commit the `.gitignore` first, anchor root folders with `/`, check it with
#   `git check-ignore`.
# - Deleting a committed file does not shrink a clone: keep data and weights outside git,
#   pinned by hash. Revoke a committed key.
# - Review notebooks as code: `nbdiff`, `nbstripout` at the commit, a `jupytext` twin.
# - One change per commit, one experiment per branch, an annotated tag per release.
#
# ## Production checklist
#
# - `.gitignore` in the first commit, fixtures kept?
# - A size limit on added files (CI or a pre-commit hook)?
# - Notebooks stripped by a filter (`nbstripout --install` in each clone's setup) or paired?
# - Release tags from a clean tree, naming the data's hash, prompt and model?
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
#    report; review the `.py` source, not the JSON.
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
