"""Each check of 00_welcome accepts its solution and rejects wrong answers."""
import runpy

from course_utils.exercises import passed, solution_path, welcome


def test_paraphrase_count_check(capsys):
    solved = runpy.run_path(str(solution_path("00_paraphrase_count")))
    assert passed(welcome.check_paraphrase_count, solved["paraphrase_count"])
    assert not passed(welcome.check_paraphrase_count, solved["paraphrase_count"] + 1)
    assert not passed(welcome.check_paraphrase_count, None)
    assert "Hint" in capsys.readouterr().out


def test_changed_documents_check():
    solved = runpy.run_path(str(solution_path("00_changed_documents")))
    assert passed(welcome.check_changed_documents, solved["changed"])
    assert not passed(welcome.check_changed_documents, set(list(solved["changed"])[1:]))
    assert not passed(welcome.check_changed_documents, set())
    assert not passed(welcome.check_changed_documents, 42)


def test_unknown_solution_lists_the_known_ones():
    import pytest

    with pytest.raises(FileNotFoundError, match="00_paraphrase_count"):
        solution_path("00_nope")


def test_a_check_as_the_last_line_of_a_cell_leaves_one_line_and_no_value(capsys):
    solved = runpy.run_path(str(solution_path("00_paraphrase_count")))
    assert welcome.check_paraphrase_count(solved["paraphrase_count"]) is None  # Jupyter shows no Out[…]
    assert welcome.check_changed_documents(None) is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("✅ Correct: ") and lines[1].startswith("❌ Not yet. Hint: ")
