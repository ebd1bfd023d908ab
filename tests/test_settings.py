"""Settings: the layers win in the documented order, and bad values explain themselves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from course_lib.errors import SettingsError
from course_lib.settings import find_config_file, get_settings, load_settings


@pytest.fixture
def toml(tmp_path: Path):
    def write(text: str) -> Path:
        path = tmp_path / "course.toml"
        path.write_text(text)
        return path

    return write


def test_defaults_apply_without_any_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no file, no variables and no overrides, every setting has its default."""
    monkeypatch.delenv("COURSE_WORK_DIR", raising=False)
    monkeypatch.delenv("COURSE_STRICT", raising=False)
    settings = load_settings(config_file=None)
    assert settings.seed == 0
    assert settings.strict is False
    assert settings.log_level == "WARNING"
    assert "production-ai-course" in str(settings.work_dir)


def test_layers_win_in_order(monkeypatch: pytest.MonkeyPatch, toml) -> None:
    """defaults < course.toml < COURSE_* environment < explicit overrides."""
    path = toml('seed = 3\nlog_level = "INFO"\nstrict = true\n')
    settings = load_settings(config_file=path)
    assert (settings.seed, settings.log_level) == (3, "INFO")
    monkeypatch.setenv("COURSE_SEED", "5")
    assert load_settings(config_file=path).seed == 5
    assert load_settings({"seed": 9}, config_file=path).seed == 9
    assert load_settings({"seed": 9}, config_file=path).log_level == "INFO"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("env", "environment variable COURSE_SEED"),
        ("file", "course.toml"),
        ("override", "explicit override"),
    ],
)
def test_bad_value_names_setting_value_source_and_allowed(
    source: str, expected: str, monkeypatch: pytest.MonkeyPatch, toml
) -> None:
    """The message names the setting, the bad value, where it came from and what is allowed."""
    path = toml('seed = "abc"\n' if source == "file" else "")
    overrides = {"seed": "abc"} if source == "override" else None
    if source == "env":
        monkeypatch.setenv("COURSE_SEED", "abc")
    with pytest.raises(SettingsError) as info:
        load_settings(overrides, config_file=path)
    message = str(info.value)
    assert "'seed'" in message
    assert "'abc'" in message
    assert expected in message
    assert "a whole number >= 0" in message
    assert "\n" not in message


def test_unknown_setting_in_file_lists_known_ones(toml) -> None:
    with pytest.raises(SettingsError, match=r"Unknown setting 'sed'.*known settings are: .*seed"):
        load_settings(config_file=toml("sed = 1\n"))


def test_invalid_toml_says_which_file(toml) -> None:
    path = toml("seed = [\n")
    with pytest.raises(SettingsError, match="Could not read settings from"):
        load_settings(config_file=path)


def test_config_file_found_upwards_and_overridable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A course.toml at the repository root applies to a kernel started in a lesson folder."""
    (tmp_path / "course.toml").write_text("seed = 4\n")
    lesson_dir = tmp_path / "notebooks" / "0_start_here"
    lesson_dir.mkdir(parents=True)
    monkeypatch.delenv("COURSE_CONFIG_FILE", raising=False)
    assert find_config_file(lesson_dir) == tmp_path / "course.toml"
    monkeypatch.setenv("COURSE_CONFIG_FILE", "")
    assert find_config_file(lesson_dir) is None
    monkeypatch.setenv("COURSE_CONFIG_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match="not a file"):
        find_config_file(lesson_dir)


def test_settings_are_frozen_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        first = get_settings()
        assert get_settings() is first
        with pytest.raises(ValueError):
            first.seed = 3  # type: ignore[misc]
    finally:
        get_settings.cache_clear()


def test_work_dir_expands_user() -> None:
    settings = load_settings({"work_dir": "~/somewhere"}, config_file=None)
    assert settings.work_dir == Path.home() / "somewhere"


FAKE_KEY = "sk-fake-settings-test-key-0000"  # pragma: allowlist secret


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No COURSE_* variable from the machine running the tests leaks into the case."""
    for key in list(os.environ):
        if key.upper().startswith("COURSE_"):
            monkeypatch.delenv(key)
    return monkeypatch


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "true"])
@pytest.mark.parametrize("name", ["llm_connect_timeout", "llm_read_timeout"])
def test_timeouts_are_finite_and_positive(clean_env, toml, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"'{name}'.*Allowed: a finite number of seconds"):
        load_settings(config_file=toml(f"{name} = {value}\n"))


