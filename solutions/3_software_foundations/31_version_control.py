# %% [markdown]
# # 3.1 Version control for AI work
#
# Git was built for source code. An AI project also has data, model weights, API keys,
# notebooks full of outputs and caches. Commit them the way a tutorial does, `git add .`, and
# the repository gets heavy, leaks a key, and shows diffs nobody can review. Deleting the file
# later does not undo any of it.
#
# You will commit the Handbook Assistant's project as a tutorial leaves it, measure the cost,
# then build the production version and measure again. All of it happens in **throwaway
# repositories** in the course work directory, on a fixed clock, so every commit id below is
# the same on your machine.
#
# **Time:** about 50 minutes: 11 to read, 11 to run the code and read its outputs, 25 for the
# three exercises, 3 for the questions. **You need:** basic git (`add`, `commit`, `log`,
# `branch`).
#
# ## Learning objectives
# - Write a `.gitignore` for data, models, secrets, caches and the work directory, and prove
#   it with `git check-ignore`.
# - Measure what a committed model costs every clone.
# - Keep notebooks reviewable: `nbdime`'s diff, outputs stripped by `nbstripout`, a `.py`
#   twin paired by `jupytext`.
# - Commit in steps, experiment on branches, and tag a release that pins data, prompt and model.

# %% [markdown]
# ## Setup
#
# `seed` fixes the fake model's bytes and the fake key; `fast` uses a smaller model file.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# `ScratchRepo` runs the real `git` (and any other tool) in a folder of the work directory and
# records each command as you would type it:

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
# The project holds code, a prompt, the golden CSV and a `.env` with the key. It also holds a
# re-ranker's weights (seeded random bytes), a notebook with outputs and its checkpoint,
# bytecode, and the built index. The tutorial ends with `git add .`:

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
# The `.env` file is in the commit: anyone who can clone the repository can read the key. The
# cell prints only a redacted form:

# %%
key_line = tutorial.git("show", "HEAD:.env").strip()
name, _, value = key_line.partition("=")
print(f"{name}={mask_value(value)}  ({len(value)} characters, readable at HEAD:.env)")

# %% [markdown]
# A tutorial's fix is to delete the file and commit. `git log --all -- .env` lists every
# commit that touched it, and the first still holds the key. For a pushed key, the only real
# fix is to revoke it (lesson 3.6).

# %%
tutorial.git("rm", "-q", "--cached", ".env")
tutorial.commit("remove .env")
print(tutorial.git("log", "--all", "--oneline", "--", ".env"))
print("still readable:", mask_value(tutorial.git("show", "HEAD~1:.env").partition("=")[2].strip()))

# %% [markdown]
# ### A model in every clone
#
# Now remove the model's weights in a commit, then clone the repository as a colleague or a CI
# runner would. `clone_objects_size` clones it with `git clone --no-local` (objects copied as
# a server sends them) and sums the clone's object store:

# %%
tutorial.git("rm", "-q", "--cached", TUTORIAL_MODEL)
tutorial.commit("remove model")
clone = clone_objects_size(tutorial, "tutorial-clone")
print(f"model file:          {model_bytes / MB:.1f} MB (no longer at HEAD)")
print(f"clone's object store: {clone / MB:.1f} MB")
print(f"clone / model:        {clone / model_bytes:.2f}")
print(f"if the model were 200 MB, at this ratio: {200 * clone / model_bytes:.0f} MB per clone")

# %% [markdown]
# The clone is larger than the model: it carries the deleted model in full (random bytes do
# not compress), because git keeps every version of every file ever committed.
#
# The last line is a hypothetical, scaled by the measured ratio: every clone, CI run and
# fresh laptop would pay it, and every retrained model would add as much again. `git
# filter-repo` can rewrite the history (lesson 3.6), but every clone must then be replaced.

# %% [markdown]
# ### A notebook diff nobody can review
#
# A colleague changes one line of the notebook, the chunk size from 384 to 256, and re-runs
# it. The saved file changes wherever a run changes it: execution counts, a timing, the plot's
# image, the figures, the Python version in its metadata. `notebook_diffs` measures the change
# as `git diff` shows it and as nbdime's `nbdiff HEAD -- notebooks/explore.ipynb` shows it
# (cell by cell). The last line counts the diff lines that hold the image:

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
# `git diff` shows few lines because JSON keeps each base64 image on one line, but nearly all
# of its characters are image data to scroll past. `nbdiff` replaces images with a hash and
# names each change by its place in the notebook. Its start (the lab calls nbdime's Python API,
# the code behind the command):

