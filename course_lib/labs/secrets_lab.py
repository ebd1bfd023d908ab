"""Lesson 3.6's practice ground: fake keys, a repository that leaked one, and what finds it.

Nothing here holds a real secret, and no key is ever written in this file: :func:`fake_key`
builds provider-shaped keys at run time from a seeded generator, so the course's own secret
scan (detect-secrets over every tracked file, stored notebook outputs included) stays clean.
Show a key with :func:`shown`, never whole.

* :func:`fake_key`, :func:`shown`: deterministic keys in real providers' formats;
* :func:`leaky_repo`: a throwaway repository whose notebook held a key for one commit;
* :func:`scan_text`, :func:`scan_tree`, :func:`scan_history`: detect-secrets on a text, on
  the working tree (the CLI) and on every commit's changed files;
* :func:`write_baseline`: ``detect-secrets scan`` saved as the repository's baseline;
* :func:`install_scan_hook`: detect-secrets as a git pre-commit hook in the scratch repository;
* :func:`leak_channels`: the places a value ends up (repr, str, f-string, JSON, exception,
  log line) and whether a key shows in each;
* :func:`log_lines`, :func:`score_redactor`: log lines with keys and near-misses, and a
  redactor's score on them (visible lines to tune on; the held-out lines live in the checker);
* :func:`file_keyring`: a keyring backend in a file of the work directory, never the
  learner's own keyring.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import random
import shutil
import string
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib.errors import CourseLibError
from course_lib.labs.scratch_repo import _MARKER, ScratchRepo

__all__ = [
    "KEYRING_SERVICE",
    "KEYRING_USER",
    "KEY_KINDS",
    "KEY_VARIABLE",
    "LogLine",
    "RedactionScore",
    "clone_of",
    "fake_key",
    "file_keyring",
    "install_scan_hook",
    "leak_channels",
    "leaky_repo",
    "log_lines",
    "scan_history",
    "scan_text",
    "scan_tree",
    "score_redactor",
    "shown",
    "write_baseline",
]

KEY_VARIABLE = "HANDBOOK_API_KEY"
"""The environment variable (and ``.env`` entry) the Handbook Assistant's key lives in."""
KEYRING_SERVICE = "handbook-assistant"
KEYRING_USER = "api_key"

_ALNUM = string.ascii_letters + string.digits
_UPPER = string.ascii_uppercase + string.digits
# Prefixes are joined from pieces so that no scanner reads a half-written key in this file.
_OPENAI_MARK = "T3Blbk" + "FJ"  # base64 of "OpenAI", inside every OpenAI project key

KEY_KINDS: dict[str, str] = {
    "openai": "an OpenAI project key (sk-proj-...)",
    "github": "a GitHub personal access token (ghp_...)",
    "aws": "an AWS access key id (AKIA...)",
    "slack": "a Slack bot token (xoxb-...)",
    "stripe": "a Stripe secret key (sk_live_...)",
}


class SecretsLabError(CourseLibError, ValueError):
    """A lab function got something it cannot use; the message says what to pass."""


def fake_key(kind: str = "openai", seed: int = 0) -> str:
    """A made-up key in ``kind``'s real format, the same for the same ``seed`` everywhere."""
    if kind not in KEY_KINDS:
        raise SecretsLabError(f"Unknown key kind {kind!r}; use one of {sorted(KEY_KINDS)}.")
    rng = random.Random(f"{kind}:{seed}")

    def pick(alphabet: str, n: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    if kind == "openai":
        return "sk-" + "proj-" + pick(_ALNUM, 28) + _OPENAI_MARK + pick(_ALNUM, 20)
    if kind == "github":
        return "gh" + "p_" + pick(_ALNUM, 36)
    if kind == "aws":
        return "AK" + "IA" + pick(_UPPER, 16)
    if kind == "slack":
        middle = "-".join(pick(string.digits, n) for n in (11, 13))
        return "xox" + "b-" + middle + "-" + pick(_ALNUM, 24)
    return "sk" + "_" + "live" + "_" + pick(_ALNUM, 24)


def shown(secret: str, keep: int = 6) -> str:
    """How a key may appear on screen: its first ``keep`` characters and an ellipsis."""
    return secret[:keep] + "…" if len(secret) > keep else "…"


# --- the repository that leaked a key ----------------------------------------------------------


def _notebook(cells: Sequence[str]) -> str:
    """A minimal Jupyter notebook (as a text file) with one code cell per source."""
    return (
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "execution_count": None,
                        "metadata": {},
                        "outputs": [],
                        "source": source.splitlines(keepends=True),
                    }
                    for source in cells
                ],
                "metadata": {"language_info": {"name": "python"}},
                "nbformat": 4,
                "nbformat_minor": 5,
            },
            indent=1,
        )
        + "\n"
    )


