"""The course's settings, layered the way production services layer theirs.

Precedence, lowest first: the defaults below < ``course.toml`` < ``COURSE_*`` environment
variables < explicit overrides passed to :func:`load_settings`. A bad value anywhere fails
with one line naming the setting, the value, where it came from and what is allowed.

``course.toml`` is found from the ``COURSE_CONFIG_FILE`` environment variable, or else by
walking up from the current directory (a notebook's kernel starts in the notebook's folder,
so a ``course.toml`` at the repository root applies to every lesson). Set
``COURSE_CONFIG_FILE`` to an empty string to ignore any file.

An unknown key in ``course.toml`` and an unknown ``COURSE_*`` environment variable are both
errors that name the nearest setting: a typo must not silently leave a default in place. The
variables of the course's own scripts (``./run``: ``COURSE_VENV``, ``COURSE_NO_UV``; CI's
``.ci/run``: ``COURSE_CI_ALSO_PYTHON``, ``COURSE_CI_ALSO_VENV``) are not settings and are
accepted. The API key is a secret: no error message ever shows its value.
"""

from __future__ import annotations

import difflib
import os
import re
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from course_lib.errors import SettingsError

__all__ = [
    "CONFIG_FILE_NAME",
    "ENV_PREFIX",
    "CourseSettings",
    "find_config_file",
    "get_settings",
    "load_settings",
]

ENV_PREFIX = "COURSE_"
CONFIG_FILE_NAME = "course.toml"
CONFIG_FILE_ENV = "COURSE_CONFIG_FILE"
# Read by the course's shell scripts, not by course_lib; ./run and .ci/run document them.
_SCRIPT_VARIABLES = frozenset(
    {"COURSE_VENV", "COURSE_NO_UV", "COURSE_CI_ALSO_PYTHON", "COURSE_CI_ALSO_VENV"}
)
_WHOLE_NUMBER = re.compile(r"\s*[+-]?\d+\s*")

# Which course.toml the settings being built should read; set only inside load_settings.
_config_file: ContextVar[Path | None] = ContextVar("_config_file", default=None)


def _default_work_dir() -> Path:
    return platformdirs.user_data_path("production-ai-course", appauthor=False)


