"""Run the whole course headless: ``python -m course_utils.run_course`` (or ``make course``).

Each notebook is executed in a fresh kernel, in order, and the executed copy
is written to ``build/notebooks/``; the notebooks in ``notebooks/`` are never
touched. At the end it prints what ran, how long each took, and the course's
summary, if the last notebook wrote one.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import threading
import time
from pathlib import Path

from . import machine
from .config import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
BUILD = REPO_ROOT / "build"
SUMMARY = BUILD / "summary.txt"  # written by the comparison notebook
TIMINGS = BUILD / "timings.json"  # this machine's times, shown by 00_welcome
BUDGET = NOTEBOOKS / "budget.json"  # the reference times quoted by the course (--record)


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


def run_notebook(path: Path, out_dir: Path, timeout: int = 1800) -> tuple[float, float]:
    """Execute one notebook with cwd = notebooks/; return (wall seconds, peak kernel RSS in MB)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    memory = PeakMemory()
    memory.start()
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:  # keep the executed copy even on failure: it shows the failing cell
        seconds, peak_mb = time.perf_counter() - start, memory.stop()
        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out_dir / path.name)
    return seconds, peak_mb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true",
                        help=f"also save the times as the course's reference budget ({BUDGET.name})")
    parser.add_argument("pattern", nargs="?", default="[0-9][0-9]_*.ipynb",
                        help="which notebooks to run (glob in notebooks/)")
    args = parser.parse_args(argv)
    notebooks = sorted(NOTEBOOKS.glob(args.pattern))
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
    # Work (seconds x this machine's float32 GFLOP/s, in GFLOP) is what travels between machines:
    # another machine's time is the work divided by its own rate (machine.predict_seconds).
    rate = hardware["fp32_gflops"]
    times = {"machine": f"{platform.machine()}, {platform.system()}, {hardware['cores']} cores, {hardware['cpu']}, "
                        f"{rate:.0f} GFLOP/s float32",
             "machine_description": hardware,
             "total_seconds": round(total, 1),
             "total_work_gflop": round(total * rate),
             "seconds": {name: round(seconds, 1) for name, seconds, _ in rows},
             "work_gflop": {name: round(seconds * rate) for name, seconds, _ in rows},
             "peak_rss_mb": {name: round(peak_mb) for name, _, peak_mb in rows}}
    TIMINGS.write_text(json.dumps(times, indent=2) + "\n")
    if args.record:
        BUDGET.write_text(json.dumps(times, indent=2) + "\n")
    print(f"\nExecuted copies: {out_dir}")
    if SUMMARY.exists():
        print("\n" + SUMMARY.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
