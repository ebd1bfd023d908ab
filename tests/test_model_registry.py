"""The model registry: one file names every model; code asks for roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_lib.errors import SettingsError, UnknownModelError
from course_lib.models import BUNDLED_REGISTRY, get_registry, load_registry
from course_lib.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]


def test_roles_resolve_to_models_with_prices_and_windows() -> None:
    registry = load_registry()
    small, large = registry.resolve("chat-small"), registry.resolve("chat-large")
    assert (small.id, large.id) == ("local-small", "local-large")
    assert registry.resolve("judge").kind == "chat"
    assert registry.resolve("embed").dimension == 256
    assert small.context_window > 0 and large.context_window > small.context_window
    # The tiers trade quality for price and speed, as real model families do.
    assert large.input_price_per_million > small.input_price_per_million
    assert large.latency_ms(1000, 100) > small.latency_ms(1000, 100)


def test_cost_uses_per_million_prices() -> None:
    spec = load_registry().resolve("local-small")
    expected = (
        1_000 * spec.input_price_per_million + 500 * spec.output_price_per_million
    ) / 1_000_000
    assert spec.cost(1_000, 500) == pytest.approx(expected)


def test_unknown_name_lists_the_known_roles_and_models() -> None:
    with pytest.raises(UnknownModelError) as caught:
        load_registry().resolve("gpt-4o")
    message = str(caught.value)
    assert "gpt-4o" in message and "chat-small" in message and "local-large" in message


def test_a_registry_file_from_the_settings_replaces_the_bundled_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "models.toml"
    custom.write_text(
        '[roles]\nchat-small = "provider-mini"\n\n'
        '[models.provider-mini]\nkind = "chat"\nprovider = "openai-compatible"\n'
        "context_window = 128000\ninput_price_per_million = 0.4\n"
        "output_price_per_million = 1.6\n"
    )
    monkeypatch.setenv("COURSE_MODEL_REGISTRY", str(custom))
    get_settings.cache_clear()
    try:
        assert get_registry().resolve("chat-small").id == "provider-mini"
    finally:
        monkeypatch.delenv("COURSE_MODEL_REGISTRY")
        get_settings.cache_clear()
    assert get_registry().resolve("chat-small").id == "local-small"


def test_broken_registry_files_get_clear_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(SettingsError, match="does not exist"):
        load_registry(missing)
    bad = tmp_path / "bad.toml"
    bad.write_text("[roles\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_registry(bad)
    dangling = tmp_path / "dangling.toml"
    dangling.write_text('[roles]\nchat-small = "ghost"\n')
    with pytest.raises(SettingsError, match="ghost"):
        load_registry(dangling)
    incomplete = tmp_path / "incomplete.toml"
    incomplete.write_text('[models.x]\nkind = "chat"\n')
    with pytest.raises(SettingsError, match="incomplete"):
        load_registry(incomplete)


def test_no_lesson_hard_codes_a_model_id() -> None:
    model_ids = list(load_registry(BUNDLED_REGISTRY).models)
    offenders = []
    for source in sorted((ROOT / "solutions").rglob("*.py")):
        text = source.read_text(encoding="utf-8")
        offenders += [f"{source.name}: {m}" for m in model_ids if f'"{m}"' in text]
    assert not offenders, f"use a role from the model registry instead: {offenders}"
