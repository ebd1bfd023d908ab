"""Lesson 3.7's bench: a tiny package ecosystem, two lockers, and throwaway environments.

Nothing here touches the learner's environment or the network. The lesson builds a folder
of small wheels in the course work directory (a wheel is a zip with a ``METADATA`` file that
lists ``Requires-Dist``, a ``WHEEL`` file and a ``RECORD``), and points the real tools at it:

* :func:`build_index` writes the releases of the fake *kestrel* ecosystem published up to a
  given day (day 1, day 2, and a day 3 the lesson never shows, for a checker);
* :func:`lock` runs ``uv pip compile`` or pip-tools' ``pip-compile`` with ``--no-index
  --find-links <folder>`` in a :class:`~course_lib.labs.ScratchRepo`, and times it;
* :func:`make_venv` creates a throwaway virtual environment with ``uv venv`` and installs
  into it from the folder; :func:`installed_versions` reads it with ``importlib.metadata``;
  :func:`smoke_test` runs the scratch project's import check in it;
* :func:`environment_fingerprint` hashes a sorted ``name==version`` list;
* :func:`deptry_findings` runs deptry on the scratch project and tabulates what it reports;
* :func:`judge_ranges` locks a list of version ranges on several days and says whether each
  day's resolution installs, passes the smoke test and avoids the advisories.

Every wheel is byte-for-byte reproducible (fixed zip timestamps and order), so its SHA-256,
and therefore every ``--hash`` line, is the same on every machine and Python.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import re
import sys
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from course_lib.errors import CourseLibError

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.labs.scratch_repo import ScratchRepo

__all__ = [
    "ADVISORIES",
    "ADVISORY_DAY",
    "APP_CODE",
    "DAYS",
    "EMBED_CODE",
    "GPU_EXTRA",
    "LESSON_ENVIRONMENT",
    "LOCK_PYTHON",
    "RELEASES",
    "VISIBLE_DRIFT_CASES",
    "DependencyLabError",
    "DriftCase",
    "LockRun",
    "RangeVerdict",
    "Release",
    "build_index",
    "build_wheel",
    "deptry_findings",
    "environment_fingerprint",
    "install_into",
    "installed_versions",
    "judge_ranges",
    "lock",
    "lock_pins",
    "make_venv",
    "newest_compatible",
    "scratch_pyproject",
    "smoke_test",
    "tamper_wheel",
    "tool_environment",
    "venv_python",
    "wheel_sizes",
]

LOCK_PYTHON = "3.9"
"""The lowest Python the scratch project supports; uv locks for it (and every later one)."""

_ZIP_DATE = (2026, 11, 2, 9, 0, 0)


class DependencyLabError(CourseLibError, ValueError):
    """Bad input to lesson 3.7's bench (an unknown tool or day, a requirement that does not
    parse)."""


@dataclass(frozen=True)
class Release:
    """One release of a fake package: what it needs and the module it ships."""

    name: str
    version: str
    day: int
    requires: tuple[str, ...] = ()
    code: str = ""
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    payload_kb: int = 0
    """Bytes of incompressible filler (in KiB): a stand-in for compiled kernels."""

    @property
    def module(self) -> str:
        return self.name.replace("-", "_")

    @property
    def filename(self) -> str:
        return f"{self.module}-{self.version}-py3-none-any.whl"


# The ecosystem. Day 1: what the project was built against. Day 2: kestrel-embed 1.1 fixes a
# security advisory, kestrel-embed 2.0 renames embed() to encode(), and kestrel-vocab 3.0
# drops the table that kestrel-tokenizer reads. (A later day, with more releases, lives with the
# exercise's checker, not here.)

EMBED_CODE = (
    "from kestrel_tokenizer import tokenize\n\n\n"
    "def embed(text):\n"
    "    ids = tokenize(text)\n"
    "    return [len(ids), sum(ids)]\n"
)
"""kestrel-embed's module in every 1.x release: ``embed(text)``."""

GPU_EXTRA = {"gpu": ('kestrel-cuda>=12; platform_system == "Linux"',)}
"""kestrel-embed's ``gpu`` extra: the CUDA kernels, on Linux only."""

