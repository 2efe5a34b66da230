"""Run the whole course headless: ``python -m course_utils.run_course`` (or ``make course``).

Each notebook is executed in a fresh kernel, in order, and the executed copy
is written to ``build/notebooks/``; the notebooks in ``notebooks/`` are never
touched. At the end it prints what ran, how long each took, what the
executed notebooks show that a learner should not have to read (``noise``),
and the course's summary, if the last notebook wrote one.

``python -m course_utils.run_course --noise`` only counts that noise in the
executed copies already in ``build/notebooks/``, without running anything.
"""
from __future__ import annotations

import argparse
import contextlib
import html
import json
import re
import sys
import threading
import time
from pathlib import Path

from . import machine
from .artifacts import write_text_atomic
from .config import REPO_ROOT
from .kit import BUDGET  # the reference times quoted by the course (--record)

NOTEBOOKS = REPO_ROOT / "notebooks"
BUILD = REPO_ROOT / "build"
SUMMARY = BUILD / "summary.txt"  # written by the comparison notebook
TIMINGS = BUILD / "timings.json"  # this machine's times, shown by 00_welcome
# Chapters after the main course, outside its time budget: run them by name, e.g. `run_course 07_scaling.ipynb`.
EXTRA_NOTEBOOKS = ("07_scaling.ipynb",)
# What the course aims for on the reference 2-core machine; the benchmark and the README compare against these.
COURSE_SECONDS_TARGET = 420  # every notebook, headless
KERNEL_MB_TARGET = 1400  # each notebook's kernel, so that a 2 GB Binder session has room for the server


class PeakMemory(threading.Thread):
    """Samples the resident memory of this process's children (the kernel) until stopped."""

    def __init__(self, interval: float = 0.2):
        super().__init__(daemon=True)
        self.interval, self.peak_bytes, self._done = interval, 0, threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._done.wait(self.interval):
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    self.peak_bytes = max(self.peak_bytes, child.memory_info().rss)

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak_bytes / 2**20


def kernel_config():
    """Settings for the kernels this module starts: their sockets are encrypted, or not on the network.

    ipykernel warns at start-up, once per notebook, when its sockets speak
    plain TCP: any local user could then read the code and outputs. With
    ``transport_encryption="auto"``, jupyter_client hands the kernel CurveZMQ
    keys when the kernelspec says it supports them (ipykernel's does). Where
    pyzmq was built without CurveZMQ, Unix-socket (IPC) transport avoids TCP
    altogether.
    """
    import zmq
    from traitlets.config import Config

    config = Config()
    if zmq.has("curve"):
        config.KernelManager.transport_encryption = "auto"
    elif zmq.has("ipc"):
        config.KernelManager.transport = "ipc"
    return config


