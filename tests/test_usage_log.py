"""Every chat call can log its role, model and tokens, and nothing of its text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_lib.llm import LLMClient
from course_lib.settings import CourseSettings


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_chat_call_appends_its_role_model_and_tokens(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "usage.jsonl"
    client = LLMClient.for_provider("local", usage_log=log)
    first = client.chat("When is the on-call handover?", model="chat-small", seed=0)
    client.chat("Who approves expenses over 500 EUR?", model="judge", seed=0)
    rows = _lines(log)
    assert [r["role"] for r in rows] == ["chat-small", "judge"]
    assert rows[0]["model"] == first.model
    assert rows[0]["input_tokens"] == first.usage.input_tokens
    assert rows[0]["output_tokens"] == first.usage.output_tokens
    text = log.read_text(encoding="utf-8")
    assert "handover" not in text and (first.content or "")[:20] not in text


def test_the_environment_names_the_log_for_clients_built_any_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "usage.jsonl"
    monkeypatch.setenv("COURSE_USAGE_LOG", str(log))
    LLMClient.for_provider("local").chat("Hello", seed=0)
    assert len(_lines(log)) == 1


def test_the_setting_reaches_a_client_from_settings(tmp_path: Path) -> None:
    log = tmp_path / "usage.jsonl"
    settings = CourseSettings(usage_log=log, work_dir=tmp_path)
    LLMClient.from_settings(settings).chat("Hello", seed=0)
    LLMClient.for_provider("local", usage_log=log).chat("Hello", seed=0)
    rows = _lines(log)
    assert rows[0]["role"] == "chat-small"
    # Only the client the settings made would move to a real provider with them.
    assert [r["follows_settings"] for r in rows] == [True, False]


def test_no_log_is_written_when_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURSE_USAGE_LOG", raising=False)
    monkeypatch.chdir(tmp_path)
    LLMClient.for_provider("local").chat("Hello", seed=0)
    assert list(tmp_path.iterdir()) == []
