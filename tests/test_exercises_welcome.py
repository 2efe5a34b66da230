"""Each check of 00_welcome accepts its solution and rejects wrong answers."""
import runpy

from course_utils.exercises import solution_path, welcome


def test_paraphrase_count_check(capsys):
    solved = runpy.run_path(str(solution_path("00_paraphrase_count")))
    assert welcome.check_paraphrase_count(solved["paraphrase_count"])
    assert not welcome.check_paraphrase_count(solved["paraphrase_count"] + 1)
    assert not welcome.check_paraphrase_count(None)
    assert "Hint" in capsys.readouterr().out


def test_changed_documents_check():
    solved = runpy.run_path(str(solution_path("00_changed_documents")))
    assert welcome.check_changed_documents(solved["changed"])
    assert not welcome.check_changed_documents(set(list(solved["changed"])[1:]))
    assert not welcome.check_changed_documents(set())
    assert not welcome.check_changed_documents(42)


def test_unknown_solution_lists_the_known_ones():
    import pytest

    with pytest.raises(FileNotFoundError, match="00_paraphrase_count"):
        solution_path("00_nope")