class CourseSettings(BaseSettings):
    """Every setting of the course and of course_lib, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    work_dir: Path = Field(
        default_factory=_default_work_dir,
        description="Where lessons write indexes, databases, caches and artifacts; "
        "'course reset' empties it. Kept outside the repository.",
        json_schema_extra={"allowed": "a directory path ('~' is expanded)"},
    )
    seed: int = Field(
        default=0,
        ge=0,
        description="The default random seed of every lesson.",
        json_schema_extra={"allowed": "a whole number >= 0"},
    )
    strict: bool = Field(
        default=False,
        description="Raise instead of printing when an exercise check fails; CI turns it on.",
        json_schema_extra={"allowed": "true or false (also 1/0, yes/no)"},
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING",
        description="How much course_lib logs.",
        json_schema_extra={"allowed": "one of DEBUG, INFO, WARNING, ERROR"},
    )

    model_registry: Path | None = Field(
        default=None,
        description="A model registry file (TOML) to use instead of the bundled one, e.g. to "
        "map the roles to a real provider's models.",
        json_schema_extra={"allowed": "a path to a .toml file, or unset for the bundled registry"},
    )
    llm_provider: Literal["local", "local-server", "openai-compatible"] = Field(
        default="local",
        description="Where chat calls go: the local model in process, the local "
        "OpenAI-compatible server, or any OpenAI-compatible endpoint (llm_base_url).",
        json_schema_extra={"allowed": "one of local, local-server, openai-compatible"},
    )
    llm_base_url: str | None = Field(
        default=None,
        description="Base URL of the OpenAI-compatible endpoint, e.g. https://api.openai.com/v1.",
        json_schema_extra={
            "allowed": "an http(s) URL ending in the API root, e.g. .../v1, or unset"
        },
    )
    llm_api_key: SecretStr | None = Field(
        default=None,
        description="API key of the endpoint. Held as a secret: it never prints or logs. "
        "Set it in the environment (COURSE_LLM_API_KEY), never in a committed file.",
        json_schema_extra={"allowed": "a string without spaces or line breaks"},
    )
    llm_connect_timeout: float = Field(
        allow_inf_nan=False,
        default=5.0,
        gt=0,
        description="Seconds to wait for a connection to the model endpoint.",
        json_schema_extra={"allowed": "a finite number of seconds > 0"},
    )
    llm_read_timeout: float = Field(
        allow_inf_nan=False,
        default=30.0,
        gt=0,
        description="Seconds to wait for a model response once connected.",
        json_schema_extra={"allowed": "a finite number of seconds > 0"},
    )
    usage_log: Path | None = Field(
        default=None,
        description="A JSON Lines file that every chat call appends its role, model and token "
        "counts to: how a run's cost is measured, e.g. a class's. No text of the prompt or the "
        "answer is written.",
        json_schema_extra={"allowed": "a file path ('~' is expanded), or unset for no log"},
    )
    # "memory" by default: lessons read spans into pandas with no collector running, and
    # nothing is set up until setup_tracing() is called. A long-running service should choose
    # "otlp": the in-memory exporter keeps every span until it is cleared.
    tracing_exporter: Literal["memory", "console", "otlp", "none"] = Field(
        default="memory",
        description="Where setup_tracing() sends finished spans: kept in memory (read them with "
        "spans_frame), printed to the console, sent over OTLP/HTTP to a collector, Jaeger, "
        "Phoenix or Langfuse (needs opentelemetry-exporter-otlp-proto-http), or nowhere.",
        json_schema_extra={"allowed": "one of memory, console, otlp, none"},
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="The OTLP/HTTP traces URL when tracing_exporter is 'otlp', e.g. "
        "http://localhost:4318/v1/traces (Phoenix: http://localhost:6006/v1/traces). Unset: "
        "the exporter's own default, or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.",
        json_schema_extra={"allowed": "an http(s) URL ending in /v1/traces, or unset"},
    )
    # A secret: a database URL may carry a password, so it never prints or logs.
    vector_store_url: SecretStr | None = Field(
        default=None,
        description="Where Handbook indexes live by default: unset for SQLite files in the work "
        "directory (sqlite-vec), or a Postgres URL (pgvector), e.g. the one "
        "'./run services status' prints. Held as a secret (a URL may carry a password).",
        json_schema_extra={"allowed": "a postgresql:// URL, or unset"},
    )
    # Secrets too: a Redis URL may carry a password (redis://:password@host:6379/0).
    queue_url: SecretStr | None = Field(
        default=None,
        description="Where the task queue keeps its jobs: unset for a SQLite file in the work "
        "directory (huey's SQLite storage), or a Redis URL, e.g. the one "
        "'./run services status' prints. Held as a secret (a URL may carry a password).",
        json_schema_extra={"allowed": "a redis:// or rediss:// URL, or unset"},
    )
    cache_url: SecretStr | None = Field(
        default=None,
        description="Where the exact and semantic caches keep their entries: unset for a SQLite "
        "file in the work directory, or a Redis URL. Held as a secret (a URL may carry a "
        "password).",
        json_schema_extra={"allowed": "a redis:// or rediss:// URL, or unset"},
    )
    object_store_url: str | None = Field(
        default=None,
        description="Where artifacts are stored, content-addressed, through fsspec: unset for "
        "the artifacts folder of the work directory, or a URL such as s3://bucket/prefix "
        "(credentials come from the provider's usual variables, never from this URL).",
        json_schema_extra={"allowed": "a folder, or a URL such as s3://bucket/prefix"},
    )
    capture_message_content: bool = Field(
        default=False,
        description="Record prompts, answers and retrieval queries on spans. Off by default: "
        "they may hold personal data and make spans large. Turn it on in development only.",
        json_schema_extra={"allowed": "true or false (also 1/0, yes/no)"},
    )

    @field_validator("work_dir", mode="after")
    @classmethod
    def _expand_work_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("model_registry", "usage_log", mode="after")
    @classmethod
    def _expand_registry(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @field_validator("seed", mode="before")
    @classmethod
    def _whole_seed(cls, value: Any) -> Any:
        # Pydantic would read true as 1 and 3.0 or "3.0" as 3: a seed is written as an integer.
        if isinstance(value, bool | float) or (
            isinstance(value, str) and not _WHOLE_NUMBER.fullmatch(value)
        ):
            raise ValueError("a seed is a whole number such as 42")
        return value

    @field_validator("llm_connect_timeout", "llm_read_timeout", mode="before")
    @classmethod
    def _no_bool_seconds(cls, value: Any) -> Any:
        # Pydantic would read true as 1.0 second.
        if isinstance(value, bool):
            raise ValueError("a timeout is a number of seconds, not true or false")
        return value

    @field_validator("vector_store_url", mode="after")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        url = value.get_secret_value().strip()
        if urlsplit(url).scheme not in ("postgresql", "postgres"):
            raise ValueError("the URL must start with postgresql://")
        return SecretStr(url)

    @field_validator("queue_url", "cache_url", mode="after")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        url = value.get_secret_value().strip()
        if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("the URL must start with redis:// (or rediss:// over TLS)")
        return SecretStr(url)

    @field_validator("object_store_url", mode="after")
    @classmethod
    def _object_store(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        parts = urlsplit(value)
        if "://" in value and parts.password:
            raise ValueError(
                "the URL holds a password; give credentials through the provider's own "
                "variables (for S3: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
            )
        return value

    @field_validator("llm_base_url", "otlp_endpoint", mode="after")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # an empty variable (COURSE_LLM_BASE_URL=) means unset
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("the URL must start with http:// or https:// and name a host")
        return value

    @field_validator("llm_api_key", mode="after")
    @classmethod
    def _plain_key(cls, value: SecretStr | None) -> SecretStr | None:
        # A key pasted with a trailing newline fails every call with a confusing 401.
        if value is not None and re.search(r"\s", value.get_secret_value()):
            raise ValueError("the key contains spaces or line breaks; copy it again without them")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
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
        # Earlier sources win: overrides, then the environment, then course.toml.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file.get()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


def find_config_file(start: Path | None = None) -> Path | None:
    """Returns the course.toml that applies, or None.

    ``COURSE_CONFIG_FILE`` wins when set (an empty value means no file); otherwise the
    nearest ``course.toml`` in ``start`` (default: the current directory) or its parents.
    """
    explicit = os.environ.get(CONFIG_FILE_ENV)
    if explicit is not None:
        if not explicit.strip():
            return None
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise SettingsError(
                f"{CONFIG_FILE_ENV} points at {str(path)!r}, which is not a file; "
                f"fix the path or unset {CONFIG_FILE_ENV}."
            )
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def load_settings(
    overrides: dict[str, Any] | None = None, *, config_file: Path | None = None
) -> CourseSettings:
    """Builds the settings from every layer; see the module docstring for the order.

    Args:
        overrides: values that win over every other layer, e.g. ``{"seed": 7}``.
        config_file: a course.toml to read instead of the one :func:`find_config_file` finds.

    Raises:
        SettingsError: a value is not allowed; the message names the setting, the value,
            its source and what is allowed.
    """
    overrides = dict(overrides or {})
    _check_environment()
    path = config_file if config_file is not None else find_config_file()
    token = _config_file.set(path)
    try:
        return CourseSettings(**overrides)
    except ValidationError as exc:
        raise _explain(exc, overrides=overrides, config_file=path) from None
    except ValueError as exc:  # e.g. a course.toml that is not valid TOML
        raise SettingsError(
            f"Could not read settings from {str(path)!r}: {exc}. Fix the file or remove it."
        ) from None
    finally:
        _config_file.reset(token)


def _check_environment() -> None:
    """Raises naming every ``COURSE_*`` variable that is no setting, with the nearest one.

    Pydantic-settings ignores unknown variables, so ``COURSE_SEEED=3`` would silently keep the
    default seed; ``course.toml`` already rejects unknown keys, and the environment should too.
    Values are never shown: a mistyped ``COURSE_LLM_API_KEY`` holds a secret.
    """
    known = {f"{ENV_PREFIX}{name}".upper() for name in CourseSettings.model_fields}
    known.add(CONFIG_FILE_ENV)
    unknown = sorted(
        key
        for key in os.environ
        if key.upper().startswith(ENV_PREFIX)
        and key.upper() not in known
        and key.upper() not in _SCRIPT_VARIABLES
    )
    if not unknown:
        return
    guesses = []
    for key in unknown:
        # Compare without the shared prefix, which would make every name look alike.
        suffixes = {name.removeprefix(ENV_PREFIX): name for name in known}
        bare = key.upper().removeprefix(ENV_PREFIX)
        close = difflib.get_close_matches(bare, sorted(suffixes), n=1, cutoff=0.6)
        guesses.append(f"{key} (did you mean {suffixes[close[0]]}?)" if close else key)
    many = len(unknown) > 1
    raise SettingsError(
        f"Unknown environment variable{'s' if many else ''} {', '.join(guesses)}: no course "
        f"setting has {'those names' if many else 'that name'}. Fix the spelling or unset "
        f"{'them' if many else 'it'}; the settings' variables are "
        f"{', '.join(sorted(known))}."
    )


@lru_cache(maxsize=1)
def get_settings() -> CourseSettings:
    """Returns the process-wide settings, built on first use (nothing happens at import).

    Call ``get_settings.cache_clear()`` after changing the environment to rebuild them.
    """
    return load_settings()


def _explain(
    exc: ValidationError, *, overrides: dict[str, Any], config_file: Path | None
) -> SettingsError:
    """Turns pydantic's report into one line that says where the bad value came from."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    fields = CourseSettings.model_fields
    where = _describe_source(name, overrides=overrides, config_file=config_file)
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(name, sorted(fields), n=1, cutoff=0.6)
        guess = f" Did you mean {close[0]!r}?" if close else ""
        return SettingsError(
            f"Unknown setting {name!r} {where}.{guess} Check the spelling; known settings "
            f"are: {', '.join(sorted(fields))}."
        )
    extra = fields[name].json_schema_extra if name in fields else None
    allowed = extra.get("allowed") if isinstance(extra, dict) else None
    reason = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
    reason = reason[0].lower() + reason[1:] if reason else reason
    hint = f" Allowed: {allowed}." if allowed else ""
    more = (
        f" ({len(exc.errors()) - 1} more bad settings after this one.)"
        if len(exc.errors()) > 1
        else ""
    )
    # A secret stays hidden whatever went wrong with it: a list holding the key, a key with a
    # stray newline, a number... the message must be safe to paste into a chat or a CI log.
    shown = "(hidden: a secret)" if _is_secret(name) else repr(error.get("input"))
    return SettingsError(f"Setting {name!r} has a bad value {shown} {where}: {reason}.{hint}{more}")


def _is_secret(name: str) -> bool:
    if name == "object_store_url":
        return True  # not a secret, but a bad value may be a URL with a password in it
    field = CourseSettings.model_fields.get(name)
    if field is None:
        return False
    annotation = field.annotation
    return annotation is SecretStr or SecretStr in get_args(annotation)


def _describe_source(name: str, *, overrides: dict[str, Any], config_file: Path | None) -> str:
    if name in overrides:
        return "(from an explicit override)"
    env_name = f"{ENV_PREFIX}{name}".upper()
    if any(key.upper() == env_name for key in os.environ):
        return f"(from the environment variable {env_name})"
    if config_file is not None:
        return f"(from {str(config_file)!r})"
    return "(the default)"
