"""Words follow numbers: no markdown cell states a measured figure.

A figure typed into the text goes stale the first time a learner's machine,
a seed or a model differs; printed by code, it is always the one measured.
What may appear in prose: settings the course chooses (thresholds, interval
levels, memory targets) and figures quoted from a cited paper. Each allowed
phrase is listed below with its notebook, so a new one is a decision.
"""
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# A number followed by a unit of a measurement: a share, a ratio, a time or a size.
FIGURE = re.compile(r"(?<![\w.\[])(\d+(?:[.,]\d+)?)\s?(%|×|x\b|s\b|seconds?\b|minutes?\b|min\b|ms\b|GB\b|MB\b|kB\b)")

# (notebook prefix, the figure as written, why it may stay)
ALLOWED = {
    ("04", "90%"): "the stopping rule's threshold (training.DEFAULT_TRAIN.until_accuracy)",
    ("04", "60%"): "where the stop check starts: until_accuracy minus check_within (training.DEFAULT_TRAIN)",
    ("05", "95%"): "the level of the intervals",
    ("06", "95%"): "the level of the intervals",
    ("05", "40%"): "quoted from Zhang et al. (RAFT), cited in the cell",
    ("05", "100%"): "quoted from Zhang et al. (RAFT), cited in the cell",
    ("05", "80%"): "the oracle share P, a setting (hybrid.DEFAULT_P_ORACLE)",
    ("06", "26.43%"): "quoted from Zhang et al. (RAFT), cited in the cell",
    ("06", "42.59%"): "quoted from Zhang et al. (RAFT), cited in the cell",
    ("06", "74.00%"): "quoted from Zhang et al. (RAFT), cited in the cell",
}


def figures_in(path: Path) -> list[tuple[str, str, str]]:
    """(cell id, figure, text around it) for every figure in the notebook's markdown cells."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for m in FIGURE.finditer(cell.source):
                figure = m.group(0).replace("\u00a0", " ")
                found.append((cell.get("id"), figure, cell.source[max(0, m.start() - 50):m.end() + 20]))
    return found


def test_the_pattern_finds_typed_figures():
    text = "RAG took 1.5 s and 0.7 seconds, scored 43 %, ran 3× faster, peaked at 1,400 MB; see [1] and v2."
    assert [m.group(0) for m in FIGURE.finditer(text)] == ["1.5 s", "0.7 seconds", "43 %", "3×", "1,400 MB"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_states_no_measured_figure(path):
    prefix = path.name[:2]
    typed = [(cell, figure, around) for cell, figure, around in figures_in(path) if (prefix, figure) not in ALLOWED]
    assert not typed, ("A markdown cell states a figure; print it from the measured value in a code cell instead, "
                       "or, if it is a setting or a cited paper's number, add it to ALLOWED with the reason:\n"
                       + "\n".join(f"  cell {cell}: {figure!r} in ...{around!r}..." for cell, figure, around in typed))


def test_every_allowed_figure_is_still_used():
    present = {(p.name[:2], figure) for p in NOTEBOOKS for _, figure, _ in figures_in(p)}
    assert not set(ALLOWED) - present, f"no longer in the notebooks, drop from ALLOWED: {set(ALLOWED) - present}"