RELEASES: tuple[Release, ...] = (
    Release(
        "kestrel-vocab",
        "2.0",
        1,
        code="TABLE = {'on-call': 1, 'expense': 2, 'vpn': 3}\n",
    ),
    Release(
        "kestrel-backport",
        "1.0",
        1,
        code="def removeprefix(text, prefix):\n"
        "    return text[len(prefix):] if text.startswith(prefix) else text\n",
    ),
    Release(
        "kestrel-tokenizer",
        "1.0",
        1,
        requires=("kestrel-vocab>=2.0", 'kestrel-backport>=1.0; python_version < "3.10"'),
        code="from kestrel_vocab import TABLE\n\n\n"
        "def tokenize(text):\n"
        "    return [TABLE.get(word, 0) for word in text.lower().split()]\n",
    ),
    Release(
        "kestrel-cuda",
        "12.0",
        1,
        code="KERNELS = 'fake GPU kernels'\n",
        payload_kb=2048,
    ),
    Release(
        "kestrel-embed",
        "1.0",
        1,
        requires=("kestrel-tokenizer>=1.0",),
        extras=GPU_EXTRA,
        code=EMBED_CODE,
    ),
    Release(
        "kestrel-embed",
        "1.1",
        2,
        requires=("kestrel-tokenizer>=1.0",),
        extras=GPU_EXTRA,
        code=EMBED_CODE,
    ),
    Release(
        "kestrel-embed",
        "2.0",
        2,
        requires=("kestrel-tokenizer>=1.0",),
        extras=GPU_EXTRA,
        code="from kestrel_tokenizer import tokenize\n\n\n"
        "def encode(text):  # 2.0: embed() is now encode()\n"
        "    ids = tokenize(text)\n"
        "    return [len(ids), sum(ids)]\n",
    ),
    Release(
        "kestrel-vocab",
        "3.0",
        2,
        code="VOCABULARY = {'on-call': 1, 'expense': 2, 'vpn': 3}  # 3.0: TABLE is gone\n",
    ),
)

DAYS = (1, 2)

ADVISORIES: dict[str, tuple[str, ...]] = {"kestrel-embed": ("1.0",)}
"""Releases with a security advisory, published on :data:`ADVISORY_DAY`: from that day, a
resolution must avoid them."""

ADVISORY_DAY = 2

APP_CODE = (
    "import kestrel_embed\n\n\n"
    "def embed_question(question):\n"
    "    return kestrel_embed.embed(question)\n\n\n"
    "if __name__ == '__main__':\n"
    "    print(embed_question('on-call expense vpn'))\n"
)
"""The scratch project's module: the Handbook Assistant's use of kestrel-embed 1.x."""


