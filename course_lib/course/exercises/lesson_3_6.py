"""Checkers of lesson 3.6, "Secrets and credentials".

No key is written here: the checkers build fake keys at run time (``fake_key``) and never quote
one in a verdict.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise

SOLUTION = "solutions/3_software_foundations/36_secrets.ipynb"

ENV_NAME = "HANDBOOK_API_KEY"
KEYRING_SERVICE = "handbook-assistant"
KEYRING_USER = "api_key"


def _refuse_borrowed(answer: Any, reference: Any, name: str) -> None:
    """Refuses an answer that calls the course's own answer (the reference, or
    ``answer_or_reference``), however it was imported."""
    from course_lib.course.checking import answer_or_reference

    if answer_calls(answer, answer_or_reference) or answer_calls(answer, reference):
        raise NotYet(
            f"Your {name} calls the course's own answer (answer_or_reference or the exercise "
            "module's reference): write the code yourself."
        )


def _hide(message: str, secrets: Iterable[str]) -> str:
    """``message`` with each secret shown by its first six characters only."""
    for secret in secrets:
        message = message.replace(secret, secret[:6] + "…")
    return message


# --- 3.6.1 a history scan ----------------------------------------------------------------------


def secrets_in_history(repo: Any) -> set[tuple[str, str]]:
    """{(short commit id, path)} for each commit, on any branch, that adds or changes a file
    holding a secret detect-secrets finds."""
    from course_lib.labs.secrets_lab import scan_text

    found: set[tuple[str, str]] = set()
    for commit in repo.git("rev-list", "--all").split():
        changed = repo.git(
            "diff-tree", "--root", "-r", "--no-commit-id", "--name-only", "--diff-filter=AM", commit
        )  # fmt: skip
        for path in changed.splitlines():
            if scan_text(repo.git("show", f"{commit}:{path}"), path):
                found.add((repo.git("rev-parse", "--short", commit).strip(), path))
    return found


def _history_repo(root: Path) -> tuple[Any, dict[tuple[str, str], str], list[str]]:
    """A repository with keys in its first commit, in a folder with a space, on an unmerged
    branch, and files that change without holding one. Returns the repository, the expected
    pairs (with what each one is) and the keys."""
    from course_lib.labs.scratch_repo import ScratchRepo
    from course_lib.labs.secrets_lab import fake_key

    github, openai, aws = (fake_key(k, seed=77) for k in ("github", "openai", "aws"))
    repo = ScratchRepo.create(
        root,
        files={"README.md": "# Handbook sync\n", "config.py": f'GITHUB_TOKEN = "{github}"\n'},
    )
    first = repo.commit("Start", add_all=True)
    repo.write("app.py", "import os\n\nTOKEN = os.environ['GITHUB_TOKEN']\n")
    repo.write("docs/notes.md", "Read the token from the environment.\n")
    repo.commit("Add the app", add_all=True)
    repo.git("branch", "experiment")
    repo.write("config.py", "import os\n\nGITHUB_TOKEN = os.environ['GITHUB_TOKEN']\n")
    repo.write("notebooks/try it.ipynb", f'{{"cells": [], "key": "{openai}"}}\n')
    third = repo.commit("Try the endpoint; read the token from the environment", add_all=True)
    repo.git("rm", "-q", "notebooks/try it.ipynb")
    repo.commit("Remove the notebook")
    repo.git("switch", "-q", "experiment")
    repo.write("deploy/settings.yaml", f"aws_access_key_id: {aws}\nregion: eu-west-1\n")
    side = repo.commit("Deploy settings", "deploy/settings.yaml")
    repo.git("switch", "-q", "main")
    repo.write("README.md", "# Handbook sync\n\nSee docs/notes.md.\n")
    repo.commit("Point at the notes", "README.md")
    expected = {
        (first, "config.py"): "the repository's first commit",
        (third, "notebooks/try it.ipynb"): "a file deleted by a later commit, in a folder",
        (side, "deploy/settings.yaml"): "a commit on the unmerged branch 'experiment'",
    }
    return repo, expected, [github, openai, aws]


def _pairs(got: Any, call: str) -> set[tuple[str, str]]:
    if got is None:
        raise NotYet(f"{call} returned None; did you forget a `return`?")
    if isinstance(got, (str, bytes, Mapping)) or not isinstance(got, Iterable):
        raise NotYet(
            f"{call} returned a {type(got).__name__}; return a set of (commit, path) tuples."
        )
    pairs: set[tuple[str, str]] = set()
    for item in got:
        if (
            not isinstance(item, (tuple, list))
            or len(item) != 2
            or not all(isinstance(x, str) for x in item)
        ):
            raise NotYet(
                f"{call} holds {type(item).__name__} items; each must be a (commit id, path) "
                "tuple of two strings."
            )
        pairs.add((item[0], item[1]))
    return pairs


@exercise(
    "3.6.1",
    title="A history scan",
    answer_name="secrets_in_history",
    reference=secrets_in_history,
    solution=SOLUTION,
    time_limit=30.0,
    hints=(
        "The loops are given; for each (commit, path) they reach, read the file as that "
        "commit stored it: text = repo.git('show', f'{commit}:{path}'). Pass it to "
        "scan_text(text, path); when it finds anything, add the pair to the set.",
        "The pair is (short commit id, path): repo.git('rev-parse', '--short', commit).strip() "
        "gives the short id (a full commit id is accepted too). One pair per (commit, file), "
        "however many detectors fire: a set keeps it so.",
        "The body, in two lines: if scan_text(repo.git('show', f'{commit}:{path}'), path): "
        "found.add((repo.git('rev-parse', '--short', commit).strip(), path)). Do not call "
        "scan_history.",
    ),
)
def _check_secrets_in_history(answer: Any, probe: Probe) -> str:
    from course_lib.labs.secrets_lab import _changed_files, scan_history

    _refuse_borrowed(answer, secrets_in_history, "secrets_in_history")
    if answer_calls(answer, _changed_files):
        raise NotYet(
            "secrets_in_history calls the lab's private _changed_files; list each commit's "
            "changed files yourself with repo.git('diff-tree', ...)."
        )
    if answer_calls(answer, scan_history):
        raise NotYet(
            "secrets_in_history calls scan_history, the lab's own answer; list the commits and "
            "their changed files with repo.git(...) and scan them with scan_text."
        )
    with tempfile.TemporaryDirectory() as folder:
        repo, expected, keys = _history_repo(Path(folder) / "repo")
        call = "secrets_in_history on the checker's repository"
        try:
            got = _pairs(probe.call_as(call, answer, repo), call)
        except NotYet as exc:
            raise NotYet(_hide(str(exc), keys)) from None
    wanted = {(commit[:7], path): what for (commit, path), what in expected.items()}
    short = {(commit[:7], path) for commit, path in got}
    if got and {(commit[:7], path) for path, commit in got} == set(wanted):
        raise NotYet("Each pair is (path, commit); put the commit id first: (commit, path).")
    if any(len(commit) < 7 for commit, _ in got):
        raise NotYet(
            "Some commit ids are shorter than 7 characters; use "
            "repo.git('rev-parse', '--short', commit).strip() or the full id."
        )
    missing = [what for pair, what in wanted.items() if pair not in short]
    extra = sorted(short - set(wanted))
    if missing:
        raise NotYet(
            f"{len(missing)} of the {len(wanted)} (commit, file) pairs with a secret are missing, "
            f"e.g. {missing[0]}."
            + (f" (And {len(extra)} pairs that hold no new secret.)" if extra else "")
        )
    if extra:
        commit, path = extra[0]
        raise NotYet(
            f"{len(extra)} pairs too many, e.g. ({commit!r}, {path!r}): list only the files each "
            "commit adds or changes (diff-tree), not every file in its snapshot, and only those "
            "where scan_text finds something."
        )
    return (
        f"All {len(wanted)} (commit, file) pairs found, with none extra: the first commit, a "
        "file deleted later, and an unmerged branch."
    )


# --- 3.6.2 load the key from three places ------------------------------------------------------


def load_api_key(environ: Mapping[str, str], env_file: str | Path, vault: Any) -> Any:
    """The key as a ``SecretStr``: the environment, else the ``.env`` file, else the keyring;
    ``None`` when none of them has it."""
    from dotenv import dotenv_values
    from pydantic import SecretStr

    value = environ.get(ENV_NAME)
    if not value and Path(env_file).is_file():
        value = dotenv_values(env_file).get(ENV_NAME)
    if not value:
        value = vault.get_password(KEYRING_SERVICE, KEYRING_USER)
    return SecretStr(value) if value else None


class _Vault:
    """A keyring with ``get_password``, holding entries in memory (the checker's stand-in)."""

    def __init__(self, entries: Mapping[tuple[str, str], str] | None = None) -> None:
        self.entries = dict(entries or {})

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def __repr__(self) -> str:
        return "<keyring>"


def _env_text(value: str, quoted: bool = False) -> str:
    shown = f'"{value}"' if quoted else value
    return f"# local development only\nCOURSE_LOG_LEVEL=INFO\n{ENV_NAME}={shown}\n"


@exercise(
    "3.6.2",
    title="Load the key from three places",
    answer_name="load_api_key",
    reference=load_api_key,
    solution=SOLUTION,
    hints=(
        "Try the three places in order and stop at the first that has a value: "
        "environ.get('HANDBOOK_API_KEY'); then, if the file exists, "
        "dotenv_values(env_file).get('HANDBOOK_API_KEY'); then "
        "vault.get_password('handbook-assistant', 'api_key').",
        "The .env file may be missing (check Path(env_file).is_file() first) or may not name "
        "the key; dotenv_values strips quotes and skips comments for you. Return None when no "
        "place has a value.",
        "Wrap the value before returning it: `return SecretStr(value) if value else None` "
        "(from pydantic import SecretStr), so that its repr shows ********** instead of the key.",
    ),
)
def _check_load_api_key(answer: Any, probe: Probe) -> str:
    from pydantic import SecretStr

    from course_lib.labs.secrets_lab import fake_key

    _refuse_borrowed(answer, load_api_key, "load_api_key")
    env_key, file_key, ring_key = (fake_key("openai", seed=s) for s in (91, 92, 93))
    keys = [env_key, file_key, ring_key]
    ring = {(KEYRING_SERVICE, KEYRING_USER): ring_key}
    # (what, environ, .env text or None for no file, keyring entries, expected key or None)
    cases: list[tuple[str, dict[str, str], str | None, dict[tuple[str, str], str], str | None]] = [
        ("all three places set", {ENV_NAME: env_key}, _env_text(file_key), ring, env_key),
        ("a .env file and the keyring", {}, _env_text(file_key), ring, file_key),
        ("only the keyring (no .env file)", {}, None, ring, ring_key),
        ("a .env file without the key, and the keyring", {}, "COURSE_LOG_LEVEL=INFO\n", ring,
         ring_key),
        ("a quoted value in .env", {}, _env_text(file_key, quoted=True), {}, file_key),
        ("the environment only, other variables too", {"PATH": "/usr/bin", ENV_NAME: env_key},
         None, {}, env_key),
        ("nothing anywhere", {"PATH": "/usr/bin"}, None, {}, None),
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        for i, (what, environ, env_text, entries, expected) in enumerate(cases):
            env_file = Path(folder) / f"case{i}" / ".env"
            env_file.parent.mkdir()
            if env_text is not None:
                env_file.write_text(env_text, encoding="utf-8")
            call = f"load_api_key with {what}"
            try:
                got = probe.call_as(call, answer, dict(environ), env_file, _Vault(entries))
            except NotYet as exc:
                raise NotYet(_hide(str(exc), keys)) from None
            if expected is None:
                if got is not None:
                    raise NotYet(f"{call} returned a {type(got).__name__}; return None.")
                continue
            if got is None:
                raise NotYet(f"{call} returned None; the key is there to be found.")
            if isinstance(got, str):
                raise NotYet(
                    f"{call} returned a plain str, which prints the key in any repr or log; "
                    "return SecretStr(value)."
                )
            if not isinstance(got, SecretStr):
                raise NotYet(f"{call} returned a {type(got).__name__}; return a SecretStr.")
            value = got.get_secret_value()
            if value != expected:
                source = {env_key: "the environment", file_key: ".env", ring_key: "the keyring"}
                took = source.get(value, "none of the three places (check quotes and spaces)")
                want = source[expected]
                raise NotYet(
                    f"{call}: your key came from {took}, expected {want} (order: environment, "
                    ".env, keyring)."
                )
            if value in repr(got) or value in str(got):
                raise NotYet(f"{call}: the returned value shows the key when printed.")
    return (
        "load_api_key takes the environment first, then .env, then the keyring, returns None "
        "when none has it, and the key never prints."
    )


# --- 3.6.3 a redactor for log lines (open-ended, held-out lines) ------------------------------

TARGET_RECALL = 0.9
"""Share of the held-out secrets a redactor must remove (and it may mangle no near-miss)."""
_HELD_OUT_SEEDS = (0, 1)


def _other_format_key(kind: str, seed: int) -> str:
    """A made-up key in another real format of a provider family (the held-out lines' keys).

    Prefixes are joined from pieces so that no scanner reads a half-written key here.
    """
    import random
    import string

    alnum, upper = string.ascii_letters + string.digits, string.ascii_uppercase + string.digits
    rng = random.Random(f"{kind}:{seed}")

    def pick(alphabet: str, n: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    if kind == "openai-legacy":
        return "sk-" + pick(alnum, 20) + "T3Blbk" + "FJ" + pick(alnum, 20)
    if kind == "github-oauth":
        return "gh" + "o_" + pick(alnum, 36)
    if kind == "aws-temporary":
        return "AS" + "IA" + pick(upper, 16)
    if kind == "slack-user":
        middle = "-".join(pick(string.digits, n) for n in (11, 13))
        return "xox" + "p-" + middle + "-" + pick(alnum, 24)
    return "rk" + "_" + "live" + "_" + pick(alnum, 24)  # a Stripe restricted key


def _held_out_lines(seed: int) -> list[Any]:
    """The held-out log lines: other formats of the five families, other spellings of the
    header, a different URL and field, new near-misses. Not reachable from the lab."""
    from course_lib.labs.secrets_lab import _lines, _LineStyle

    style = _LineStyle(
        tag="checker-3.6.3",
        key_offset=500,
        kinds=("openai-legacy", "github-oauth", "aws-temporary", "slack-user", "stripe-restricted"),
        bearer_kind="github-oauth",
        header="authorization: bearer",
        url="redis://{user}:{pw}@cache.internal:6379/0",
        url_keep=("cache.internal",),
        api_kind="stripe-restricted",
        field="X-Api-Key",
        near_rounds=3,
        words=("sk-learn-compatibility-matrix-renderer", "ghost_writer_notebook_template_v2"),
        templates=(
            "{service} ERROR upstream rejected {k} after 3 tries, request_id={rid}",
            "{service} DEBUG loaded secrets ['{k}'] for request {rid}",
        ),
    )
    return _lines(style, seed, _other_format_key)


def redact_line(line: str) -> str:
    """``line`` with keys and tokens of five providers, bearer tokens and URL passwords
    replaced by ``[redacted]``; commit ids, UUIDs and hashes left intact."""
    for pattern in (
        r"\bsk-(?:proj-)?[A-Za-z0-9]{20,}",
        r"\bgh[pousr]_[A-Za-z0-9]{36}\b",
        r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
        r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",
        r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]{8,}",
        r"(?<=://)(?:[^/\s:@]*):[^/\s@]+(?=@)",
    ):
        line = re.sub(pattern, "[redacted]", line)
    return line


@exercise(
    "3.6.3",
    title="A redactor for log lines",
    answer_name="redact_line",
    reference=redact_line,
    solution=SOLUTION,
    hints=(
        "Write one regular expression per family from the formats the exercise lists, not "
        "from the visible keys themselves: the visible lines show one format each (ghp_, "
        "AKIA, xoxb-, sk_live_), the held-out lines the others. Match the key itself, not the "
        "words before it: the held-out lines word things differently. For GitHub: "
        "r'\\bgh[pousr]_[A-Za-z0-9]{36}\\b'.",
        "Near-misses are what a loose pattern destroys: hex commit ids and SHA-256 digests "
        "are long random strings too, and 'sk-' or 'gh' can start an ordinary word. Anchor "
        "each pattern with \\b, its exact alphabet and length; never redact 'any long string'.",
        "Cover each whole family: AWS r'\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b'; Slack "
        "r'\\bxox[abposr]-[A-Za-z0-9-]{10,}'; Stripe's secret and restricted keys, live and "
        "test, r'\\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}'. A rule by shape (say, 20+ "
        "characters with a capital and a digit) also takes the trace, span and index ids.",
    ),
)
def _check_redact_line(answer: Any, probe: Probe) -> str:
    from course_lib.redaction import redact, redact_value

    _refuse_borrowed(answer, redact_line, "redact_line")
    if answer_calls(answer, redact) or answer_calls(answer, redact_value):
        raise NotYet(
            "redact_line calls course_lib.redaction, the course's own redactor (which misses "
            "most provider keys); write your own patterns."
        )
    secrets = removed = near = mangled = 0
    for seed in _HELD_OUT_SEEDS:
        for line in _held_out_lines(seed):
            try:
                out = probe.call_as("redact_line on a held-out log line", answer, line.text)
            except NotYet as exc:
                raise NotYet(_hide(str(exc), line.secrets)) from None
            if out is None:
                raise NotYet("redact_line returned None; did you forget a `return`?")
            if not isinstance(out, str):
                raise NotYet(f"redact_line returned a {type(out).__name__}; return the line.")
            secrets += len(line.secrets)
            removed += sum(
                not any(s[i : i + 8] in out for i in range(len(s) - 7)) for s in line.secrets
            )
            near += len(line.keep)
            mangled += sum(k not in out for k in line.keep)
    recall = removed / secrets
    # A failure says which target was missed, never how many lines: counts would let a learner
    # probe the held-out lines one pattern at a time.
    if recall < TARGET_RECALL:
        raise NotYet(
            f"On the held-out lines your redactor removes fewer than "
            f"{TARGET_RECALL:.0%} of the secrets. They use other formats of the same providers "
            "and other wording around the keys: anchor each pattern on a provider's documented "
            "prefixes, not on the words before a key (see hints 1 and 3)."
        )
    if mangled:
        raise NotYet(
            "On the held-out lines your redactor mangles a near-miss (a commit id, "
            "request UUID, SHA-256 digest, trace or span id, or a long identifier); anchor each "
            "pattern on its provider's prefix (see hints 2 and 3)."
        )
    return (
        f"On {secrets} held-out secrets your redactor removed {removed} ({recall:.0%}) and "
        f"mangled none of {near} near-misses: every family generalises, and every id survives."
    )
