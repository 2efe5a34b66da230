"""Benchmark: the whole course, headless, as `make course` runs it; writes build/bench_course.json.

Wall time of every notebook and of the whole course, and the peak resident
memory of each notebook's kernel, against the course's targets (``run_course.COURSE_SECONDS_TARGET`` and
``KERNEL_MB_TARGET``).
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils import run_course  # noqa: E402
from course_utils.artifacts import write_text_atomic  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-timings", action="store_true",
                        help="use the last `make course` run (build/timings.json) instead of running the course")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench_course.json")
    args = parser.parse_args(argv)
    # A new run is recorded as the reference budget too (as `make budget` does), so that the notebook times the
    # README quotes come from the same run as every other benchmark figure.
    if not args.from_timings and run_course.main(["--record"]) != 0:
        return 1
    times = json.loads(run_course.TIMINGS.read_text())
    worst = max(times["peak_rss_mb"].values())
    seconds_max, mb_max = run_course.COURSE_SECONDS_TARGET, run_course.KERNEL_MB_TARGET
    result = {**times, "targets": {"course_seconds_max": seconds_max, "kernel_peak_mb_max": mb_max,
                                   "course_within_budget": times["total_seconds"] <= seconds_max,
                                   "every_kernel_within_budget": worst <= mb_max}}
    write_text_atomic(args.out, json.dumps(result, indent=2) + "\n")
    print(f"course: {times['total_seconds']} s, largest kernel {worst} MB -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