def build_wheel(folder: str | os.PathLike[str], release: Release) -> Path:
    """Writes ``release`` as a ``py3-none-any`` wheel into ``folder``; byte-reproducible."""
    target = Path(folder) / release.filename
    dist_info = f"{release.module}-{release.version}.dist-info"
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {release.name}",
        f"Version: {release.version}",
        f"Summary: A package of the course's fake kestrel ecosystem (day {release.day}).",
    ]
    metadata += [f"Requires-Dist: {req}" for req in release.requires]
    for extra, reqs in sorted(release.extras.items()):
        metadata.append(f"Provides-Extra: {extra}")
        for req in reqs:
            requirement, _, marker = req.partition(";")
            condition = f'extra == "{extra}"'
            if marker.strip():
                condition = f"({marker.strip()}) and {condition}"
            metadata.append(f"Requires-Dist: {requirement.strip()}; {condition}")
    files: dict[str, bytes] = {
        f"{release.module}/__init__.py": (
            f'"""{release.name} {release.version}"""\n\n__version__ = "{release.version}"\n'
            + release.code
        ).encode(),
        f"{dist_info}/METADATA": ("\n".join(metadata) + "\n").encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: course-lab\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    if release.payload_kb:
        seed = hashlib.sha256(release.filename.encode()).digest()
        blocks = (
            hashlib.sha256(seed + i.to_bytes(4, "big")).digest()
            for i in range(release.payload_kb * 32)
        )
        files[f"{release.module}/kernels.bin"] = b"".join(blocks)
    record = [f"{name},sha256={_urlsafe_digest(data)},{len(data)}" for name, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Stored, not deflated: compressed bytes depend on the zlib build, and the hashes must
    # not. Fixed dates, modes and "made on Unix", so the same bytes on every machine.
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as wheel:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED
            wheel.writestr(info, data)
    return target


def _urlsafe_digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_index(
    folder: str | os.PathLike[str], day: int, releases: Sequence[Release] = RELEASES
) -> Path:
    """The folder of wheels as an index serves it on ``day``: every release of ``releases``
    (the lesson's ecosystem by default) published up to that day."""
    days = sorted({r.day for r in releases})
    if day not in days:
        raise DependencyLabError(f"day must be one of {tuple(days)}, not {day!r}.")
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("*.whl"):
        old.unlink()
    for release in releases:
        if release.day <= day:
            build_wheel(root, release)
    return root


def tamper_wheel(folder: str | os.PathLike[str], name: str, version: str) -> Path:
    """Replaces a wheel of ``folder`` with one of the same name and version whose code has one
    more line: what a compromised mirror or a re-uploaded file looks like."""
    import dataclasses

    release = next((r for r in RELEASES if (r.name, r.version) == (name, version)), None)
    if release is None:
        raise DependencyLabError(f"There is no release {name} {version} in the ecosystem.")
    changed = dataclasses.replace(release, code=release.code + "import os  # and worse\n")
    return build_wheel(folder, changed)


def wheel_sizes(folder: str | os.PathLike[str]) -> dict[str, int]:
    """Bytes of each wheel in ``folder``, by ``name==version``."""
    sizes = {}
    for wheel in sorted(Path(folder).glob("*.whl")):
        module, version = wheel.name.split("-")[:2]
        sizes[f"{module.replace('_', '-')}=={version}"] = wheel.stat().st_size
    return sizes


# -- lockers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockRun:
    """One locker run: what it wrote, how long it took, and the command as typed."""

    tool: str
    text: str
    seconds: float
    command: str


def tool_environment(repo: ScratchRepo) -> dict[str, str]:
    """Caches inside the scratch repository's parent, no network, no Python downloads."""
    cache = repo.path.parent / "cache"
    return {
        "UV_CACHE_DIR": str(cache / "uv"),
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_CONFIG": "1",
        "UV_VENV_CLEAR": "1",  # uv venv replaces an environment of the same name
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INPUT": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_TOOLS_CACHE_DIR": str(cache / "pip-tools"),
        "PIP_CACHE_DIR": str(cache / "pip"),
        "VIRTUAL_ENV": "",
        "NO_COLOR": "1",
    }


def lock(
    repo: ScratchRepo,
    tool: str,
    source: str,
    index: str,
    output: str,
    *,
    hashes: bool = True,
    universal: bool = True,
    python_platform: str | None = None,
) -> LockRun:
    """Locks the requirements file ``source`` of ``repo`` into ``output``, offline.

    ``tool`` is ``"uv"`` (``uv pip compile``; ``universal`` resolves for every platform and
    Python from :data:`LOCK_PYTHON` on) or ``"pip-compile"`` (pip-tools; it resolves for the
    interpreter that runs it and has no such option). ``index`` is the folder of wheels,
    relative to the repository.
    """
    if tool == "uv":
        argv = ["uv", "pip", "compile", source, "-o", output, "--no-header", "--quiet"]
        # An interpreter named outright: searching PATH for a 3.9 takes seconds.
        argv += ["--python", sys.executable, "--python-version", LOCK_PYTHON]
        if universal:
            argv.append("--universal")
        if python_platform:
            argv += ["--python-platform", python_platform]
    elif tool == "pip-compile":
        argv = ["pip-compile", source, "-o", output, "--no-header", "--quiet"]
        argv += ["--no-emit-find-links", "--no-emit-index-url", "--strip-extras"]
        argv += ["--cache-dir", str(repo.path.parent / "cache" / "pip-tools")]
        if source.endswith("pyproject.toml"):
            argv.append("--no-build-isolation")  # read the metadata with this setuptools
    else:
        raise DependencyLabError(f"tool must be 'uv' or 'pip-compile', not {tool!r}.")
    argv += ["--no-index", "--find-links", index]
    # Both lockers keep the versions already in an existing output file (so that locking
    # again upgrades nothing you did not ask for); each run here resolves afresh.
    repo.file(output).unlink(missing_ok=True)
    if hashes:
        argv.append("--generate-hashes")
    started = time.perf_counter()
    repo.run(*argv, env=tool_environment(repo))
    seconds = time.perf_counter() - started
    return LockRun(tool, repo.read(output), seconds, _as_typed(repo))


def _as_typed(repo: ScratchRepo) -> str:
    """The last command as a learner would type it: the kernel's interpreter is ``python``
    (its path is this machine's)."""
    from course_lib.labs.scratch_repo import ScratchStep

    last = repo.steps[-1]
    command = last.command.replace(repo.shorten(sys.executable), "python")
    repo.steps[-1] = ScratchStep(command, last.returncode, last.output)
    return command


def lock_pins(text: str) -> dict[str, str]:
    """``{normalised name: version}`` of every ``name==version`` line of a lock file.

    Markers are ignored: when a universal lock pins a name once per marker, the last pin
    wins. Enough for this lesson's locks, not a drift detector (exercise 3.7.1 is one).
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    for raw in text.replace("\\\n", " ").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        line = " ".join(part for part in line.split() if not part.startswith("--hash"))
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise DependencyLabError(f"Cannot read the lock line {line!r}: {exc}") from None
        specs = list(requirement.specifier)
        if len(specs) == 1 and specs[0].operator == "==":
            pins[str(canonicalize_name(requirement.name))] = specs[0].version
    return pins


# -- throwaway environments ------------------------------------------------------------------


def venv_python(venv: str | os.PathLike[str]) -> Path:
    """The interpreter of a virtual environment (``bin/python`` or ``Scripts/python.exe``)."""
    root = Path(venv)
    windows = root / "Scripts" / "python.exe"
    return windows if windows.exists() else root / "bin" / "python"


def make_venv(
    repo: ScratchRepo,
    name: str,
    requirements: str,
    index: str,
    *,
    locked: bool = True,
    fresh: bool = False,
    check: bool = True,
) -> Path:
    """A fresh virtual environment ``name`` inside ``repo`` (``uv venv``, with the kernel's
    Python), with the requirements file ``requirements`` installed from the folder ``index``.

    ``locked``: the file is a lock, installed exactly (``uv pip sync``); otherwise it is
    resolved on the spot (``uv pip install -r``), as a tutorial's ``pip install`` does.
    ``fresh``: ignore uv's cache, as a new machine would (``--no-cache``). ``check=False``
    leaves a failed install in the transcript instead of raising.
    """
    env = tool_environment(repo)
    repo.run("uv", "venv", "--quiet", "--python", sys.executable, name, env=env)
    _as_typed(repo)
    return _install(repo, name, requirements, index, locked=locked, fresh=fresh, check=check)


def _install(
    repo: ScratchRepo,
    name: str,
    requirements: str,
    index: str,
    *,
    locked: bool = True,
    fresh: bool = False,
    check: bool = True,
) -> Path:
    """Installs ``requirements`` into the existing environment ``name`` (see make_venv)."""
    env = tool_environment(repo)
    python = str(venv_python(repo.file(name)))
    command = ["uv", "pip", "sync"] if locked else ["uv", "pip", "install", "-r"]
    options = ["--quiet", "--python", python, "--no-index", "--find-links", index]
    if fresh:
        options.append("--no-cache")
    repo.run(
        *command[:3],
        *options,
        *command[3:],
        requirements,
        env=env,
        ok=(0,) if check else range(256),
    )
    return repo.file(name)


def install_into(repo: ScratchRepo, venv: str, *requirements: str, index: str) -> None:
    """``uv pip install <requirements>`` into the environment ``venv`` of ``repo``, offline,
    from the folder ``index``: a change made by hand, outside the lock."""
    python = str(venv_python(repo.file(venv)))
    repo.run(
        "uv", "pip", "install", "--quiet", "--python", python, "--no-index", "--find-links",
        index, *requirements, env=tool_environment(repo),
    )  # fmt: skip


def installed_versions(venv: str | os.PathLike[str]) -> dict[str, str]:
    """``{normalised name: version}`` of the distributions installed in ``venv``."""
    from packaging.utils import canonicalize_name

    sites = _site_packages(Path(venv))
    found = {}
    for dist in importlib.metadata.distributions(path=[str(p) for p in sites]):
        name = dist.metadata["Name"]
        if name:
            found[str(canonicalize_name(name))] = dist.version
    return dict(sorted(found.items()))


def _site_packages(root: Path) -> list[Path]:
    sites = [p for p in root.glob("lib/python*/site-packages") if p.is_dir()]
    sites += [p for p in root.glob("Lib/site-packages") if p.is_dir()]
    if not sites:
        raise DependencyLabError(f"{root.name!r} is not a virtual environment (no site-packages).")
    return sites


def environment_fingerprint(versions: Mapping[str, str]) -> str:
    """SHA-256 of the sorted ``name==version`` lines (names normalised): two environments
    with the same packages at the same versions share it, whatever the machine."""
    from packaging.utils import canonicalize_name

    lines = sorted(f"{canonicalize_name(n)}=={v}" for n, v in versions.items())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def smoke_test(repo: ScratchRepo, venv: str, module: str = "app.py") -> str:
    """Runs the project's module with the environment's Python; ``"ok"`` or the error's
    last line."""
    python = str(venv_python(repo.file(venv)))
    # Python 3.13 colours tracebacks under some terminals and kernels; the stored text is plain.
    plain = {"NO_COLOR": "1", "PYTHON_COLORS": "0"}
    step = repo.run(python, module, ok=range(-255, 256), env=plain)
    if step.returncode == 0:
        return "ok"
    lines = step.output.strip().splitlines()
    if not lines:
        return f"exit code {step.returncode}"
    return re.sub(r" \([^()]*site-packages[^()]*\)", "", lines[-1])  # paths name the Python


# -- deptry ----------------------------------------------------------------------------------


def deptry_findings(repo: ScratchRepo, folder: str = ".", venv: str | None = None) -> pd.DataFrame:
    """deptry's findings on the project in ``folder``: one row per (code, module, meaning).

    deptry reads installed packages' metadata to map import names to distributions; with
    ``venv``, it sees the throwaway environment's packages too (through ``PYTHONPATH``), so
    an import of a package installed only as another's dependency is reported as transitive.
    """
    import pandas as pd

    report = repo.path.parent / "deptry.json"
    env = {"NO_COLOR": "1"}
    if venv is not None:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in _site_packages(repo.file(venv)))
    repo.run(
        "deptry", folder, "--extend-exclude", "envs", "--json-output", str(report),
        ok=(0, 1), env=env,
    )  # fmt: skip
    rows = []
    for item in json.loads(report.read_text(encoding="utf-8")):
        location = item.get("location", {})
        rows.append(
            {
                "code": item["error"]["code"],
                "module": item["module"],
                "file": Path(location.get("file", "")).name,
                "meaning": item["error"]["message"],
            }
        )
    return pd.DataFrame(rows, columns=["code", "module", "file", "meaning"]).sort_values(
        ["code", "module"], ignore_index=True
    )


def scratch_pyproject(dependencies: Sequence[str]) -> str:
    """The scratch project's ``pyproject.toml``, declaring ``dependencies`` (its ranges)."""
    listed = "".join(f"    {json.dumps(line)},\n" for line in dependencies)
    return (
        '[build-system]\nrequires = ["setuptools>=69"]\nbuild-backend = "setuptools.build_meta"'
        '\n\n[project]\nname = "handbook-app"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        f'dependencies = [\n{listed}]\n\n[tool.setuptools]\npy-modules = ["app"]\n'
    )


# -- judging version ranges (exercise 3.7.2) -------------------------------------------------


@dataclass(frozen=True)
class RangeVerdict:
    """How a set of version ranges fares on one day."""

    day: int
    resolved: dict[str, str]
    problem: str
    """Empty when the day's resolution installs, passes the smoke test and is up to date."""


def newest_compatible(day: int, releases: Sequence[Release] = RELEASES) -> dict[str, str]:
    """The newest release of each package, on ``day``, that works with the project (1.x of
    kestrel-embed, 2.x of kestrel-vocab, no advisory)."""
    from packaging.version import Version

    best: dict[str, str] = {}
    for r in releases:
        if r.day > day or r.name == "kestrel-cuda":
            continue
        if day >= ADVISORY_DAY and r.version in ADVISORIES.get(r.name, ()):
            continue
        if (r.name, Version(r.version).major) in {("kestrel-embed", 2), ("kestrel-vocab", 3)}:
            continue
        if r.name not in best or Version(r.version) > Version(best[r.name]):
            best[r.name] = r.version
    return best


def judge_ranges(
    repo: ScratchRepo,
    requirements: Sequence[str],
    days: Iterable[int] = DAYS,
    releases: Sequence[Release] = RELEASES,
) -> list[RangeVerdict]:
    """Locks ``requirements`` with uv on each day's index, installs the lock in a throwaway
    environment and runs the smoke test. A day's problem: the lock fails, the smoke test
    fails, a release with an advisory is installed, or a newer compatible release of a
    package the project names is left out (ranges too tight)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    names = []
    for line in requirements:
        try:
            names.append(str(canonicalize_name(Requirement(line).name)))
        except InvalidRequirement as exc:
            raise DependencyLabError(f"{line!r} is not a requirement: {exc}") from None
    repo.write("pyproject.toml", scratch_pyproject(requirements))
    verdicts = []
    for day in days:
        index = f"index-day{day}"
        build_index(repo.file(index), day, releases)
        try:
            run = lock(repo, "uv", "pyproject.toml", index, f"lock-day{day}.txt", hashes=False)
        except CourseLibError as exc:
            reason = str(exc).split(": ", 1)[-1].strip(" |")
            verdicts.append(RangeVerdict(day, {}, f"no resolution ({reason})"))
            continue
        pins = lock_pins(run.text)
        if venv_python(repo.file("envs/judge")).exists():  # sync: the same, one venv less
            _install(repo, "envs/judge", f"lock-day{day}.txt", index)
        else:
            make_venv(repo, "envs/judge", f"lock-day{day}.txt", index)
        outcome = smoke_test(repo, "envs/judge")
        problem = "" if outcome == "ok" else f"the smoke test fails: {outcome}"
        if not problem and day >= ADVISORY_DAY:
            flagged = [f"{n}=={v}" for n, v in pins.items() if v in ADVISORIES.get(n, ())]
            if flagged:
                problem = f"{', '.join(flagged)} has a security advisory"
        if not problem:
            newest = newest_compatible(day, releases)
            stale = [
                f"{n} {pins.get(n)} (newest that works: {newest[n]})"
                for n in names
                if n in newest and pins.get(n) != newest[n]
            ]
            if stale:
                problem = "too tight, misses a compatible release: " + ", ".join(stale)
        verdicts.append(RangeVerdict(day, pins, problem))
    return verdicts


# -- drift cases for exercise 3.7.1 ------------------------------------------------------------

LESSON_ENVIRONMENT: dict[str, str] = {
    "python_version": "3.12",
    "python_full_version": "3.12.4",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
"""The target environment the drift cases describe (markers are evaluated against it)."""


@dataclass(frozen=True)
class DriftCase:
    """A lock file, what an environment has installed, and the drift a detector must find."""

    what: str
    lock: str
    installed: Mapping[str, str]
    expected: Mapping[str, tuple[str, ...]]
    environment: Mapping[str, str] = field(default_factory=lambda: dict(LESSON_ENVIRONMENT))


def _h(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


VISIBLE_DRIFT_CASES: tuple[DriftCase, ...] = (
    DriftCase(
        "an environment that matches its lock",
        "kestrel-embed==1.0\nkestrel-tokenizer==1.0\nkestrel-vocab==2.0\n",
        {"kestrel-embed": "1.0", "kestrel-tokenizer": "1.0", "kestrel-vocab": "2.0"},
        {"missing": (), "extra": (), "changed": ()},
    ),
    DriftCase(
        "one package upgraded in place, with hashes and comments in the lock",
        f"kestrel-embed==1.0 \\\n    --hash=sha256:{_h('e')}\n    # via -r requirements.in\n"
        f"kestrel-vocab==2.0 \\\n    --hash=sha256:{_h('v')}\n    # via kestrel-tokenizer\n",
        {"kestrel-embed": "1.0", "kestrel-vocab": "3.0"},
        {"missing": (), "extra": (), "changed": ("kestrel-vocab",)},
    ),
    DriftCase(
        "a package removed and another installed by hand",
        "kestrel-embed==1.1\nkestrel-tokenizer==1.0\nkestrel-vocab==2.0\n",
        {"kestrel-embed": "1.1", "kestrel-vocab": "2.0", "kestrel-plot": "0.3"},
        {"missing": ("kestrel-tokenizer",), "extra": ("kestrel-plot",), "changed": ()},
    ),
    DriftCase(
        "a lock written by uv with a marker that does not apply here",
        "kestrel-backport==1.0 ; python_full_version < '3.10' \\\n"
        f"    --hash=sha256:{_h('b')}\n    # via kestrel-tokenizer\n"
        f"kestrel-embed==1.0 \\\n    --hash=sha256:{_h('e')}\n    # via -r requirements.in\n",
        {"kestrel-embed": "1.0"},
        {"missing": (), "extra": (), "changed": ()},
    ),
)
"""Pairs to tune a drift detector on; the checker uses others, in formats these do not show."""
