"""Every notebook has at least two exercises, each with a check, a solution and tests of the check."""
import re

import nbformat
import pytest

from course_utils.config import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TESTS = "\n".join(p.read_text() for p in (REPO_ROOT / "tests").glob("test_*.py"))


def exercises(path):
    """(check function, solution file) pairs of a notebook's exercise cells."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        checks = re.findall(r"^(check_\w+)\(", cell.source, flags=re.M)
        solutions = re.findall(r"^# ?%load (solutions/\S+\.py)", cell.source, flags=re.M)
        found += [(check, solutions[0] if solutions else None) for check in checks]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_two_checked_exercises_with_solutions(path):
    found = exercises(path)
    assert len({check for check, _ in found}) >= 2, f"{path.name} needs at least two exercises with a check_… call"
    for check, solution in found:
        assert solution, f"{path.name}: the cell calling {check} has no `# %load solutions/…` line"
        assert (REPO_ROOT / "notebooks" / solution).exists(), f"{path.name}: {solution} is missing"
        assert solution.startswith(f"solutions/{path.name[:2]}_"), f"{solution} is not named after {path.name}"
        # The tests of each exercises module show the check accepts the solution and rejects wrong answers.
        assert re.search(rf"\b{check}\b", TESTS), f"{check} has no test"
