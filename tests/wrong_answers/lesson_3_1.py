"""Plausible wrong answers to lesson 3.1's exercises; each must be rejected by its checker."""

from __future__ import annotations

import hashlib
from typing import Any

# --- 3.1.1 GITIGNORE -----------------------------------------------------------------------------

_UNANCHORED_FOLDERS = """\
data/
!data/README.md
models/
*.safetensors
*.bin
*.pt
*.pth
*.onnx
*.gguf
*.ckpt
.env
.env.*
!.env.example
__pycache__/
*.py[cod]
.ipynb_checkpoints/
.pytest_cache/
.mypy_cache/
.ruff_cache/
.venv/
workdir/
*.sqlite
"""

# Tuned to the visible names only: passes the lesson's lists, misses other kinds' names.
_THE_VISIBLE_NAMES = """\
/data/golden_dev.csv
/data/raw/
/models/
.env
src/__pycache__/
/.ipynb_checkpoints/
/.venv/
/workdir/
/.pytest_cache/
"""

_IGNORES_ALL_ENV_FILES = (
    _UNANCHORED_FOLDERS.replace("data/\n!data/README.md\n", "/data/*\n!/data/README.md\n")
    .replace("models/\n", "/models/\n")
    .replace("!.env.example\n", "")
    .replace(".env.*\n", ".env*\n")
)

_README_CANNOT_BE_REINCLUDED = """\
/data/
!/data/README.md
/models/
*.safetensors
*.bin
*.pt
*.pth
*.onnx
*.gguf
*.ckpt
.env
.env.*
!.env.example
__pycache__/
*.py[cod]
.ipynb_checkpoints/
.pytest_cache/
.mypy_cache/
.ruff_cache/
.venv/
/workdir/
*.sqlite
"""

_ROOT_ONLY_CACHES = """\
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
/.env
/.env.*
!/.env.example
/__pycache__/
/src/__pycache__/
/.ipynb_checkpoints/
/.pytest_cache/
/.mypy_cache/
/.ruff_cache/
/.venv/
/workdir/
"""

_IGNORES_ALL_CSV_FILES = """\
*.csv
*.jsonl
*.parquet
/models/
*.safetensors
*.bin
*.pt
*.onnx
.env
.env.*
!.env.example
__pycache__/
.ipynb_checkpoints/
.pytest_cache/
.mypy_cache/
.ruff_cache/
.venv/
/workdir/
"""

# One example per kind: misses the other weight formats and tool caches.
_HINT_SKELETON_AS_IS = """\
/data/*
!/data/README.md
/models/
*.safetensors
.env
.env.*
!.env.example
__pycache__/
.ipynb_checkpoints/
/workdir/
"""


# --- 3.1.2 largest_blobs --------------------------------------------------------------------


def _only_head(repo, n=3):
    pairs = []
    for line in repo.git("ls-tree", "-r", "-l", "HEAD").splitlines():
        meta, path = line.split("\t")
        _, kind, _, size = meta.split()
        if kind == "blob":
            pairs.append((path, int(size)))
    return sorted(pairs, key=lambda p: -p[1])[:n]


def _only_the_current_branch(repo, n=3):
    path_of = {}
    for line in repo.git("rev-list", "--objects", "HEAD").splitlines():
        sha, _, path = line.partition(" ")
        if path:
            path_of.setdefault(sha, path)
    batch = repo.git(
        "cat-file",
        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
        stdin="\n".join(path_of) + "\n",
    )
    pairs = [
        (path_of[s], int(z))
        for s, k, z in (line.split() for line in batch.splitlines())
        if k == "blob"
    ]
    return sorted(pairs, key=lambda p: -p[1])[:n]


def _compressed_sizes(repo, n=3):
    path_of = {}
    for line in repo.git("rev-list", "--objects", "--all").splitlines():
        sha, _, path = line.partition(" ")
        if path:
            path_of.setdefault(sha, path)
    batch = repo.git(
        "cat-file",
        "--batch-check=%(objectname) %(objecttype) %(objectsize:disk)",
        stdin="\n".join(path_of) + "\n",
    )
    pairs = [
        (path_of[s], int(z))
        for s, k, z in (line.split() for line in batch.splitlines())
        if k == "blob"
    ]
    return sorted(pairs, key=lambda p: -p[1])[:n]


def _smallest_first(repo, n=3):
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
    pairs = [
        (path_of[s], int(z))
        for s, k, z in (line.split() for line in batch.splitlines())
        if k == "blob"
    ]
    return sorted(pairs, key=lambda p: -p[1])[:n][::-1]


def _the_working_tree(repo, n=3):
    files = [p for p in repo.path.rglob("*") if p.is_file() and ".git" not in p.parts]
    pairs = [(p.relative_to(repo.path).as_posix(), p.stat().st_size) for p in files]
    return sorted(pairs, key=lambda p: -p[1])[:n]


def _sizes_without_paths(repo, n=3):
    batch = repo.git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)")
    sizes = sorted(
        (int(z) for k, z in (line.split() for line in batch.splitlines()) if k == "blob"),
        reverse=True,
    )
    return sizes[:n]


def _calls_the_lab(repo, n=3):
    from course_lib.labs.version_control_lab import largest_blobs

    return largest_blobs(repo, n)


