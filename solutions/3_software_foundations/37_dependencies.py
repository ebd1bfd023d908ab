# %% [markdown]
# # 3.7 Dependency management
#
# The Handbook Assistant imports a few dozen libraries, and each of them imports more. A
# tutorial writes `pip install kestrel-embed` and moves on: the day you install decides the
# versions. This lesson measures what that costs when the index changes overnight, then
# builds the production version: ranges, a hashed lock, a fingerprint, a drift check, a
# deptry scan, and library versions stored with each model.
#
# Everything runs offline in a throwaway repository. The package index is a folder of tiny
# wheels of a fake **kestrel** ecosystem; the tools are real: `uv`, `pip-compile`, `deptry`.
#
# **Time:** about 55 minutes: 9 to read, 12 to run the code and read its outputs, 29 for
# the three exercises (13 for 3.7.1, 10 for 3.7.2, 6 for 3.7.3), 3 for the questions.
# **You need:** to have used `pip install`; lesson 1.6 (the classifier artifact) helps for
# section 8.
#
# ## Learning objectives
# - Tell apart ranges in `pyproject.toml` and hashed pins in a lock file, and show the
#   failure a lock prevents.
# - Compare two lockers on the same project.
# - Explain why a default `torch` install pulls gigabytes.
# - Fingerprint an environment, and detect drift from its lock.
# - Find unused and missing dependencies, and refuse a model whose libraries moved.

# %% [markdown]
# ## Setup
#
# `seed` and `fast` are the course's usual parameters; nothing here is random or slow.

# %% tags=["parameters"]
seed = 0
fast = False

# %%
import zipfile

import pandas as pd

from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100 (hint: when stuck)
from course_lib.labs import (
    APP_CODE,
    ScratchRepo,
    build_index,
    environment_fingerprint,
    install_into,
    installed_versions,
    lock,
    lock_pins,
    make_venv,
    scratch_pyproject,
    smoke_test,
)
from course_lib.workdir import work_path

pd.set_option("display.width", 120)
pd.set_option("display.max_colwidth", 70)

# %% [markdown]
# ## 1. A package index in a folder
#
# A **wheel** is a zip file: the package's code plus a `METADATA` file naming the package,
# its version and what it needs (`Requires-Dist`). `build_index` writes the kestrel releases
# published up to a given day. Day 1:

# %%
repo = ScratchRepo.create(work_path("lesson_3_7", "repo"), files={"app.py": APP_CODE})
build_index(repo.file("index"), day=1)
print(sorted(p.name for p in repo.file("index").glob("*.whl")))
with zipfile.ZipFile(repo.file("index/kestrel_embed-1.0-py3-none-any.whl")) as wheel:
    print(wheel.read("kestrel_embed-1.0.dist-info/METADATA").decode())

# %% [markdown]
# `kestrel-embed` needs `kestrel-tokenizer`, which needs `kestrel-vocab`. Two terms recur:
#
# - An **extra** is an optional group of dependencies asked for by name:
#   `kestrel-embed[gpu]` adds `kestrel-cuda`.
# - A **marker** is a condition after `;` saying where a requirement applies:
#   `kestrel-cuda` only where `platform_system == "Linux"`.
#
# The scratch project is the assistant's embedding step, one module calling
# `kestrel_embed.embed()`:

# %%
print(APP_CODE)

# %% [markdown]
# ## 2. The tutorial way: install whatever is newest
#
# The tutorial's `requirements.txt` names the package and nothing else. Install it on day 1
# in a throwaway environment (`uv venv`) and run the app. On day 2 the index has
# `kestrel-embed` 1.1 (a security fix), 2.0 (renames `embed()`) and `kestrel-vocab` 3.0
# (drops a table). A colleague installs the same file on day 2:

# %%
repo.write("requirements.txt", "kestrel-embed\n")
rows = {}
for day in (1, 2):
    build_index(repo.file("index"), day=day)
    env = make_venv(repo, f"envs/tutorial-day{day}", "requirements.txt", "index", locked=False)
    versions = installed_versions(env)
    rows[f"day {day}"] = {
        **versions,
        "fingerprint": environment_fingerprint(versions)[:12],
        "app.py": smoke_test(repo, f"envs/tutorial-day{day}"),
    }
print(repo.transcript(last=3))  # day 2: what make_venv and smoke_test ran
pd.DataFrame(rows)

