"""Lesson 3.3's practice ground: the Handbook Assistant's settings, from constants to layers.

* the prototype: constants spread over three scripts (:func:`prototype_files`), and
  :func:`run_prototype`, which runs them on a configuration and reports where a bad value
  finally failed (or that it never did);
* the production version: :class:`HandbookSettings` (pydantic-settings: defaults < the
  environment's TOML file < ``HANDBOOK_*`` variables < overrides, one file per environment
  chosen by ``HANDBOOK_ENV``), loaded by :func:`load_handbook_settings`, which turns
  pydantic's report into one line (:func:`explain_error`) and names the layer that set each
  value (:func:`setting_sources`, :func:`provenance_table`);
* :func:`config_fingerprint`: the hash of the settings that change outputs, with
  :class:`EvaluationCache` keyed by it, and :data:`FINGERPRINT_PAIRS` to tune an answer on.

Secrets here are made up at run time (:func:`demo_key`) and never printed.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import json
import logging
import os
import random
import sqlite3
import string
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic.config import JsonDict
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from course_lib.errors import SettingsError

__all__ = [
    "BAD_CONFIGS",
    "ENVIRONMENTS",
    "FINGERPRINT_PAIRS",
    "HANDBOOK_PREFIX",
    "PROTOTYPE_CONSTANTS",
    "SETTING_RULES",
    "BadConfig",
    "EvaluationCache",
    "HandbookSettings",
    "config_fingerprint",
    "demo_key",
    "environment_files",
    "explain_error",
    "load_handbook_settings",
    "prototype_files",
    "provenance_table",
    "run_prototype",
    "setting_sources",
    "settings_from",
    "startup_table",
]

HANDBOOK_PREFIX = "HANDBOOK_"
ENVIRONMENTS = ("dev", "staging", "prod")

_OUTPUT_SETTINGS = ("model", "temperature", "top_k", "chunk_size", "chunk_overlap", "seed")
"""The settings that change what the assistant retrieves and says: the fingerprint's inputs
(private: choosing them is exercise 3.3.3)."""

_KEY_RULE = "a string without spaces or line breaks (set it in the environment)"

SETTING_RULES: dict[str, str] = {
    "env": "one of dev, staging, prod",
    "model": "a chat role of the model registry: chat-small or chat-large",
    "temperature": "a number from 0 to 2",
    "top_k": "a whole number from 1 to 20",
    "chunk_size": "a whole number of characters from 200 to 4000",
    "chunk_overlap": "a whole number of characters >= 0, smaller than chunk_size",
    "seed": "a whole number >= 0",
    "index_path": "a file name ending in .sqlite",
    "llm_base_url": "an http(s) URL, or unset",
    "api_key": _KEY_RULE,
    "log_level": "one of DEBUG, INFO, WARNING, ERROR",
}
"""What each setting allows, in words: every error message ends with it."""

_config_file: ContextVar[Path | None] = ContextVar("_handbook_config_file", default=None)


def demo_key(label: str) -> str:
    """A made-up API key, built at run time so no file holds one; never print it."""
    rng = random.Random(f"handbook-demo-key:{label}")
    return "hb-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))


def _rule(name: str) -> JsonDict:
    return {"allowed": SETTING_RULES[name]}


class HandbookSettings(BaseSettings):
    """Every setting of the Handbook Assistant, validated once, at start-up."""

    model_config = SettingsConfigDict(
        env_prefix=HANDBOOK_PREFIX,
        extra="forbid",
        frozen=True,
        validate_default=True,
        str_strip_whitespace=True,
    )

    env: Literal["dev", "staging", "prod"] = Field("dev", json_schema_extra=_rule("env"))
    model: str = Field("chat-small", json_schema_extra=_rule("model"))
    temperature: float = Field(
        0.0, ge=0, le=2, allow_inf_nan=False, json_schema_extra=_rule("temperature")
    )
    top_k: int = Field(5, ge=1, le=20, json_schema_extra=_rule("top_k"))
    chunk_size: int = Field(1000, ge=200, le=4000, json_schema_extra=_rule("chunk_size"))
    chunk_overlap: int = Field(200, ge=0, json_schema_extra=_rule("chunk_overlap"))
    seed: int = Field(0, ge=0, json_schema_extra=_rule("seed"))
    index_path: Path = Field(Path("handbook.sqlite"), json_schema_extra=_rule("index_path"))
    llm_base_url: str | None = Field(None, json_schema_extra=_rule("llm_base_url"))
    api_key: SecretStr | None = Field(None, json_schema_extra=_rule("api_key"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", json_schema_extra=_rule("log_level")
    )

    @field_validator("model", mode="after")
    @classmethod
    def _chat_role(cls, value: str) -> str:
        if value not in ("chat-small", "chat-large"):
            close = difflib.get_close_matches(value, ["chat-small", "chat-large"], n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{value!r} is no chat role of the registry{guess}")
        return value

    @field_validator("chunk_overlap", mode="after")
    @classmethod
    def _overlap_below_size(cls, value: int, info: ValidationInfo) -> int:
        size = info.data.get("chunk_size")
        if size is not None and value >= size:
            raise ValueError(f"the overlap ({value}) must be smaller than chunk_size ({size})")
        return value

    @field_validator("index_path", mode="after")
    @classmethod
    def _sqlite_file(cls, value: Path) -> Path:
        if value.suffix != ".sqlite":
            raise ValueError("the index is a SQLite file: give a name ending in .sqlite")
        return value

    @field_validator("llm_base_url", mode="after")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("the URL must start with http:// or https://")
        return value or None

    @field_validator("api_key", mode="after")
    @classmethod
    def _plain_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and any(c.isspace() for c in value.get_secret_value()):
            raise ValueError("the key contains spaces or line breaks; copy it again without them")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: overrides, then HANDBOOK_* variables, then the environment's file.
        config_file = _config_file.get()
        if config_file is None:
            return (init_settings,)
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file),
        )


def settings_from(values: Mapping[str, Any]) -> HandbookSettings:
    """Validates ``values`` alone (no environment, no file): pydantic's errors pass through."""
    token = _config_file.set(None)
    try:
        return HandbookSettings(**dict(values))
    finally:
        _config_file.reset(token)


