"""Plausible wrong answers to lesson 3.7's exercises; each must be rejected by its checker."""

from __future__ import annotations

from typing import Any

# --- 3.7.1 detect_drift ----------------------------------------------------------------------


def _pins(lock_text, environment, *, markers=True, normalise=True, extras=True):
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {}
    for raw in lock_text.replace("\\\n", " ").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        line = " ".join(p for p in line.split() if not p.startswith("--"))
        if not extras and "[" in line:
            name, _, version = line.partition("==")
            pins[name] = version.split(";")[0].strip()
            continue
        requirement = Requirement(line)
        if markers and requirement.marker and not requirement.marker.evaluate(dict(environment)):
            continue
        (spec,) = requirement.specifier
        name = canonicalize_name(requirement.name) if normalise else requirement.name
        pins[name] = spec.version
    return pins


def _report(pins, installed, *, normalise=True, versions=True):
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    have = {(canonicalize_name(n) if normalise else n): v for n, v in installed.items()}

    def differ(a, b):
        return Version(a) != Version(b) if versions else a != b

    return {
        "missing": sorted(set(pins) - set(have)),
        "extra": sorted(set(have) - set(pins)),
        "changed": sorted(n for n in pins if n in have and differ(pins[n], have[n])),
    }


def _ignores_markers(lock_text, installed, environment):
    return _report(_pins(lock_text, environment, markers=False), installed)


def _does_not_normalise_names(lock_text, installed, environment):
    return _report(_pins(lock_text, environment, normalise=False), installed, normalise=False)


def _compares_versions_as_strings(lock_text, installed, environment):
    return _report(_pins(lock_text, environment), installed, versions=False)


def _keeps_the_extras_in_the_name(lock_text, installed, environment):
    return _report(_pins(lock_text, environment, extras=False), installed)


def _forgets_extra_packages(lock_text, installed, environment):
    report = _report(_pins(lock_text, environment), installed)
    report["extra"] = []
    return report


def _uses_pips_parse_requirements(lock_text, installed, environment):
    import tempfile
    from pathlib import Path

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version
    from pip._internal.network.session import PipSession
    from pip._internal.req.req_file import parse_requirements

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "lock.txt")
        path.write_text(lock_text)
        parsed = [p.requirement for p in parse_requirements(str(path), session=PipSession())]
    pins = {}
    for line in parsed:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate(dict(environment)):
            continue
        (spec,) = requirement.specifier
        pins[canonicalize_name(requirement.name)] = spec.version
    have = {canonicalize_name(n): v for n, v in installed.items()}
    return {
        "missing": sorted(set(pins) - set(have)),
        "extra": sorted(set(have) - set(pins)),
        "changed": sorted(n for n in pins if n in have and Version(pins[n]) != Version(have[n])),
    }


def _calls_lock_pins(lock_text, installed, environment):
    from course_lib.labs import lock_pins

    return _report(lock_pins(lock_text), installed)


def _naive_split_on_equals(lock_text, installed, environment):
    pins = {}
    for line in lock_text.splitlines():
        if "==" in line and not line.strip().startswith(("#", "-")):
            name, _, version = line.partition("==")
            pins[name.strip()] = version.split()[0]
    return _report(pins, installed, normalise=False, versions=False)


def _normalises_only_the_lock(lock_text, installed, environment):
    from packaging.version import Version

    pins = _pins(lock_text, environment)
    return {
        "missing": sorted(set(pins) - set(installed)),
        "extra": sorted(set(installed) - set(pins)),
        "changed": sorted(
            n for n in pins if n in installed and Version(pins[n]) != Version(installed[n])
        ),
    }


def _returns_a_list(lock_text, installed, environment):
    report = _report(_pins(lock_text, environment), installed)
    return report["missing"] + report["extra"] + report["changed"]


# --- 3.7.2 my_ranges ---------------------------------------------------------------------------

