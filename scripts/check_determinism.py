"""Run the course twice and check that every number it prints is the same.

    make determinism            # all notebooks, twice (about twice `make course`)
    python scripts/check_determinism.py 01_retriever.ipynb

Timings and progress bars legitimately change between runs; they are masked
with the same rules nbval uses (tests/nbval_sanitize.cfg). Everything else in
the text outputs must match exactly. Writes build/determinism.json.
"""
import argparse
import configparser
import difflib
import json
import re
import sys
import tempfile
from pathlib import Path

import nbformat

from course_utils.run_course import BUILD, NOTEBOOKS, run_notebook

ROOT = Path(__file__).resolve().parent.parent


def sanitizers() -> list[tuple[re.Pattern, str]]:
    cfg = configparser.ConfigParser(interpolation=None)  # regexes contain %
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def text_outputs(path: Path, rules) -> list[str]:
    """One string per code cell: its text outputs, with the sanitizers applied."""
    cells = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            parts.append(text if isinstance(text, str) else "".join(text))
        text = "".join(parts)
        for pattern, replacement in rules:
            text = pattern.sub(replacement, text)
        cells.append(text)
    return cells


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebook names (default: all)")
    args = parser.parse_args()
    paths = [NOTEBOOKS / n for n in args.notebooks] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    rules, report = sanitizers(), {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            runs = []
            for i in (1, 2):
                print(f"{path.name}: run {i} …", flush=True)
                run_notebook(path, Path(tmp) / str(i))
                runs.append(text_outputs(Path(tmp) / str(i) / path.name, rules))
            diffs = [(n, a, b) for n, (a, b) in enumerate(zip(*runs)) if a != b]
            report[path.name] = {"cells_compared": len(runs[0]), "cells_differing": len(diffs)}
            for n, a, b in diffs:
                print(f"  code cell {n} differs:")
                print("".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), n=1))[:2000])
    BUILD.mkdir(exist_ok=True)
    (BUILD / "determinism.json").write_text(json.dumps(report, indent=2) + "\n")
    bad = [name for name, r in report.items() if r["cells_differing"]]
    print("identical numbers in both runs" if not bad else f"runs differ in: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