@contextlib.contextmanager
def _handbook_environment(environ: Mapping[str, str] | None) -> Iterator[dict[str, str]]:
    """The ``HANDBOOK_*`` variables seen while loading: ``environ``'s, or the process's."""
    if environ is None:
        yield {k: v for k, v in os.environ.items() if k.upper().startswith(HANDBOOK_PREFIX)}
        return
    saved = {k: v for k, v in os.environ.items() if k.upper().startswith(HANDBOOK_PREFIX)}
    for key in saved:
        del os.environ[key]
    os.environ.update(environ)
    try:
        yield {k: v for k, v in environ.items() if k.upper().startswith(HANDBOOK_PREFIX)}
    finally:
        for key in environ:
            os.environ.pop(key, None)
        os.environ.update(saved)


def _chosen_env(variables: Mapping[str, str], overrides: Mapping[str, Any]) -> str:
    if "env" in overrides:
        return str(overrides["env"])
    for key, value in variables.items():
        if key.upper() == f"{HANDBOOK_PREFIX}ENV":
            return value.strip()
    return "dev"


def _check_names(variables: Mapping[str, str]) -> None:
    known = {f"{HANDBOOK_PREFIX}{name}".upper(): name for name in HandbookSettings.model_fields}
    for key in sorted(variables):
        if key.upper() not in known:
            bare = key.upper().removeprefix(HANDBOOK_PREFIX).lower()
            close = difflib.get_close_matches(bare, sorted(HandbookSettings.model_fields), n=1)
            guess = f" Did you mean {HANDBOOK_PREFIX}{close[0].upper()}?" if close else ""
            raise SettingsError(
                f"Unknown environment variable {key}: no setting has that name.{guess} Fix the "
                "spelling or unset it (its value is not shown: it may be a secret)."
            )


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    if not path.is_file():
        return {}
    return dict(tomllib.loads(path.read_text(encoding="utf-8")))


