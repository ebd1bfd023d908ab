"""Lesson 3.2's lab: the prototype and the package in a scratch repository, and its tools."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from course_lib.labs import (
    VISIBLE_TANGLES,
    ScratchRepo,
    Tangle,
    checkout_without_data,
    contract_names,
    copy_lesson_data,
    course_structure,
    import_side_effects,
    install_wheel,
    lint_imports,
    package_files,
    prototype_repo_files,
    pytest_summary,
    structure_tree,
    try_contracts,
)
from course_lib.labs.structure_lab import StructureLabError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def package_repo(tmp_path: Path) -> ScratchRepo:
    repo = ScratchRepo.create(tmp_path / "repo", files=package_files())
    repo.write(".gitignore", "/data/\nbuild/\ndist/\n*.egg-info/\n__pycache__/\n.venv/\n")
    repo.commit("package", add_all=True)
    return repo


def test_the_prototype_does_its_work_at_import_and_needs_the_data(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo", files=prototype_repo_files())
    copied = copy_lesson_data(repo, "dev")
    assert copied["pages"] == 120 and 0 < copied["questions"] <= 161
    repo.commit("prototype", add_all=True)
    assert "data/" not in repo.git("ls-files")
    effects = import_side_effects(repo, "prototype")
    assert effects.imported and effects.files_read == copied["pages"] + 1
    assert effects.files_written == 1 and effects.lines_printed == 4
    checkout = checkout_without_data(repo, tmp_path / "checkout")
    assert not checkout.file("data").exists()
    run = pytest_summary(checkout)
    assert run.passed == 0 and run.errors == 1 and "IndexError" in run.first_problem
    tree = structure_tree(repo, tracked=False)
    assert "data/   (git-ignored)" in tree and "results.json   (git-ignored)" in tree


def test_an_unanchored_data_pattern_hides_the_data_layer(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo", files=prototype_repo_files())
    for name, text in package_files().items():
        repo.write(name, text)
    repo.commit("package", add_all=True)
    assert not repo.git("ls-files", "src/handbook_assistant/data")
    assert repo.git("ls-files", "src/handbook_assistant/retrieval")


def test_the_package_imports_without_side_effects_and_its_tests_need_no_data(
    package_repo: ScratchRepo, tmp_path: Path
) -> None:
    effects = import_side_effects(package_repo, "handbook_assistant.cli", src="src")
    assert (effects.files_read, effects.files_written, effects.lines_printed) == (0, 0, 0)
    run = pytest_summary(checkout_without_data(package_repo, tmp_path / "checkout"))
    assert run.passed == 8 and run.failed == run.errors == 0
    assert "src/\n    handbook_assistant/\n" in structure_tree(package_repo)


def test_the_contracts_pass_clean_and_fail_on_a_tangle(package_repo: ScratchRepo) -> None:
    clean = lint_imports(package_repo)
    assert clean.passed and (clean.kept, clean.broken) == (1, 0)
    assert str(clean).startswith("PASS")
    VISIBLE_TANGLES[0].apply(package_repo)
    tangled = lint_imports(package_repo)
    assert not tangled.passed and tangled.broken == 1
    assert tangled.illegal == ("handbook_assistant.retrieval.search -> handbook_assistant.app",)


def test_lint_imports_without_contracts_is_a_clear_error(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo", files=package_files(contracts=False))
    with pytest.raises(StructureLabError, match="could not check the contracts"):
        lint_imports(repo)


def test_try_contracts_runs_each_variant(tmp_path: Path) -> None:
    order = ("cli", "evaluation", "app", "retrieval", "data")
    layers = ", ".join(f'"handbook_assistant.{p}"' for p in order)
    good = (
        '[tool.importlinter]\nroot_package = "handbook_assistant"\n'
        '[[tool.importlinter.contracts]]\nname = "L"\ntype = "layers"\n'
        f"layers = [{layers}]\n"
    )
    trials = try_contracts(good, root=tmp_path)
    assert trials[0].variant == "the clean package"
    assert all(t.right for t in trials) and len(trials) == 1 + len(VISIBLE_TANGLES)
    broken = try_contracts(
        good.replace('handbook_assistant"\n', 'nowhere"\n', 1), (), root=tmp_path
    )
    assert broken[0].passed is None and not broken[0].right
    with pytest.raises(StructureLabError, match=r"\[tool.importlinter\]"):
        try_contracts(["cli", "app"])  # type: ignore[arg-type]


def test_a_tangle_adds_one_import_line(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo", files=package_files())
    Tangle("data imports the app", "data/chunking.py", "app").apply(repo)
    assert repo.read("src/handbook_assistant/data/chunking.py").startswith(
        "from handbook_assistant.app import *"
    )


@pytest.mark.slow
def test_the_wheel_declares_the_command_and_installs_offline(package_repo: ScratchRepo) -> None:
    package_repo.run("python", "-m", "build", "--wheel", "--no-isolation")
    wheel = "dist/handbook_assistant-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(package_repo.file(wheel)) as built:
        entry = built.read("handbook_assistant-0.1.0.dist-info/entry_points.txt").decode()
    assert "handbook-assistant = handbook_assistant.cli:main" in entry
    command = install_wheel(package_repo, wheel)
    package_repo.write("data/handbook/faq.md", "---\nid: faq\n---\nBadges open doors.\n")
    out = package_repo.run(command, "ask", "What do badges open?").output
    assert out == "Badges open doors. [faq]"


def test_the_course_structure_names_its_contracts_and_command() -> None:
    course = course_structure()
    if course is None:
        pytest.skip("course_lib is installed as a package")
    assert course["course script"] == "course_lib.course.cli:main"
    assert course["classroom packages"] == ["course", "labs", "standin", "datasets"]
    assert course["architecture tests"] and len(course["contracts"]) >= 1
    assert course["contracts kept"] is True
    root = Path(__file__).resolve().parent.parent
    assert contract_names(root / "pyproject.toml") == course["contracts"]


def test_the_unsolved_package_holds_no_answer_to_the_exercises():
    solved, unsolved = package_files(), package_files(solved=False)
    for name in ("src/handbook_assistant/retrieval/search.py", "src/handbook_assistant/cli.py"):
        assert "raise NotImplementedError" in unsolved[name]
        assert "k < 1" not in unsolved[name]
        assert unsolved[name] != solved[name]
    assert {n: t for n, t in unsolved.items() if "search" not in n and "cli.py" not in n} == {
        n: t for n, t in solved.items() if "search" not in n and "cli.py" not in n
    }