# %%
print("\n".join(nbdime_diff(tutorial, TUTORIAL_NOTEBOOK).splitlines()[:25]))

# %% [markdown]
# Readable, but the one line of code is still buried among execution counts, and every re-run
# commits a new copy of the image. The production version stops the noise at the commit.
# Commit the re-run, as the tutorial's author would:

# %%
tutorial.commit("update", add_all=True)

# %% [markdown]
# ## 3. A `.gitignore` for an AI project
#
# A `.gitignore` lists patterns of paths git should not add. The rules you need:
#
# - `name` matches a file or folder of that name at any depth; `name/` matches only folders;
# - a leading `/` anchors a pattern at the repository's root: `/data/` is the top folder, not
#   `tests/data/`;
# - `*` matches within one path component; `!pattern` re-includes what an earlier line
#   excluded, but never inside a folder that is itself excluded.
#
# `git check-ignore -v` answers, for each path, which line of which file ignores it. Here is a
# tutorial's first attempt, checked on a few paths:

# %%
naive = "*.csv\n.env\nmodels/\n"
checker = ScratchRepo.create(work_path("lesson_3_1", "first-attempt"), files={".gitignore": naive})
paths = ["data/golden_dev.csv", "data/raw/tickets.jsonl", ".env.local", "tests/data/questions.csv"]
print(checker.git("check-ignore", "-v", "--no-index", *paths, ok=(0, 1)))

# %% [markdown]
# Paths it does not print are not ignored: it lets the raw tickets and `.env.local` in, and
# ignores a test fixture a colleague needs. `ignore_report` runs the same check over two lists,
# `KEEP_OUT` (paths to keep out of git) and `KEEP_IN` (paths to keep):

# %%
print(ignore_report(naive, KEEP_OUT, KEEP_IN))

# %% [markdown]
# ### Exercise 3.1.1 (open-ended): A `.gitignore` that generalises
#
# Write `GITIGNORE`, the text of a `.gitignore` for the Handbook Assistant. It must keep out:
#
# - data files anywhere under the top `data/` folder, but not `data/README.md`;
# - model weights (`.bin`, `.safetensors`, `.pt`, `.pth`, `.onnx`, `.gguf`, `.ckpt`) anywhere;
# - every `.env` file except `.env.example`;
# - Python and tool caches, notebook checkpoints and virtual environments, at any depth;
# - the top `workdir/` folder, where the code writes indexes and traces.
#
# It must keep everything else: code, prompts, tests and their fixtures, notebooks, docs.
# Tune it on the visible lists with `ignore_report`. The checker then runs `git check-ignore`
# on **held-out** paths of the same kinds and reports counts only: it must keep every path to
# keep, and may miss at most one to keep out. Stuck? `hint("3.1.1")`.

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
# A `.gitignore` never untracks a file already committed, so the production repository starts
# with it. Then the code, then the notebook. The data and the model stay on disk, ignored;
# `data/README.md` says where they live, and a release tag will pin their hashes.

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
# Before the notebook goes in, install `nbstripout` as a git **filter**: git passes every
# `.ipynb` through it on `git add`, so only code and markdown are stored. `--install` writes
# the filter into this repository's `.git/config`, which is not cloned: each clone runs
# `nbstripout --install` once. `--attributes .gitattributes` records, in a committed file,
# which files it applies to.
#
# A `jupytext.toml` pairs every notebook with a **percent script**: a `.py` file where `# %%`
# lines mark the cells. `jupytext --sync` writes it; `pair_script` does the same through
# jupytext's Python API:

# %%
prod.run("nbstripout", "--install", "--attributes", ".gitattributes")
prod.write("jupytext.toml", 'formats = "ipynb,py:percent"\n')
save_notebook(prod, TUTORIAL_NOTEBOOK, explore_notebook(chunk_size=384, run=1))
pair_script(prod, TUTORIAL_NOTEBOOK)
prod.commit("Strip notebook outputs on commit and pair notebooks with .py scripts", add_all=True)
print(prod.transcript(last=3))
print(prod.git("show", "--name-status", "--format=%s", "HEAD"))

# %% [markdown]
# Now the same re-run as before. The working tree's notebook has all its outputs; `git add`
# passes it through the filter, and `git diff --cached` shows what the commit would store:

# %%
save_notebook(prod, TUTORIAL_NOTEBOOK, explore_notebook(chunk_size=256, run=2))
pair_script(prod, TUTORIAL_NOTEBOOK)
prod.git("add", "--", TUTORIAL_NOTEBOOK)
stripped = prod.git("diff", "--cached", "--no-textconv", "--", TUTORIAL_NOTEBOOK)
paired = prod.git("diff", "--numstat", "--", "notebooks/explore.py")
rows = {
    "raw git diff (tutorial)": tutorial_diffs["git diff"],
    "nbdiff (tutorial)": tutorial_diffs["nbdiff"],
    "git diff, stripped (production)": diff_size(stripped),
}
for what, size in rows.items():
    print(f"{what:<32} {size.lines:>3} changed lines, {size.chars:>6,} characters")
