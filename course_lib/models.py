"""The model registry: roles mapped to model ids, and each model's prices and limits.

Code asks for a role (``chat-small``, ``judge``...) or a model id and gets a :class:`ModelSpec`.
Swapping the local models for a provider's is an edit of one TOML file, never of code.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from course_lib.errors import SettingsError, UnknownModelError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["BUNDLED_REGISTRY", "ModelRegistry", "ModelSpec", "get_registry", "load_registry"]

BUNDLED_REGISTRY = Path(__file__).with_name("models.toml")


@dataclass(frozen=True)
class ModelSpec:
    """One model as the registry describes it."""

    id: str
    kind: str  # "chat" or "embedding"
    provider: str
    context_window: int
    input_price_per_million: float
    output_price_per_million: float
    description: str = ""
    max_output_tokens: int | None = None
    dimension: int | None = None
    backend: str | None = None
    tier: str | None = None  # local chat models: "small" or "large"
    latency_base_ms: float = 0.0
    latency_per_input_token_ms: float = 0.0
    latency_per_output_token_ms: float = 0.0
    malformed_output_rate: float = 0.0
    # The price of input tokens served from the provider's prompt cache; None: no discount.
    cached_input_price_per_million: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def cost(
        self, input_tokens: int, output_tokens: int = 0, cached_input_tokens: int = 0
    ) -> float:
        """Cost of a call in US dollars, from the registry's per-million-token prices.

        ``cached_input_tokens`` (part of ``input_tokens``) are billed at
        ``cached_input_price_per_million`` when the registry gives one: providers bill the
        prompt prefix they reuse from their cache at a discount.
        """
        cached = min(max(int(cached_input_tokens), 0), input_tokens)
        if cached == 0 or self.cached_input_price_per_million is None:
            return (
                input_tokens * self.input_price_per_million
                + output_tokens * self.output_price_per_million
            ) / 1_000_000
        return (
            (input_tokens - cached) * self.input_price_per_million
            + cached * self.cached_input_price_per_million
            + output_tokens * self.output_price_per_million
        ) / 1_000_000

    def latency_ms(self, input_tokens: int, output_tokens: int) -> float:
        """The latency the local model reports for a call of this size (its formula)."""
        return (
            self.latency_base_ms
            + input_tokens * self.latency_per_input_token_ms
            + output_tokens * self.latency_per_output_token_ms
        )


@dataclass(frozen=True)
class ModelRegistry:
    """Roles and models, read from one TOML file."""

    roles: dict[str, str]
    models: dict[str, ModelSpec]
    source: Path

    def resolve(self, name: str) -> ModelSpec:
        """The model for a role or a model id; roles win when a name is both."""
        model_id = self.roles.get(name, name)
        try:
            return self.models[model_id]
        except KeyError:
            raise UnknownModelError(
                f"Unknown model or role {name!r}. Known roles: {', '.join(sorted(self.roles))}; "
                f"known models: {', '.join(sorted(self.models))} (registry: {self.source.name})."
            ) from None

    def model_id(self, name: str) -> str:
        return self.resolve(name).id

    def chat_models(self) -> list[ModelSpec]:
        return [m for m in self.models.values() if m.kind == "chat"]


_KNOWN = {f for f in ModelSpec.__dataclass_fields__ if f not in {"id", "extra"}}


def load_registry(path: Path | None = None) -> ModelRegistry:
    """Read a registry file (the bundled one by default), checking every role resolves."""
    source = Path(path) if path is not None else BUNDLED_REGISTRY
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(
            f"Model registry {str(source)!r} does not exist. Fix the model_registry setting "
            "or unset it to use the bundled registry."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"Model registry {str(source)!r} is not valid TOML: {exc}.") from None
    models: dict[str, ModelSpec] = {}
    for model_id, entry in data.get("models", {}).items():
        known = {k: v for k, v in entry.items() if k in _KNOWN}
        extra = {k: v for k, v in entry.items() if k not in _KNOWN}
        try:
            models[model_id] = ModelSpec(id=model_id, extra=extra, **known)
        except TypeError as exc:
            raise SettingsError(
                f"Model {model_id!r} in {source.name} is incomplete ({exc}); every model needs "
                "kind, provider, context_window, input_price_per_million and "
                "output_price_per_million."
            ) from None
    roles = {str(k): str(v) for k, v in data.get("roles", {}).items()}
    for role, model_id in roles.items():
        if model_id not in models:
            raise SettingsError(
                f"Role {role!r} in {source.name} points at {model_id!r}, which is not a model "
                f"there. Known models: {', '.join(sorted(models))}."
            )
    return ModelRegistry(roles=roles, models=models, source=source)


@lru_cache(maxsize=8)
def _cached(path: Path | None) -> ModelRegistry:
    return load_registry(path)


def get_registry() -> ModelRegistry:
    """The registry the settings point at (``model_registry``), or the bundled one."""
    from course_lib.settings import get_settings

    return _cached(get_settings().model_registry)
