"""Tests of lesson 3.7's bench: course_lib.labs.dependencies_lab."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from course_lib.labs import (
    APP_CODE,
    VISIBLE_DRIFT_CASES,
    DependencyLabError,
    ScratchRepo,
    build_index,
    deptry_findings,
    environment_fingerprint,
    install_into,
    installed_versions,
    judge_ranges,
    lock,
    lock_pins,
    make_venv,
    scratch_pyproject,
    smoke_test,
    tamper_wheel,
    wheel_sizes,
)
from course_lib.labs.dependencies_lab import RELEASES, build_wheel, newest_compatible


@pytest.fixture
def repo(tmp_path: Path) -> ScratchRepo:
    repo = ScratchRepo.create(tmp_path / "repo", files={"app.py": APP_CODE})
    repo.write("pyproject.toml", scratch_pyproject(["kestrel-embed>=1.0"]))
    build_index(repo.file("index"), day=1)
    return repo


def test_wheels_are_valid_and_byte_reproducible(tmp_path: Path) -> None:
    release = next(r for r in RELEASES if r.name == "kestrel-embed")
    first = build_wheel(tmp_path / "a", release).read_bytes()
    second = build_wheel(tmp_path / "b", release)
    assert first == second.read_bytes()
    with zipfile.ZipFile(second) as wheel:
        metadata = wheel.read("kestrel_embed-1.0.dist-info/METADATA").decode()
        assert "Requires-Dist: kestrel-tokenizer>=1.0" in metadata
        assert 'extra == "gpu"' in metadata
        assert "Tag: py3-none-any" in wheel.read("kestrel_embed-1.0.dist-info/WHEEL").decode()
        for row in wheel.read("kestrel_embed-1.0.dist-info/RECORD").decode().splitlines():
            name, digest, _ = row.split(",")
            if digest:
                data = hashlib.sha256(wheel.read(name)).digest()
                assert digest == "sha256=" + base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_the_index_grows_by_day(tmp_path: Path) -> None:
    day1 = set(wheel_sizes(build_index(tmp_path / "i", 1)))
    day2 = set(wheel_sizes(build_index(tmp_path / "i", 2)))
    assert "kestrel-embed==2.0" in day2 - day1 and "kestrel-vocab==3.0" in day2 - day1
    assert day1 < day2
    with pytest.raises(DependencyLabError, match="day must be one of"):
        build_index(tmp_path / "i", 3)  # the later day is the checker's, not public


def test_uv_locks_universally_with_hashes_and_pip_compile_agrees(repo: ScratchRepo) -> None:
    uv = lock(repo, "uv", "pyproject.toml", "index", "uv.lock.txt")
    assert "--hash=sha256:" in uv.text and "python_full_version < '3.10'" in uv.text
    assert "--python python" in uv.command  # the machine's interpreter path is not shown
    pins = lock_pins(uv.text)
    assert pins["kestrel-embed"] == "1.0" and "kestrel-backport" in pins
    pip = lock(repo, "pip-compile", "pyproject.toml", "index", "pip.lock.txt")
    pip_pins = lock_pins(pip.text)
    assert "kestrel-backport" not in pip_pins  # resolved for this interpreter only
    assert all(pins[name] == version for name, version in pip_pins.items())
    with pytest.raises(DependencyLabError, match="tool must be"):
        lock(repo, "poetry", "pyproject.toml", "index", "x.txt")


def test_lock_pins_reads_continuations_and_refuses_nonsense() -> None:
    text = "Foo_Bar==1.0 \\\n    --hash=sha256:abc\n    # via x\n-e .\nbaz==2 ; os_name == 'nt'\n"
    assert lock_pins(text) == {"foo-bar": "1.0", "baz": "2"}
    with pytest.raises(DependencyLabError, match="Cannot read the lock line"):
        lock_pins("foo=>1\n")


def test_environments_fingerprints_and_drift(repo: ScratchRepo) -> None:
    lock(repo, "uv", "pyproject.toml", "index", "requirements.lock")
    env = make_venv(repo, "envs/a", "requirements.lock", "index")
    versions = installed_versions(env)
    assert versions == {"kestrel-embed": "1.0", "kestrel-tokenizer": "1.0", "kestrel-vocab": "2.0"}
    assert smoke_test(repo, "envs/a") == "ok"
    before = environment_fingerprint(versions)
    build_index(repo.file("index"), day=2)
    install_into(repo, "envs/a", "kestrel-vocab==3.0", index="index")
    after = installed_versions(env)
    assert after["kestrel-vocab"] == "3.0" and environment_fingerprint(after) != before
    outcome = smoke_test(repo, "envs/a")
    assert outcome.startswith("ImportError") and "site-packages" not in outcome


def test_fingerprint_ignores_order_and_name_spelling() -> None:
    a = environment_fingerprint({"Foo_Bar": "1.0", "baz": "2"})
    assert a == environment_fingerprint({"baz": "2", "foo-bar": "1.0"})
    assert a != environment_fingerprint({"baz": "2.1", "foo-bar": "1.0"})


def test_installed_versions_needs_a_venv(tmp_path: Path) -> None:
    with pytest.raises(DependencyLabError, match="not a virtual environment"):
        installed_versions(tmp_path)


def test_a_tampered_wheel_is_refused_by_the_lock_on_a_fresh_install(repo: ScratchRepo) -> None:
    lock(repo, "uv", "pyproject.toml", "index", "requirements.lock")
    tamper_wheel(repo.file("index"), "kestrel-vocab", "2.0")
    make_venv(repo, "envs/t", "requirements.lock", "index", fresh=True, check=False)
    assert repo.steps[-1].returncode != 0 and "Hash mismatch" in repo.steps[-1].output
    with pytest.raises(DependencyLabError, match="no release"):
        tamper_wheel(repo.file("index"), "kestrel-vocab", "9.9")


def test_deptry_finds_unused_missing_and_transitive(repo: ScratchRepo) -> None:
    repo.write("pyproject.toml", scratch_pyproject(["kestrel-embed>=1.0", "kestrel-tokenizer"]))
    repo.write("handbook_app/tables.py", "import kestrel_plot\nfrom kestrel_vocab import TABLE\n")
    lock(repo, "uv", "pyproject.toml", "index", "requirements.lock", hashes=False)
    make_venv(repo, "envs/d", "requirements.lock", "index")
    found = deptry_findings(repo, ".", venv="envs/d")
    assert list(zip(found["code"], found["module"], strict=True)) == [
        ("DEP001", "kestrel_plot"),
        ("DEP002", "kestrel-tokenizer"),
        ("DEP003", "kestrel_vocab"),
    ]


def test_newest_compatible_skips_breaking_majors_and_advisories() -> None:
    assert newest_compatible(1)["kestrel-embed"] == "1.0"
    assert newest_compatible(2) == {
        "kestrel-backport": "1.0",
        "kestrel-embed": "1.1",
        "kestrel-tokenizer": "1.0",
        "kestrel-vocab": "2.0",
    }
    from course_lib.course.exercises.lesson_3_7 import _releases_with_day_3

    assert newest_compatible(3, _releases_with_day_3())["kestrel-vocab"] == "2.1"


def test_judge_ranges_on_good_and_bad_ranges(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "ranges", files={"app.py": APP_CODE})
    from course_lib.course.exercises.lesson_3_7 import _releases_with_day_3

    good = judge_ranges(
        repo,
        ["kestrel-embed>=1.0,<2", "kestrel-vocab>=2.0,<3"],
        days=(2, 3),
        releases=_releases_with_day_3(),
    )
    assert [v.problem for v in good] == ["", ""]
    (bad,) = judge_ranges(repo, ["kestrel-embed"], days=(2,))
    assert "smoke test fails" in bad.problem
    (early,) = judge_ranges(repo, ["kestrel-embed>=1.1"], days=(1,))
    assert early.problem.startswith("no resolution")
    with pytest.raises(DependencyLabError, match="is not a requirement"):
        judge_ranges(repo, ["kestrel-embed=>1"], days=(1,))


def test_visible_drift_cases_agree_with_the_reference() -> None:
    from course_lib.course.exercises.lesson_3_7 import detect_drift

    for case in VISIBLE_DRIFT_CASES:
        got = detect_drift(case.lock, case.installed, case.environment)
        assert got == {k: list(v) for k, v in case.expected.items()}, case.what