print(f"{'paired .py (production)':<32} {paired.split()[0]:>3} added, {paired.split()[1]} removed")
print()
print(stripped)

# %% [markdown]
# The stripped diff is what a reviewer needs: the one line of code, and the Python version in
# the metadata, which `nbstripout` keeps by default (`--extra-keys` removes more). The paired
# `.py` shows the same change as plain Python, which every review tool and `git blame`
# understand. Commit it with a message that says what and why:

# %%
prod.commit("Explore chunk size 256: fewer tokens per prompt (lesson 2.1)", add_all=True)
print(prod.git("show", "--name-status", "--format=%s", "HEAD"))

# %% [markdown]
# And measure the clone again, against the tutorial's:

# %%
prod_clone = clone_objects_size(prod, "production-clone")
print(f"tutorial clone:   {clone / KB:,.0f} KB")
print(f"production clone: {prod_clone / KB:,.0f} KB")
print(f".env tracked: {'.env' in prod.files()}; model tracked: {TUTORIAL_MODEL in prod.files()}")

# %% [markdown]
# ### Commits that tell a story
#
# Put the two logs side by side. The tutorial's says nothing about why anything changed. Each
# production commit does one thing and its subject says what and why, so `git revert` can undo
# one decision without undoing others:

# %%
print("tutorial:\n" + tutorial.log())
print("\nproduction:\n" + prod.log())

# %% [markdown]
# ## 5. Experiments on branches
#
# An experiment is a branch: change one thing, measure, then merge it or drop it. Two
# hypothetical experiments here, not measured in this lesson. Suppose a terser prompt lost
# quality on the golden set: drop it, but tag it first so it stays findable. Suppose chunk
# size 256 kept quality: merge it with `--no-ff` (always a merge commit, so the history shows
# the branch). The lab's `merge` does that on the repository's clock and deletes the branch.

# %%
prod.git("switch", "-q", "-c", "exp/terse-prompt")
prod.write("prompts/handbook-answer.txt", "Answer in one sentence from the passages.\n")
prod.commit("Experiment: a one-sentence answer prompt", "prompts/handbook-answer.txt")
prod.git("tag", "-a", "exp/terse-prompt-rejected", "-m", "Lost quality on the golden set")
prod.git("switch", "-q", "main")
prod.git("branch", "-q", "-D", "exp/terse-prompt")

prod.git("switch", "-q", "-c", "exp/chunk-size-256")
prod.write("src/assistant.py", prod.read("src/assistant.py").replace("384", "256"))
prod.commit("Experiment: chunk size 256 in the assistant", "src/assistant.py")
prod.git("switch", "-q", "main")
merge(prod, "exp/chunk-size-256", "Merge chunk size 256")
print(prod.git("log", "--oneline", "--graph", "--decorate", "--all"))

# %% [markdown]
# The rejected prompt is reachable only from its tag; the merged experiment is part of `main`.
# Had the experiment committed a model, the tag would keep it in every clone.

# %% [markdown]
# ### Exercise 3.1.2: The largest files in the whole history
#
# Git stores everything as **objects** named by their hash: a **blob** is one version of a
# file's bytes, a **tree** lists a folder, a commit points to a tree. A **ref** is a name for
# a commit, such as a branch or a tag.
#
# Write `largest_blobs(repo, n)`: the `n` largest files ever committed to `repo`, on any
# branch or tag, deleted or not, as `(path, bytes)` pairs, largest first. Use `repo.git(...)`
# with `git rev-list --objects --all` (every object reachable from any ref, with its path) and
# `git cat-file --batch-check` (each object's type and size; pass the ids as `stdin`). The
# checker runs it on a repository you have not seen. Stuck? `hint("3.1.2")`.


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
# Run it on both repositories. The tutorial's largest blobs are the deleted model and the
# index. Production's are small text; the notebook appears twice, once per committed version:

# %%
finder = answer_or_reference("3.1.2", largest_blobs)
for repo in (tutorial, prod):
    print(repo.path.name, [(path, f"{size:,} B") for path, size in finder(repo, 3)])