def _env_file(config_dir: Path, env: str) -> Path:
    return Path(config_dir) / f"{env}.toml"


def setting_sources(
    config_dir: Path,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Which layer set each setting: ``override``, ``HANDBOOK_<NAME>``, ``config/<env>.toml``
    or ``default``, the highest layer that has it."""
    overrides = dict(overrides or {})
    with _handbook_environment(environ) as variables:
        env = _chosen_env(variables, overrides)
        upper = {k.upper(): k for k in variables}
    path = _env_file(config_dir, env)
    in_file = _read_toml(path)
    shown_file = f"{Path(config_dir).name}/{path.name}"
    sources = {}
    for name in HandbookSettings.model_fields:
        variable = f"{HANDBOOK_PREFIX}{name.upper()}"
        if name in overrides:
            sources[name] = "override"
        elif variable in upper:
            sources[name] = variable
        elif name in in_file:
            sources[name] = shown_file
        else:
            sources[name] = "default"
    for name in in_file:  # unknown keys too, so an error can say where they came from
        sources.setdefault(name, shown_file)
    for name in overrides:
        sources.setdefault(name, "override")
    return sources


def explain_error(exc: ValidationError, sources: Mapping[str, str]) -> str:
    """Pydantic's report as one line: the setting, its value (secrets hidden), the layer that
    set it, what is wrong and what is allowed."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    where = sources.get(name, "default")
    where = "the default" if where == "default" else where
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(name, sorted(HandbookSettings.model_fields), n=1)
        guess = f" Did you mean {close[0]!r}?" if close else ""
        return f"Unknown setting {name!r} (from {where}).{guess} Fix the spelling or remove it."
    reason = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
    reason = reason[:1].lower() + reason[1:]
    shown = "(hidden: a secret)" if name == "api_key" else repr(error.get("input"))
    allowed = SETTING_RULES.get(name)
    tail = f" Allowed: {allowed}." if allowed else ""
    return f"Setting {name!r} has a bad value {shown} (from {where}): {reason}.{tail}"


def load_handbook_settings(
    config_dir: Path,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    explain: bool = True,
) -> HandbookSettings:
    """The assistant's settings: defaults < ``config_dir/<env>.toml`` < ``HANDBOOK_*``
    variables < ``overrides``; ``HANDBOOK_ENV`` (or the override ``env``) picks the file.

    Args:
        environ: the variables to read instead of the process's (only ``HANDBOOK_*`` count).
        explain: turn pydantic's report into a one-line :class:`SettingsError` (the default);
            ``False`` lets the raw :class:`pydantic.ValidationError` through, to compare.
    """
    overrides = dict(overrides or {})
    with _handbook_environment(environ) as variables:
        if explain:
            _check_names(variables)
        env = _chosen_env(variables, overrides)
        token = _config_file.set(_env_file(config_dir, env))
        try:
            return HandbookSettings(**overrides)
        except ValidationError as exc:
            if not explain:
                raise
            sources = setting_sources(config_dir, environ=variables, overrides=overrides)
            raise SettingsError(explain_error(exc, sources)) from None
        finally:
            _config_file.reset(token)


def provenance_table(settings: HandbookSettings, sources: Mapping[str, str]) -> pd.DataFrame:
    """One row per setting: its value (secrets hidden) and the layer that set it."""
    rows = []
    for name in HandbookSettings.model_fields:
        value = getattr(settings, name)
        shown = "**********" if isinstance(value, SecretStr) else value
        rows.append({"setting": name, "value": str(shown), "set by": sources.get(name, "default")})
    return pd.DataFrame(rows).set_index("setting")


# --- per-environment files -------------------------------------------------------------

_ENV_VALUES: dict[str, dict[str, Any]] = {
    "dev": {
        "model": "chat-small",
        "index_path": "handbook-dev.sqlite",
        "llm_base_url": "http://localhost:8000/v1",
        "log_level": "DEBUG",
    },
    "staging": {
        "model": "chat-large",
        "top_k": 4,
        "chunk_size": 800,
        "chunk_overlap": 160,
        "index_path": "handbook-staging.sqlite",
        "llm_base_url": "https://llm.staging.kestrel.example/v1",
        "log_level": "INFO",
    },
    "prod": {
        "model": "chat-large",
        "top_k": 4,
        "chunk_size": 800,
        "chunk_overlap": 160,
        "index_path": "handbook.sqlite",
        "llm_base_url": "https://llm.kestrel.example/v1",
        "log_level": "WARNING",
    },
}


def _toml(values: Mapping[str, Any]) -> str:
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())


