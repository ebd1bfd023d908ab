"""Checkers of lesson 3.3, "Configuration management"."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise

SOLUTION = "solutions/3_software_foundations/33_configuration.ipynb"

LAYERS = ("default", "file", "environment", "override")


# --- 3.3.1 the layers merged, with the layer that set each value -----------------------------


def merge_layers(
    defaults: Mapping[str, Any],
    file: Mapping[str, Any],
    environ: Mapping[str, str],
    overrides: Mapping[str, Any],
) -> dict[str, tuple[Any, str]]:
    """Each setting's value and the layer that set it: defaults < file < environment <
    overrides. Only ``HANDBOOK_*`` variables count, in any case; the rest of the name,
    lower-cased, is the setting."""
    merged: dict[str, tuple[Any, str]] = {}
    for name, value in defaults.items():
        merged[name] = (value, "default")
    for name, value in file.items():
        merged[name] = (value, "file")
    for key, value in environ.items():
        if key.upper().startswith("HANDBOOK_") and len(key) > len("HANDBOOK_"):
            merged[key[len("HANDBOOK_") :].lower()] = (value, "environment")
    for name, value in overrides.items():
        merged[name] = (value, "override")
    return merged


_DEFAULTS = {"model": "chat-small", "temperature": 0.0, "top_k": 5, "chunk_size": 1000}

# (what the case tests, file, environ, overrides)
_MERGE_CASES: list[tuple[str, dict[str, Any], dict[str, str], dict[str, Any]]] = [
    ("defaults alone", {}, {}, {}),
    ("a file over the defaults", {"model": "chat-large", "top_k": 4}, {}, {}),
    (
        "a variable over the file",
        {"top_k": 4, "chunk_size": 800},
        {"HANDBOOK_TOP_K": "6", "PATH": "/usr/bin"},
        {},
    ),
    (
        "an override over everything",
        {"top_k": 4},
        {"HANDBOOK_TOP_K": "6"},
        {"top_k": 9, "log_level": "DEBUG"},
    ),
    (
        "variables in lower and mixed case",
        {},
        {"handbook_temperature": "0.3", "Handbook_Chunk_Size": "600"},
        {},
    ),
    (
        "other programs' variables",
        {"seed": 3},
        {"HOME": "/home/ana", "COURSE_SEED": "7", "TOP_K": "2", "MY_HANDBOOK_TOP_K": "1"},
        {},
    ),
    (
        "a setting only the file knows",
        {"index_path": "handbook-staging.sqlite"},
        {"HANDBOOK_LOG_LEVEL": "INFO"},
        {"seed": 11},
    ),
]


def _refuse_the_library(answer: Any, *functions_and_names: tuple[Any, str]) -> None:
    for function, name in functions_and_names:
        if answer_calls(answer, function):
            raise NotYet(
                f"your function calls the lab's {name}, which already does the exercise; "
                "write the logic yourself."
            )


@exercise(
    "3.3.1",
    title="Layers merged, with where each value came from",
    answer_name="merge_layers",
    reference=merge_layers,
    solution=SOLUTION,
    hints=(
        "Start from the lowest layer and let each higher one overwrite: defaults, then file, "
        "then environment, then overrides. Store (value, layer name) for every setting.",
        "From the environment keep only names that start with HANDBOOK_ in any case "
        "(key.upper().startswith('HANDBOOK_')); the setting is the rest of the name, "
        "lower-cased. Leave the values as the strings they are: validation comes later.",
        "merged = {}; for each (layer, mapping) in order: for name, value in mapping.items(): "
        "merged[name] = (value, layer); for the environment, name = key[9:].lower().",
    ),
)
def _check_merge_layers(answer: Any, probe: Probe) -> str:
    from course_lib.labs.configuration_lab import load_handbook_settings, setting_sources

    _refuse_the_library(
        answer, (setting_sources, "setting_sources"), (load_handbook_settings, "settings loader")
    )
    for what, file, environ, overrides in _MERGE_CASES:
        expected = merge_layers(_DEFAULTS, file, environ, overrides)
        call = f"merge_layers on {what}"
        got = probe.call_as(
            call, answer, dict(_DEFAULTS), dict(file), dict(environ), dict(overrides)
        )
        if got is None:
            raise NotYet(f"{call} returned None; did you forget a `return`?")
        if not isinstance(got, Mapping):
            raise NotYet(f"{call} returned a {type(got).__name__}; return a dict.")
        extra = sorted(set(map(str, got)) - set(expected))
        if extra:
            raise NotYet(
                f"{call} returned a setting {extra[0]!r} that no layer sets (only HANDBOOK_* "
                "variables count, and the setting is the rest of the name, lower-cased)."
            )
        for name, (value, layer) in expected.items():
            if name not in got:
                raise NotYet(f"{call} has no {name!r}; every setting of every layer belongs in it.")
            entry = got[name]
            if not isinstance(entry, tuple | list) or len(entry) != 2:
                raise NotYet(
                    f"{call}: {name!r} is {entry!r}; make each entry a (value, layer) pair."
                )
            if entry[1] != layer:
                raise NotYet(
                    f"{call}: {name!r} was set by {entry[1]!r}, expected {layer!r} (defaults < "
                    "file < environment < override; the layer names are "
                    f"{', '.join(LAYERS)})."
                )
            if entry[0] != value:
                raise NotYet(
                    f"{call}: {name!r} is {entry[0]!r}, expected {value!r} from the {layer} layer."
                )
    return "merges every hidden set of layers right and names the layer of each value."


# --- 3.3.2 an error message that says what to fix ----------------------------------------------


def explain(exc: Any, sources: Mapping[str, str]) -> str:
    """One line: the setting, its value (a secret hidden), its source, what is allowed."""
    from course_lib.labs.configuration_lab import SETTING_RULES

    error = exc.errors()[0]
    name = str(error["loc"][0])
    where = sources.get(name, "the default")
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(name, sorted(SETTING_RULES), n=1)
        guess = f" Did you mean {close[0]!r}?" if close else ""
        return f"Unknown setting {name!r} (from {where}).{guess} Fix the spelling or remove it."
    shown = "(hidden)" if name == "api_key" else repr(error["input"])
    reason = error["msg"].removeprefix("Value error, ")
    return (
        f"Setting {name!r} has a bad value {shown} (from {where}): {reason}. "
        f"Allowed: {SETTING_RULES[name]}."
    )


def _bad_inputs() -> list[tuple[str, dict[str, Any], str, str | None]]:
    """(what, values, their source, the setting a guess must name for an unknown key)."""
    from course_lib.labs.configuration_lab import demo_key

    return [
        ("a negative seed", {"seed": -3}, "override", None),
        ("a chunk size written as a word", {"chunk_size": "big"}, "HANDBOOK_CHUNK_SIZE", None),
        ("an unknown model", {"model": "gpt-4o"}, "config/staging.toml", None),
        ("a temperature of 2.5", {"temperature": 2.5}, "config/prod.toml", None),
        (
            "a key pasted with a space in it",
            {"api_key": demo_key("checker")[:12] + " " + demo_key("checker")[12:]},
            "HANDBOOK_API_KEY",
            None,
        ),
        ("a log level that is no level", {"log_level": "loud"}, "HANDBOOK_LOG_LEVEL", None),
        ("an environment that does not exist", {"env": "test"}, "HANDBOOK_ENV", None),
        ("a misspelt key", {"chunksize": 800}, "config/prod.toml", "chunk_size"),
        ("another misspelt key", {"temprature": 0.2}, "config/dev.toml", "temperature"),
    ]


@exercise(
    "3.3.2",
    title="An error that says what to fix",
    answer_name="explain",
    reference=explain,
    solution=SOLUTION,
    hints=(
        "exc.errors()[0] is a dict: 'loc' (a tuple whose first item is the setting's name), "
        "'type', 'msg' and 'input' (the bad value). sources[name] says which layer set it.",
        "Build one line: the name, repr(input), the source, the reason, then "
        "'Allowed: ' + SETTING_RULES[name]. Never show an api_key's value. For the type "
        "'extra_forbidden' (an unknown key) there is no rule: suggest the nearest setting "
        "with difflib.get_close_matches(name, sorted(SETTING_RULES), n=1).",
        'Return e.g. f"Setting {name!r} has a bad value {shown} (from {where}): '
        "{reason}. Allowed: {SETTING_RULES[name]}.\" with shown = '(hidden)' for api_key, "
        'and f"Unknown setting {name!r} (from {where}). Did you mean {close!r}?" otherwise.',
    ),
)
def _check_explain(answer: Any, probe: Probe) -> str:
    from pydantic import ValidationError

    from course_lib.labs.configuration_lab import (
        SETTING_RULES,
        explain_error,
        load_handbook_settings,
        settings_from,
    )

    _refuse_the_library(
        answer,
        (explain_error, "explain_error"),
        (load_handbook_settings, "settings loader (its message comes from explain_error)"),
    )
    for what, values, source, nearest in _bad_inputs():
        try:
            settings_from(values)
        except ValidationError as exc:
            error = exc
        else:  # pragma: no cover - the cases are bad by construction
            raise AssertionError(f"{what} was accepted")
        name = next(iter(values))
        call = f"explain on {what}"
        got = probe.call_as(call, answer, error, {name: source})
        if not isinstance(got, str):
            raise NotYet(f"{call} returned {type(got).__name__}; return the message as a str.")
        if "\n" in got.strip() or "errors.pydantic.dev" in got:
            raise NotYet(f"{call} returned several lines (pydantic's report?); return one line.")
        if name not in got:
            raise NotYet(f"{call} does not name the setting {name!r}.")
        if source not in got:
            raise NotYet(
                f"{call} does not say where the value came from ({source!r}, from sources)."
            )
        secret = values.get("api_key")
        if secret is not None and any(part in got for part in secret.split()):
            raise NotYet(f"{call} shows the API key; hide a secret's value whatever is wrong.")
        if nearest is not None:
            if not re.search(rf"\b{nearest}\b", got):
                raise NotYet(f"{call} does not suggest the nearest setting, {nearest!r}.")
            continue
        if SETTING_RULES[name] not in got:
            raise NotYet(f"{call} does not say what is allowed; include SETTING_RULES[{name!r}].")
        bad = error.errors()[0].get("input")
        if secret is None and repr(bad) not in got and str(bad) not in got:
            raise NotYet(f"{call} does not show the bad value ({bad!r}).")
    return "every hidden mistake gets one line naming the setting, its source and the fix."


# --- 3.3.3 the configuration fingerprint, on held-out pairs --------------------------------


_OUTPUT = ("model", "temperature", "top_k", "chunk_size", "chunk_overlap", "seed")


def fingerprint(config: Mapping[str, Any]) -> str:
    """The course's answer: validate (defaults, types), keep the output settings, hash
    canonical JSON with SHA-256."""
    from course_lib.labs.configuration_lab import settings_from

    settings = settings_from(config)
    canonical = {name: getattr(settings, name) for name in _OUTPUT}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _held_out_pairs() -> list[tuple[dict[str, Any], dict[str, Any], bool]]:
    """Pairs the learner never sees: (a, b, same identity?)."""
    from course_lib.labs.configuration_lab import demo_key

    base = {
        "env": "staging",
        "model": "chat-large",
        "temperature": 0.2,
        "top_k": 4,
        "chunk_size": 800,
        "chunk_overlap": 160,
        "seed": 0,
        "index_path": "handbook-staging.sqlite",
        "log_level": "INFO",
    }

    def but(**changes: Any) -> dict[str, Any]:
        return {**base, **changes}

    same = [
        (base, dict(reversed(list(base.items())))),
        (base, but(api_key=demo_key("a"))),
        (but(api_key=demo_key("b")), but(api_key=demo_key("c"))),
        (base, but(log_level="debug")),
        (base, but(index_path="handbook.sqlite")),
        (base, but(llm_base_url="https://llm.kestrel.example/v1")),
        (base, but(env="prod")),
        (base, but(top_k="4")),
        (base, but(temperature="0.20")),
        (but(temperature=1), but(temperature=1.0)),
        (base, but(chunk_size=" 800 ")),
        (base, but(model=" chat-large ")),
        (base, {k: v for k, v in base.items() if k != "seed"}),
        ({}, {"model": "chat-small", "temperature": 0.0, "top_k": 5, "chunk_size": 1000}),
    ]
    different = [
        (base, but(top_k=5)),
        (base, but(top_k="5")),
        (base, but(temperature=0.25)),
        (base, but(model="chat-small")),
        (base, but(chunk_size=1000)),
        (base, but(chunk_overlap=200)),
        (base, but(seed=1)),
        (base, {k: v for k, v in base.items() if k != "top_k"}),
        (but(temperature=0.0), but(temperature=0.001)),
        (but(api_key=demo_key("d")), but(api_key=demo_key("d"), chunk_overlap="100")),
    ]
    return [(a, b, True) for a, b in same] + [(a, b, False) for a, b in different]


_HEX = re.compile(r"[0-9a-f]{16,}")


@exercise(
    "3.3.3",
    title="A configuration fingerprint, checked on held-out pairs",
    answer_name="fingerprint",
    reference=fingerprint,
    solution=SOLUTION,
    hints=(
        "Two configurations deserve one id exactly when the assistant would retrieve and "
        "answer the same. Go through HandbookSettings.model_fields and ask of each: does it "
        "change what is retrieved or generated? Use hashlib.sha256(...).hexdigest(), never "
        "hash() (it changes every run).",
        "Make equal values look equal before hashing: '5' and 5, '0.20' and 0.2, ' 800 ' and "
        "800, a setting left out and its default written out. settings_from(config) validates "
        "a dict without file or environment; read the values from what it returns.",
        "Keep model, temperature, top_k, chunk_size, chunk_overlap and seed; write them with "
        "json.dumps(..., sort_keys=True, separators=(',', ':')) so key order cannot matter.",
    ),
)
def _check_fingerprint(answer: Any, probe: Probe) -> str:
    from course_lib.labs.configuration_lab import EvaluationCache, config_fingerprint

    _refuse_the_library(
        answer,
        (config_fingerprint, "config_fingerprint"),
        (EvaluationCache, "EvaluationCache (its fingerprint is config_fingerprint)"),
    )
    pairs = _held_out_pairs()
    right = 0
    for number, (a, b, same) in enumerate(pairs, start=1):
        call = f"fingerprint on held-out configuration {number}"
        first = probe.call_as(call, answer, dict(a))
        second = probe.call_as(call, answer, dict(b))
        for got in (first, second):
            if not isinstance(got, str) or not _HEX.fullmatch(got):
                raise NotYet(
                    f"{call} returned {got!r:.40}; return the hex digest of a hash (at "
                    "least 16 characters of 0-9a-f), e.g. hashlib.sha256(...).hexdigest()."
                )
        if probe.call_as(call, answer, dict(a)) != first:
            raise NotYet(f"{call} changed between two calls; a fingerprint must not.")
        right += (first == second) == same
    line = f"{right} of the {len(pairs)} held-out pairs right (target: all {len(pairs)})"
    if right < len(pairs):
        raise NotYet(f"{line}. Tune on FINGERPRINT_PAIRS and think about what else can differ.")
    return f"{line}: equal configurations share an id and every output change makes a new one."