# %% [markdown]
# ## 6. A release tag that pins data, prompt and model
#
# An AI release also depends on what git does not hold: the data it was evaluated on, the
# prompt version and the model. An **annotated** tag (`git tag -a`) is an object with a
# message, an author and a date, so it can carry a manifest. A lightweight tag is only a ref.
#
# ### Exercise 3.1.3: Tag a release
#
# Write `tag_release(repo, version, *, data_file, prompt_version, model)`. It refuses (raises
# `ValueError`) when tracked files have uncommitted changes (`git status --porcelain
# --untracked-files=no` prints them); otherwise it tags HEAD with an annotated tag `version`
# whose message is `Release <version>`, a blank line, then `data_sha256: <hex>`,
# `prompt_version: <id>` and `model: <name>`, one per line. The hash is SHA-256 of the data
# file's **bytes** (`repo.file(data_file)` gives its path). It returns those three values as
# a dict. Stuck? `hint("3.1.3")`.


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
# Tag the production repository's first release; the model's name comes from the course's
# model registry:

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
# Months later, hashing the data in the bucket tells you whether it is still what the release
# was measured on. A colleague adds one question to the golden set in place:

# %%
import hashlib

from course_lib.labs import parse_manifest

pinned = parse_manifest(prod.git("tag", "--list", "--format=%(contents)", "v1.0.0"))
csv_path = prod.file("data/golden_dev.csv")
csv_path.write_bytes(csv_path.read_bytes() + b"dev-999,Is the canteen open on Sundays?,No.\n")
now = hashlib.sha256(csv_path.read_bytes()).hexdigest()
same = pinned["data_sha256"] == now
print(f"pinned {pinned['data_sha256'][:12]}, on disk {now[:12]}: match = {same}")

# %% [markdown]
# ## 7. The course's own repository
#
# This course is a worked example of the same practices. Its `.gitignore` keeps out
# environments, caches, local settings and secrets, and the course work directory:

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

# %% [markdown]
# Its notebooks make the opposite choice on outputs, on purpose. Each lesson's single source
# is a jupytext percent script, reviewed like any code. `course build` generates both
# notebooks from it and **keeps** their outputs as expected values: pytest runs `nbval`, which
# re-executes each notebook and compares every output with the stored one, after masking what
# changes from run to run. The options switch it on; the pre-commit hooks keep the notebooks in
# step with their sources and scan for keys:

# %%
if root is not None:
    options = (root / "pyproject.toml").read_text().split("addopts", 1)[1].split("]", 1)[0]
    for option in ("--nbval", "--nbval-sanitize-with=tests/nbval_sanitize.cfg"):
        quoted = f'"{option}"'
        print(f"pyproject.toml addopts: {option:<46} {quoted in options}")
    hooks = (root / ".pre-commit-config.yaml").read_text()
    for hook in ("course-build-check", "detect-secrets"):
        print(f".pre-commit-config.yaml hook: {hook:<20} {f'id: {hook}' in hooks}")

# %% [markdown]
# The course has no check on file sizes: it relies on its `.gitignore` and on review. A
# pre-commit hook can add one (`check-added-large-files` in the pre-commit-hooks project).
# So: strip outputs when they are noise, keep them when they are a test's expected values,
# and in both cases review the code as text.

# %% [markdown]
# ## Takeaways
#
# - Commit the `.gitignore` first, anchor folders with `/`, prove it with `git check-ignore`.
# - Deleting a committed file does not shrink a clone. Keep data and weights outside git,
#   pinned by hash. A committed key is leaked: revoke it.
# - Review notebooks as code: `nbdiff`, `nbstripout` at the commit, a `jupytext` twin.
# - One change per commit, one experiment per branch.
# - An annotated release tag pins what git does not hold: data hash, prompt version, model.
#
# ## Production checklist
#
# - Is the `.gitignore` in the first commit, checked with `git check-ignore`, fixtures kept?
# - Does a check (CI or a pre-commit hook) refuse files above a size limit? (This course's
#   repository has none yet.)
# - Are notebooks stripped by a filter (with `.gitattributes` committed) or paired with `.py`?
# - Does every clone's setup run `nbstripout --install`?
# - Does each release tag, made from a clean tree, name the data's hash, prompt and model?
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
# 1. No: ignore rules only affect untracked files. `git rm --cached` it, and the old commits
#    still hold it.
# 2. Every earlier commit still references the blob, and a clone copies all reachable
#    history; only rewriting history (and replacing every clone) removes it.
# 3. A pattern without a leading slash matches at any depth. Anchor it: `/data/`.
# 4. When the outputs are a test's expected values (as nbval uses this course's) or a
#    published report; then review the `.py` source, not the JSON.
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
#
# **Next:** lesson 3.2, repository structure.