# %% [markdown]
# Same file, same command, a broken app. Nobody changed the project: a release two levels
# down arrived overnight. The `fingerprint` row is the start of an **environment
# fingerprint**: the SHA-256 of the sorted `name==version` lines of everything installed.
#
# A second break hides behind that `ImportError`. Day 2 also installed `kestrel-embed` 2.0,
# and its module no longer has the `embed()` that `app.py` calls:

# %%
with zipfile.ZipFile(repo.file("index/kestrel_embed-2.0-py3-none-any.whl")) as wheel:
    print(wheel.read("kestrel_embed/__init__.py").decode())

# %% [markdown]
# ## 3. Ranges in pyproject.toml, pins in a lock file
#
# - `pyproject.toml` declares what the code **works with**: ranges such as
#   `kestrel-embed>=1.0`. A library publishes only this, so its users can resolve it with
#   everything else they install.
# - A **lock file** records what was **tested**: every package, transitive ones included,
#   at one exact version, with the SHA-256 of each file. An application installs from it.
#
# Back to day 1: declare the range and lock it with `uv pip compile`:

# %%
build_index(repo.file("index"), day=1)
repo.write("pyproject.toml", scratch_pyproject(["kestrel-embed>=1.0"]))
uv_lock = lock(repo, "uv", "pyproject.toml", "index", "requirements.lock")
print(uv_lock.command)
print(uv_lock.text)

# %% [markdown]
# `--universal` resolves for every Python the project allows (`>=3.9`), so
# `kestrel-backport`, needed only below 3.10, appears with that marker. Commit both files,
# then install the lock on day 2:

# %%
repo.commit("Declare kestrel-embed>=1.0 and lock it", "pyproject.toml", "requirements.lock")
build_index(repo.file("index"), day=2)
env = make_venv(repo, "envs/locked-day2", "requirements.lock", "index")
locked_day2 = installed_versions(env)
print("same fingerprint as day 1:", environment_fingerprint(locked_day2)[:12])
print("app.py:", smoke_test(repo, "envs/locked-day2"))

# %% [markdown]
# The app runs. The lock also keeps out day 2's *fix*: upgrading is now a decision (lock
# again, test, commit). The hashes refuse a file whose content changed under the same name,
# as from a compromised mirror. `tamper_wheel` rewrites `kestrel-vocab` 2.0; a fresh machine
# (`fresh=True`: no cache) installs the lock:

# %%
from course_lib.labs import tamper_wheel

tamper_wheel(repo.file("index"), "kestrel-vocab", "2.0")
make_venv(repo, "envs/tampered", "requirements.lock", "index", fresh=True, check=False)
print(repo.transcript(last=1, outputs=True))

# %% [markdown]
# ## 4. Two lockers, the same project
#
# pip-tools' `pip-compile` is the older locker. Lock the same `pyproject.toml` with it and
# compare the pins:

# %%
build_index(repo.file("index"), day=1)
pip_lock = lock(repo, "pip-compile", "pyproject.toml", "index", "requirements-pip.lock")
print(pip_lock.command)
uv_pins, pip_pins = lock_pins(uv_lock.text), lock_pins(pip_lock.text)
print("same version where both pin:", all(uv_pins[n] == pip_pins[n] for n in pip_pins))
print("only in uv's lock:", sorted(set(uv_pins) - set(pip_pins)))

# %% [markdown]
# pip-compile resolves for the Python that runs it: on 3.10 or later it drops
# `kestrel-backport`, and a colleague on 3.9 gets an incomplete environment. uv writes one
# lock with markers, which is why the course's lock is made by uv (section 9).

# %% [markdown]
# ## 5. Extras, and why a default torch install pulls gigabytes
#
# Lock `kestrel-embed[gpu]` for Linux and for macOS, and weigh the wheels each installs:

# %%
from course_lib.labs import wheel_sizes

repo.write("gpu.in", "kestrel-embed[gpu]>=1.0\n")
sizes = wheel_sizes(repo.file("index"))
weights = {}
for name, platform in (("Linux", "x86_64-unknown-linux-gnu"), ("macOS", "aarch64-apple-darwin")):
    run = lock(repo, "uv", "gpu.in", "index", "gpu.lock", universal=False, python_platform=platform)
    pins = lock_pins(run.text)
    weights[name] = sum(sizes[f"{n}=={v}"] for n, v in pins.items())
print(f"Linux installs {weights['Linux'] / weights['macOS']:.0f}x the bytes of macOS")