_APP = '''"""The Handbook Assistant's entry point."""

import os


def endpoint_key() -> str:
    return os.environ["HANDBOOK_API_KEY"]
'''

_READ_KEY = (
    "import os\n\nfrom openai import OpenAI\n\n"
    'client = OpenAI(api_key=os.environ["HANDBOOK_API_KEY"])\n'
)


def leaky_repo(root: str | os.PathLike[str], key: str) -> ScratchRepo:
    """A scratch repository at ``root`` where a notebook held ``key`` for one commit.

    Three commits: the project; a notebook that tries the endpoint with the key pasted in a
    cell; the key "removed" by editing the notebook to read the environment.
    """
    repo = ScratchRepo.create(
        root, files={"README.md": "# Handbook Assistant\n", "app.py": _APP, ".gitignore": ""}
    )
    repo.commit("Start the Handbook Assistant", add_all=True)
    pasted = f'from openai import OpenAI\n\nAPI_KEY = "{key}"\nclient = OpenAI(api_key=API_KEY)\n'
    repo.write("explore.ipynb", _notebook([pasted, "client.models.list()\n"]))
    repo.commit("Try the model endpoint", "explore.ipynb")
    repo.write("explore.ipynb", _notebook([_READ_KEY, "client.models.list()\n"]))
    repo.commit("Read the key from the environment", "explore.ipynb")
    return repo


def clone_of(repo: ScratchRepo, name: str) -> ScratchRepo:
    """A teammate's clone of ``repo``, in the folder ``name`` next to it (replacing an
    earlier clone this function made)."""
    target = repo.path.parent / name
    if target.exists():
        ScratchRepo.create(target)  # refuses a folder no lesson made; empties one it did
        shutil.rmtree(target)
    repo.run("git", "clone", "-q", ".", f"../{name}")
    (target / ".git" / _MARKER).write_text(
        "A throwaway clone made by a Production AI Engineering lesson.\n", encoding="utf-8"
    )
    return ScratchRepo(target)


# --- detect-secrets ------------------------------------------------------------------------------


def scan_text(text: str, filename: str = "snippet.txt") -> list[str]:
    """The kinds of secret detect-secrets (default plugins) finds in ``text``, one per finding.

    ``filename`` only sets the suffix detect-secrets sees (some filters depend on it).
    """
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    if not isinstance(text, str):
        raise SecretsLabError(f"scan_text needs the text of a file, not {type(text).__name__}.")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(filename).name
        path.write_text(text, encoding="utf-8")
        with default_settings():
            found = SecretsCollection()
            found.scan_file(str(path))
    return sorted(secret.type for _, secret in found)


def scan_tree(repo: ScratchRepo, *args: str) -> list[dict[str, Any]]:
    """``detect-secrets scan`` of the working tree's tracked files: one row per finding.

    Rows hold the file, the line and the kind of secret, never the secret (the CLI stores
    only a hash of it).
    """
    report = json.loads(repo.run("detect-secrets", "scan", *args).output)
    return [
        {"file": file, "line": secret["line_number"], "type": secret["type"]}
        for file, secrets in sorted(report["results"].items())
        for secret in secrets
    ]


def _changed_files(repo: ScratchRepo, commit: str) -> list[str]:
    listed = repo.git(
        "diff-tree", "--root", "-r", "--no-renames", "--no-commit-id", "--name-only",
        "--diff-filter=AM", commit,
    )  # fmt: skip
    return [line for line in listed.splitlines() if line]


def scan_history(repo: ScratchRepo) -> list[dict[str, str]]:
    """detect-secrets on each file that each commit (of every branch) adds or changes.

    One row per (commit, file, kind of secret), oldest commit first. A key deleted in a later
    commit is still found in the commit that added it.
    """
    rows: list[dict[str, str]] = []
    recorded = len(repo.steps)  # the many plumbing commands would flood the transcript
    for commit in repo.git("rev-list", "--all", "--reverse").split():
        short = repo.git("rev-parse", "--short", commit).strip()
        for path in _changed_files(repo, commit):
            text = repo.git("show", f"{commit}:{path}")
            for kind in sorted(set(scan_text(text, path))):
                rows.append({"commit": short, "file": path, "type": kind})
    del repo.steps[recorded:]
    return rows


def write_baseline(repo: ScratchRepo, name: str = ".secrets.baseline") -> list[dict[str, Any]]:
    """Runs ``detect-secrets scan`` and saves its report as the repository's baseline.

    The report's ``generated_at`` stamp is set to the scratch clock, so the commit that adds
    the baseline has the same id on every run. Returns the findings it lists.
    """
    report = json.loads(repo.run("detect-secrets", "scan").output)
    report["generated_at"] = repo.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    repo.write(name, json.dumps(report, indent=2) + "\n")
    return [
        {"file": file, "line": secret["line_number"], "type": secret["type"]}
        for file, secrets in sorted(report["results"].items())
        for secret in secrets
    ]


