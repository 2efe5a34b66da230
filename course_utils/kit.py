"""What every notebook does at its start and at its end: its two times, then its run time and memory.

A notebook's first code cell is one line,
``from course_utils.kit import start; start("03_rag_loop.ipynb")``; its last
calls ``finish()``. Two times are
stated, and kept apart, because they answer different questions:

* **learner time**: minutes to read the notebook and do its exercises,
  estimated from the notebook's own text by the rule in ``learner_minutes``,
  so that anyone can recompute it and argue with the rule;
* **machine time**: seconds the notebook took in the course's reference run
  (``notebooks/budget.json``, written by ``make budget``), and what that work
  predicts on this machine (``machine.predict_seconds``).
"""
from __future__ import annotations

import json
import re
import resource
import time
from pathlib import Path

from .config import FACTS_ENV, REPO_ROOT, get_config
from .machine import choose_precision, working_gflops

NOTEBOOKS = REPO_ROOT / "notebooks"
BUDGET = NOTEBOOKS / "budget.json"

# The rule behind a learner time, stated so that it can be checked and changed.
# Brysbaert (2019, J. Memory and Language 109) puts silent reading of English non-fiction at ~238 words a
# minute; course text with terms, tables and outputs to compare is slower, so we count 150.
WORDS_PER_MINUTE = 150
SECONDS_PER_CODE_LINE = 6  # read a line of code and see what it does; outputs are counted with the prose
MINUTES_PER_EXERCISE = 12  # try, run the check, read the hint, try again
MINUTES_PER_EXPERIMENT = 15  # an exercise that changes an experiment and reruns it: plus the machine time

_clock = {"start": None}


def notebook_text(path: Path) -> dict:
    """Words of prose, lines of code, and exercises (cells that call a ``check_`` helper) in one notebook."""
    import nbformat

    cells = nbformat.read(path, as_version=4).cells
    prose = " ".join(c.source for c in cells if c.cell_type == "markdown")
    code = [c.source for c in cells if c.cell_type == "code"]
    return {"words": len(re.findall(r"[A-Za-z0-9][\w'’-]*", re.sub(r"`[^`]*`", " ", prose))),
            "code_lines": sum(1 for src in code for line in src.splitlines()
                              if line.strip() and not line.lstrip().startswith("#")),
            "exercises": sum(bool(re.search(r"^check_\w+\(", src, re.M)) for src in code),
            "experiments": sum(bool(re.search(r"^check_experiment_\w+\(", src, re.M)) for src in code)}


def learner_parts(path: Path) -> dict:
    """Minutes to read the prose, to read the code, and to do the exercises of ``path``, by the rule above."""
    t = notebook_text(path)
    return {"reading": t["words"] / WORDS_PER_MINUTE, "code": t["code_lines"] * SECONDS_PER_CODE_LINE / 60,
            "exercises": (t["exercises"] - t["experiments"]) * MINUTES_PER_EXERCISE
            + t["experiments"] * MINUTES_PER_EXPERIMENT}


def learner_minutes(path: Path) -> float:
    """Minutes to read ``path`` and do its exercises: the sum of ``learner_parts`` (taught in 00 §2)."""
    return sum(learner_parts(path).values())


def _budget() -> dict:
    """The reference run as recorded by `make budget` ({} when none is)."""
    return json.loads(BUDGET.read_text()) if BUDGET.exists() else {}


def reference_run(name: str) -> dict | None:
    """The reference run's seconds and work (GFLOP) for one notebook, and the machine that measured them."""
    budget = _budget()
    seconds = budget.get("seconds", {}).get(name)
    if seconds is None:
        return None
    return {"seconds": seconds, "work_gflop": budget.get("work_gflop", {}).get(name),
            "machine": budget.get("machine", "unknown machine")}


def largest_peak() -> tuple[str, float] | None:
    """(notebook, MB): the highest kernel memory of the reference run, or None if none is recorded."""
    peaks = _budget().get("peak_rss_mb") or {}
    return max(peaks.items(), key=lambda item: item[1]) if peaks else None


def _this_machine_gflops() -> float | None:
    """This machine's matmul rate in the precision it runs the course in, measured once with that choice (00 §2)."""
    choice = choose_precision()
    return working_gflops(choice, choice["dtype"])  # None when COURSE_PRECISION forces a choice without measuring


def start(name: str) -> None:
    """Print the notebook's learner time and machine time, and start its clock."""
    if not NOTEBOOKS.is_dir():  # installed as a copy (pip install .), away from the course's folder
        raise FileNotFoundError(f"course_utils is installed at {REPO_ROOT}, outside the course's folder, so it cannot "
                                "find the notebooks. Fix: run `make setup` in the course's folder (it installs the "
                                "course with `pip install -e .`), and open the notebooks with `make lab`.")
    path = NOTEBOOKS / name
    if not path.exists():
        raise FileNotFoundError(f"No notebook {name!r} in {NOTEBOOKS}. Fix: pass this notebook's file name.")
    _clock["start"] = time.perf_counter()
    facts = get_config().facts
    if facts:
        print(f"A smaller run: {FACTS_ENV}={facts} keeps {facts} of the facts and their questions, so every figure below "
              f"has a smaller n than the course's. Unset {FACTS_ENV} and restart the kernel for the whole course.")
    print(f"Learner time: about {5 * round(learner_minutes(path) / 5):.0f} minutes to read and do the exercises "
          "(course_utils.kit.learner_minutes says how that is counted).")
    ref = reference_run(name)
    if ref is None:
        print("Machine time: no reference run recorded yet (`make budget` records one).")
        return
    line = f"Machine time: {ref['seconds']:.0f} s in the reference run ({ref['machine']})"
    rate = _this_machine_gflops()
    if ref["work_gflop"] and rate:
        line += f"; the same work predicts about {ref['work_gflop'] / rate:.0f} s on this machine"
    print(line + ".")


def finish() -> None:
    """Print how long the notebook ran and its peak memory."""
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    ran = f"{time.perf_counter() - _clock['start']:.0f} s" if _clock["start"] else "an unknown time (start() not run)"
    print(f"This notebook ran in {ran}; peak memory {peak_mb:.0f} MB.")
