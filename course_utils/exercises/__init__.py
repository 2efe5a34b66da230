"""Self-checks for the notebooks' exercises, one module per notebook.

Every ``check_…`` function prints a clear verdict (right, or wrong with a
hint) and returns True/False, so tests can prove it rejects wrong answers.
The solutions live in ``notebooks/solutions/`` and are loaded on demand.
"""
from __future__ import annotations

from pathlib import Path

SOLUTIONS_DIR = Path(__file__).resolve().parents[2] / "notebooks" / "solutions"


def verdict(ok: bool, success: str, hint: str) -> bool:
    """Print a one-line verdict for the learner and return ``ok``."""
    print(f"✅ Correct: {success}" if ok else f"❌ Not yet. Hint: {hint}")
    return bool(ok)


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
