"""The lessons in a real browser: JupyterLab from the course environment, driven in Chromium.

Unit tests and nbval check what a kernel computes; they never see what a learner sees or what
a save writes. These tests open lessons 00, 1.1 and 4.1 in JupyterLab as a learner would, in a
copy of the repository's notebooks under git, and check what went wrong there before: a
lesson marked modified as soon as it opened, a save that rewrote a tracked file or wrote a
``.py`` beside it, a news box on first start, a widget that did not render or react, an
exercise check that did not follow the learner's answer.

The browser is the machine's own Chromium (Debian's ``chromium`` package; ``.ci/run``
installs it), driven headless by Playwright, which never downloads one. Without a Chromium
the tests are skipped with the command that installs it, except where
``REQUIRE_BROWSER_TEST=1`` (as in ``.ci/run``) makes that a failure. On a failure, a
screenshot of the page goes to ``browser-tests/`` in the course work directory.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import LEARNER_WORK_DIR
from course_lib.course.execution import kernel_environment

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LESSON_00 = "notebooks/0_start_here/00_start_here.ipynb"
LESSON_11 = "notebooks/1_ai_capabilities/11_calling_a_model.ipynb"
LESSON_41 = "notebooks/4_infrastructure/41_compute_patterns.ipynb"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Chromium's own traffic (updates, sync, safe browsing) would be refused offline; keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",  # containers and CI often run as root, where the sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = LEARNER_WORK_DIR / "browser-tests"
LESSON_TIMEOUT_MS = 240_000
# The learner types the course's own answer to exercise 00.1: the code cell that defines
# count_code_lines in the solution notebook, without its solution markers.
ANSWER_CELL = "def count_code_lines"


def _answer_00_1() -> str:
    import nbformat

    solution = nbformat.read(ROOT / "solutions/0_start_here/00_start_here.ipynb", as_version=4)
    for cell in solution.cells:
        if cell.cell_type == "code" and ANSWER_CELL in cell.source:
            lines = cell.source.splitlines()
            markers = ("# BEGIN SOLUTION", "# END SOLUTION")
            return "\n".join(line for line in lines if line.strip() not in markers)
    raise AssertionError(f"no cell of lesson 00's solution defines {ANSWER_CELL!r}")


def _chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    message = (
        "no Chromium on this machine for the browser tests; install it (Debian or Ubuntu: "
        "sudo apt-get install chromium) and run the tests again"
    )
    if os.environ.get("REQUIRE_BROWSER_TEST") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=course", "-c", "user.email=course@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


class Lab:
    """A JupyterLab server on a git copy of the course's notebooks."""

    def __init__(self, repo: Path, url: str, token: str, log: Path) -> None:
        self.repo, self.url, self.token, self.log = repo, url, token, log

    def status(self) -> list[str]:
        """``git status`` of the copy: every changed and every new file."""
        return _git(self.repo, "status", "--porcelain", "--untracked-files=all").splitlines()

    def restore(self) -> None:
        _git(self.repo, "checkout", "--quiet", "--", ".")
        _git(self.repo, "clean", "--quiet", "-fdx")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab as ``./run lab`` starts it, on a throwaway git repository.

    The copy holds the notebooks, ``pyproject.toml`` (its jupytext settings are what once
    paired every notebook with a ``.py``) and ``.gitignore``, committed, so ``git status``
    shows exactly what a learner's save changed. Jupyter's per-user folders are fresh, as on
    a learner's first start, so only the environment's own settings apply.
    """
    _chromium()  # skip before starting a server there is no browser for
    base = tmp_path_factory.mktemp("lab")
    repo = base / "course"
    repo.mkdir()
    shutil.copytree(ROOT / "notebooks", repo / "notebooks")
    for name in ("pyproject.toml", ".gitignore"):
        shutil.copy2(ROOT / name, repo / name)
    _git(repo, "init", "--quiet")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "--message", "The lessons as stored")

    env = kernel_environment(strict=False, work_dir=base / "work")
    for variable, folder in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
        ("IPYTHONDIR", "ipython"),
    ):
        env[variable] = str(base / folder)
    port, token = _free_port(), secrets.token_hex(16)
    log = base / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--ServerApp.root_dir={repo}",
        f"--IdentityProvider.token={token}",
        # Lets the tests ask JupyterLab itself (its commands and models) what a learner sees.
        "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    with log.open("w", encoding="utf-8") as output:
        server = subprocess.Popen(command, cwd=repo, env=env, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(server, f"{url}/api/status?token={token}", log)
        yield Lab(repo, url, token, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _wait_for_server(server: subprocess.Popen[bytes], status_url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(status_url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within 120 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def browser(lab: Lab) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, lab: Lab, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page (no stored workspace) on a fresh copy; a screenshot if the test fails."""
    lab.restore()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    try:
        yield opened
    finally:
        call = getattr(request.node, "rep_call", None)
        if call is not None and call.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shot = SCREENSHOTS / f"{request.node.name}.png"
            opened.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failing page: {shot}")
        context.close()


# JupyterLab's current notebook panel, as the page's own code sees it.
PANEL = "window.jupyterapp.shell.currentWidget"


def _open(page: Any, lab: Lab, path: str) -> None:
    """Opens ``path`` as a learner would, and waits until its kernel is ready."""
    page.goto(f"{lab.url}/lab/tree/{path}?token={lab.token}&reset")
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden)", timeout=120_000)
    page.wait_for_function(
        f"""() => {{
            const panel = {PANEL};
            const kernel = panel && panel.sessionContext.session?.kernel;
            return panel?.context?.path === {json.dumps(path)} && kernel?.status === 'idle';
        }}""",
        timeout=120_000,
    )
    page.wait_for_timeout(1_000)  # what the kernel's first messages change, they change now


