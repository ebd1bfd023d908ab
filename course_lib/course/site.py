"""The course website, built from the stored notebooks: ``./run site``.

Every lesson gets two pages, the learner's notebook and the solution, each with the outputs
and figures of its last ``course build`` (nothing is executed here), a link that opens the
learner's notebook in Binder, and links between the two views. The front page is README.md,
its lesson map linked to the lessons, so the map cannot drift from the site; every
``docs/*.md`` page and CONTRIBUTING.md come along. Navigation groups the lessons by layer, and
Sphinx's own search index works offline. Why Sphinx with MyST-NB: ``docs/site.md``.

The build stages its input in a temporary folder (pages at the same relative places as in the
repository, so links between them need no rewriting; links to other repository files become
links to the repository on GitHub) and writes only the output folder, ``build/site`` by
default, which git ignores.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import posixpath
import re
import shutil
import sys
import tempfile
import time
import warnings as python_warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

from course_lib.course.build import GENERATED_TAG, Lesson, find_lessons, find_project_root
from course_lib.course.checking import CHECK_MIME
from course_lib.course.errors import BuildError
from course_lib.course.execution import WIDGET_VIEW_MIME

__all__ = [
    "DEFAULT_OUTPUT",
    "SiteReport",
    "binder_url",
    "build_site",
    "find_broken_links",
    "main",
    "repository_url",
]

DEFAULT_OUTPUT = Path("build", "site")
BRANCH = "main"
LESSON_MAP_HEADING = "## How the course is organised"
THEME = "furo"
_TOOLS_FIX = (
    "The site is built with Sphinx, MyST-NB and Furo, which the lock file installs: run "
    "'./run setup' (or pip install -e '.[site]'), then './run site'."
)
# An inline Markdown link or image: [text](target) or ![alt](target "title").
_LINK = re.compile(r"(!?\[[^\]\n]*\]\()(<[^>\n]+>|[^)\s]+)((?:\s+\"[^\"\n]*\")?\))")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_BOLD_ENTRY = re.compile(r"^\*\*(\d+(?:\.\d+)?) ([^*]+)\*\*(.*)$")
_PLAIN_ENTRY = re.compile(r"^(\d+(?:\.\d+)?) (.+)$")
# Output types only JupyterLab renders (a check's result, a live widget); each output also
# stores a text/plain form, which the page shows instead.
_LAB_ONLY_MIME = (CHECK_MIME, WIDGET_VIEW_MIME)


@dataclass
class SiteReport:
    """What a site build made, and what is wrong with it (empty lists when nothing is)."""

    output: Path
    pages: list[str] = field(default_factory=list)  # the pages' paths inside the output
    warnings: list[str] = field(default_factory=list)  # from the staging and from Sphinx
    broken_links: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.warnings and not self.broken_links


def repository_url(root: Path) -> str:
    """The repository's address on GitHub, from ``[project.urls] Source`` in pyproject.toml."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    url = project.get("project", {}).get("urls", {}).get("Source", "")
    if not str(url).startswith("https://github.com/"):
        raise BuildError(
            f"pyproject.toml's [project.urls] Source is {url!r}; the site links every lesson to "
            "GitHub and Binder through it: set it to https://github.com/<owner>/<repository>."
        )
    return str(url).rstrip("/")


def binder_url(repository: str, notebook: Path) -> str:
    """The Binder link that opens ``notebook`` (a path in the repository) in JupyterLab."""
    owner_and_name = repository.removeprefix("https://github.com/")
    return (
        f"https://mybinder.org/v2/gh/{owner_and_name}/{BRANCH}"
        f"?urlpath=lab/tree/{notebook.as_posix()}"
    )


def _require_tools() -> None:
    for module in ("sphinx", "myst_nb", "furo"):
        if importlib.util.find_spec(module) is None:
            raise BuildError(f"{module} is not installed. {_TOOLS_FIX}")


def _check_built(lesson: Lesson) -> None:
    """A lesson's two notebooks must exist and hold stored outputs: the site shows them."""
    for notebook in lesson.outputs():
        path = lesson.root / notebook
        fix = f"run '.venv/bin/{lesson.rebuild_command}', then './run site'"
        if not path.is_file():
            raise BuildError(
                f"{lesson.source.as_posix()} is not built: {notebook.as_posix()} is missing; {fix}."
            )
        cells = nbformat.read(path, as_version=4).cells
        code = [c for c in cells if c.cell_type == "code"]
        if code and all(c.execution_count is None for c in code):
            raise BuildError(
                f"{notebook.as_posix()} has no stored outputs (it was never executed), so its "
                f"page would show none; {fix}."
            )


