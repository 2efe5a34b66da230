"""scripts/bench_course.py judges the course's run against the course's own targets, and records it as the budget.

The course itself is not run here (it takes most of an hour): ``run_course.main`` is replaced by a stand-in that
writes the timings a run would write.
"""
from __future__ import annotations

import json

import pytest

from course_utils import run_course
from course_scripts import load_script


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A stand-in course run: records the arguments it was given and writes these timings, or fails."""
    calls, timings = [], tmp_path / "timings.json"
    state = {"rc": 0, "total": 0.0, "peaks": {}}

    def fake_main(argv):
        calls.append(list(argv))
        if state["rc"] == 0:
            timings.write_text(json.dumps({"total_seconds": state["total"], "peak_rss_mb": state["peaks"]}))
        return state["rc"]

    monkeypatch.setattr(run_course, "main", fake_main)
    monkeypatch.setattr(run_course, "TIMINGS", timings)
    return calls, state


def test_a_run_is_recorded_and_judged_against_the_course_targets(course, tmp_path):
    calls, state = course
    # a second over the time target; the largest kernel exactly at the memory target
    state["total"] = run_course.COURSE_SECONDS_TARGET + 1.0
    state["peaks"] = {"00_welcome.ipynb": 100, "05_hybrid.ipynb": run_course.KERNEL_MB_TARGET}
    out = tmp_path / "bench_course.json"
    assert load_script("bench_course").main(["--out", str(out)]) == 0
    assert calls == [["--record"]]  # the benchmark's run is the reference budget too
    targets = json.loads(out.read_text())["targets"]
    assert targets == {"course_seconds_max": run_course.COURSE_SECONDS_TARGET,
                       "kernel_peak_mb_max": run_course.KERNEL_MB_TARGET,
                       "course_within_budget": False, "every_kernel_within_budget": True}


def test_from_timings_reads_the_last_run_without_running_the_course(course, tmp_path):
    calls, state = course
    state["peaks"] = {"00_welcome.ipynb": run_course.KERNEL_MB_TARGET + 1}
    run_course.main([])  # the last `make course`
    calls.clear()
    out = tmp_path / "bench_course.json"
    assert load_script("bench_course").main(["--from-timings", "--out", str(out)]) == 0
    assert calls == []
    assert json.loads(out.read_text())["targets"]["every_kernel_within_budget"] is False


def test_a_failed_course_writes_no_figures(course, tmp_path):
    _, state = course
    state["rc"] = 1
    out = tmp_path / "bench_course.json"
    assert load_script("bench_course").main(["--out", str(out)]) == 1
    assert not out.exists()
