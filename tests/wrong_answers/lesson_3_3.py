"""Plausible wrong answers to lesson 3.3's exercises; each must be rejected by its checker."""

from __future__ import annotations

import difflib
import hashlib
import json
from typing import Any

PREFIX = "HANDBOOK_"

# --- 3.3.1 merge_layers ------------------------------------------------------------------------


def _layers(defaults, file, env, overrides):
    return [(defaults, "default"), (file, "file"), (env, "environment"), (overrides, "override")]


def _from_environ(environ):
    return {
        key[len(PREFIX) :].lower(): value
        for key, value in environ.items()
        if key.upper().startswith(PREFIX) and len(key) > len(PREFIX)
    }


def _file_beats_the_environment(defaults, file, environ, overrides):
    merged: dict[str, Any] = {}
    order = [(defaults, "default"), (_from_environ(environ), "environment"), (file, "file")]
    for mapping, layer in [*order, (overrides, "override")]:
        merged.update({name: (value, layer) for name, value in mapping.items()})
    return merged


def _every_variable_counts(defaults, file, environ, overrides):
    env = {key.lower().removeprefix("handbook_"): value for key, value in environ.items()}
    merged: dict[str, Any] = {}
    for mapping, layer in _layers(defaults, file, env, overrides):
        merged.update({name: (value, layer) for name, value in mapping.items()})
    return merged


def _prefix_in_capitals_only(defaults, file, environ, overrides):
    env = {k[len(PREFIX) :].lower(): v for k, v in environ.items() if k.startswith(PREFIX)}
    merged: dict[str, Any] = {}
    for mapping, layer in _layers(defaults, file, env, overrides):
        merged.update({name: (value, layer) for name, value in mapping.items()})
    return merged


def _keeps_the_case_of_the_name(defaults, file, environ, overrides):
    env = {k[len(PREFIX) :]: v for k, v in environ.items() if k.upper().startswith(PREFIX)}
    merged: dict[str, Any] = {}
    for mapping, layer in _layers(defaults, file, env, overrides):
        merged.update({name: (value, layer) for name, value in mapping.items()})
    return merged


def _values_without_layers(defaults, file, environ, overrides):
    merged: dict[str, Any] = {}
    for mapping, _ in _layers(defaults, file, _from_environ(environ), overrides):
        merged.update(mapping)
    return merged


def _names_the_top_layer_for_everything(defaults, file, environ, overrides):
    merged: dict[str, Any] = {}
    for mapping, _ in _layers(defaults, file, _from_environ(environ), overrides):
        merged.update({name: (value, "override") for name, value in mapping.items()})
    return merged


def _converts_variables_to_numbers(defaults, file, environ, overrides):
    env = {}
    for name, value in _from_environ(environ).items():
        try:
            env[name] = int(value)
        except ValueError:
            try:
                env[name] = float(value)
            except ValueError:
                env[name] = value
    merged: dict[str, Any] = {}
    for mapping, layer in _layers(defaults, file, env, overrides):
        merged.update({name: (value, layer) for name, value in mapping.items()})
    return merged


def _calls_the_lab(defaults, file, environ, overrides):
    from course_lib.labs import setting_sources

    return setting_sources  # refused before it is even called


# --- 3.3.2 explain -----------------------------------------------------------------------------


def _pydantics_report(exc, sources):
    return str(exc)


def _forgets_the_source(exc, sources):
    from course_lib.labs import SETTING_RULES

    error = exc.errors()[0]
    name = str(error["loc"][0])
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(name, sorted(SETTING_RULES), n=1)
        return f"Unknown setting {name!r}. Did you mean {close[0]!r}?"
    return f"Setting {name!r} has a bad value {error['input']!r}. Allowed: {SETTING_RULES[name]}."


def _shows_the_secret(exc, sources):
    from course_lib.labs import SETTING_RULES

    error = exc.errors()[0]
    name = str(error["loc"][0])
    where = sources.get(name, "the default")
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(name, sorted(SETTING_RULES), n=1)
        return f"Unknown setting {name!r} (from {where}). Did you mean {close[0]!r}?"
    return (
        f"Setting {name!r} has a bad value {error['input']!r} (from {where}): {error['msg']}. "
        f"Allowed: {SETTING_RULES[name]}."
    )


def _says_what_is_wrong_but_not_what_is_allowed(exc, sources):
    error = exc.errors()[0]
    name = str(error["loc"][0])
    where = sources.get(name, "the default")
    shown = "(hidden)" if name == "api_key" else repr(error["input"])
    return f"Setting {name!r} has a bad value {shown} (from {where}): {error['msg']}."


