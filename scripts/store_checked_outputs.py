"""Store the reference outputs of the notebooks' deterministic cells, which nbval then checks strictly.

The notebooks are kept without outputs, except in cells whose first line is
``# NBVAL_CHECK_OUTPUT``: their printed text is the reference that every test
run must reproduce (timings, memory and progress bars are sanitised by
tests/nbval_sanitize.cfg). Only text is kept (tables as text and HTML); plots and
widgets are not compared.

Run after ``make course`` (which writes the executed copies in build/notebooks/):
    python scripts/store_checked_outputs.py ["03_*.ipynb"]
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# NBVAL_CHECK_OUTPUT"


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and cell.source.startswith(MARKER)


def text_only(outputs) -> list:
    """Keep printed text and plain-text results; drop images, HTML and widget views."""
    kept = []
    for out in outputs:
        if out.output_type == "stream":
            kept.append(out)
        elif out.output_type == "execute_result" and "text/plain" in out.data:
            data = {k: v for k, v in out.data.items() if k in ("text/plain", "text/html")}  # a table's two views
            kept.append(nbformat.v4.new_output("execute_result", data=data, execution_count=out.execution_count))
    return kept


def store(notebook: Path, executed: Path) -> int:
    """Copy the checked cells' outputs from ``executed`` into ``notebook``; return how many cells."""
    nb, run = nbformat.read(notebook, as_version=4), nbformat.read(executed, as_version=4)
    if [c.source for c in nb.cells] != [c.source for c in run.cells]:
        raise SystemExit(f"{executed} was run from an older version of {notebook.name}. Fix: run `make course` again.")
    count = 0
    for cell, done in zip(nb.cells, run.cells):
        if cell.cell_type != "code":
            continue
        # nbval only compares cells that were run, i.e. have an execution count.
        cell.execution_count = done.execution_count if is_checked(cell) else None
        cell.outputs = text_only(done.outputs) if is_checked(cell) else []
        count += is_checked(cell)
    tmp = notebook.with_name(f".{notebook.name}.tmp")
    nbformat.write(nb, tmp)
    tmp.replace(notebook)
    return count


def main(pattern: str = "[0-9][0-9]_*.ipynb") -> int:
    for notebook in sorted((ROOT / "notebooks").glob(pattern)):
        executed = ROOT / "build" / "notebooks" / notebook.name
        if not executed.exists():
            print(f"{notebook.name}: no executed copy in build/notebooks; run `make course` first.")
            return 1
        print(f"{notebook.name}: {store(notebook, executed)} checked cells stored")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
