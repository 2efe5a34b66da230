"""Benchmark: the whole course, headless, as `make course` runs it; writes build/bench_course.json.

Wall time of every notebook and of the whole course, and the peak resident
memory of each notebook's kernel (the budgets: <= 10 minutes, <= 2 GB per kernel).
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils import run_course  # noqa: E402

BUDGET_SECONDS, BUDGET_MB = 600, 2048


def main() -> int:
    # --from-timings: use the last `make course` run (build/timings.json) instead of running the course again
    if "--from-timings" not in sys.argv and run_course.main([]) != 0:
        return 1
    times = json.loads(run_course.TIMINGS.read_text())
    worst = max(times["peak_rss_mb"].values())
    result = {**times, "targets": {"course_seconds_max": BUDGET_SECONDS, "kernel_peak_mb_max": BUDGET_MB,
                                   "course_within_budget": times["total_seconds"] <= BUDGET_SECONDS,
                                   "every_kernel_within_budget": worst <= BUDGET_MB}}
    out = ROOT / "build" / "bench_course.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"course: {times['total_seconds']} s, largest kernel {worst} MB -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