def environment_files() -> dict[str, str]:
    """The production layout: one committed TOML file per environment, secrets elsewhere."""
    files = {
        f"config/{env}.toml": f"# The Handbook Assistant in {env}. Secrets never go here: set "
        f"HANDBOOK_API_KEY in the environment.\n{_toml(values)}"
        for env, values in _ENV_VALUES.items()
    }
    files[".gitignore"] = ".env\n*.sqlite\n"
    files[".env.example"] = "HANDBOOK_ENV=dev\nHANDBOOK_API_KEY=\n"
    return files


# --- the prototype ---------------------------------------------------------------------

PROTOTYPE_CONSTANTS: dict[str, Any] = {
    "MODEL": "chat-small",
    "TEMPERATURE": 0.0,
    "TOP_K": 5,
    "CHUNK_SIZE": 1000,
    "CHUNK_OVERLAP": 200,
    "SEED": 0,
    "INDEX_PATH": "handbook-dev.sqlite",
    "BASE_URL": "http://localhost:8000/v1",
    "LOG_LEVEL": "DEBUG",
}
"""The prototype's constants (and the API key, made at run time), with their dev values."""

_PROTOTYPE_SCRIPTS = {
    "ingest.py": ("CHUNK_SIZE", "CHUNK_OVERLAP", "INDEX_PATH", "LOG_LEVEL"),
    "answer.py": (
        "MODEL",
        "TEMPERATURE",
        "TOP_K",
        "SEED",
        "INDEX_PATH",
        "BASE_URL",
        "API_KEY",
        "LOG_LEVEL",
    ),
    "evaluate.py": ("MODEL", "TOP_K", "CHUNK_SIZE", "INDEX_PATH", "BASE_URL", "API_KEY"),
}


def prototype_files() -> dict[str, str]:
    """The prototype's three scripts: each starts with the constants it uses, copied."""
    values = dict(PROTOTYPE_CONSTANTS, API_KEY=demo_key("prototype"))
    files = {}
    for script, names in _PROTOTYPE_SCRIPTS.items():
        head = "".join(f"{name} = {values[name]!r}\n" for name in names)
        files[script] = f'"""{script}: the tutorial version."""\n\n{head}\n# ... the code ...\n'
    return files


@dataclass(frozen=True)
class BadConfig:
    """A mistake in a configuration: where it is made and the values it sets."""

    what: str
    layer: Literal["file", "environment"]
    values: dict[str, Any]