# %% [markdown]
# `kestrel-cuda` stands for compiled GPU kernels (filler bytes here). torch is the real
# case: its default Linux wheels on PyPI pull NVIDIA's runtime libraries under a Linux
# marker, several of them hundreds of MB (cited, not measured), even on a server without a
# GPU. The CPU-only builds live on PyTorch's own index; the course's `transformer` extra
# says so (section 9). In uv, name that index for torch alone (`[tool.uv.sources]`), so no
# other package is ever taken from it.

# %% [markdown]
# ## 6. Fingerprints and drift
#
# Nothing keeps an environment to its lock. Someone runs `pip install --upgrade
# kestrel-vocab` in a running container to try a fix, and forgets. Do that to the day-2
# environment made from the lock:

# %%
build_index(repo.file("index"), day=2)
before = environment_fingerprint(installed_versions(env))
install_into(repo, "envs/locked-day2", "kestrel-vocab==3.0", index="index")
after = installed_versions(env)
print("fingerprint before:", before[:12], "| after:", environment_fingerprint(after)[:12])
print("app.py:", smoke_test(repo, "envs/locked-day2"))

# %% [markdown]
# The fingerprint says *that* something changed, in one string you can log at start-up and
# put in every trace (lesson 2.5). To say *what* changed, compare the lock with what is
# installed, name by name: a **drift detector**.
#
# ### Exercise 3.7.1 (open-ended): A drift detector
#
# `detect_drift(lock_text, installed, environment)` gets a lock's text, a dict of installed
# versions, and the environment's marker variables (`python_version`, `sys_platform`...).
# The given loop reads the lock into `in_lock`: (`Requirement`, pinned version) pairs.
# Complete the function:
#
# - keep a pin only if its marker is true in `environment`;
# - key pins and installed packages by normalised name (`canonicalize_name`: `Foo_Bar` is
#   `foo-bar`);
# - return sorted lists: `"missing"` (pinned, not installed), `"extra"` (installed, not
#   pinned), `"changed"` (another version; compare `Version`s, so `2.0` equals `2.0.0`).
#
# The checker counts right answers on **held-out** pairs (extras, other spellings, other
# platforms) and says only how many. Stuck? `hint("3.7.1")`.


# %%
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version


def detect_drift(lock_text, installed, environment):
    """Missing, extra and changed packages between a lock file and an environment."""
    in_lock = []  # (Requirement, pinned version) for every pin: .name, .marker
    for raw in lock_text.replace("\\\n", " ").splitlines():  # join continued lines
        line = raw.split("#", 1)[0].strip()  # drop comments
        if not line or line.startswith("-"):
            continue
        line = " ".join(part for part in line.split() if not part.startswith("--"))  # hashes
        requirement = Requirement(line)
        (spec,) = requirement.specifier  # the "==" pin
        in_lock.append((requirement, spec.version))
    # BEGIN SOLUTION
    pins = {}
    for requirement, version in in_lock:
        if requirement.marker and not requirement.marker.evaluate(dict(environment)):
            continue
        pins[canonicalize_name(requirement.name)] = version
    have = {canonicalize_name(name): version for name, version in installed.items()}
    return {
        "missing": sorted(set(pins) - set(have)),
        "extra": sorted(set(have) - set(pins)),
        "changed": sorted(n for n in pins if n in have and Version(pins[n]) != Version(have[n])),
    }
    # END SOLUTION
    # STUB: ...  # your code: the pins that apply here and what is installed, by normalised name
    # STUB: raise NotImplementedError("return {'missing': [...], 'extra': [...], 'changed': [...]}")


# %% [markdown]
# Try it on the visible pairs (as often as you like), then once on the held-out pairs:

# %%
from course_lib.labs import VISIBLE_DRIFT_CASES

for case in VISIBLE_DRIFT_CASES:
    try:
        got = detect_drift(case.lock, dict(case.installed), dict(case.environment))
        verdict = "right" if got == {k: list(v) for k, v in case.expected.items()} else "WRONG"
        print(f"{verdict:<6} {case.what}: {got}")
    except NotImplementedError:
        print("detect_drift is not written yet.")
        break

# %%
check("3.7.1", detect_drift)

# %% [markdown]
# Now run a detector on the drifted environment, against the lock committed in section 3:

# %%
from packaging.markers import default_environment

drift = answer_or_reference("3.7.1", detect_drift)
print(drift(repo.read("requirements.lock"), after, default_environment()))

