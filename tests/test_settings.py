"""Settings: the layers win in the documented order, and bad values explain themselves."""

from __future__ import annotations

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
