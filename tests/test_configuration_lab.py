"""Lesson 3.3's lab: layered settings, one-line errors, the fingerprint and the prototype."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from course_lib.errors import SettingsError
from course_lib.labs import (
    BAD_CONFIGS,
    FINGERPRINT_PAIRS,
    SETTING_RULES,
    EvaluationCache,
    HandbookSettings,
    config_fingerprint,
    demo_key,
    environment_files,
    explain_error,
    load_handbook_settings,
    prototype_files,
    provenance_table,
    run_prototype,
    setting_sources,
    settings_from,
)
from course_lib.labs.configuration_lab import _OUTPUT_SETTINGS as OUTPUT_SETTINGS


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    for name, text in environment_files().items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path / "config"


def test_each_layer_wins_over_the_one_below(config_dir: Path) -> None:
    environ = {"HANDBOOK_ENV": "staging", "HANDBOOK_TOP_K": "6"}
    settings = load_handbook_settings(config_dir, environ=environ, overrides={"seed": 3})
    assert settings.env == "staging"
    assert settings.model == "chat-large"  # file over default
    assert settings.top_k == 6  # environment over file, read as an int
    assert settings.seed == 3  # override
    assert settings.temperature == 0.0  # default
    sources = setting_sources(config_dir, environ=environ, overrides={"seed": 3})
    assert sources["model"] == "config/staging.toml"
    assert sources["top_k"] == "HANDBOOK_TOP_K"
    assert sources["seed"] == "override"
    assert sources["temperature"] == "default"
    top = load_handbook_settings(config_dir, environ=environ, overrides={"top_k": 9})
    assert top.top_k == 9


def test_one_variable_chooses_the_environment_file(config_dir: Path) -> None:
    dev = load_handbook_settings(config_dir, environ={})
    prod = load_handbook_settings(config_dir, environ={"HANDBOOK_ENV": "prod"})
    assert (dev.env, dev.model, dev.log_level) == ("dev", "chat-small", "DEBUG")
    assert (prod.env, prod.model, prod.index_path) == (
        "prod",
        "chat-large",
        Path("handbook.sqlite"),
    )


def test_settings_are_frozen(config_dir: Path) -> None:
    settings = load_handbook_settings(config_dir, environ={})
    with pytest.raises(ValidationError):
        settings.top_k = 3  # type: ignore[misc]


def test_the_given_environment_does_not_leak(config_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("HANDBOOK_TOP_K", "7")
    settings = load_handbook_settings(config_dir, environ={"HANDBOOK_SEED": "2"})
    assert settings.top_k == 5 and settings.seed == 2  # the process's variable was hidden
    assert os.environ["HANDBOOK_TOP_K"] == "7"
    assert "HANDBOOK_SEED" not in os.environ
    assert load_handbook_settings(config_dir).top_k == 7  # without environ: the process's


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('top_k = "five"', "Setting 'top_k' has a bad value 'five' (from config/dev.toml)"),
        ("temperature = 3.5", "Allowed: a number from 0 to 2."),
        ("temprature = 0.2", "Did you mean 'temperature'?"),
        ("chunk_size = 300\nchunk_overlap = 400", "must be smaller than chunk_size (300)"),
        ('model = "chat-smal"', "did you mean 'chat-small'?"),
        ('index_path = "handbook.db"', "ending in .sqlite"),
    ],
)
def test_a_bad_file_value_fails_in_one_line(tmp_path: Path, toml: str, expected: str) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "dev.toml").write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_handbook_settings(folder, environ={})
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_misspelt_variable_is_refused_by_the_loader_only(config_dir: Path) -> None:
    with pytest.raises(SettingsError, match=r"HANDBOOK_TOPK.*Did you mean HANDBOOK_TOP_K"):
        load_handbook_settings(config_dir, environ={"HANDBOOK_TOPK": "3"})
    quiet = load_handbook_settings(config_dir, environ={"HANDBOOK_TOPK": "3"}, explain=False)
    assert quiet.top_k == 5  # pydantic-settings alone ignores it


def test_a_bad_key_is_never_shown(config_dir: Path) -> None:
    key = demo_key("test")
    with pytest.raises(SettingsError) as caught:
        load_handbook_settings(config_dir, environ={"HANDBOOK_API_KEY": key[:8] + " " + key[8:]})
    message = str(caught.value)
    assert "api_key" in message and "hidden" in message
    assert key[:8] not in message and key[8:] not in message


def test_explain_error_names_the_source(config_dir: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        settings_from({"seed": -1})
    line = explain_error(caught.value, {"seed": "HANDBOOK_SEED"})
    assert line.startswith("Setting 'seed' has a bad value -1 (from HANDBOOK_SEED)")
    assert line.endswith(f"Allowed: {SETTING_RULES['seed']}.")


def test_provenance_table_hides_the_key(config_dir: Path) -> None:
    key = demo_key("table")
    environ = {"HANDBOOK_API_KEY": key}
    settings = load_handbook_settings(config_dir, environ=environ)
    table = provenance_table(settings, setting_sources(config_dir, environ=environ))
    assert table.loc["api_key", "set by"] == "HANDBOOK_API_KEY"
    assert key not in table.to_string()
    assert settings.api_key is not None and settings.api_key.get_secret_value() == key


def test_demo_keys_are_made_at_run_time_and_stable() -> None:
    assert demo_key("a") == demo_key("a") != demo_key("b")
    assert demo_key("prototype") in prototype_files()["answer.py"]
    assert all("api_key" not in text for text in environment_files().values())


def test_every_settings_field_has_a_rule() -> None:
    assert set(SETTING_RULES) == set(HandbookSettings.model_fields)
    assert set(OUTPUT_SETTINGS) <= set(HandbookSettings.model_fields)


def test_the_fingerprint_on_the_visible_pairs() -> None:
    for a, b, same, why in FINGERPRINT_PAIRS:
        assert (config_fingerprint(a) == config_fingerprint(b)) == same, why
    value = config_fingerprint({})
    assert len(value) == 16 and int(value, 16) >= 0
    with_key = {"api_key": demo_key("x"), "log_level": "ERROR", "index_path": "x.sqlite"}
    assert config_fingerprint(with_key) == value
    assert config_fingerprint(settings_from({"top_k": "7"})) == config_fingerprint({"top_k": 7})


def test_every_bad_config_is_refused_at_start_up(tmp_path: Path) -> None:
    assert len(BAD_CONFIGS) == 12  # the prototype's side is measured in the lesson
    for number, bad in enumerate(BAD_CONFIGS):
        folder = tmp_path / str(number) / "config"
        folder.mkdir(parents=True)
        values = bad.values if bad.layer == "file" else {}
        lines = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in values.items())
        (folder / "dev.toml").write_text(lines, encoding="utf-8")
        environ = (
            {f"HANDBOOK_{k.upper()}": str(v) for k, v in bad.values.items()}
            if bad.layer == "environment"
            else {}
        )
        with pytest.raises(SettingsError):
            load_handbook_settings(folder, environ=environ)


def test_the_prototype_reports_where_it_failed(tmp_path: Path) -> None:
    stage, detail = run_prototype({"log_level": "verbose"}, tmp_path, [])
    assert stage == "at start-up" and "verbose" in detail
    stage, detail = run_prototype({"chunk_size": 0}, tmp_path, [])
    assert stage == "ingest" and detail.startswith("ValueError")
    stage, _ = run_prototype({"index_path": ""}, tmp_path, [])
    assert stage == "writing the index"


def test_the_evaluation_cache_computes_each_id_once(config_dir: Path) -> None:
    from course_lib.datasets import load_golden_set

    questions = load_golden_set("dev")[:3]
    calls: list[str] = []

    def counting(settings: HandbookSettings) -> str:
        calls.append("x")
        return config_fingerprint(settings)

    cache = EvaluationCache(fingerprint=counting)
    staging = load_handbook_settings(config_dir, environ={"HANDBOOK_ENV": "staging"})
    first = cache.evaluate(staging, questions)
    again = cache.evaluate(staging.model_copy(update={"log_level": "ERROR"}), questions)
    other = cache.evaluate(staging.model_copy(update={"top_k": 2}), questions)
    assert not first["from cache"] and again["from cache"] and not other["from cache"]
    assert first["run id"] == again["run id"] != other["run id"]
    assert len(cache.runs) == 2 and len(calls) == 3
