"""The course's output sanitizers mask timings but never results: a changed number fails, a changed timing does not.

The notebooks are stored clean; ``make determinism`` compares two runs with
these sanitizers. This runs nbval with them on a one-cell notebook whose
stored output is right or wrong, to prove they do not hide a real change.
"""
import subprocess
import sys

import nbformat
import pytest

from course_utils.config import REPO_ROOT

SOURCE = '# NBVAL_CHECK_OUTPUT\nprint("recall@5 = 0.97, ran in", round(__import__("time").perf_counter() % 7 + 1, 2), "s")'


def run_nbval(tmp_path, stored_text: str) -> subprocess.CompletedProcess:
    cell = nbformat.v4.new_code_cell(SOURCE, execution_count=1,
                                     outputs=[nbformat.v4.new_output("stream", name="stdout", text=stored_text)])
    nb = nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                         "language": "python"}})
    nbformat.write(nb, tmp_path / "check.ipynb")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # keep the repository's addopts out of this inner run
    return subprocess.run(
        [sys.executable, "-m", "pytest", "check.ipynb", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         "--nbval-sanitize-with", str(REPO_ROOT / "tests" / "nbval_sanitize.cfg")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("stored, passes", [
    ("recall@5 = 0.97, ran in 3.14 s\n", True),   # another timing: sanitized, still equal
    ("recall@5 = 0.96, ran in 3.14 s\n", False),  # another number: a real change, caught
])
def test_checked_cells_compare_numbers_but_not_timings(tmp_path, stored, passes):
    result = run_nbval(tmp_path, stored)
    assert (result.returncode == 0) == passes, result.stdout[-2000:]


def test_notebook_cells_wait_a_minute_for_late_outputs(request):
    import conftest

    cells = [item for item in request.session.items if hasattr(item, "output_timeout")]
    late = type("Cell", (), {"output_timeout": 5})()
    conftest.pytest_collection_finish(type("Session", (), {"items": [late]})())
    assert late.output_timeout == conftest.NBVAL_OUTPUT_TIMEOUT >= 60
    assert all(cell.output_timeout == conftest.NBVAL_OUTPUT_TIMEOUT for cell in cells)  # the notebooks' own cells