_HOOK = """#!/bin/sh
# detect-secrets before every commit: refuse staged files that hold a secret the baseline
# does not list.
files=$(git diff --cached --name-only --diff-filter=ACM)
[ -z "$files" ] && exit 0
exec detect-secrets-hook --baseline .secrets.baseline $files
"""


def install_scan_hook(repo: ScratchRepo) -> Path:
    """Installs detect-secrets as the scratch repository's git pre-commit hook.

    The same check as the course's ``.pre-commit-config.yaml`` hook, without the pre-commit
    framework (which would fetch hook environments over the network).
    """
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(_HOOK, encoding="utf-8", newline="\n")
    hook.chmod(0o755)
    return hook


# --- where a value ends up --------------------------------------------------------------------


def leak_channels(settings: Any, secret: str) -> dict[str, bool]:
    """Whether ``secret`` shows in each place a settings object's text ends up.

    ``settings`` is a pydantic model with the key in its ``api_key`` field. The channels: its
    repr, str, an f-string of the field, ``model_dump`` and ``model_dump_json``, an exception
    message that quotes the field, and a log line that logs the object.
    """
    field = settings.api_key
    try:
        raise RuntimeError(f"endpoint refused the key {field}")
    except RuntimeError as exc:
        exception = str(exc)
    stream = io.StringIO()
    logger = logging.getLogger("course_lib.labs.secrets_lab.channels")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("calling the endpoint with %s", settings)
    finally:
        logger.removeHandler(handler)
    texts = {
        "repr": repr(settings),
        "str": str(settings),
        "f-string": f"key={field}",
        "model_dump": str(settings.model_dump()),
        "model_dump_json": settings.model_dump_json(),
        "exception": exception,
        "log line": stream.getvalue(),
    }
    return {channel: secret in text for channel, text in texts.items()}


# --- log lines to redact ---------------------------------------------------------------------


@dataclass(frozen=True)
class LogLine:
    """A log line, the secrets in it (to remove) and its near-misses (to keep intact)."""

    text: str
    secrets: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    kind: str = ""  # the family of its secret ("openai", "Bearer header"...), "" for none


def _password(rng: random.Random) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(14))


_B64URL = _ALNUM + "-_"


def _mixed(rng: random.Random, n: int, alphabet: str = _B64URL) -> str:
    """``n`` random characters with a capital, a small letter and a digit in them: an id that
    a rule such as "20+ characters with a capital and a digit" mistakes for a key."""
    while True:
        text = "".join(rng.choice(alphabet) for _ in range(n))
        mixed = all(any(test(c) for c in text) for test in (str.isupper, str.isdigit, str.islower))
        if mixed and text[0] not in "-_" and text[-1] not in "-_":
            return text


@dataclass(frozen=True)
class _LineStyle:
    """How a set of log lines is written: the key kinds, header, URL, field and near-misses."""

    tag: str  # seeds the ids and passwords
    key_offset: int  # shifts the key seeds
    kinds: tuple[str, ...]  # five families, one per service
    bearer_kind: str
    header: str
    url: str  # a template with {user} and {pw}
    url_keep: tuple[str, ...]
    api_kind: str
    field: str
    near_rounds: int
    words: tuple[str, ...]
    templates: tuple[str, str] = (  # the two lines per family, with {service}, {rid}, {k}
        "{service} WARN request={rid} using credential {k} for upstream",
        '{service} DEBUG config loaded {{"token": "{k}", "request": "{rid}"}}',
    )


_VISIBLE = _LineStyle(
    tag="visible",
    key_offset=0,
    kinds=("openai", "github", "aws", "slack", "stripe"),
    bearer_kind="openai",
    header="Authorization: Bearer",
    url="postgresql://{user}:{pw}@db.internal:5432/handbook",
    url_keep=(),
    api_kind="stripe",
    field="api_key",
    near_rounds=2,
    words=("skeleton_loading_placeholder_component", "AK" + "IAWSUPPORTCASENUMBERS"),
)