BAD_CONFIGS: tuple[BadConfig, ...] = (
    BadConfig("top_k written as a word", "file", {"top_k": "five"}),
    BadConfig("top_k of 0", "file", {"top_k": 0}),
    BadConfig("a temperature above the API's maximum", "file", {"temperature": 3.5}),
    BadConfig("chunk_size of 0", "file", {"chunk_size": 0}),
    BadConfig(
        "an overlap longer than the chunk", "file", {"chunk_size": 300, "chunk_overlap": 400}
    ),
    BadConfig("a misspelt model role", "file", {"model": "chat-smal"}),
    BadConfig("a misspelt key in the file", "file", {"topk": 3}),
    BadConfig("an empty index path", "file", {"index_path": ""}),
    BadConfig("a misspelt variable", "environment", {"topk": "3"}),
    BadConfig("a log level that is no level", "environment", {"log_level": "verbose"}),
    BadConfig("a misspelt environment name", "environment", {"env": "production"}),
    BadConfig("a temperature written as a word", "environment", {"temperature": "low"}),
)
"""Twelve plausible mistakes, each run through the prototype and the settings class."""


@functools.lru_cache(maxsize=8)
def _passages(size: Any, overlap: Any) -> tuple[Any, ...]:
    """The handbook cut with the prototype's chunker, once per (size, overlap)."""
    from course_lib.datasets import load_handbook
    from course_lib.labs.chunking_lab import prototype_passages

    return tuple(prototype_passages(load_handbook(), size=size, overlap=overlap))


_RECALLS: dict[tuple[Any, ...], float] = {}


def _prototype_recall(passages: list[Any], key: tuple[Any, ...], questions: Any, k: Any) -> float:
    """The prototype's mean recall@k, computed once per (chunking, k, questions)."""
    from course_lib.labs.chunking_lab import evaluate_chunks

    if key not in _RECALLS:
        _RECALLS[key] = float(evaluate_chunks(passages, questions, k=k)["recall"].mean())
    return _RECALLS[key]


def run_prototype(
    changes: Mapping[str, Any], folder: Path, questions: Sequence[Any]
) -> tuple[str, str]:
    """Runs the prototype's pipeline with ``changes`` to its constants; returns where it
    failed (``at start-up``, ``ingest``, ``writing the index``, ``retrieval``, ``model
    call``) or ``never``, and what happened."""
    from course_lib.llm import LLMClient

    Path(folder).mkdir(parents=True, exist_ok=True)
    constants = dict(PROTOTYPE_CONSTANTS)
    constants.update({name.upper(): value for name, value in changes.items()})  # a typo: unused
    stage = "at start-up"
    try:
        logging.getLogger("handbook.prototype").setLevel(constants["LOG_LEVEL"])
        stage = "ingest"
        passages = list(_passages(constants["CHUNK_SIZE"], constants["CHUNK_OVERLAP"]))
        stage = "writing the index"
        with contextlib.closing(sqlite3.connect(Path(folder) / constants["INDEX_PATH"])) as db:
            db.execute("CREATE TABLE IF NOT EXISTS passages (doc_id TEXT, text TEXT)")
            db.execute("DELETE FROM passages")
            db.executemany(
                "INSERT INTO passages VALUES (?, ?)", [(p.doc_id, p.text) for p in passages]
            )
            db.commit()
        stage = "retrieval"
        size, overlap, k = constants["CHUNK_SIZE"], constants["CHUNK_OVERLAP"], constants["TOP_K"]
        asked = tuple(str(getattr(q, "question", q)) for q in questions)
        recall = _prototype_recall(passages, (size, overlap, k, asked), questions, k)
        stage = "model call"
        LLMClient.from_settings().chat(
            questions[0].question,
            model=constants["MODEL"],
            temperature=constants["TEMPERATURE"],
            seed=constants["SEED"],
            max_tokens=40,
        )
    except Exception as exc:
        return stage, f"{type(exc).__name__}: {str(exc).splitlines()[0][:70]}"
    return "never", f"ran to the end; recall@k {recall:.2f}"


