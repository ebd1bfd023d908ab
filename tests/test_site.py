"""The course website (``./run site``): built from the stored notebooks, complete, no dead links.

The whole site is built once for this module, into a temporary folder, so the tests leave the
repository as they found it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from course_lib.course.build import build_lesson, find_lessons
from course_lib.course.errors import BuildError
from course_lib.course.site import SiteReport, binder_url, build_site, repository_url

ROOT = Path(__file__).resolve().parents[1]

TINY_LESSON = """# %% [markdown]
# # 9.0 A tiny lesson
#
# See [the model](../../docs/guide.md) and [its registry](../../pyproject.toml).

# %% tags=["parameters"]
seed = 0

# %%
def double(x):
    # BEGIN SOLUTION
    return 2 * x
    # END SOLUTION
"""

TINY_README = """# Tiny course

## How the course is organised

| layer | lessons |
|---|---|
| 9 Tiny things | {entries} |

## Licence
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> SiteReport:
    return build_site(ROOT, tmp_path_factory.mktemp("site") / "html")


def _html(report: SiteReport, page: str) -> str:
    return (report.output / page).read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_site_builds_without_warnings(site: SiteReport) -> None:
    assert site.warnings == [], "\n".join(site.warnings)


@pytest.mark.slow
def test_every_internal_link_resolves(site: SiteReport) -> None:
    assert site.broken_links == [], "\n".join(site.broken_links)


@pytest.mark.slow
def test_every_lesson_has_a_learner_page_and_a_solution_page(site: SiteReport) -> None:
    lessons = find_lessons(ROOT)
    assert len(lessons) == len(list((ROOT / "solutions").glob("*/*.py")))
    for lesson in lessons:
        for notebook in lesson.outputs():
            page = notebook.with_suffix(".html").as_posix()
            assert page in site.pages, f"no page for {lesson.source.as_posix()}"


@pytest.mark.slow
def test_every_docs_page_and_the_contributing_guide_are_on_the_site(site: SiteReport) -> None:
    for doc in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{doc.stem}.html" in site.pages
    assert "CONTRIBUTING.html" in site.pages


@pytest.mark.slow
def test_the_front_page_is_the_readme_with_its_lesson_map_linked(site: SiteReport) -> None:
    front = _html(site, "index.html")
    assert "How the course is organised" in front
    for lesson in find_lessons(ROOT):
        page = lesson.learner_notebook.with_suffix(".html").as_posix()
        assert f'href="{page}"' in front, f"the lesson map does not link {page}"
    # README's links to files outside the site point at the repository.
    assert f'href="{repository_url(ROOT)}/blob/main/LICENSE"' in front


@pytest.mark.slow
def test_a_lesson_page_shows_stored_outputs_and_figures_and_launches_in_binder(
    site: SiteReport,
) -> None:
    lesson = find_lessons(ROOT)[0]
    learner = _html(site, lesson.learner_notebook.with_suffix(".html").as_posix())
    solution = _html(site, lesson.solution_notebook.with_suffix(".html").as_posix())
    link = binder_url(repository_url(ROOT), lesson.learner_notebook)
    # The site's Binder links follow the README's launch link.
    assert link in (ROOT / "README.md").read_text(encoding="utf-8")
    for page in (learner, solution):
        assert link.replace("&", "&amp;") in page or link in page
        assert "cell_output" in page  # outputs shown, from the stored notebook
    stored = nbformat.read(ROOT / lesson.learner_notebook, as_version=4)
    figures = sum(
        "image/png" in o.get("data", {}) for c in stored.cells for o in c.get("outputs", [])
    )
    assert len(re.findall(r'<img [^>]*src="[./]*_images/', learner)) >= min(figures, 1)
    assert "(solution)" in solution and "(solution)" not in learner.split("<title>")[1][:200]


@pytest.mark.slow
def test_the_search_index_covers_every_page(site: SiteReport) -> None:
    assert "search.html" in site.pages
    text = (site.output / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    documents = set(index["docnames"])
    for lesson in find_lessons(ROOT):
        assert lesson.learner_notebook.with_suffix("").as_posix() in documents
    assert {"handbook", "model"} <= set(index["terms"])  # words of the lessons, stemmed


@pytest.fixture
def tiny_repo(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'tiny'\n\n[project.urls]\n"
        "Source = 'https://github.com/example/tiny-course'\n"
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(
        "# A guide\n\nBack to [the course](../README.md).\n"
    )
    source = tmp_path / "solutions" / "9_tiny" / "90_tiny.py"
    source.parent.mkdir(parents=True)
    source.write_text(TINY_LESSON)
    return tmp_path


def _pretend_built(repo: Path) -> None:
    (lesson,) = find_lessons(repo)
    build_lesson(lesson, execute=False)
    for path in lesson.outputs():
        notebook = nbformat.read(repo / path, as_version=4)
        for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
            cell.execution_count = number + 1
        nbformat.write(notebook, repo / path)


def test_a_lesson_that_is_not_built_fails_naming_the_command_that_builds_it(
    tiny_repo: Path,
) -> None:
    (tiny_repo / "README.md").write_text(TINY_README.format(entries="**9.0 A tiny lesson**"))
    with pytest.raises(BuildError, match=r"course build solutions/9_tiny/90_tiny\.py"):
        build_site(tiny_repo, tiny_repo / "out")


def test_a_tiny_course_builds_with_links_rewritten(tiny_repo: Path) -> None:
    (tiny_repo / "README.md").write_text(TINY_README.format(entries="**9.0 A tiny lesson**"))
    _pretend_built(tiny_repo)
    report = build_site(tiny_repo, tiny_repo / "out")
    assert report.ok, report.warnings + report.broken_links
    assert {"index.html", "docs/guide.html", "notebooks/9_tiny/90_tiny.html"} <= set(report.pages)
    page = _html(report, "notebooks/9_tiny/90_tiny.html")
    assert 'href="../../docs/guide.html"' in page  # a page: linked on the site
    assert "https://github.com/example/tiny-course/blob/main/pyproject.toml" in page
    assert "https://mybinder.org/v2/gh/example/tiny-course/main" in page


def test_the_lesson_map_and_the_lessons_must_agree(tiny_repo: Path) -> None:
    (tiny_repo / "README.md").write_text(TINY_README.format(entries="**9.1 Not written yet**"))
    _pretend_built(tiny_repo)
    report = build_site(tiny_repo, tiny_repo / "out")
    problems = "\n".join(report.warnings)
    assert "does not list solutions/9_tiny/90_tiny.py" in problems
    assert "shows 9.1 as available (bold), but no lesson source" in problems


def test_a_folder_that_is_not_a_site_is_never_replaced(tiny_repo: Path) -> None:
    (tiny_repo / "README.md").write_text(TINY_README.format(entries="**9.0 A tiny lesson**"))
    _pretend_built(tiny_repo)
    with pytest.raises(BuildError, match="is not a site this command built"):
        build_site(tiny_repo, tiny_repo / "docs")
    assert (tiny_repo / "docs" / "guide.md").is_file()