def run_notebook(path: Path, out_dir: Path, timeout: int = 1800) -> tuple[float, float]:
    """Execute one notebook with cwd = its folder; return (wall seconds, peak kernel RSS in MB)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    memory = PeakMemory()
    memory.start()
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", config=kernel_config(),
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:  # keep the executed copy even on failure: it shows the failing cell
        seconds, peak_mb = time.perf_counter() - start, memory.stop()
        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out_dir / path.name)
    return seconds, peak_mb


# ------------------------------------------------------------------ what a learner should not have to read

SHORT_WORK_S = 2  # a progress bar for less work than this only flickers under the cell
WARNING_WORD = re.compile(r"\b\w*Warning\b|\bWARNING\b")
# Library messages printed to stdout, where neither the stderr rule nor the warning rule sees them.
LIBRARY_CHATTER = (re.compile(r"Metadata length \(\d+\) is close to chunk size"),)
TQDM_ELAPSED = re.compile(r"\[(?:(\d+):)?(\d+):(\d+)<")  # "[00:17<00:00, …]" or "[1:02:03<…"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def noise(notebook) -> list[str]:
    """What an executed notebook shows that a learner should not have to read, one line per finding.

    Counted: anything on stderr, a line naming a warning, known library chatter,
    an error, a bare True/False under a cell, and a progress bar for under
    ``SHORT_WORK_S`` seconds of work. A bar's elapsed time is in the widget
    state that nbclient saves in the executed notebook.
    """
    widgets = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    found = []
    for number, cell in enumerate(notebook.get("cells", []), 1):
        where = f"cell {number} (id {cell.get('id', '?')})"
        for output in cell.get("outputs", []):
            found += [f"{where}: {what}" for what in _output_noise(output, widgets)]
    return found


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _output_noise(output, widgets) -> list[str]:
    kind, data = output.get("output_type"), output.get("data", {})
    if kind == "stream":
        return _stream_noise(output.get("name"), _text(output.get("text", "")))
    if kind == "error":
        return [f"an error: {output.get('ename')}: {_text(output.get('evalue', ''))[:120]}"]
    if kind == "execute_result" and _text(data.get("text/plain", "")) in ("True", "False"):
        return [f"a bare {_text(data['text/plain'])} under the cell"]
    if WIDGET_VIEW in data:
        bar = _progress_bar(widgets, data[WIDGET_VIEW].get("model_id"))
        if bar and bar[1] < SHORT_WORK_S:
            return [f"a progress bar for under {bar[1] + 1} s of work: {bar[0]!r}"]
    return []


def _stream_noise(name: str, text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if name == "stderr":
        return [f"stderr: {lines[0][:120] if lines else '(blank)'}"]
    return [f"{'a warning' if WARNING_WORD.search(line) else 'library chatter'}: {line[:120]}" for line in lines
            if WARNING_WORD.search(line) or any(p.search(line) for p in LIBRARY_CHATTER)]


def _progress_bar(widgets, model_id) -> tuple[str, int] | None:
    """(final text, whole seconds elapsed) of the tqdm bar shown as widget ``model_id``; None if it is not one."""
    box = widgets.get(model_id, {})
    parts = [widgets.get(child.removeprefix("IPY_MODEL_"), {}) for child in box.get("state", {}).get("children", [])]
    if not any(p.get("model_name") in ("FloatProgressModel", "IntProgressModel") for p in parts):
        return None
    text = " ".join(html.unescape(p.get("state", {}).get("value", "")) for p in parts
                    if p.get("model_name") == "HTMLModel")
    elapsed = TQDM_ELAPSED.search(text)
    if elapsed is None:
        return None
    hours, minutes, seconds = (int(n or 0) for n in elapsed.groups())
    return " ".join(text.split()), hours * 3600 + minutes * 60 + seconds


def noise_report(paths) -> int:
    """Print the noise of each executed notebook in ``paths``; return the number of findings in all."""
    total = 0
    for path in paths:
        found = noise(json.loads(Path(path).read_text()))
        total += len(found)
        print(f"{Path(path).name}: {len(found) or 'no'} noise" + "".join(f"\n    {line}" for line in found))
    print(f"noise in all: {total}")
    return total


def check_noise(pattern: str) -> int:
    """``--noise``: count the noise in the executed copies from the last run; exit status 1 if there is any."""
    executed = BUILD / "notebooks"
    paths = sorted(executed.glob(pattern))
    if not paths:
        print(f"No executed notebook in {executed} matches '{pattern}'. Fix: run `make course` first.")
        return 2
    return 1 if noise_report(paths) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true",
                        help=f"also save the times as the course's reference budget ({BUDGET.name})")
    parser.add_argument("--noise", action="store_true",
                        help="run nothing: count what the executed copies in build/notebooks/ show that a learner "
                             "should not have to read (warnings, stderr, short progress bars, bare True/False)")
    parser.add_argument("pattern", nargs="?", default=None,
                        help="which notebooks to run (glob in notebooks/), or to check with --noise; "
                             f"by default the main course, without {', '.join(EXTRA_NOTEBOOKS)}")
    args = parser.parse_args(argv)
    if args.noise:
        return check_noise(args.pattern or "[0-9][0-9]_*.ipynb")
    notebooks = sorted(p for p in NOTEBOOKS.glob(args.pattern or "[0-9][0-9]_*.ipynb")
                       if args.pattern or p.name not in EXTRA_NOTEBOOKS)
    if not notebooks:
        print(f"No notebook in {NOTEBOOKS} matches '{args.pattern}'.")
        return 2
    SUMMARY.unlink(missing_ok=True)
    # Measured before the notebooks, while nothing else of ours runs (about a second).
    hardware = machine.describe()
    out_dir, rows, total = BUILD / "notebooks", [], time.perf_counter()
    for path in notebooks:
        print(f"running {path.name} …", flush=True)
        try:
            seconds, peak_mb = run_notebook(path, out_dir)
        except Exception as err:  # nbclient's CellExecutionError carries the traceback
            print(f"\n{path.name} FAILED. Its executed copy is {out_dir / path.name}.\n{err}")
            return 1
        rows.append((path.name, seconds, peak_mb))
        print(f"  done in {seconds:.0f} s, kernel peak {peak_mb:.0f} MB", flush=True)
    print("\nThe course ran headless:\n")
    print(f"{'notebook':<32} {'seconds':>8} {'peak MB':>8}")
    for name, seconds, peak_mb in rows:
        print(f"{name:<32} {seconds:>8.1f} {peak_mb:>8.0f}")
    total = time.perf_counter() - total
    print(f"{'total':<32} {total:>8.1f}")
    # Work (seconds x this machine's GFLOP/s in the precision the course ran in) is what travels between machines:
    # another machine's time is the work divided by its own rate in its own precision (machine.predict_seconds).
    precision = machine.choose_precision()["dtype"]
    rate = machine.working_gflops(hardware, precision)
    times = {"machine": machine.in_words(hardware),
             "machine_description": hardware,
             "precision": precision,
             "work_gflops": rate,
             "total_seconds": round(total, 1),
             "total_work_gflop": round(total * rate),
             "seconds": {name: round(seconds, 1) for name, seconds, _ in rows},
             "work_gflop": {name: round(seconds * rate) for name, seconds, _ in rows},
             "peak_rss_mb": {name: round(peak_mb) for name, _, peak_mb in rows}}
    write_text_atomic(TIMINGS, json.dumps(times, indent=2) + "\n")
    if args.record:  # a tracked file: an interrupted write must not leave half of it
        write_text_atomic(BUDGET, json.dumps(times, indent=2) + "\n")
    print("\nWhat the executed notebooks show that a learner should not have to read:")
    noise_report([out_dir / name for name, _, _ in rows if (out_dir / name).exists()])
    print(f"\nExecuted copies: {out_dir}")
    if SUMMARY.exists():
        print("\n" + SUMMARY.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
