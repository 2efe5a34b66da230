"""Run every benchmark (scripts/bench_*.py) and merge their JSON into build/bench.json.

    make bench
    python scripts/bench.py --merge-only   # merge the build/bench_*.json already written

Benchmarks, not unit tests, hold the course's performance targets: shared
machines are noisy, so the figures are medians from one run, kept as JSON.
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"


def main() -> int:
    if "--merge-only" in sys.argv:  # benchmarks run one by one already: just merge what they wrote
        merged = {p.stem.removeprefix("bench_"): json.loads(p.read_text()) for p in sorted(BUILD.glob("bench_*.json"))}
        (BUILD / "bench.json").write_text(json.dumps(merged, indent=2) + "\n")
        print(f"merged {sorted(merged)} into {BUILD / 'bench.json'}")
        return 0
    merged, failed = {}, []
    for script in sorted((ROOT / "scripts").glob("bench_*.py")):
        print(f"running {script.name} …", flush=True)
        result = BUILD / f"{script.stem}.json"
        result.unlink(missing_ok=True)  # never merge a previous run's figures
        if subprocess.run([sys.executable, str(script)], cwd=ROOT).returncode != 0:
            failed.append(script.name)  # a missed target still reports its figures, if it wrote them
        if result.exists():
            merged[script.stem.removeprefix("bench_")] = json.loads(result.read_text())
    (BUILD / "bench.json").write_text(json.dumps(merged, indent=2) + "\n")
    print(f"wrote {BUILD / 'bench.json'}" + (f"; FAILED: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