def startup_table(folder: Path, questions: Sequence[Any]) -> pd.DataFrame:
    """Every bad configuration through the prototype and through the settings class (each
    written as ``folder/mistake-<n>/config/dev.toml`` or as variables)."""
    rows = []
    for number, bad in enumerate(BAD_CONFIGS):
        stage, detail = run_prototype(bad.values, folder, questions)
        variables: dict[str, str] = {}
        bad_dir = Path(folder) / f"mistake-{number}" / "config"
        bad_dir.mkdir(parents=True, exist_ok=True)
        base = dict(_ENV_VALUES["dev"])
        if bad.layer == "file":
            base.update(bad.values)
        else:
            variables = {f"{HANDBOOK_PREFIX}{k.upper()}": str(v) for k, v in bad.values.items()}
        (bad_dir / "dev.toml").write_text(_toml(base), encoding="utf-8")
        try:
            load_handbook_settings(bad_dir, environ=variables)
            caught = "not caught"
        except SettingsError as exc:
            caught = str(exc)
        rows.append(
            {
                "mistake": bad.what,
                "prototype fails": stage,
                "prototype says": detail,
                "settings say (at start-up)": caught,
            }
        )
    return pd.DataFrame(rows)


# --- the fingerprint -------------------------------------------------------------------


def config_fingerprint(config: HandbookSettings | Mapping[str, Any]) -> str:
    """16 hex digits of the SHA-256 of the output settings, validated (defaults filled,
    "5" read as 5, 0.20 as 0.2) and written as canonical JSON; secrets, log level, paths and
    URLs never enter it."""
    settings = config if isinstance(config, HandbookSettings) else settings_from(config)
    canonical = {name: getattr(settings, name) for name in _OUTPUT_SETTINGS}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class EvaluationCache:
    """Retrieval evaluations on the golden questions, stored under a configuration's id."""

    fingerprint: Any = config_fingerprint
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def evaluate(self, settings: HandbookSettings, questions: Sequence[Any]) -> dict[str, Any]:
        """The run of ``settings``: computed once per id, then read from the cache."""
        from course_lib.labs.chunking_lab import evaluate_chunks

        run_id = str(self.fingerprint(settings))
        cached = run_id in self.runs
        if not cached:
            passages = list(_passages(settings.chunk_size, settings.chunk_overlap))
            scores = evaluate_chunks(passages, questions, k=settings.top_k)
            self.runs[run_id] = {"recall": round(float(scores["recall"].mean()), 3)}
        return {"run id": run_id, **self.runs[run_id], "from cache": cached}


def _pair(
    a: dict[str, Any], b: dict[str, Any], same: bool, why: str
) -> tuple[dict[str, Any], dict[str, Any], bool, str]:
    return a, b, same, why


FINGERPRINT_PAIRS: tuple[tuple[dict[str, Any], dict[str, Any], bool, str], ...] = (
    _pair(
        {"model": "chat-small", "top_k": 5}, {"top_k": 5, "model": "chat-small"}, True, "key order"
    ),
    _pair(
        {"top_k": 5, "log_level": "DEBUG"}, {"top_k": 5, "log_level": "ERROR"}, True, "log level"
    ),
    _pair({"top_k": "5"}, {"top_k": 5}, True, "a number read from the environment"),
    _pair({"temperature": 0.2}, {"temperature": "0.20"}, True, "float formatting"),
    _pair({}, {"top_k": 5, "chunk_size": 1000}, True, "defaults written out"),
    _pair({"env": "staging", "top_k": 4}, {"env": "prod", "top_k": 4}, True, "environment name"),
    _pair(
        {"index_path": "handbook-dev.sqlite"}, {"index_path": "handbook.sqlite"}, True, "index path"
    ),
    _pair({"top_k": 5}, {"top_k": 6}, False, "top_k"),
    _pair({"model": "chat-small"}, {"model": "chat-large"}, False, "model"),
    _pair({"temperature": 0.0}, {"temperature": 0.7}, False, "temperature"),
    _pair({"chunk_size": 1000}, {"chunk_size": 800}, False, "chunk_size"),
    _pair({"seed": 0}, {"seed": 1}, False, "the model's sampling seed"),
)
"""Pairs of configurations to tune a fingerprint on: (a, b, same identity?, what differs)."""
