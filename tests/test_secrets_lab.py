"""Tests of lesson 3.6's practice ground: course_lib.labs.secrets_lab."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr

from course_lib.labs import (
    KEY_KINDS,
    KEYRING_SERVICE,
    KEYRING_USER,
    clone_of,
    fake_key,
    file_keyring,
    install_scan_hook,
    leak_channels,
    leaky_repo,
    log_lines,
    scan_history,
    scan_text,
    scan_tree,
    score_redactor,
    shown,
    write_baseline,
)
from course_lib.labs.secrets_lab import SecretsLabError
from course_lib.redaction import redact


def test_fake_keys_are_deterministic_and_detected() -> None:
    for kind in KEY_KINDS:
        key = fake_key(kind, seed=3)
        assert key == fake_key(kind, seed=3)
        assert key != fake_key(kind, seed=4)
        assert scan_text(f"{key}\n"), f"detect-secrets misses the {kind} format"


def test_unknown_kind_and_bad_text_get_clear_errors() -> None:
    with pytest.raises(SecretsLabError, match="use one of"):
        fake_key("gitlab")
    with pytest.raises(SecretsLabError, match="text of a file"):
        scan_text(b"bytes")  # type: ignore[arg-type]


def test_shown_never_reveals_more_than_six_characters() -> None:
    key = fake_key("github")
    assert shown(key) == key[:6] + "…"
    assert shown("abc") == "…"


def test_history_holds_the_key_the_tree_does_not(tmp_path: Path) -> None:
    key = fake_key("openai")
    repo = leaky_repo(tmp_path / "repo", key)
    assert scan_tree(repo) == []
    history = scan_history(repo)
    assert {(row["file"], row["type"]) for row in history} >= {("explore.ipynb", "OpenAI Token")}
    assert len({row["commit"] for row in history}) == 1
    # the same ids on every run: a fixed clock and author
    again = leaky_repo(tmp_path / "again", key)
    assert again.log() == repo.log()


def test_filter_repo_cleans_history_but_not_a_clone(tmp_path: Path) -> None:
    repo = leaky_repo(tmp_path / "repo", fake_key("openai"))
    teammate = clone_of(repo, "teammate")
    before = repo.log()
    rules = tmp_path / "replacements.txt"
    rules.write_text("regex:sk-(proj-)?[A-Za-z0-9]{20,}==>[removed]\n", encoding="utf-8")
    repo.run("git", "filter-repo", "--force", "--replace-text", str(rules))
    assert scan_history(repo) == []
    assert scan_history(teammate) != []
    assert before.splitlines()[-1] == repo.log().splitlines()[-1]  # the root commit is kept
    assert before.splitlines()[0] != repo.log().splitlines()[0]
    assert clone_of(repo, "teammate").path == teammate.path  # replaces its own earlier clone


def test_baseline_and_hook_block_a_new_secret(tmp_path: Path) -> None:
    repo = leaky_repo(tmp_path / "repo", fake_key("openai"))
    assert write_baseline(repo) == []
    baseline = json.loads(repo.read(".secrets.baseline"))
    assert baseline["generated_at"].startswith("2026-11-02")
    repo.commit("Baseline", ".secrets.baseline")
    install_scan_hook(repo)
    repo.write("settings.py", f'AWS_ACCESS_KEY_ID = "{fake_key("aws")}"\n')
    repo.git("add", "settings.py")
    attempt = repo.run("git", "commit", "-m", "Add settings", ok=(0, 1))
    assert attempt.returncode == 1
    assert "AWS Access Key" in attempt.output
    assert fake_key("aws") not in attempt.output


def test_secret_str_leaks_nowhere_a_str_leaks_everywhere() -> None:
    key = fake_key("slack")

    class Plain(BaseModel):
        api_key: str

    class Safe(BaseModel):
        api_key: SecretStr

    assert all(leak_channels(Plain(api_key=key), key).values())
    assert not any(leak_channels(Safe(api_key=key), key).values())


def test_log_lines_hold_generated_keys_and_near_misses() -> None:
    from course_lib.course.exercises.lesson_3_6 import _held_out_lines

    visible, held = log_lines("visible"), _held_out_lines(0)
    assert log_lines("visible") == visible
    secrets = [s for line in visible for s in line.secrets]
    assert secrets and all(s in line.text for line in visible for s in line.secrets)
    assert not set(secrets) & {s for line in held for s in line.secrets}
    hexes = [k for line in held for k in line.keep if re.fullmatch(r"[0-9a-f]{40,64}", k)]
    assert len(hexes) >= 6
    with pytest.raises(SecretsLabError, match="visible"):
        log_lines("test")
    with pytest.raises(SecretsLabError, match="checker"):
        log_lines("held_out")  # the held-out lines are out of the learner's reach


def test_score_redactor_counts_removed_and_mangled() -> None:
    nothing = score_redactor(lambda s: s, "visible")
    assert nothing.removed == 0 and nothing.mangled == 0 and nothing.secrets > 0
    everything = score_redactor(lambda s: "", "visible")
    assert everything.recall == 1.0 and everything.mangled == everything.near_misses
    course = score_redactor(redact, "visible")
    assert 0 < course.removed < course.secrets
    with pytest.raises(SecretsLabError, match="str"):
        score_redactor(lambda s: None, "visible")  # type: ignore[arg-type,return-value]


def test_file_keyring_stays_in_the_given_file(tmp_path: Path) -> None:
    import keyring

    path = tmp_path / "ring" / "keyring.cfg"
    previous = keyring.get_keyring()
    try:
        backend = file_keyring(path)
        keyring.set_password(KEYRING_SERVICE, KEYRING_USER, "not-a-real-key")
        assert backend.get_password(KEYRING_SERVICE, KEYRING_USER) == "not-a-real-key"
        assert path.is_file()
    finally:
        keyring.set_keyring(previous)
