"""The widgets work in a real browser: JupyterLab on 127.0.0.1 with a token, driven by Playwright.

Playwright drives the system's Chromium (no browser download). In CI the
browser is installed by .ci/run and this test is required; elsewhere a
missing browser skips it, with the reason shown in the summary.

The notebooks run from a temporary copy, so JupyterLab's autosave can never
write outputs into the committed notebooks. Screenshots go to build/.
"""
from __future__ import annotations

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

import pytest

from course_utils.config import REPO_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
WIDGET_NOTEBOOKS = ["01_retriever.ipynb", "06_compare.ipynb"]


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of notebooks/, yielding its base URL and token."""
    _require_browser()
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    shutil.copytree(REPO_ROOT / "notebooks", root)
    port, token = _free_port(), secrets.token_hex(16)
    log = open(root.parent / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--expose-app-in-browser",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {(root.parent / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
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


ALL_EXECUTED = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext.session) return false;
  const code = panel.content.widgets.filter(c => c.model.type === 'code');
  return panel.sessionContext.session.kernel.status === 'idle'
      && code.every(c => c.model.executionCount !== null);
}"""


@pytest.mark.parametrize("notebook", WIDGET_NOTEBOOKS)
def test_notebook_runs_and_its_widget_responds(lab, notebook):
    from playwright.sync_api import sync_playwright

    url, token = lab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
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

        # The first widget with a dropdown (progress bars are widgets too): change the
        # dropdown and watch the widget's output change.
        widget = page.locator(".jupyter-widgets.widget-container", has=page.locator("select")).first
        widget.scroll_into_view_if_needed()
        select = widget.locator("select").first
        n_options = select.locator("option").count()
        assert n_options > 1, "the widget has no choice to make"
        before = widget.inner_text()
        page.screenshot(path=str(SCREENSHOTS / f"{Path(notebook).stem}-before.png"))
        select.select_option(index=(select.evaluate("s => s.selectedIndex") + 1) % n_options)
        page.wait_for_function("([el, old]) => el.innerText !== old",
                               arg=[widget.element_handle(), before], timeout=60_000)
        page.screenshot(path=str(SCREENSHOTS / f"{Path(notebook).stem}-after.png"))
        assert widget.inner_text() != before
        browser.close()