def _is_modified(page: Any) -> bool:
    dirty = page.evaluate(f"() => {PANEL}.context.model.dirty")
    tab_marked = page.locator(".lm-TabBar-tab.jp-mod-dirty").count() > 0
    return bool(dirty or tab_marked)


def _save(page: Any) -> None:
    page.keyboard.press("Control+s")
    page.wait_for_function(f"() => !{PANEL}.context.model.dirty", timeout=30_000)
    page.wait_for_timeout(1_000)


def _wait_until_cells_finish(page: Any) -> None:
    page.wait_for_function(
        f"""() => {{
            const panel = {PANEL};
            const busy = panel.content.widgets.some(
                (cell) => cell.model.type === 'code' && cell.model.executionState === 'running');
            return !busy && panel.sessionContext.session?.kernel?.status === 'idle';
        }}""",
        timeout=LESSON_TIMEOUT_MS,
        polling=500,
    )


def _run_all(page: Any) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_timeout(1_000)
    _wait_until_cells_finish(page)


def _errors(page: Any) -> list[str]:
    """Every error output in the notebook, as ``ename: evalue``."""
    return list(
        page.evaluate(
            f"""() => {PANEL}.content.widgets
                .filter((cell) => cell.model.type === 'code')
                .flatMap((cell) => cell.model.outputs.toJSON())
                .filter((output) => output.output_type === 'error')
                .map((output) => output.ename + ': ' + output.evalue)"""
        )
    )


def _cell_index(page: Any, fragment: str) -> int:
    """The index of the first code cell whose source contains ``fragment``."""
    index = page.evaluate(
        f"""() => {PANEL}.content.widgets.findIndex(
            (cell) => cell.model.type === 'code'
                && cell.model.sharedModel.getSource().includes({json.dumps(fragment)}))"""
    )
    assert index >= 0, f"no code cell contains {fragment!r}"
    return int(index)


def _cell(page: Any, index: int) -> Any:
    """The cell's element, scrolled into view (a windowed notebook attaches cells lazily)."""
    return page.evaluate_handle(
        f"""async (index) => {{
            const notebook = {PANEL}.content;
            notebook.activeCellIndex = index;
            await notebook.scrollToItem(index);
            return notebook.widgets[index].node;
        }}""",
        index,
    ).as_element()


def _output_text(page: Any, index: int) -> str:
    return str(_cell(page, index).query_selector(".jp-OutputArea").inner_text())


def _run_cell(page: Any, index: int) -> None:
    _cell(page, index).query_selector(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")  # run, and stay on the cell
    page.wait_for_timeout(500)
    _wait_until_cells_finish(page)


@contextmanager
def _no_news_box(page: Any) -> Iterator[None]:
    yield
    assert page.get_by_text("Jupyter news").count() == 0, "JupyterLab asked about news"
    assert page.locator(".jp-toast-message, .Toastify__toast").count() == 0


def test_an_untouched_lesson_is_not_modified_and_saving_it_writes_nothing(
    page: Any, lab: Lab
) -> None:
    with _no_news_box(page):
        _open(page, lab, LESSON_11)
        assert not _is_modified(page), "the lesson is marked modified as soon as it opened"
        page.keyboard.press("Control+s")
        page.wait_for_timeout(2_000)
    assert lab.status() == [], "saving an untouched lesson changed the repository"


def test_lesson_00_runs_and_its_first_exercise_follows_the_answer(page: Any, lab: Lab) -> None:
    with _no_news_box(page):
        _open(page, lab, LESSON_00)
        _run_all(page)
        assert _errors(page) == []
        check = _cell_index(page, 'check("00.1"')
        assert "not solved" in _output_text(page, check)

        # The learner replaces the stub with an answer, runs it, then runs the check again.
        stub = _cell_index(page, ANSWER_CELL)
        _cell(page, stub).query_selector(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(_answer_00_1())
        _run_cell(page, stub)
        _run_cell(page, check)
        result = _output_text(page, check)
        assert "solved" in result and "not solved" not in result, result
        assert _errors(page) == []

        _save(page)
    # The save rewrote the lesson the learner changed, and nothing else: no paired .py,
    # no other file.
    assert lab.status() == [f" M {LESSON_00}"]


def test_lesson_41_widget_renders_and_follows_its_slider(page: Any, lab: Lab) -> None:
    with _no_news_box(page):
        _open(page, lab, LESSON_41)
        _run_all(page)
        assert _errors(page) == []
        _cell(page, _cell_index(page, "cost_widget(")).scroll_into_view_if_needed()
        widget = page.locator(".jp-OutputArea .widget-vbox").first
        widget.wait_for(timeout=30_000)
        slider = widget.locator(".widget-slider").nth(1)  # the GPU price, a linear slider
        verdict = widget.locator(".widget-html").first
        page.wait_for_function(
            "(node) => node.innerText.trim().length > 0", arg=verdict.element_handle()
        )
        before = verdict.inner_text()
        readout = slider.locator(".widget-readout").inner_text()

        slider.locator(".noUi-handle").focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([node, text]) => node.innerText !== text",
            arg=[verdict.element_handle(), before],
            timeout=60_000,
        )
        assert slider.locator(".widget-readout").inner_text() != readout
        assert verdict.inner_text() != before