# --- Links -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Links:
    """Rewrites a page's relative links: to other pages, kept; to other files, to GitHub."""

    root: Path
    repository: str
    staged: dict[str, str]  # repository path of each page -> its path in the staging folder

    def rewrite(self, text: str, page: str) -> str:
        """Rewrites the links in Markdown ``text`` of the page at repository path ``page``."""
        lines, fenced = [], False
        for line in text.splitlines(keepends=True):
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            lines.append(line if fenced else _LINK.sub(lambda m: self._link(m, page), line))
        return "".join(lines)

    def _link(self, match: re.Match[str], page: str) -> str:
        target = match.group(2).strip("<>")
        if not target or target.startswith(("#", "/")) or _SCHEME.match(target):
            return match.group(0)
        path, _, fragment = target.partition("#")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(path)))
        anchor = f"#{fragment}" if fragment else ""
        if resolved in self.staged:
            here = posixpath.dirname(self.staged[page]) or "."
            new = posixpath.relpath(self.staged[resolved], here) + anchor
        elif not resolved.startswith("..") and (self.root / resolved).exists():
            kind = "tree" if (self.root / resolved).is_dir() else "blob"
            new = f"{self.repository}/{kind}/{BRANCH}/{resolved}{anchor}"
        else:
            return match.group(0)  # left for Sphinx to report as a broken link
        return f"{match.group(1)}{new}{match.group(3)}"

    def github(self, path: Path) -> str:
        return f"{self.repository}/blob/{BRANCH}/{path.as_posix()}"


# --- The front page: README.md, its lesson map linked ------------------------------------


def _lesson_key(number: str) -> str:
    return number.replace(".", "")  # "1.1" -> "11", the prefix of 11_calling_a_model.py


def _link_lesson_map(
    readme: str, lessons: Sequence[Lesson]
) -> tuple[str, dict[str, str], list[str]]:
    """Links each lesson in the README's map to its page.

    Returns the new text, the layers' names by their digit ("1" -> "1 AI capabilities") and
    the ways the map and the lessons disagree.
    """
    by_key = {lesson.source.stem.split("_")[0]: lesson for lesson in lessons}
    mapped: set[str] = set()
    layers: dict[str, str] = {}
    problems: list[str] = []
    out, in_map = [], False
    for line in readme.splitlines(keepends=True):
        if line.startswith("## "):
            in_map = line.strip() == LESSON_MAP_HEADING
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not in_map or not line.startswith("|") or len(cells) != 2 or not cells[0][:1].isdigit():
            out.append(line)
            continue
        layers[cells[0].split()[0]] = cells[0]
        entries = []
        for entry in cells[1].split(" · "):
            bold = _BOLD_ENTRY.match(entry)
            found = bold or _PLAIN_ENTRY.match(entry)
            number = found.group(1) if found else ""
            lesson = by_key.get(_lesson_key(number))
            mapped.add(_lesson_key(number))
            if lesson is None:
                if bold:
                    problems.append(
                        f"README.md's lesson map shows {number} as available (bold), but no "
                        f"lesson source solutions/*/{_lesson_key(number)}_*.py exists."
                    )
                entries.append(entry)
                continue
            link = lesson.learner_notebook.as_posix()
            if bold:
                entries.append(f"**[{number} {bold.group(2)}]({link})**{bold.group(3)}")
            else:
                entries.append(f"[{entry}]({link})")
        out.append(f"| {cells[0]} | {' · '.join(entries)} |\n")
    for key, lesson in sorted(by_key.items()):
        if key not in mapped:
            problems.append(
                f"README.md's lesson map does not list {lesson.source.as_posix()}: add it to "
                f"the table under '{LESSON_MAP_HEADING[3:]}'."
            )
    if not layers:
        problems.append(f"README.md has no lesson map table under '{LESSON_MAP_HEADING}'.")
    return "".join(out), layers, problems


def _toctree(caption: str | None, entries: Iterable[str]) -> str:
    """A hidden toctree: it builds the navigation without showing a list on the page."""
    options = f":caption: {caption}\n" if caption else ""
    lines = "\n".join(entries)
    return f"\n```{{toctree}}\n{options}:hidden:\n\n{lines}\n```\n"


def _front_page(
    readme: str, lessons: Sequence[Lesson], guides: Sequence[str]
) -> tuple[str, list[str]]:
    text, layers, problems = _link_lesson_map(readme, lessons)
    by_layer: dict[str, list[Lesson]] = {}
    for lesson in lessons:
        by_layer.setdefault(lesson.source.parts[1], []).append(lesson)
    for folder, members in sorted(by_layer.items()):
        digit, _, name = folder.partition("_")
        caption = layers.get(digit, f"{digit} {name.replace('_', ' ').capitalize()}")
        text += _toctree(caption, (m.learner_notebook.with_suffix("").as_posix() for m in members))
    text += _toctree("Guides", (posixpath.splitext(g)[0] for g in guides))
    return text, problems


