"""Run every benchmark (scripts/bench_*.py) and merge their JSON into build/bench.json.

    make bench                               # every benchmark, about 2 hours on 2 cores
    python scripts/bench.py --only scale     # some of them: build/bench.json then holds only these

Every figure comes from this one run, stamped with the commit, the date and
the machine; nothing is merged from earlier runs.

Benchmarks, not unit tests, hold the course's performance targets: shared
machines are noisy, so the figures are medians from one run, kept as JSON.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"


def stamp() -> dict:
    """What the figures belong to: the commit, the date and the machine (measured: cores, GFLOP/s, bandwidth)."""
    sys.path.insert(0, str(ROOT))
    from course_utils.machine import describe

    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {"commit": commit or "unknown", "date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": describe()}


def main(argv: list[str] | None = None) -> int:
    scripts = {p.stem.removeprefix("bench_"): p for p in sorted((ROOT / "scripts").glob("bench_*.py"))}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(scripts), default=sorted(scripts),
                        help="run these benchmarks only (build/bench.json then holds only their sections)")
    args = parser.parse_args(argv)
    merged, failed = {"stamp": stamp()}, []  # measured before the benchmarks, on an idle machine
    for script in (scripts[name] for name in args.only):
        print(f"running {script.name} …", flush=True)
        result = BUILD / f"{script.stem}.json"
        result.unlink(missing_ok=True)  # never merge a previous run's figures
        if subprocess.run([sys.executable, str(script)], cwd=ROOT).returncode != 0:
            failed.append(script.name)  # a missed target still reports its figures, if it wrote them
        if result.exists():
            merged[script.stem.removeprefix("bench_")] = json.loads(result.read_text())
    from course_utils.artifacts import write_text_atomic  # importable once stamp() has put ROOT on the path

    write_text_atomic(BUILD / "bench.json", json.dumps(merged, indent=2) + "\n")
    print(f"wrote {BUILD / 'bench.json'}" + (f"; FAILED: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
