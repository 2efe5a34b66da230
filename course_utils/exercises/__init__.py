"""Self-checks for the notebooks' exercises, one module per notebook.

An exercise cell ends with a call such as ``check_rrf(rrf)``. The check prints
one line, "✅ Correct: …" or "❌ Not yet. Hint: …", and returns None: Jupyter
shows the value of a cell's last line, so a check that returned True/False
would leave a bare ``False`` under its verdict.

Each check is written as a grader that returns a ``Verdict`` and is wrapped by
``exercise_check``. Tests ask ``passed(check_rrf, wrong_rrf)`` for the boolean.
The solutions live in ``notebooks/solutions/`` and are loaded on demand.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

SOLUTIONS_DIR = Path(__file__).resolve().parents[2] / "notebooks" / "solutions"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: whether the answer passed, and the line the learner reads."""

    ok: bool
    line: str


def verdict(ok: bool, success: str, hint: str) -> Verdict:
    """The verdict on an answer: ``success`` says what was right, ``hint`` what to try next."""
    return Verdict(bool(ok), f"✅ Correct: {success}" if ok else f"❌ Not yet. Hint: {hint}")


def exercise_check(grade):
    """Turn ``grade`` (returns a ``Verdict``) into a notebook check that prints the verdict and returns None."""
    @functools.wraps(grade)
    def check(*args, **kwargs) -> None:
        print(grade(*args, **kwargs).line)

    # functools.wraps shares the grader's annotations; the check itself returns nothing.
    check.__annotations__ = {**grade.__annotations__, "return": "None"}
    return check


def passed(check, *args, **kwargs) -> bool:
    """Run ``check`` as an exercise cell does (it prints its line) and say whether the answer passed."""
    grade = getattr(check, "__wrapped__", None)
    if grade is None:
        raise TypeError(f"passed() takes a check_… function from course_utils.exercises, got {check!r}. "
                        "Fix: pass the check itself, e.g. passed(check_rrf, my_rrf).")
    result = grade(*args, **kwargs)
    print(result.line)
    return result.ok


def solution_path(name: str) -> Path:
    """The file of one exercise's solution, e.g. ``solution_path('01_bm25')``."""
    path = SOLUTIONS_DIR / f"{name}.py"
    if not path.exists():
        known = sorted(p.stem for p in SOLUTIONS_DIR.glob("*.py"))
        raise FileNotFoundError(f"No solution called '{name}'. Known solutions: {known}.")
    return path


def show_solution(name: str) -> None:
    """Print a solution. In a notebook, ``%load`` the path instead to get it in a cell."""
    print(solution_path(name).read_text())