_UNPINNED = ["kestrel-embed"]
_ONLY_AN_UPPER_BOUND_ON_EMBED = ["kestrel-embed>=1.0,<2"]
_EXACT_PINS = ["kestrel-embed==1.0", "kestrel-vocab==2.0"]
_COMPATIBLE_RELEASE_TOO_NARROW = ["kestrel-embed~=1.0.0", "kestrel-vocab<3"]
_VOCAB_PINNED_EXACTLY = ["kestrel-embed>=1.0,<2", "kestrel-vocab==2.0"]
_EMBED_CAPPED_BELOW_DAY_3 = ["kestrel-embed>=1.0,<1.2", "kestrel-vocab<3"]
_LOWER_BOUND_NOT_YET_RELEASED = ["kestrel-embed>=1.1,<2", "kestrel-vocab<3"]
_EXCLUDES_ONLY_THE_KNOWN_BAD_RELEASES = ["kestrel-embed!=2.0", "kestrel-vocab!=3.0"]
_TYPO_IN_THE_OPERATOR = ["kestrel-embed=>1.0"]
_A_DICT_NOT_A_LIST = {"kestrel-embed": ">=1.0,<2"}


# --- 3.7.3 major_mismatches ----------------------------------------------------------------------


def _compares_whole_versions(recorded, installed):
    return sorted(n for n, v in recorded.items() if installed.get(n) != v)


def _first_character(recorded, installed):
    from packaging.utils import canonicalize_name

    have = {canonicalize_name(n): v for n, v in installed.items()}
    return sorted(
        canonicalize_name(n)
        for n, v in recorded.items()
        if canonicalize_name(n) not in have or have[canonicalize_name(n)][0] != v[0]
    )


def _compares_major_and_minor(recorded, installed):
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    have = {canonicalize_name(n): Version(v) for n, v in installed.items()}
    return sorted(
        canonicalize_name(n)
        for n, v in recorded.items()
        if canonicalize_name(n) not in have
        or Version(v).release[:2] != have[canonicalize_name(n)].release[:2]
    )


def _ignores_missing_libraries(recorded, installed):
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    def line(version):
        v = Version(version)
        return (v.major,) if v.major else (0, v.minor)

    have = {canonicalize_name(n): v for n, v in installed.items()}
    return sorted(
        canonicalize_name(n)
        for n, v in recorded.items()
        if canonicalize_name(n) in have and line(v) != line(have[canonicalize_name(n)])
    )


def _does_not_normalise(recorded, installed):
    from packaging.version import Version

    def line(version):
        v = Version(version)
        return (v.major,) if v.major else (0, v.minor)

    return sorted(
        n for n, v in recorded.items() if n not in installed or line(v) != line(installed[n])
    )


def _returns_a_bool(recorded, installed):
    from course_lib.course.exercises.lesson_3_7 import major_mismatches

    return bool(major_mismatches(recorded, installed))


from course_lib.course.exercises.lesson_3_7 import detect_drift as _course_detector  # noqa: E402


def _wraps_the_reference_by_a_global_name(lock_text, installed, environment):
    return _course_detector(lock_text, installed, environment)


def _wraps_the_reference_detector(lock_text, installed, environment):
    from course_lib.course.exercises import lesson_3_7

    return lesson_3_7.detect_drift(lock_text, installed, environment)


def _wraps_the_reference_mismatches(recorded, installed):
    from course_lib.course.exercises.lesson_3_7 import major_mismatches as borrowed

    return borrowed(recorded, installed)


WRONG_ANSWERS: dict[str, list[Any]] = {
    "3.7.1": [
        _ignores_markers,
        _does_not_normalise_names,
        _compares_versions_as_strings,
        _keeps_the_extras_in_the_name,
        _forgets_extra_packages,
        _calls_lock_pins,
        _uses_pips_parse_requirements,
        _naive_split_on_equals,
        _normalises_only_the_lock,
        _returns_a_list,
        _wraps_the_reference_detector,
        _wraps_the_reference_by_a_global_name,
    ],
    "3.7.2": [
        _UNPINNED,
        _ONLY_AN_UPPER_BOUND_ON_EMBED,
        _EXACT_PINS,
        _COMPATIBLE_RELEASE_TOO_NARROW,
        _VOCAB_PINNED_EXACTLY,
        _EMBED_CAPPED_BELOW_DAY_3,
        _LOWER_BOUND_NOT_YET_RELEASED,
        _TYPO_IN_THE_OPERATOR,
        _A_DICT_NOT_A_LIST,
    ],
    "3.7.3": [
        _compares_whole_versions,
        _first_character,
        _compares_major_and_minor,
        _ignores_missing_libraries,
        _does_not_normalise,
        _returns_a_bool,
        _wraps_the_reference_mismatches,
    ],
}