@pytest.mark.parametrize("value", ["ftp://example.com/v1", "localhost:8000/v1", "http://", "x"])
@pytest.mark.parametrize("name", ["llm_base_url", "otlp_endpoint"])
def test_urls_need_an_http_scheme_and_a_host(clean_env, name: str, value: str) -> None:
    clean_env.setenv(f"COURSE_{name.upper()}", value)
    with pytest.raises(SettingsError, match=rf"'{name}'.*http:// or https://"):
        load_settings(config_file=None)


def test_good_urls_pass_and_an_empty_one_means_unset(clean_env) -> None:
    clean_env.setenv("COURSE_LLM_BASE_URL", " https://api.example.com/v1 ")
    clean_env.setenv("COURSE_OTLP_ENDPOINT", "")
    settings = load_settings(config_file=None)
    assert settings.llm_base_url == "https://api.example.com/v1"
    assert settings.otlp_endpoint is None


@pytest.mark.parametrize("value", ["true", "3.0", '"3.5"', '"abc"', '"7 seeds"'])
def test_seeds_are_whole_numbers(clean_env, toml, value: str) -> None:
    """Pydantic alone would read true as 1 and 3.0 as 3."""
    with pytest.raises(SettingsError, match=r"'seed'.*a whole number"):
        load_settings(config_file=toml(f"seed = {value}\n"))


def test_seed_from_the_environment_is_read_as_an_integer(clean_env) -> None:
    clean_env.setenv("COURSE_SEED", "7")
    assert load_settings(config_file=None).seed == 7


def test_unknown_course_variable_names_the_nearest_setting(clean_env) -> None:
    clean_env.setenv("COURSE_SEEED", "3")
    clean_env.setenv("COURSE_LLM_APIKEY", FAKE_KEY)
    with pytest.raises(SettingsError) as info:
        load_settings(config_file=None)
    message = str(info.value)
    assert "COURSE_SEEED (did you mean COURSE_SEED?)" in message
    assert "COURSE_LLM_APIKEY (did you mean COURSE_LLM_API_KEY?)" in message
    assert FAKE_KEY not in message  # the value of an unknown variable may be a secret too
    assert "\n" not in message


def test_the_scripts_variables_are_not_unknown_settings(clean_env) -> None:
    """./run documents COURSE_VENV and COURSE_NO_UV (.ci/run two more): they are no typos."""
    for name in ("COURSE_VENV", "COURSE_NO_UV", "COURSE_CI_ALSO_PYTHON", "COURSE_CI_ALSO_VENV"):
        clean_env.setenv(name, "1")
    assert load_settings(config_file=None).seed == 0


def test_unknown_key_in_the_file_names_the_nearest_setting(clean_env, toml) -> None:
    with pytest.raises(
        SettingsError, match=r"Unknown setting 'llm_read_timout'.*'llm_read_timeout'"
    ):
        load_settings(config_file=toml("llm_read_timout = 3\n"))


@pytest.mark.parametrize(
    "text", [f'llm_api_key = ["{FAKE_KEY}"]\n', f'llm_api_key = {{ key = "{FAKE_KEY}" }}\n']
)
def test_a_wrong_typed_key_in_the_file_is_never_shown(clean_env, toml, text: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(config_file=toml(text))
    message = str(info.value)
    assert "'llm_api_key'" in message and "hidden" in message
    assert FAKE_KEY not in message


def test_a_key_in_the_file_is_hidden_even_with_one_in_the_environment(clean_env, toml) -> None:
    """The environment's key wins; if anything fails, neither key shows."""
    clean_env.setenv("COURSE_LLM_API_KEY", FAKE_KEY)
    path = toml(f'llm_api_key = ["{FAKE_KEY}-file"]\nseed = "abc"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(config_file=path)
    assert FAKE_KEY not in str(info.value)
    assert "'seed'" in str(info.value)


@pytest.mark.parametrize("value", [f"{FAKE_KEY}\n", f" {FAKE_KEY}", "sk-fake key"])
def test_a_malformed_key_in_the_environment_is_never_shown(clean_env, value: str) -> None:
    clean_env.setenv("COURSE_LLM_API_KEY", value)
    with pytest.raises(SettingsError) as info:
        load_settings(config_file=None)
    message = str(info.value)
    assert "'llm_api_key'" in message and "COURSE_LLM_API_KEY" in message
    assert value.strip() not in message and "sk-fake" not in message


def test_a_wrong_typed_key_override_is_never_shown(clean_env) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"llm_api_key": [FAKE_KEY]}, config_file=None)
    assert FAKE_KEY not in str(info.value)