def _trees_too(repo, n=3):
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
    pairs = [(path_of[s], int(z)) for s, _, z in (line.split() for line in batch.splitlines())]
    return sorted(pairs, key=lambda p: -p[1])[:n]


# --- 3.1.3 tag_release ------------------------------------------------------------------------


def _message(version, manifest):
    return "\n".join([f"Release {version}", ""] + [f"{k}: {v}" for k, v in manifest.items()])


def _lightweight_tag(repo, version, *, data_file, prompt_version, model):
    if repo.git("status", "--porcelain", "--untracked-files=no"):
        raise ValueError("dirty")
    data = repo.file(data_file).read_bytes()
    manifest = {
        "data_sha256": hashlib.sha256(data).hexdigest(),
        "prompt_version": prompt_version,
        "model": model,
    }
    repo.git("tag", version)
    return manifest


def _hashes_the_text(repo, version, *, data_file, prompt_version, model):
    if repo.git("status", "--porcelain", "--untracked-files=no"):
        raise ValueError("dirty")
    text = repo.file(data_file).read_text(encoding="utf-8")  # universal newlines: \r\n -> \n
    manifest = {
        "data_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "prompt_version": prompt_version,
        "model": model,
    }
    repo.git("tag", "-a", version, "-m", _message(version, manifest))
    return manifest


def _no_dirty_check(repo, version, *, data_file, prompt_version, model):
    data = repo.file(data_file).read_bytes()
    manifest = {
        "data_sha256": hashlib.sha256(data).hexdigest(),
        "prompt_version": prompt_version,
        "model": model,
    }
    repo.git("tag", "-a", version, "-m", _message(version, manifest))
    return manifest


def _hashes_the_path(repo, version, *, data_file, prompt_version, model):
    if repo.git("status", "--porcelain", "--untracked-files=no"):
        raise ValueError("dirty")
    manifest = {
        "data_sha256": hashlib.sha256(data_file.encode()).hexdigest(),
        "prompt_version": prompt_version,
        "model": model,
    }
    repo.git("tag", "-a", version, "-m", _message(version, manifest))
    return manifest


def _checks_after_tagging(repo, version, *, data_file, prompt_version, model):
    data = repo.file(data_file).read_bytes()
    manifest = {
        "data_sha256": hashlib.sha256(data).hexdigest(),
        "prompt_version": prompt_version,
        "model": model,
    }
    repo.git("tag", "-a", version, "-m", _message(version, manifest))
    if repo.git("status", "--porcelain", "--untracked-files=no"):
        raise ValueError("dirty")
    return manifest


def _forgets_the_model(repo, version, *, data_file, prompt_version, model):
    if repo.git("status", "--porcelain", "--untracked-files=no"):
        raise ValueError("dirty")
    data = repo.file(data_file).read_bytes()
    manifest = {"data_sha256": hashlib.sha256(data).hexdigest(), "prompt_version": prompt_version}
    repo.git("tag", "-a", version, "-m", _message(version, manifest))
    return manifest


def _no_title_line(repo, version, *, data_file, prompt_version, model):
    if repo.git("status", "--porcelain", "--untracked-files=no"):
        raise ValueError("dirty")
    data = repo.file(data_file).read_bytes()
    manifest = {
        "data_sha256": hashlib.sha256(data).hexdigest(),
        "prompt_version": prompt_version,
        "model": model,
    }
    repo.git("tag", "-a", version, "-m", "\n".join(f"{k}: {v}" for k, v in manifest.items()))
    return manifest


def _calls_the_labs_tag_release(repo, version, *, data_file, prompt_version, model):
    from course_lib.labs.version_control_lab import tag_release as release

    return release(repo, version, data_file=data_file, prompt_version=prompt_version, model=model)


def _tags_the_first_commit(repo, version, *, data_file, prompt_version, model):
    if repo.git("status", "--porcelain", "--untracked-files=no"):
        raise ValueError("dirty")
    data = repo.file(data_file).read_bytes()
    manifest = {
        "data_sha256": hashlib.sha256(data).hexdigest(),
        "prompt_version": prompt_version,
        "model": model,
    }
    first = repo.git("rev-list", "--max-parents=0", "HEAD").split()[0]
    repo.git("tag", "-a", version, first, "-m", _message(version, manifest))
    return manifest


WRONG_ANSWERS: dict[str, list[Any]] = {
    "3.1.1": [
        _UNANCHORED_FOLDERS,
        _THE_VISIBLE_NAMES,
        _IGNORES_ALL_ENV_FILES,
        _README_CANNOT_BE_REINCLUDED,
        _ROOT_ONLY_CACHES,
        _IGNORES_ALL_CSV_FILES,
        _HINT_SKELETON_AS_IS,
    ],
    "3.1.2": [
        _only_head,
        _only_the_current_branch,
        _compressed_sizes,
        _smallest_first,
        _the_working_tree,
        _sizes_without_paths,
        _trees_too,
        _calls_the_lab,
    ],
    "3.1.3": [
        _lightweight_tag,
        _hashes_the_text,
        _no_dirty_check,
        _hashes_the_path,
        _checks_after_tagging,
        _forgets_the_model,
        _tags_the_first_commit,
        _no_title_line,
        _calls_the_labs_tag_release,
    ],
}
