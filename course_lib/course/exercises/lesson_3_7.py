"""Checkers of lesson 3.7, "Dependency management"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise

SOLUTION = "solutions/3_software_foundations/37_dependencies.ipynb"

_KINDS = ("missing", "extra", "changed")


# --- 3.7.1 a drift detector, checked on held-out lock/environment pairs ----------------------


def detect_drift(
    lock_text: str, installed: Mapping[str, str], environment: Mapping[str, str]
) -> dict[str, list[str]]:
    """What differs between a lock file and an environment: sorted, normalised names of the
    pins that apply here but are not installed (``missing``), of installed packages the lock
    does not pin for this environment (``extra``), and of pins installed at another version
    (``changed``; versions compared as PEP 440 versions, so ``2.0`` equals ``2.0.0``).
    """
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    text = lock_text.replace("\r\n", "\n").replace("\\\n", " ")
    pins: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        line = " ".join(part for part in line.split() if not part.startswith("--"))
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(dict(environment)):
            continue
        specs = list(requirement.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "==="):
            pins[str(canonicalize_name(requirement.name))] = specs[0].version
    have = {str(canonicalize_name(name)): version for name, version in installed.items()}

    def same(a: str, b: str) -> bool:
        try:
            return Version(a) == Version(b)
        except InvalidVersion:
            return a == b

    return {
        "missing": sorted(set(pins) - set(have)),
        "extra": sorted(set(have) - set(pins)),
        "changed": sorted(n for n in pins if n in have and not same(pins[n], have[n])),
    }


def _hash(seed: str) -> str:
    import hashlib

    return hashlib.sha256(f"held-out {seed}".encode()).hexdigest()


def _held_out_cases() -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    """(feature, lock text, installed, environment): formats the visible pairs do not show."""
    from course_lib.labs.dependencies_lab import LESSON_ENVIRONMENT

    linux = dict(LESSON_ENVIRONMENT)
    windows = dict(linux, sys_platform="win32", platform_system="Windows", os_name="nt")
    old = dict(linux, python_version="3.10", python_full_version="3.10.14")
    hashes = f" \\\n    --hash=sha256:{_hash('a')} \\\n    --hash=sha256:{_hash('b')}\n"
    uv_via = "    # via\n    #   kestrel-embed\n    #   kestrel-rank\n"
    return [
        (
            "several hashes per pin and multi-line '# via' comments",
            f"kestrel-vocab==2.0{hashes}{uv_via}kestrel-embed==1.1{hashes}"
            "    # via -r requirements.in\n",
            {"kestrel-vocab": "2.0", "kestrel-embed": "1.2"},
            linux,
        ),
        (
            "a pin with extras",
            "kestrel-embed[gpu]==1.1\nkestrel-cuda==12.0 ; sys_platform == 'linux'\n",
            {"kestrel-embed": "1.1", "kestrel-cuda": "12.0"},
            linux,
        ),
        (
            "names spelled differently in the lock and the environment",
            "Kestrel_Tokenizer==1.0\nkestrel.vocab==2.0\nPyYAML==6.0.2\n",
            {"kestrel-tokenizer": "1.0", "Kestrel-Vocab": "2.1", "pyyaml": "6.0.2"},
            linux,
        ),
        (
            "a marker that applies in this environment",
            'kestrel-winpath==1.0 ; sys_platform == "win32"\nkestrel-embed==1.1\n',
            {"kestrel-embed": "1.1"},
            windows,
        ),
        (
            "python_version markers on an older Python",
            "tomli==2.2.1 ; python_full_version < '3.11'\n"
            "exceptiongroup==1.3.0 ; python_full_version < '3.11'\n"
            "kestrel-embed==1.1\n",
            {"tomli": "2.2.1", "kestrel-embed": "1.1"},
            old,
        ),
        (
            "versions written differently but equal",
            "kestrel-embed==2.0\nkestrel-rank==1.0rc1\nkestrel-vocab==2.1\n",
            {"kestrel-embed": "2.0.0", "kestrel-rank": "1.0.0rc1", "kestrel-vocab": "2.1.0"},
            linux,
        ),
        (
            "a marker that does not apply here, the package absent",
            "colorama==0.4.6 ; sys_platform == 'win32'\nkestrel-embed==1.1\n",
            {"kestrel-embed": "1.1"},
            linux,
        ),
    ]


def _refuse_shortcuts(answer: Any, probe: Probe) -> None:
    from course_lib.course.doctor import check_lock, locked_requirements
    from course_lib.labs.dependencies_lab import lock_pins

    if answer_calls(answer, detect_drift):
        raise NotYet(f"{probe.name} calls the course's detect_drift: write your own.")
    readers: list[Any] = [lock_pins, locked_requirements, check_lock]
    try:  # pip's own requirements-file reader (internal, but importable)
        from pip._internal.req.req_file import parse_requirements
    except ImportError:  # pragma: no cover - pip not installed
        pass
    else:
        readers.append(parse_requirements)
    for function in readers:
        if answer_calls(answer, function):
            raise NotYet(
                f"{probe.name} calls {function.__name__}, which reads a lock file for you; parse "
                "the lock yourself (packaging.requirements.Requirement may help)."
            )


def _normalised(got: Any, call: str) -> dict[str, list[str]]:
    if got is None:
        raise NotYet(f"{call} returned None; did you forget a `return`?")
    if not isinstance(got, Mapping):
        raise NotYet(f"{call} returned a {type(got).__name__}; return a dict of three lists.")
    missing = [kind for kind in _KINDS if kind not in got]
    if missing:
        raise NotYet(f"{call} returned no {missing[0]!r} key; return all of {list(_KINDS)}.")
    out = {}
    for kind in _KINDS:
        value = got[kind]
        if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
            raise NotYet(f"{call}: {kind!r} is a {type(value).__name__}; make it a list of names.")
        out[kind] = sorted(str(v) for v in value)
    return out


@exercise(
    "3.7.1",
    title="A drift detector, checked on lock files it has not seen",
    answer_name="detect_drift",
    reference=detect_drift,
    solution=SOLUTION,
    hints=(
        "The loop already gives you each pin as a Requirement. Skip it when "
        "requirement.marker is set and requirement.marker.evaluate(dict(environment)) is "
        "False; otherwise store spec.version under its normalised name.",
        "packaging.utils.canonicalize_name('Foo_Bar') gives 'foo-bar'; normalise the installed "
        "names too. Compare versions as Version(a) != Version(b), so '2.0' equals '2.0.0'.",
        "Then three set differences over the normalised names: pins not installed (missing), "
        "installed but not pinned (extra), both but Version(pin) != Version(installed) "
        "(changed). Return each as a sorted list.",
    ),
)
def _check_detect_drift(answer: Any, probe: Probe) -> str:
    from course_lib.labs.dependencies_lab import VISIBLE_DRIFT_CASES

    _refuse_shortcuts(answer, probe)
    for case in VISIBLE_DRIFT_CASES:
        call = f"detect_drift on the visible pair {case.what!r}"
        got = _normalised(
            probe.call_as(call, answer, case.lock, dict(case.installed), dict(case.environment)),
            call,
        )
        expected = {kind: sorted(case.expected[kind]) for kind in _KINDS}
        if got != expected:
            raise NotYet(
                f"{call} returned {got}, expected {expected}. Get the visible pairs right first "
                "(they are in VISIBLE_DRIFT_CASES)."
            )
    cases = _held_out_cases()
    right = 0
    for _feature, lock_text, installed, environment in cases:
        call = "detect_drift on a held-out pair"
        got = _normalised(
            probe.call_as(call, answer, lock_text, dict(installed), dict(environment)), call
        )
        right += got == detect_drift(lock_text, installed, environment)
    if right < len(cases):
        raise NotYet(
            f"{right} of {len(cases)} held-out lock/environment pairs right (target: all). "
            "Re-read the three rules in the exercise (markers, normalised names, PEP 440 "
            "versions) and test each on a lock you write yourself."
        )
    return (
        f"{right} of {len(cases)} held-out lock/environment pairs right: hashes, markers, "
        "extras, and name and version spellings are all read correctly."
    )


# --- 3.7.2 version ranges that survive day 2 (and day 3) -------------------------------------

REFERENCE_RANGES = ["kestrel-embed>=1.0,<2", "kestrel-vocab>=2.0,<3"]


def _releases_with_day_3() -> tuple[Any, ...]:
    """The lesson's ecosystem plus the releases of a day the learner never sees: compatible
    releases and new breaking majors."""
    from course_lib.labs.dependencies_lab import EMBED_CODE, GPU_EXTRA, RELEASES, Release

    return (
        *RELEASES,
        Release(
            "kestrel-tokenizer",
            "1.1",
            3,
            requires=("kestrel-vocab>=2.0", 'kestrel-backport>=1.0; python_version < "3.10"'),
            code="from kestrel_vocab import TABLE\n\n\n"
            "def tokenize(text):\n"
            "    return [TABLE.get(word, 0) for word in text.lower().split()]\n",
        ),
        Release(
            "kestrel-embed",
            "1.2",
            3,
            requires=("kestrel-tokenizer>=1.0",),
            extras=GPU_EXTRA,
            code=EMBED_CODE,
        ),
        Release(
            "kestrel-vocab",
            "2.1",
            3,
            code="TABLE = {'on-call': 1, 'expense': 2, 'vpn': 3, 'laptop': 4}\n",
        ),
        Release(
            "kestrel-embed",
            "2.1",
            3,
            requires=("kestrel-tokenizer>=1.0",),
            extras=GPU_EXTRA,
            code="from kestrel_tokenizer import tokenize\n\n\n"
            "def encode(text):\n"
            "    return [len(tokenize(text))]\n",
        ),
        Release(
            "kestrel-vocab",
            "3.1",
            3,
            code="VOCABULARY = {'on-call': 1, 'expense': 2, 'vpn': 3, 'laptop': 4}\n",
        ),
    )


@exercise(
    "3.7.2",
    title="Version ranges that work on day 1, day 2 and a day you have not seen",
    answer_name="my_ranges",
    expects_function=False,
    reference=REFERENCE_RANGES,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "Read the day-2 failures: which release broke the app, and is it a package you depend "
        "on directly or one that comes with it? A range's upper bound keeps out a major "
        "release that changes an API; a lower bound keeps out what you never tested.",
        "kestrel-embed 2.0 renamed embed(), and kestrel-vocab 3.0 removed the table "
        "kestrel-tokenizer reads. You may constrain a transitive dependency by naming it with "
        "a range. But do not pin exact versions: the check also wants the security fix of "
        "day 2 and the compatible releases of a later day.",
        "['kestrel-embed>=1.0,<2', 'kestrel-vocab>=2.0,<3']: compatible releases come in, "
        "breaking majors stay out.",
    ),
)
def _check_ranges(answer: Any, probe: Probe) -> str:
    from course_lib.errors import CourseLibError
    from course_lib.labs.dependencies_lab import judge_ranges
    from course_lib.labs.scratch_repo import ScratchRepo
    from course_lib.workdir import work_path

    if isinstance(answer, str):
        answer = [answer]
    if not isinstance(answer, (list, tuple)) or not all(isinstance(a, str) for a in answer):
        raise NotYet(
            f"my_ranges should be a list of requirement strings such as 'kestrel-embed>=1.0'; "
            f"got {type(answer).__name__}."
        )
    if not any(a.strip().lower().replace("_", "-").startswith("kestrel-embed") for a in answer):
        raise NotYet("my_ranges must name kestrel-embed, the package the app imports.")
    repo = ScratchRepo.create(work_path("lesson_3_7", "check-ranges"), files={})
    from course_lib.labs.dependencies_lab import APP_CODE

    repo.write("app.py", APP_CODE)
    try:
        verdicts = judge_ranges(repo, list(answer), days=(1, 2, 3), releases=_releases_with_day_3())
    except CourseLibError as exc:
        raise NotYet(f"my_ranges could not be locked: {exc}") from None
    seen = [v for v in verdicts if v.problem and v.day in (1, 2)]
    if seen:
        first = seen[0]
        days = ", ".join(str(v.day) for v in seen)
        raise NotYet(f"Not on day(s) {days}. Day {first.day}: {first.problem}.")
    if any(v.problem for v in verdicts):
        raise NotYet(
            "Days 1 and 2 pass, the unseen day 3 does not (it is held out: no details). Ask of "
            "each bound: does it keep out only a release known to break the app, and would it "
            "let in a compatible release published later?"
        )
    return (
        f"Your ranges lock, install and pass the smoke test on days "
        f"{', '.join(str(v.day) for v in verdicts)} (day 3 unseen), with no advisory and the "
        "newest compatible releases."
    )


# --- 3.7.3 a load-time check of the libraries recorded with an artifact ----------------------


def major_mismatches(recorded: Mapping[str, str], installed: Mapping[str, str]) -> list[str]:
    """Sorted, normalised names of the recorded libraries that are missing from
    ``installed`` or differ in their major version there."""
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    have = {str(canonicalize_name(n)): v for n, v in installed.items()}
    bad = []
    for name, version in recorded.items():
        key = str(canonicalize_name(name))
        if key not in have or Version(version).major != Version(have[key]).major:
            bad.append(key)
    return sorted(bad)


# The pairs the exercise shows: (recorded, installed, expected). The checker names a failing one.
VISIBLE_VERSION_CASES: list[tuple[dict[str, str], dict[str, str], list[str]]] = [
    ({"numpy": "2.1.3"}, {"numpy": "2.3.0"}, []),
    ({"numpy": "1.26.4"}, {"numpy": "2.0.0"}, ["numpy"]),
    ({"scikit_learn": "1.5.2", "joblib": "1.4.2"}, {"scikit-learn": "1.5.2"}, ["joblib"]),
]

# Held out: (what the case tests, recorded with the artifact, installed now); count-only feedback.
_VERSION_CASES: list[tuple[str, dict[str, str], dict[str, str]]] = [
    (
        "identical versions",
        {"numpy": "2.1.3", "scikit-learn": "1.5.2"},
        {"numpy": "2.1.3", "scikit-learn": "1.5.2"},
    ),
    (
        "a patch and a minor release apart",
        {"numpy": "2.1.3", "scikit-learn": "1.5.2"},
        {"numpy": "2.3.0", "scikit-learn": "1.5.1"},
    ),
    (
        "a major release apart",
        {"numpy": "1.26.4", "pandas": "2.2.3"},
        {"numpy": "2.0.0", "pandas": "2.2.3"},
    ),
    (
        "two-digit majors",
        {"pyarrow": "10.0.1", "torch": "2.3.0"},
        {"pyarrow": "1.0.0", "torch": "2.4.1"},
    ),
    (
        "names spelled differently",
        {"scikit_learn": "1.5.2", "PyYAML": "6.0"},
        {"scikit-learn": "2.0.0", "pyyaml": "6.0.2"},
    ),
    (
        "a library no longer installed",
        {"joblib": "1.4.2", "numpy": "2.1.3"},
        {"numpy": "2.1.0"},
    ),
    (
        "local labels and pre-releases",
        {"torch": "2.3.0+cpu", "numpy": "2.0.0rc1"},
        {"torch": "2.3.1", "numpy": "2.1.0"},
    ),
    ("nothing recorded", {}, {"numpy": "2.1.3"}),
]


@exercise(
    "3.7.3",
    title="Refuse an artifact whose libraries changed a major version",
    answer_name="major_mismatches",
    reference=major_mismatches,
    solution=SOLUTION,
    hints=(
        "Compare versions as versions, not as strings: packaging.version.Version('10.0.1')"
        ".major is 10, and the text '10.0.1' starts with the same character as '1.0.0'.",
        "A recorded library that is not installed at all is a mismatch too. Normalise names on "
        "both sides with packaging.utils.canonicalize_name ('scikit_learn' is 'scikit-learn').",
        "For each recorded name: refuse it if it is not installed, or if "
        "Version(recorded).major != Version(installed).major. Return the sorted normalised "
        "names, a list even when it is empty.",
    ),
)
def _check_major_mismatches(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, major_mismatches):
        raise NotYet(f"{probe.name} calls the course's major_mismatches: write your own.")

    def run(call: str, recorded: dict[str, str], installed: dict[str, str]) -> list[str]:
        got = probe.call_as(call, answer, dict(recorded), dict(installed))
        if got is None:
            raise NotYet(f"{call} returned None; did you forget a `return`?")
        if isinstance(got, (str, bool)) or not isinstance(got, (list, tuple, set)):
            raise NotYet(f"{call} returned a {type(got).__name__}; return a list of names.")
        return sorted(map(str, got))

    for recorded, installed, expected in VISIBLE_VERSION_CASES:
        call = f"major_mismatches({recorded}, {installed})"
        got = run(call, recorded, installed)
        if got != expected:
            raise NotYet(f"{call} returned {got}, expected {expected}.")
    right = sum(
        run("major_mismatches on a held-out pair", recorded, installed)
        == major_mismatches(recorded, installed)
        for _what, recorded, installed in _VERSION_CASES
    )
    if right < len(_VERSION_CASES):
        raise NotYet(
            f"{right} of {len(_VERSION_CASES)} held-out version pairs right (target: all). "
            "Re-read the rule and test it on pairs you write yourself."
        )
    counts = Counter(bool(major_mismatches(r, i)) for _, r, i in _VERSION_CASES)
    return (
        f"major_mismatches is right on the visible pairs and all {len(_VERSION_CASES)} "
        "held-out version pairs "
        f"({counts[True]} to refuse, {counts[False]} to accept)."
    )