# --- Lesson pages --------------------------------------------------------------------------


def _title_index(cells: Sequence[nbformat.NotebookNode]) -> int | None:
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            return i
    return None


def _banner(lesson: Lesson, variant: str, links: _Links, binder: str) -> str:
    source = lesson.source.as_posix()
    if variant == "learner":
        solution = posixpath.relpath(
            lesson.solution_notebook.as_posix(), lesson.learner_notebook.parent.as_posix()
        )
        return (
            "**Your copy of the lesson**, shown with the outputs of its last build. "
            f"[Launch it in Binder]({binder}) to run it and solve the exercises, or compare "
            f"with [the solution]({solution}). "
            f"Files: [`{lesson.learner_notebook.as_posix()}`]"
            f"({links.github(lesson.learner_notebook)}), "
            f"built from [`{source}`]({links.github(lesson.source)}).\n\n"
            + _toctree(None, [posixpath.splitext(solution)[0]])
        )
    learner = posixpath.relpath(
        lesson.learner_notebook.as_posix(), lesson.solution_notebook.parent.as_posix()
    )
    return (
        "**The solution**: every exercise solved, shown with the outputs of its last build. "
        f"Try it yourself first in [your copy of the lesson]({learner}) "
        f"([launch it in Binder]({binder})). "
        f"Files: [`{lesson.solution_notebook.as_posix()}`]"
        f"({links.github(lesson.solution_notebook)}), "
        f"built from [`{source}`]({links.github(lesson.source)})."
    )


def _lesson_page(
    lesson: Lesson, variant: str, links: _Links, repository: str
) -> nbformat.NotebookNode:
    """The stored notebook of one view, with a banner instead of the generated notice."""
    path = lesson.learner_notebook if variant == "learner" else lesson.solution_notebook
    notebook = nbformat.read(lesson.root / path, as_version=4)
    notebook.cells = [
        cell for cell in notebook.cells if GENERATED_TAG not in cell.metadata.get("tags", [])
    ]
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = links.rewrite(cell.source, path.as_posix())
        for output in cell.get("outputs", []):
            for mime in _LAB_ONLY_MIME:
                output.get("data", {}).pop(mime, None)
    banner = _banner(lesson, variant, links, binder_url(repository, lesson.learner_notebook))
    title = _title_index(notebook.cells)
    if title is None:
        cell = nbformat.v4.new_markdown_cell(banner)
        cell.id = "site-banner"
        notebook.cells.insert(0, cell)
    else:  # right under the lesson's title, where a reader looks first
        heading, _, rest = notebook.cells[title].source.lstrip().partition("\n")
        heading += " (solution)" if variant == "solution" else ""
        notebook.cells[title].source = f"{heading}\n\n{banner}\n{rest}"
    return notebook


# --- Staging and building -----------------------------------------------------------------


def _conf(project: str) -> str:
    settings = {
        "project": project,
        "html_title": project,
        "extensions": ["myst_nb"],
        "html_theme": THEME,
        # Show the stored outputs; never run a notebook.
        "nb_execution_mode": "off",
        # Links such as CONTRIBUTING.md#where-does-my-change-go resolve to headings.
        "myst_heading_anchors": 3,
        "html_copy_source": False,
        "html_show_sourcelink": False,
        "language": "en",
        "exclude_patterns": ["conf.py"],
    }
    return "".join(f"{name} = {value!r}\n" for name, value in settings.items())


def _stage(root: Path, lessons: Sequence[Lesson], staging: Path) -> list[str]:
    """Writes the site's sources into ``staging``; returns the problems found on the way."""
    guides = [p.relative_to(root).as_posix() for p in sorted((root / "docs").glob("*.md"))]
    if (root / "CONTRIBUTING.md").is_file():
        guides.append("CONTRIBUTING.md")
    staged = {"README.md": "index.md", **{g: g for g in guides}}
    for lesson in lessons:
        for notebook in lesson.outputs():
            staged[notebook.as_posix()] = notebook.as_posix()
    repository = repository_url(root)
    links = _Links(root=root, repository=repository, staged=staged)
    readme = (root / "README.md").read_text(encoding="utf-8")
    front, problems = _front_page(links.rewrite(readme, "README.md"), lessons, guides)
    (staging / "index.md").write_text(front, encoding="utf-8")
    for guide in guides:
        target = staging / guide
        target.parent.mkdir(parents=True, exist_ok=True)
        text = links.rewrite((root / guide).read_text(encoding="utf-8"), guide)
        target.write_text(text, encoding="utf-8")
    for lesson in lessons:
        for variant, notebook in zip(("solution", "learner"), lesson.outputs(), strict=True):
            target = staging / notebook
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(_lesson_page(lesson, variant, links, repository), target)
    title = readme.lstrip().partition("\n")[0].removeprefix("# ").strip()
    (staging / "conf.py").write_text(_conf(title or "Course"), encoding="utf-8")
    return problems


