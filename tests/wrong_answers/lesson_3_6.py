"""Plausible wrong answers to lesson 3.6's exercises; each must be rejected by its checker."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# --- 3.6.1 secrets_in_history ------------------------------------------------------------------


def _scan(repo, commit, path):
    from course_lib.labs import scan_text

    return scan_text(repo.git("show", f"{commit}:{path}"), path)


def _short(repo, commit):
    return repo.git("rev-parse", "--short", commit).strip()


def _only_the_working_tree(repo):
    from course_lib.labs import scan_text

    head = _short(repo, "HEAD")
    return {(head, path) for path in repo.files() if scan_text(repo.read(path), path)}


def _only_the_current_branch(repo):
    found = set()
    for commit in repo.git("rev-list", "HEAD").split():
        changed = repo.git(
            "diff-tree", "--root", "-r", "--no-commit-id", "--name-only", "--diff-filter=AM", commit
        )
        for path in changed.splitlines():
            if _scan(repo, commit, path):
                found.add((_short(repo, commit), path))
    return found


def _forgets_the_root_commit(repo):
    found = set()
    for commit in repo.git("rev-list", "--all").split():
        changed = repo.git(
            "diff-tree", "-r", "--no-commit-id", "--name-only", "--diff-filter=AM", commit
        )
        for path in changed.splitlines():
            if _scan(repo, commit, path):
                found.add((_short(repo, commit), path))
    return found


def _every_file_of_every_snapshot(repo):
    found = set()
    for commit in repo.git("rev-list", "--all").split():
        for path in repo.git("ls-tree", "-r", "--name-only", commit).splitlines():
            if _scan(repo, commit, path):
                found.add((_short(repo, commit), path))
    return found


def _shows_deleted_files_too(repo):
    found = set()
    for commit in repo.git("rev-list", "--all").split():
        changed = repo.git("diff-tree", "--root", "-r", "--no-commit-id", "--name-only", commit)
        for path in changed.splitlines():
            if _scan(repo, commit, path):
                found.add((_short(repo, commit), path))
    return found


def _path_then_commit(repo):
    found = set()
    for commit in repo.git("rev-list", "--all").split():
        changed = repo.git(
            "diff-tree", "--root", "-r", "--no-commit-id", "--name-only", "--diff-filter=AM", commit
        )
        for path in changed.splitlines():
            if _scan(repo, commit, path):
                found.add((path, _short(repo, commit)))
    return found


def _calls_the_lab(repo):
    from course_lib.labs import scan_history

    return {(row["commit"], row["file"]) for row in scan_history(repo)}


def _borrows_the_reference(repo):
    from course_lib.course.exercises.lesson_3_6 import secrets_in_history

    return secrets_in_history(repo)


def _calls_the_labs_changed_files(repo):
    from course_lib.labs import scan_text
    from course_lib.labs.secrets_lab import _changed_files

    found = set()
    for commit in repo.git("rev-list", "--all").split():
        for path in _changed_files(repo, commit):
            if scan_text(repo.git("show", f"{commit}:{path}"), path):
                found.add((_short(repo, commit), path))
    return found


# --- 3.6.2 load_api_key ------------------------------------------------------------------------

_NAME, _SERVICE, _USER = "HANDBOOK_API_KEY", "handbook-assistant", "api_key"


def _returns_a_plain_str(environ, env_file, vault):
    from dotenv import dotenv_values

    value = environ.get(_NAME)
    if not value and Path(env_file).is_file():
        value = dotenv_values(env_file).get(_NAME)
    return value or vault.get_password(_SERVICE, _USER)


def _keyring_first(environ, env_file, vault):
    from dotenv import dotenv_values
    from pydantic import SecretStr

    value = vault.get_password(_SERVICE, _USER) or environ.get(_NAME)
    if not value and Path(env_file).is_file():
        value = dotenv_values(env_file).get(_NAME)
    return SecretStr(value) if value else None


def _ignores_the_env_file(environ, env_file, vault):
    from pydantic import SecretStr

    value = environ.get(_NAME) or vault.get_password(_SERVICE, _USER)
    return SecretStr(value) if value else None


def _reads_a_missing_env_file(environ, env_file, vault):
    from pydantic import SecretStr

    value = environ.get(_NAME)
    if not value:
        for line in Path(env_file).read_text().splitlines():
            if line.startswith(_NAME + "="):
                value = line.split("=", 1)[1]
    value = value or vault.get_password(_SERVICE, _USER)
    return SecretStr(value) if value else None


def _keeps_the_quotes(environ, env_file, vault):
    from pydantic import SecretStr

    value = environ.get(_NAME)
    if not value and Path(env_file).is_file():
        for line in Path(env_file).read_text().splitlines():
            if line.startswith(_NAME + "="):
                value = line.split("=", 1)[1]
    value = value or vault.get_password(_SERVICE, _USER)
    return SecretStr(value) if value else None


def _wrong_keyring_entry(environ, env_file, vault):
    from dotenv import dotenv_values
    from pydantic import SecretStr

    value = environ.get(_NAME)
    if not value and Path(env_file).is_file():
        value = dotenv_values(env_file).get(_NAME)
    value = value or vault.get_password(_USER, _SERVICE)
    return SecretStr(value) if value else None


def _empty_secret_instead_of_none(environ, env_file, vault):
    from dotenv import dotenv_values
    from pydantic import SecretStr

    value = environ.get(_NAME)
    if not value and Path(env_file).is_file():
        value = dotenv_values(env_file).get(_NAME)
    return SecretStr(value or vault.get_password(_SERVICE, _USER) or "")


def _borrows_the_reference_loader(environ, env_file, vault):
    from course_lib.course.exercises import lesson_3_6

    return lesson_3_6.load_api_key(environ, env_file, vault)


# --- 3.6.3 redact_line -------------------------------------------------------------------------


def _exact_visible_prefixes(line):
    for pattern in (
        r"\bsk-proj-[A-Za-z0-9]{20,}",
        r"\bghp_[A-Za-z0-9]{36}\b",
        r"\bAKIA[A-Z0-9]{16}\b",
        r"\bxoxb-[A-Za-z0-9-]{10,}",
        r"\bsk_live_[A-Za-z0-9]{16,}",
        r"(?<=Bearer )\S+",
        r"(?<=postgresql://)[^@\s]+(?=@)",
    ):
        line = re.sub(pattern, "[redacted]", line)
    return line


def _any_long_random_string(line):
    line = re.sub(r"[A-Za-z0-9_\-]{20,}", "[redacted]", line)
    return re.sub(r"(?<=://)[^@\s]+(?=@)", "[redacted]", line)


def _capital_and_digit_token(line):
    """One generic rule: any token of 20+ characters holding a capital and a digit."""
    line = re.sub(r"\b(?=[\w-]*[A-Z])(?=[\w-]*\d)[\w-]{20,}", "[redacted]", line)
    line = re.sub(r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]{8,}", "[redacted]", line)
    return re.sub(r"(?<=://)(?:[^/\s:@]*):[^/\s@]+(?=@)", "[redacted]", line)


def _loose_prefixes(line):
    for pattern in (
        r"\bsk-[A-Za-z0-9_-]{16,}",
        r"\bgh[a-z]_\w+",
        r"AKIA\w+|ASIA\w+",
        r"\bxox\w-[\w-]+",
        r"\b[rs]k_live_\w+",
        r"(?i)(?<=bearer )\S+",
        r"(?<=://)[^@\s]+(?=@)",
    ):
        line = re.sub(pattern, "[redacted]", line)
    return line


def _blanks_suspicious_lines(line):
    if re.search(r"(?i)key|token|bearer|://|credential|sk-|gh\w_|AKIA|ASIA|xox", line):
        return "[redacted]"
    return line


def _memorised_visible_keys(line):
    from course_lib.labs import log_lines

    for known in log_lines("visible"):
        for secret in known.secrets:
            line = line.replace(secret, "[redacted]")
    return line


def _calls_the_course_redactor(line):
    from course_lib.redaction import redact

    return redact(line)


def _answer_or_reference(line):
    from course_lib.course import answer_or_reference

    return answer_or_reference("3.6.3", None)(line)


def _borrows_the_reference_redactor(line):
    from course_lib.course.exercises.lesson_3_6 import redact_line as theirs

    return theirs(line)


def _words_before_the_key(line):
    """The two given patterns plus the words the visible lines put before a key."""
    for pattern in (
        r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]{8,}",
        r"(?<=://)(?:[^/\s:@]*):[^/\s@]+(?=@)",
        r"(?<=credential )\S+",
        r'(?<="token": ")[^"]+',
        r"(?<=api_key=)\S+",
    ):
        line = re.sub(pattern, "[redacted]", line)
    return line


def _forgets_to_return(line):
    re.sub(r"\bsk-[A-Za-z0-9]{20,}", "[redacted]", line)


WRONG_ANSWERS: dict[str, list[Any]] = {
    "3.6.1": [
        _only_the_working_tree,
        _only_the_current_branch,
        _forgets_the_root_commit,
        _every_file_of_every_snapshot,
        _shows_deleted_files_too,
        _path_then_commit,
        _calls_the_lab,
        _borrows_the_reference,
        _calls_the_labs_changed_files,
    ],
    "3.6.2": [
        _returns_a_plain_str,
        _keyring_first,
        _ignores_the_env_file,
        _reads_a_missing_env_file,
        _keeps_the_quotes,
        _wrong_keyring_entry,
        _empty_secret_instead_of_none,
        _borrows_the_reference_loader,
    ],
    "3.6.3": [
        _exact_visible_prefixes,
        _any_long_random_string,
        _capital_and_digit_token,
        _loose_prefixes,
        _blanks_suspicious_lines,
        _memorised_visible_keys,
        _calls_the_course_redactor,
        _answer_or_reference,
        _borrows_the_reference_redactor,
        _words_before_the_key,
        _forgets_to_return,
    ],
}
