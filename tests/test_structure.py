"""The package stays readable: small modules, a first cell of one line in every notebook."""
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted((ROOT / "course_utils").rglob("*.py"))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_LINES = 300  # a module that grows past this is doing more than one idea: split it


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_the_limit(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines. Fix: split it by idea (see the layers)."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_starts_with_one_line_of_the_kit(path):
    first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    lines = first.source.strip().splitlines()
    assert len(lines) == 1, first.source
    code = lines[0].split("  #")[0]  # a comment may say what it does
    assert code == f'from course_utils.kit import start; start("{path.name}")', first.source