def _run_sphinx(staging: Path, html: Path, doctrees: Path, jobs: int) -> list[str]:
    """Runs Sphinx's HTML builder; returns its warnings, one string each."""
    import io

    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    stream = io.StringIO()
    # The tools' own deprecation notices (MyST about Sphinx's API, say) are for their
    # authors; what is wrong with the site comes through Sphinx's warning stream.
    with docutils_namespace(), python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore", DeprecationWarning)
        python_warnings.simplefilter("ignore", PendingDeprecationWarning)
        app = Sphinx(
            srcdir=staging,
            confdir=staging,
            outdir=html,
            doctreedir=doctrees,
            buildername="html",
            status=None,
            warning=stream,
            freshenv=True,
            parallel=jobs,
        )
        app.build(force_all=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue())
    return [line for line in text.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line)]


def _replace_output(built: Path, output: Path) -> None:
    if output.exists() and any(output.iterdir()) and not (output / ".buildinfo").is_file():
        raise BuildError(
            f"{output} exists and is not a site this command built; remove it or choose "
            "another --output."
        )
    shutil.rmtree(output, ignore_errors=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(built, output)


def build_site(root: Path, output: Path | None = None, *, jobs: int = 1) -> SiteReport:
    """Builds the course website from the stored notebooks into ``output``.

    Raises:
        BuildError: the site's tools are missing, or a lesson's notebooks are not built.
    """
    started = time.perf_counter()
    _require_tools()
    output = (output or root / DEFAULT_OUTPUT).resolve()
    lessons = find_lessons(root)
    for lesson in lessons:
        _check_built(lesson)
    with tempfile.TemporaryDirectory(prefix="course-site-") as scratch:
        staging, html = Path(scratch, "src"), Path(scratch, "html")
        staging.mkdir()
        problems = _stage(root, lessons, staging)
        warnings = _run_sphinx(staging, html, Path(scratch, "doctrees"), jobs)
        warnings = [w.replace(f"{staging}{os.sep}", "") for w in warnings]
        _replace_output(html, output)
    pages = sorted(p.relative_to(output).as_posix() for p in output.rglob("*.html"))
    return SiteReport(
        output=output,
        pages=pages,
        warnings=problems + warnings,
        broken_links=find_broken_links(output),
        seconds=time.perf_counter() - started,
    )


# --- Checking the result -------------------------------------------------------------------


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if values.get(name):
                self.ids.add(str(values[name]))
        attribute = {"a": "href", "link": "href", "img": "src", "script": "src"}.get(tag)
        if attribute and values.get(attribute):
            self.links.append(str(values[attribute]))


def _parse(page: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def find_broken_links(site: Path) -> list[str]:
    """Every internal link or asset reference in ``site`` whose file or anchor is missing."""
    parsed = {page: _parse(page) for page in sorted(site.rglob("*.html"))}
    broken = []
    for page, parser in parsed.items():
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(site).as_posix()}: {link}"
            if not target.is_file():
                broken.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{where} (no such anchor)")
    return broken


# --- Command line --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``./run site``: builds the website, prints what is wrong with it, exits 1 if anything."""
    parser = argparse.ArgumentParser(
        prog="./run site",
        description="Build the course website from the stored notebooks (nothing is executed).",
    )
    parser.add_argument(
        "--output", type=Path, help=f"where to write it (default: {DEFAULT_OUTPUT}/)"
    )
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="parallel Sphinx readers"
    )
    options = parser.parse_args(argv)
    try:
        root = find_project_root()
        report = build_site(root, options.output, jobs=max(1, options.jobs))
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in report.warnings:
        print(f"warning: {line}", file=sys.stderr)
    for line in report.broken_links:
        print(f"broken link: {line}", file=sys.stderr)
    print(
        f"site: {len(report.pages)} pages in {report.seconds:.1f} s, "
        f"{len(report.warnings)} warnings, {len(report.broken_links)} broken links; "
        f"open {report.output / 'index.html'}",
        file=sys.stderr,
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