# %% [markdown]
# One name, and the remedy follows: `uv pip sync requirements.lock`. The course's own
# `course doctor` is weaker: it compares pins with installed versions as strings and never
# reports extra packages.

# %% [markdown]
# ## 7. Unused and missing dependencies: deptry
#
# A lock is only as right as the list it was made from. deptry compares a project's imports
# with its declared dependencies. Give the scratch project an unused dependency and two
# undeclared imports:

# %%
from course_lib.labs import deptry_findings

repo.write("pyproject.toml", scratch_pyproject(["kestrel-embed>=1.0", "kestrel-tokenizer>=1.0"]))
repo.write("handbook_app/tables.py", "import kestrel_plot\nfrom kestrel_vocab import TABLE\n")
deptry_findings(repo, ".", venv="envs/tutorial-day1")[["code", "module"]]

# %% [markdown]
# `DEP001`: imported, declared nowhere. `DEP002`: declared, never imported. `DEP003`:
# imported, installed only as another package's dependency, so it works until that package
# drops it. Run deptry in CI.

# %% [markdown]
# ### Exercise 3.7.2 (open-ended): Ranges that survive the next release
#
# Write `my_ranges`, the dependencies of the scratch `pyproject.toml`. The checker locks
# them with uv and, on days 1, 2 and an unseen **day 3** with new releases, checks that the
# lock installs, `app.py` runs, no release with an advisory is used (`kestrel-embed` 1.0
# from day 2 on), and each package you name gets its newest release that works ("too
# tight" if not). Stuck? `hint("3.7.2")`.

# %%
my_ranges = ["kestrel-embed>=1.0"]
# BEGIN SOLUTION
my_ranges = ["kestrel-embed>=1.0,<2", "kestrel-vocab>=2.0,<3"]
# END SOLUTION
# STUB: # my_ranges = [...]  # your ranges

# %% [markdown]
# Check it (a few seconds). Days 1 and 2 get details; day 3 only pass or fail.

# %%
check("3.7.2", my_ranges)

# %% [markdown]
# Naming `kestrel-vocab`, which `app.py` never imports, is deptry's `DEP002`; a real project
# would use a **constraints** file (`uv pip compile -c constraints.txt`). An upper bound at
# the next major version bets on **semantic versioning** (only a major release may break
# you); libraries should use such bounds sparingly, as they make their users' resolutions
# fail sooner.

# %% [markdown]
# ## 8. Library versions travel with the model
#
# A trained model is data written by a library. Lesson 1.6's `save_artifact` records the
# scikit-learn version in the model's JSON sidecar, and `load_artifact` refuses any other.
# Train a small ticket router and record numpy's and joblib's versions too:

# %%
import importlib.metadata

from course_lib.classify import EmbeddingClassifier, data_fingerprint, save_artifact, ticket_texts
from course_lib.datasets import load_tickets

train = load_tickets("train").head(60)
texts, labels = ticket_texts(train), train["category"].tolist()
libraries = {name: importlib.metadata.version(name) for name in ("numpy", "joblib")}
sidecar = save_artifact(
    EmbeddingClassifier().fit(texts, labels),
    work_path("lesson_3_7", "artifacts", "router.joblib"),
    metadata={
        "artifact_version": "router-3.7",
        "data_sha256": data_fingerprint(texts, labels),
        "metrics": {},
        "libraries": libraries,
    },
)
print("recorded libraries:", sorted(sidecar["libraries"]))  # versions differ between Pythons

# %% [markdown]
# For numpy and joblib, refusing every patch release would make each upgrade a retraining;
# the usual policy refuses only a change of major version.
#
# ### Exercise 3.7.3: Refuse a major version change
#
# Write `major_mismatches(recorded, installed)` (both map names to versions): the sorted,
# normalised names of recorded libraries not installed or at another major version.
#
# - `{"numpy": "2.1.3"}`, `{"numpy": "2.3.0"}` give `[]`;
# - `{"numpy": "1.26.4"}`, `{"numpy": "2.0.0"}` give `["numpy"]`;
# - `{"scikit_learn": "1.5.2", "joblib": "1.4.2"}`, `{"scikit-learn": "1.5.2"}` give
#   `["joblib"]`.
#
# The checker then counts right answers on unseen pairs. Stuck? `hint("3.7.3")`.


# %%
def major_mismatches(recorded, installed):
    """Names of recorded libraries missing now or at another major version."""
    # BEGIN SOLUTION
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    have = {canonicalize_name(n): Version(v).major for n, v in installed.items()}
    return sorted(
        canonicalize_name(n)
        for n, v in recorded.items()
        if have.get(canonicalize_name(n)) != Version(v).major
    )
    # END SOLUTION


