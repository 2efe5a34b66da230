"""The widgets work in a real browser: JupyterLab on 127.0.0.1 with a token, driven by Playwright.

Playwright drives the system's Chromium (no browser download). In CI the
browser is installed by .ci/run and this test is required; elsewhere a
missing browser skips it, with the reason shown in the summary.

The notebooks run from a temporary copy, so JupyterLab's autosave can never
write outputs into the committed notebooks. JupyterLab runs with the settings
`make lab` gives it (lab-settings/: no news prompt, no network calls) and with
user settings of its own, so a learner's settings cannot change what is tested.
Screenshots of each widget, before and after the test drives it, go to
build/screenshots/. The last test opens the course report, with no server.
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
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from course_utils.config import REPO_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
WIDGET_NOTEBOOKS = ["01_retriever.ipynb", "06_compare.ipynb"]
LAB_SETTINGS = REPO_ROOT / "lab-settings"  # what `make lab` passes as --LabApp.app_settings_dir
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic"]
# A widget a cell shows: the outermost box of its output (progress bars are widgets too: they have no
# dropdown). Each course widget ends in an ipywidgets HTML that shows the result of the controls above it.
WIDGET = ".jp-OutputArea-output > .jupyter-widgets.widget-container"
WIDGET_RESULT = ".widget-html-content"


def _require_browser():
    try:
        import playwright  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (it is in requirements.lock: run `make setup`)"
    else:
        reason = None if CHROMIUM else "no Chromium on this machine (`apt-get install chromium`)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test is required in CI, but {reason}")
        pytest.skip(reason)


def _launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER: dict = {}  # the running lab's process id, for the memory check
SESSION_LIMIT_MB = 2048  # a Binder session: the Jupyter server and one running notebook share it


def peak_mb(pid: int) -> float:
    """The highest resident memory a process has had (Linux's VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}: this check needs Linux's /proc")


def _shut_down_kernels(url: str, token: str) -> None:
    """Stop every kernel the lab runs, through its REST API."""
    import json

    kernels = json.load(urllib.request.urlopen(f"{url}/api/kernels?token={token}", timeout=10))
    for kernel in kernels:
        request = urllib.request.Request(f"{url}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
        try:
            urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as err:
            if err.code != 404:  # 404: it had stopped already, which is what we want
                raise


def session_peak_mb() -> float:
    """The lab server's peak plus that of each kernel it started: what a Binder session must hold."""
    import psutil

    server = psutil.Process(SERVER["pid"])
    return peak_mb(server.pid) + sum(peak_mb(child.pid) for child in server.children(recursive=True))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of notebooks/, yielding its base URL and token."""
    _require_browser()
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    shutil.copytree(REPO_ROOT / "notebooks", root)
    port, token = _free_port(), secrets.token_hex(16)
    log = open(home / "lab.log", "w")
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--expose-app-in-browser",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0", f"--LabApp.app_settings_dir={LAB_SETTINGS}"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {(home / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        SERVER["pid"] = server.pid
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_server_refuses_requests_without_the_token(lab):
    url, _ = lab
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{url}/api/contents", timeout=5)
    assert err.value.code == 403


def test_lab_serves_the_settings_that_keep_it_off_the_network(lab):
    # The frontend asks for news and checks for updates only when these settings let it.
    url, token = lab
    plugin = quote("@jupyterlab/apputils-extension:notification")
    with urllib.request.urlopen(f"{url}/lab/api/settings/{plugin}?token={token}", timeout=10) as answer:
        properties = json.load(answer)["schema"]["properties"]
    assert properties["fetchNews"]["default"] == "false" and properties["checkForUpdates"]["default"] is False


# Run-all stops at a cell that raises, leaving the cells below it unexecuted: an error output also ends the wait,
# so that a failing notebook fails the test at once rather than after the whole timeout.
ALL_EXECUTED = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext.session) return false;
  if (panel.sessionContext.session.kernel.status !== 'idle') return false;
  if (panel.node.querySelector(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")) return true;
  const code = panel.content.widgets.filter(c => c.model.type === 'code');
  return code.every(c => c.model.executionCount !== null);
}"""


# The widget's result differs from ``old`` and has not changed for half a second: a widget may show a
# placeholder ("answering…") before its result.
RESULT_CHANGED = """([el, old]) => {
  const text = el.innerText;
  if (text === old) return false;
  if (el.dataset.seen !== text) { el.dataset.seen = text; el.dataset.since = Date.now(); return false; }
  return Date.now() - Number(el.dataset.since) > 500;
}"""


def _drive_widget(page, widget, name: str) -> None:
    """Pick the next option of the widget's first dropdown; its result must change, on screen too.

    Each screenshot is of the widget alone, scrolled into view: build/screenshots/<name>-before.png and -after.png.
    """
    result = widget.locator(WIDGET_RESULT).last
    select = widget.locator("select").first
    n_options = select.locator("option").count()
    assert n_options > 1, f"{name}: the dropdown has no other choice to make"
    shown = result.inner_text()
    before = widget.screenshot(path=SCREENSHOTS / f"{name}-before.png")
    select.select_option(index=(select.evaluate("s => s.selectedIndex") + 1) % n_options)
    page.wait_for_function(RESULT_CHANGED, arg=[result.element_handle(), shown], timeout=60_000, polling=100)
    after = widget.screenshot(path=SCREENSHOTS / f"{name}-after.png")
    assert result.inner_text() != shown
    assert after != before, f"{name}: the widget's result changed but its screenshot did not: is it hidden?"


@pytest.mark.parametrize("notebook", WIDGET_NOTEBOOKS)
def test_notebook_runs_and_its_widgets_respond(lab, notebook):
    from playwright.sync_api import sync_playwright

    url, token = lab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        # A workspace of its own, reset: otherwise JupyterLab reopens the previous test's notebook beside this one.
        page.goto(f"{url}/lab/workspaces/{Path(notebook).stem}/tree/{notebook}?reset&token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel"
                               "?.status === 'idle'", timeout=60_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(ALL_EXECUTED, timeout=900_000, polling=1000)  # a cold cache trains adapters
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
        assert errors.count() == 0, errors.first.inner_text()
        # One kernel runs at a time here (each notebook's page closes its browser, and the kernels of earlier
        # notebooks are shut down below), so server + kernels is the session a learner's Binder holds.
        used = session_peak_mb()
        print(f"{notebook}: lab server + kernel peak {used:.0f} MB (a Binder session holds {SESSION_LIMIT_MB} MB)")
        assert used <= SESSION_LIMIT_MB, (f"{notebook}: the lab server and its kernel peaked at {used:.0f} MB, more "
                                          f"than a {SESSION_LIMIT_MB} MB Binder session holds. Fix: find the cell "
                                          "that grew (course_utils.kit.finish() prints a notebook's peak) and bound it")
        assert page.get_by_text("official Jupyter news").count() == 0, "JupyterLab asks about news: see lab-settings/"

        # Every widget with a dropdown, each driven once.
        widgets = page.locator(WIDGET, has=page.locator("select"))
        assert widgets.count() > 0, f"{notebook} shows no widget with a dropdown"
        for i in range(widgets.count()):
            _drive_widget(page, widgets.nth(i), f"{Path(notebook).stem}-widget{i + 1}")
        browser.close()
    _shut_down_kernels(url, token)  # the next notebook's kernel is then measured alone


TABLE_WIDTHS = """() => ({
  page: document.documentElement.clientWidth,
  document: document.documentElement.scrollWidth,
  tables: [...document.querySelectorAll('table')].map(t => ({
    heading: t.previousElementSibling ? t.previousElementSibling.textContent : '',
    scroll: t.scrollWidth, right: Math.ceil(t.getBoundingClientRect().right)})),
})"""


def test_report_fits_a_1280_pixel_wide_page(tmp_path):
    _require_browser()
    from playwright.sync_api import sync_playwright

    from test_report import write_synthetic_report

    report = write_synthetic_report(tmp_path / "report.html")
    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(report.as_uri())
        widths = page.evaluate(TABLE_WIDTHS)
        browser.close()
    assert len(widths["tables"]) > 2 and widths["page"] == 1280
    too_wide = [t for t in widths["tables"] if max(t["scroll"], t["right"]) > widths["page"]]
    assert not too_wide, f"tables wider than the page: {too_wide}. Fix: narrower tables in course_utils/report.py"
    assert widths["document"] <= widths["page"], "the report scrolls sideways"
