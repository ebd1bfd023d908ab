"""Checkers of lesson 3.1, "Version control for AI work"."""

from __future__ import annotations

import hashlib
from typing import Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise
from course_lib.labs.version_control_lab import largest_blobs, tag_release

SOLUTION = "solutions/3_software_foundations/31_version_control.ipynb"


# --- 3.1.1 a .gitignore for an AI project, checked on held-out paths ---------------------------

# The patterns that rightly match at any depth (given to the learner), then the anchored ones.
_ANY_DEPTH = """\
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
GITIGNORE = (
    _ANY_DEPTH
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

# Paths of the same kinds as the lesson's visible lists, never shown to the learner.
_HELD_OUT_KEEP_OUT = (
    "data/golden_test.csv",
    "data/interim/chunks.parquet",
    "data/raw/handbook-2026-11.zip",
    "models/lora/adapter_model.safetensors",
    "models/classifier.onnx",
    "checkpoints/step-1200.pt",
    "weights/reranker-q4.gguf",
    ".env.local",
    "deploy/.env.production",
    "src/assistant/__pycache__/retrieve.cpython-312.pyc",
    "tests/__pycache__/test_chunking.cpython-311.pyc",
    "notebooks/.ipynb_checkpoints/eval-checkpoint.ipynb",
    ".mypy_cache/3.11/assistant.meta.json",
    ".ruff_cache/0.8.0/cache",
    "workdir/traces/2026-11-02.jsonl",
    "workdir/index/handbook.sqlite",
)
_HELD_OUT_KEEP_IN = (
    "src/data_loader.py",
    "src/assistant/models.py",
    "src/assistant/models/registry.py",
    "tests/workdir/test_cleanup.py",
    "tests/data/tiny_handbook.md",
    "tests/data/expected_answers.jsonl",
    "deploy/.env.example",
    "data/README.md",
    "prompts/v2/handbook-answer.txt",
    "notebooks/eval.ipynb",
    "notebooks/eval.py",
    "docs/model-card.md",
    "pyproject.toml",
    "requirements/lock.txt",
)
_MAX_MISSED_KEEP_OUT = 1
"""Held-out paths to keep out that the .gitignore may miss (none it may wrongly ignore)."""


@exercise(
    "3.1.1",
    title="A .gitignore for an AI project",
    answer_name="GITIGNORE",
    expects_function=False,
    reference=GITIGNORE,
    solution=SOLUTION,
    time_limit=30.0,
    hints=(
        "ANY_DEPTH already covers the other kinds; what is wrong is where four lines match. Run "
        "print(ignore_report(GITIGNORE, KEEP_OUT, KEEP_IN)) and look at which visible paths "
        "are sorted wrong: a fixture or a code package ignored, a .env file committed.",
        "A pattern with no slash, or only a trailing one, matches at any depth: `data/` also "
        "ignores tests/data/ fixtures, and `models/` a code package called models. A slash at "
        "the start or in the middle anchors it at the root (/data/, /workdir/, data/raw/). A "
        "later `!pattern` re-includes, but "
        "not inside a folder that is itself ignored: ignore /data/* (its contents), then "
        "!/data/README.md.",
        "The lines to change: data/ becomes /data/* then !/data/README.md; models/ becomes "
        "/models/; .env gets .env.* and !.env.example after it; workdir/ becomes /workdir/. "
        "Leave the weight formats, caches and environments as they are, matching at any depth.",
    ),
)
def _check_gitignore(answer: Any, probe: Probe) -> str:
    from course_lib.labs.version_control_lab import ignore_report

    if not isinstance(answer, str):
        raise NotYet(
            f"GITIGNORE should be the text of a .gitignore (a str), not a {type(answer).__name__}."
        )
    if not answer.strip():
        raise NotYet("GITIGNORE is empty; write one pattern per line.")
    report = probe.call_as(
        "git check-ignore on your .gitignore",
        ignore_report,
        answer,
        _HELD_OUT_KEEP_OUT,
        _HELD_OUT_KEEP_IN,
        folder=("lesson_3_1", "checker-ignore"),
    )
    missed = len(report.tracked_but_should_not_be)
    wrongly = len(report.ignored_but_should_not_be)
    counts = (
        f"on {report.checked} held-out paths you did not tune on, {missed} of "
        f"{len(_HELD_OUT_KEEP_OUT)} to keep out would be committed and {wrongly} of "
        f"{len(_HELD_OUT_KEEP_IN)} to keep would be ignored"
    )
    if wrongly:
        raise NotYet(
            f"{counts}. It is the list of paths to KEEP that failed: code, fixtures or "
            "examples would never reach a colleague, which is worse than a miss. Look for "
            "patterns that match at any depth (a folder name without a leading slash)."
        )
    if missed > _MAX_MISSED_KEEP_OUT:
        raise NotYet(
            f"{counts} (at most {_MAX_MISSED_KEEP_OUT} may slip). Cover each kind, not each "
            "visible name."
        )
    return f"{counts}: your rules generalise."


# --- 3.1.2 the largest blobs in a repository's whole history -----------------------------------


def _blob_repo() -> tuple[Any, dict[str, set[str]], list[int]]:
    """A repository the learner has not seen: a big file deleted, one only on a branch, one
    renamed, one only reachable from a tag. Returns it, the paths of each blob size, and the
    sizes in order."""
    import random

    from course_lib.labs.scratch_repo import ScratchRepo
    from course_lib.workdir import work_path

    rng = random.Random(31)
    repo = ScratchRepo.create(work_path("lesson_3_1", "checker-blobs"))
    repo.write("README.md", "# Checker\n")
    repo.write_bytes("models/old-embedder.bin", rng.randbytes(90_000))
    repo.write_bytes("data/sample.parquet", rng.randbytes(12_000))
    repo.commit("Start", add_all=True)
    repo.git("rm", "-q", "models/old-embedder.bin")
    repo.git("mv", "data/sample.parquet", "data/questions.parquet")
    repo.commit("Remove the old embedder; rename the sample")
    repo.git("switch", "-q", "-c", "exp/big-index")
    repo.write_bytes("workdir/index.sqlite", rng.randbytes(55_000))
    repo.commit("Experiment: commit the index", add_all=True)
    repo.git("switch", "-q", "main")
    repo.git("switch", "-q", "--orphan", "assets")
    repo.write_bytes("logo.png", rng.randbytes(30_000))
    repo.commit("Assets", "logo.png")
    repo.git("tag", "assets-v1")
    repo.git("switch", "-q", "-f", "main")
    repo.git("branch", "-q", "-D", "assets")
    repo.write_bytes("src/app.bin", rng.randbytes(20_000))
    # 40 small pages: the docs/ folder's tree object (about 1.5 KB) outweighs the settings blob.
    for i in range(40):
        repo.write(f"docs/page-{i:02}.md", f"# Page {i}\n")
    repo.write_bytes("config/settings.toml", b"# settings\n" + b"x" * 989)
    repo.commit("Add a small binary, docs and settings", add_all=True)
    paths = {
        "90000": {"models/old-embedder.bin"},
        "55000": {"workdir/index.sqlite"},
        "30000": {"logo.png"},
        "20000": {"src/app.bin"},
        "12000": {"data/sample.parquet", "data/questions.parquet"},
        "1000": {"config/settings.toml"},
    }
    return repo, paths, [90_000, 55_000, 30_000, 20_000, 12_000, 1_000]


@exercise(
    "3.1.2",
    title="The largest files in a repository's history",
    answer_name="largest_blobs",
    reference=largest_blobs,
    solution=SOLUTION,
    time_limit=30.0,
    hints=(
        "HEAD is not the history: list every object reachable from any branch or tag with "
        "repo.git('rev-list', '--objects', '--all'). Each line is '<sha> <path>' (commits and "
        "the root tree have no path).",
        "Collect {sha: path} from rev-list's lines, then pass those ids to the stub's "
        "type_and_size(ids), which returns {sha: (type, bytes)}. Keep the objects whose type "
        "is 'blob', each with the path rev-list gave it.",
        "Sort the (path, size) pairs by size, largest first, and return the first n. A blob "
        "kept under two paths (a renamed file) is one object: count it once.",
    ),
)
def _check_largest_blobs(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, largest_blobs):
        raise NotYet(
            "largest_blobs calls the lab's largest_blobs; write it with git rev-list and "
            "git cat-file instead."
        )
    repo, paths, sizes = _blob_repo()
    for n in (3, 1, 6):
        call = f"largest_blobs(<a repository you have not seen>, n={n})"
        got = probe.call_as(call, answer, repo, n)
        if got is None:
            raise NotYet(f"{call} returned None; did you forget a `return`?")
        if isinstance(got, (str, dict)) or not isinstance(got, (list, tuple)):
            raise NotYet(f"{call} returned a {type(got).__name__}; return a list of pairs.")
        pairs = []
        for item in got:
            if (
                not isinstance(item, (list, tuple))
                or len(item) != 2
                or not isinstance(item[0], str)
                or isinstance(item[1], bool)
                or not isinstance(item[1], int)
            ):
                raise NotYet(
                    f"{call} returned an item {item!r:.60}; each must be a (path, bytes) pair."
                )
            pairs.append((item[0], item[1]))
        if len(pairs) != n:
            raise NotYet(f"{call} returned {len(pairs)} pairs, expected {n}.")
        folders = sorted({path for path, _ in pairs} & {"docs", "src", "data", "models"})
        if folders:
            raise NotYet(
                f"{call} returned {folders[0]!r}, a folder (a tree object); keep only the "
                "objects whose type is blob."
            )
        got_sizes = [size for _, size in pairs]
        if got_sizes != sizes[:n]:
            if sorted(got_sizes, reverse=True) == sizes[:n]:
                raise NotYet(f"{call}: the right files, but put the largest first.")
            raise NotYet(
                f"{call} returned sizes {got_sizes}, not the largest blobs of the whole "
                "history: include deleted files, other branches and tags (--all), and use "
                "the file's size, not its compressed size."
            )
        for path, size in pairs:
            if path not in paths[str(size)]:
                raise NotYet(f"{call} named the {size:,}-byte blob {path!r}, not its path.")
    return (
        "finds a deleted model, a file only on an experiment branch and one only on a tag, "
        "largest first, in a repository you had not seen."
    )


# --- 3.1.3 an annotated release tag that pins data, prompt and model ---------------------------


def _manifest_lines(message: str) -> dict[str, str]:
    from course_lib.labs.version_control_lab import parse_manifest

    return parse_manifest(message)


@exercise(
    "3.1.3",
    title="A release tag that pins data, prompt and model",
    answer_name="tag_release",
    reference=tag_release,
    solution=SOLUTION,
    time_limit=30.0,
    hints=(
        "Three steps: refuse uncommitted changes (repo.git('status', '--porcelain', "
        "'--untracked-files=no') is empty when the tracked files are clean), hash the data "
        "file, then repo.git('tag', '-a', version, '-m', message).",
        "Hash the file's bytes: hashlib.sha256(repo.file(data_file).read_bytes()).hexdigest(). "
        "Reading it as text changes line endings and encodings, and then the hash pins "
        "something that is not the file. A tag without -a is lightweight: it has no message.",
        "Build manifest = {'data_sha256': ..., 'prompt_version': prompt_version, 'model': "
        "model}, tag with repo.git('tag', '-a', version, '-m', message(manifest)) and return "
        "manifest. Raise ValueError before that when the status is not empty.",
    ),
)
def _check_tag_release(answer: Any, probe: Probe) -> str:
    from course_lib.labs.scratch_repo import ScratchRepo, ScratchRepoError
    from course_lib.workdir import work_path

    if answer_calls(answer, tag_release):
        raise NotYet(
            "tag_release calls the lab's tag_release; write it with git status, hashlib and "
            "git tag -a instead."
        )
    data = (
        "id,question\r\nq-1,Who signs off on café expenses?\r\nq-2,How long is parental leave?\r\n"
    )
    data_bytes = data.encode("utf-8")
    repo = ScratchRepo.create(
        work_path("lesson_3_1", "checker-release"),
        files={".gitignore": "/data/\n", "src/app.py": "CHUNK_SIZE = 256\n"},
    )
    repo.write_bytes("data/eval.csv", data_bytes)
    repo.commit("Start", add_all=True)
    repo.write("src/app.py", "CHUNK_SIZE = 320\n")
    repo.commit("Chunk size 320", "src/app.py")
    head = repo.git("rev-parse", "HEAD")
    call = "tag_release(repo, 'v2.3.0', data_file='data/eval.csv', ...)"
    got = probe.call_as(
        call,
        answer,
        repo,
        "v2.3.0",
        data_file="data/eval.csv",
        prompt_version="handbook-answer@7",
        model="local-large",
    )
    expected = {
        "data_sha256": hashlib.sha256(data_bytes).hexdigest(),
        "prompt_version": "handbook-answer@7",
        "model": "local-large",
    }
    tags = repo.git("tag", "--list").split()
    if "v2.3.0" not in tags:
        raise NotYet(f"{call} made no tag v2.3.0 (tags now: {tags or 'none'}).")
    if repo.git("cat-file", "-t", "v2.3.0") != "tag":
        raise NotYet(f"{call} made a lightweight tag; make an annotated one (git tag -a -m).")
    if repo.git("rev-parse", "v2.3.0^{commit}") != head:
        raise NotYet(f"{call} tagged another commit than HEAD.")
    message = repo.git("tag", "--list", "--format=%(contents)", "v2.3.0")
    lines = message.splitlines()
    if lines[:1] != ["Release v2.3.0"] or lines[1:2] != [""]:
        raise NotYet(
            f"{call}: the tag's message starts {(lines or [''])[0][:40]!r}; its first line must "
            "be 'Release v2.3.0', then a blank line, then the manifest."
        )
    found = _manifest_lines(message)
    for key, value in expected.items():
        if key not in found:
            raise NotYet(f"{call}: the tag's message has no line '{key}: ...'.")
        if found[key] != value:
            why = (
                " (hash the file's bytes; reading it as text changes its line endings)"
                if key == "data_sha256"
                else ""
            )
            raise NotYet(
                f"{call}: the message says {key}: {found[key]:.20}..., not the value{why}."
            )
    if not isinstance(got, dict) or {k: got.get(k) for k in expected} != expected:
        raise NotYet(f"{call} tagged right but should return the manifest as a dict of three keys.")
    repo.write("src/app.py", "CHUNK_SIZE = 512\n")
    dirty = "tag_release on a working tree with an uncommitted change"
    try:
        answer(repo, "v2.4.0", data_file="data/eval.csv", prompt_version="p@8", model="m")
    except ValueError:
        pass
    except NotImplementedError:
        raise NotYet(f"{probe.name} still raises NotImplementedError.") from None
    except ScratchRepoError:
        raise NotYet(f"{dirty}: a git command failed; check the status before tagging.") from None
    except Exception as exc:
        raise NotYet(f"{dirty} raised {type(exc).__name__}; raise ValueError instead.") from None
    else:
        raise NotYet(f"{dirty} did not raise ValueError: the tag would name untested code.")
    if "v2.4.0" in repo.git("tag", "--list").split():
        raise NotYet(f"{dirty} raised, but only after making the tag; check first.")
    return (
        "an annotated tag at HEAD pins the data's bytes, the prompt and the model, and a dirty "
        "working tree is refused before any tag is made."
    )