# %%
check("3.7.3", major_mismatches)

# %% [markdown]
# At load time, pass the sidecar's `libraries` (`read_metadata` in `course_lib.classify`)
# and the installed versions to it, and refuse the model if it names any.

# %% [markdown]
# ## 9. The course's own practice
#
# `pyproject.toml` declares ranges. `requirements/lock.txt` is written by `uv pip compile
# --universal --generate-hashes`; `binder/requirements.txt` is a copy; `./run` installs from
# the lock. Stable facts only (no counts or versions):

# %%
from course_lib.labs import course_repository

root = course_repository()
if root is None:
    print("course_lib is installed as a package; the course's repository is not here.")
else:
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    lock_text = (root / "requirements" / "lock.txt").read_text(encoding="utf-8")
    run_script = (root / "run").read_text(encoding="utf-8")
    contributing = (root / "CONTRIBUTING.md").read_text(encoding="utf-8")
    facts = {
        "requirements/lock.txt has --hash lines": "--hash=sha256:" in lock_text,
        "it carries markers (one lock for every Python)": "; python_full_version" in lock_text,
        "binder/requirements.txt is identical to it": (
            (root / "binder" / "requirements.txt").read_text(encoding="utf-8") == lock_text
        ),
        "tests/test_binder.py keeps them equal": (root / "tests" / "test_binder.py").is_file(),
        "./run installs from the lock": 'LOCK="requirements/lock.txt"' in run_script,
        "CONTRIBUTING.md records the uv command": "uv pip compile pyproject.toml" in contributing,
        "the transformer extra names torch's CPU index": "download.pytorch.org/whl/cpu"
        in pyproject,
    }
    for fact, holds in facts.items():
        print(f"{holds!s:<6} {fact}")

# %% [markdown]
# Two gaps remain: no course workflow runs deptry, and `course doctor`'s drift check is
# weaker than your detector.

# %% [markdown]
# ## Takeaways
#
# - Ranges say what the code works with; a lock says what was tested. Applications install
#   from a lock; libraries publish ranges.
# - An unpinned install resolves anew every day: a transitive release broke the app.
# - Hashes refuse a changed file; a universal lock covers Pythons you are not running.
# - Extras and indexes decide the size of an install: choose torch's CPU build on purpose.
# - Fingerprint environments, detect drift, and check a model's libraries before loading it.
#
# ## Production checklist
#
# - One lock file with hashes, made by a recorded command, committed.
# - Every environment (CI, image, notebook server) installs from it, on every platform.
# - The service logs its fingerprint and warns on drift.
# - deptry (or similar) runs in CI.
# - Upgrading is routine: re-lock, test, evaluate, commit.
#
# ## Check your understanding
#
# 1. Why should a library not publish its lock file as its dependencies?
# 2. On day 2, which releases broke the tutorial's app, and what would have kept each out?
# 3. Two machines have the same environment fingerprint. What do you know, and what not?
#
# <details>
# <summary>Short answers</summary>
#
# 1. Its users install it beside other packages; exact pins would make their resolutions
#    conflict.
# 2. Two. `kestrel-vocab` 3.0 fails first: a dependency of a dependency, it arrives through
#    others' ranges, so only a lock (or a range you add for it) holds it back. `kestrel-embed`
#    2.0 fails next: a lock, or an upper bound such as `<2`.
# 3. The same distributions at the same versions; not the Python, the platform, or files
#    edited inside site-packages.
#
# </details>
#
# ## Further reading
#
# - Python Packaging User Guide, "Dependency specifiers"
#   (https://packaging.python.org/en/latest/specifications/dependency-specifiers/).
# - pip, "Secure installs" (https://pip.pypa.io/en/stable/topics/secure-installs/).
# - uv, "Locking environments" (https://docs.astral.sh/uv/pip/compile/).
# - pip-tools (https://pip-tools.readthedocs.io/).
# - deptry (https://deptry.com/): the rules DEP001 to DEP005.
# - PyTorch, "Get started" (https://pytorch.org/get-started/locally/): CPU and CUDA builds.
# - `nvidia-cudnn-cu12` on PyPI (https://pypi.org/project/nvidia-cudnn-cu12/#files): one
#   library a CUDA build of torch pulls, and its size.
#
# **Next:** lesson 4.1, Compute patterns.
