"""Each package's public API is its façade's ``__all__``, pinned here; lessons import only that.

Changing a façade is a decision, not an accident: regenerate the pin with
``python tests/test_public_api.py --write`` and review the diff like any API change.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = ROOT / "tests" / "data" / "public_api.json"
# Every package, and every top-level module of the ground floor (models, settings, errors...).
PACKAGES = sorted(
    [f"course_lib.{path.parent.name}" for path in (ROOT / "course_lib").glob("*/__init__.py")]
    + [
        f"course_lib.{path.stem}"
        for path in (ROOT / "course_lib").glob("*.py")
        if not path.name.startswith("_")
    ]
)
# `from course_lib.<package>.<module> import ...` in a lesson reaches past the façade.
_PAST_FACADE = re.compile(r"^\s*from (course_lib\.\w+\.\w+[\w.]*) import", re.M)


def _exports() -> dict[str, list[str]]:
    return {name: list(importlib.import_module(name).__all__) for name in PACKAGES}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__, f"{package} exports nothing"
    assert len(set(module.__all__)) == len(module.__all__), f"{package}.__all__ has repeats"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not define: {missing}"


def test_the_public_api_matches_its_pin() -> None:
    pinned = json.loads(PIN.read_text(encoding="utf-8"))
    assert _exports() == pinned, (
        "a package's __all__ changed; if on purpose, run python tests/test_public_api.py --write"
    )


def test_lessons_import_only_from_the_facades() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(set(_PAST_FACADE.findall(path.read_text())))
        for path in sorted((ROOT / "solutions").glob("*/*.py"))
        if _PAST_FACADE.search(path.read_text())
    }
    assert not offenders, f"import these names from their package instead: {offenders}"


def test_the_labs_names_for_the_type_checker_match_the_lazy_ones() -> None:
    """``course_lib/labs/_static.py`` gives the type checker what the package loads lazily."""
    import ast

    import course_lib.labs

    tree = ast.parse((ROOT / "course_lib" / "labs" / "_static.py").read_text(encoding="utf-8"))
    static = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for alias in node.names
    }
    lazy = set(course_lib.labs.__all__)
    assert static == lazy, (
        f"only lazy: {sorted(lazy - static)}; only static: {sorted(static - lazy)}. Add or "
        "remove the names in course_lib/labs/_static.py to match _MODULES."
    )


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    PIN.write_text(json.dumps(_exports(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {PIN.relative_to(ROOT)}")
