"""Every notebook has at least two exercises, each with a check, a solution and tests of the check;
every check prints one verdict line and returns nothing."""
import ast
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


# ------------------------------------------------------------------------------- what an exercise cell shows

EXERCISE_MODULES = sorted((REPO_ROOT / "course_utils" / "exercises").glob("[a-z]*.py"))


@pytest.mark.parametrize("path", EXERCISE_MODULES, ids=[p.stem for p in EXERCISE_MODULES])
def test_every_check_prints_its_verdict_and_returns_nothing(path):
    # Read, not imported: some modules need torch or the generator. A check returning True/False
    # would leave a bare `False` under the verdict, since Jupyter shows a cell's last value.
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("check_"):
            decorators = [ast.unparse(d) for d in node.decorator_list]
            assert decorators == ["exercise_check"], (
                f"{path.name}: {node.name} is not wrapped. Fix: put @exercise_check on it and return verdict(...)")


def test_a_check_prints_one_line_and_passed_reports_the_outcome(capsys):
    from course_utils.exercises import exercise_check, passed, verdict

    @exercise_check
    def check_answer(answer):
        """The docstring stays for help()."""
        return verdict(answer == 42, "42.", "six times seven.")

    assert check_answer(41) is None
    assert capsys.readouterr().out == "❌ Not yet. Hint: six times seven.\n"
    assert passed(check_answer, 42) and not passed(check_answer, 41)
    assert capsys.readouterr().out == "✅ Correct: 42.\n❌ Not yet. Hint: six times seven.\n"
    assert check_answer.__name__ == "check_answer" and "docstring" in check_answer.__doc__
    with pytest.raises(TypeError, match="passed\\(check_rrf, my_rrf\\)"):
        passed(lambda answer: True, 42)