def _lines(
    style: _LineStyle, seed: int, make_key: Callable[[str, int], str] = fake_key
) -> list[LogLine]:
    """The log lines ``style`` describes; ``make_key(kind, seed)`` builds each key."""
    rng = random.Random(f"{style.tag}:{seed}")
    n = 0

    def key(kind: str) -> str:
        nonlocal n
        n += 1
        return make_key(kind, 1000 * seed + n + style.key_offset)

    def hexid(length: int) -> str:
        return hashlib.sha256(str(rng.random()).encode()).hexdigest()[:length]

    def request_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    lines: list[LogLine] = []
    services = ("gateway", "ingest", "indexer", "billing", "notifier")
    for round_ in range(2):
        for kind, service in zip(style.kinds, services, strict=True):
            k, rid = key(kind), request_id()
            text = style.templates[round_].format(service=service, rid=rid, k=k)
            lines.append(LogLine(text, (k,), (rid,), kind.split("-")[0]))
    bearer = key(style.bearer_kind)
    lines.append(
        LogLine(f"gateway DEBUG {style.header} {bearer} sent upstream", (bearer,), (), "Bearer")
    )
    pw = _password(rng)
    url = style.url.format(user="svc_index", pw=pw)
    lines.append(LogLine(f"indexer INFO connecting to {url}", (pw,), style.url_keep, "URL"))
    api = key(style.api_kind)
    field = f"{style.field}="
    lines.append(LogLine(f"billing DEBUG {field}{api} retry=2", (api,), (), field))
    # near-misses only: nothing here is a secret
    for _ in range(style.near_rounds):
        commit, digest, rid = hexid(40), hexid(64), request_id()
        lines.append(
            LogLine(f"deploy INFO built {commit} artifact sha256:{digest}", (), (commit, digest))
        )
        lines.append(LogLine(f"gateway INFO request={rid} status=200 latency_ms=412", (), (rid,)))
    for word in style.words:
        lines.append(LogLine(f"ui INFO rendered {word}", (), (word,)))
    # mixed-case near-misses: base64url trace ids, JWT-like span ids, resource ids
    for _ in range(style.near_rounds):
        trace, span = _mixed(rng, 22), ".".join(_mixed(rng, n) for n in (20, 24, 22))
        lines.append(LogLine(f"tracing INFO trace={trace} span={span} exported", (), (trace, span)))
        shard = "Handbook" + _mixed(rng, 14, _ALNUM)
        lines.append(LogLine(f"indexer INFO opened index {shard} read-only", (), (shard,)))
    return lines


def log_lines(split: str = "visible", seed: int = 0) -> list[LogLine]:
    """Log lines of the Handbook Assistant's services: keys to remove, ids to keep.

    The ``"visible"`` lines use one format per provider family: tune a redactor on them. The
    held-out lines that exercise 3.6.3 is checked on live in the checker, out of reach.
    Near-misses are what a greedy pattern destroys: commit ids, request UUIDs, SHA-256 of
    artifacts, long words.
    """
    if split != "visible":
        raise SecretsLabError(
            f"split must be 'visible', not {split!r}: the held-out lines stay in the checker, "
            "which measures them when you run check('3.6.3', ...)."
        )
    return _lines(_VISIBLE, seed)


@dataclass(frozen=True)
class RedactionScore:
    """How a redactor did on a set of log lines: secrets removed, near-misses kept."""

    secrets: int
    removed: int
    near_misses: int
    mangled: int

    @property
    def recall(self) -> float:
        return self.removed / self.secrets if self.secrets else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "secrets": self.secrets,
            "removed": self.removed,
            "recall": round(self.recall, 3),
            "near-misses": self.near_misses,
            "mangled": self.mangled,
        }


def _leaks(secret: str, output: str) -> bool:
    """Whether any 8 consecutive characters of ``secret`` survive in ``output``."""
    return any(secret[i : i + 8] in output for i in range(max(len(secret) - 7, 1)))


def score_redactor(
    redactor: Callable[[str], str], lines: Sequence[LogLine] | str = "visible", seed: int = 0
) -> RedactionScore:
    """Runs ``redactor`` on each line: a secret counts as removed when no 8 of its characters
    in a row survive; a near-miss counts as mangled when it no longer appears whole."""
    if isinstance(lines, str):
        lines = log_lines(lines, seed)
    secrets = removed = near = mangled = 0
    for line in lines:
        out = redactor(line.text)
        if not isinstance(out, str):
            raise SecretsLabError(
                f"The redactor returned a {type(out).__name__}; return the line as a str."
            )
        secrets += len(line.secrets)
        removed += sum(not _leaks(s, out) for s in line.secrets)
        near += len(line.keep)
        mangled += sum(k not in out for k in line.keep)
    return RedactionScore(secrets, removed, near, mangled)


# --- the keyring ------------------------------------------------------------------------------


def file_keyring(path: str | os.PathLike[str]) -> Any:
    """A keyring backend that keeps its entries in the file at ``path``, made current.

    The stand-in for the operating system's keyring (macOS Keychain, Windows Credential
    Locker, the Secret Service on Linux): same ``keyring`` API, but a plain file in the course
    work directory, so the lesson never reads or writes the learner's real keyring. A plain
    file is not a safe place for a real key.
    """
    import keyring
    from keyrings.alt.file import PlaintextKeyring  # type: ignore[import-untyped]

    backend = PlaintextKeyring()
    backend.file_path = str(Path(path))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    keyring.set_keyring(backend)
    return backend