def _no_suggestion_for_an_unknown_key(exc, sources):
    from course_lib.labs import SETTING_RULES

    error = exc.errors()[0]
    name = str(error["loc"][0])
    where = sources.get(name, "the default")
    if error["type"] == "extra_forbidden":
        return f"Unknown setting {name!r} (from {where}). Remove it."
    shown = "(hidden)" if name == "api_key" else repr(error["input"])
    return (
        f"Setting {name!r} has a bad value {shown} (from {where}). Allowed: {SETTING_RULES[name]}."
    )


def _hides_every_value(exc, sources):
    from course_lib.labs import SETTING_RULES

    error = exc.errors()[0]
    name = str(error["loc"][0])
    where = sources.get(name, "the default")
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(name, sorted(SETTING_RULES), n=1)
        return f"Unknown setting {name!r} (from {where}). Did you mean {close[0]!r}?"
    return f"Setting {name!r} has a bad value (from {where}). Allowed: {SETTING_RULES[name]}."


def _calls_explain_error(exc, sources):
    from course_lib.labs import explain_error

    return explain_error(exc, sources)


def _rewrites_the_loaders_message(exc, sources):
    import re
    import tempfile

    from course_lib.errors import SettingsError
    from course_lib.labs import load_handbook_settings

    values = {str(error["loc"][0]): error["input"] for error in exc.errors()}
    where = sources.get(str(exc.errors()[0]["loc"][0]), "the default")
    with tempfile.TemporaryDirectory() as folder:
        try:
            load_handbook_settings(folder, environ={}, overrides=values)
        except SettingsError as error:
            return re.sub(r"\(from [^)]*\)", f"(from {where})", str(error), count=1)
    return "accepted"


# --- 3.3.3 fingerprint -------------------------------------------------------------------------

_OUTPUT = ("model", "temperature", "top_k", "chunk_size", "chunk_overlap", "seed")


def _sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _hashes_the_whole_configuration(config):
    return _sha(dict(config))


def _drops_secrets_but_does_not_validate(config):
    return _sha({k: v for k, v in config.items() if k in _OUTPUT})


def _keeps_the_environment_name(config):
    from course_lib.labs import settings_from

    settings = settings_from(config)
    return _sha({name: getattr(settings, name) for name in (*_OUTPUT, "env")})


def _only_model_and_top_k(config):
    from course_lib.labs import settings_from

    settings = settings_from(config)
    return _sha({"model": settings.model, "top_k": settings.top_k})


def _pythons_hash(config):
    from course_lib.labs import settings_from

    settings = settings_from(config)
    return str(hash(tuple(getattr(settings, name) for name in _OUTPUT)))


def _the_same_id_for_everything(config):
    return "0" * 64


def _no_defaults_filled_in(config):
    from course_lib.labs import settings_from

    settings = settings_from(config)
    return _sha({name: getattr(settings, name) for name in _OUTPUT if name in config})


def _calls_config_fingerprint(config):
    from course_lib.labs import config_fingerprint

    return config_fingerprint(config)


def _borrows_the_cache_fingerprint(config):
    from course_lib.labs import EvaluationCache

    return EvaluationCache().fingerprint(config)


def _output_settings_from_the_lab(config):
    from course_lib.labs import settings_from
    from course_lib.labs.configuration_lab import config_fingerprint as lab_fingerprint

    return lab_fingerprint(settings_from(config))


WRONG_ANSWERS = {
    "3.3.1": [
        _file_beats_the_environment,
        _every_variable_counts,
        _prefix_in_capitals_only,
        _keeps_the_case_of_the_name,
        _values_without_layers,
        _names_the_top_layer_for_everything,
        _converts_variables_to_numbers,
        _calls_the_lab,
    ],
    "3.3.2": [
        _pydantics_report,
        _forgets_the_source,
        _shows_the_secret,
        _says_what_is_wrong_but_not_what_is_allowed,
        _no_suggestion_for_an_unknown_key,
        _hides_every_value,
        _calls_explain_error,
        _rewrites_the_loaders_message,
    ],
    "3.3.3": [
        _hashes_the_whole_configuration,
        _drops_secrets_but_does_not_validate,
        _keeps_the_environment_name,
        _only_model_and_top_k,
        _pythons_hash,
        _the_same_id_for_everything,
        _no_defaults_filled_in,
        _calls_config_fingerprint,
        _borrows_the_cache_fingerprint,
        _output_settings_from_the_lab,
    ],
}
