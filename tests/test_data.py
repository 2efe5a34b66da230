"""The loaders return typed rows (broken files are covered by tests/test_bad_inputs.py)."""
import pytest

from course_utils.data import Document, Question, load_documents, load_facts, load_questions


def test_loaders_return_typed_rows():
    docs = load_documents("v1")
    assert docs and all(isinstance(d, Document) for d in docs)
    questions = load_questions("paraphrase")
    assert questions and all(isinstance(q, Question) and q.split == "paraphrase" for q in questions)
    assert {f.doc_id for f in load_facts()} <= {d.doc_id for d in docs}


def test_eval_questions_is_a_fixed_sample_of_its_split():
    from course_utils.data import eval_questions, load_questions

    sample = eval_questions("paraphrase", 10)
    assert len(sample) == 10 and len({q.qid for q in sample}) == 10
    assert all(q.split == "paraphrase" for q in sample)
    assert [q.qid for q in sample] == [q.qid for q in eval_questions("paraphrase", 10)]  # same every call
    assert [q.qid for q in sample] != [q.qid for q in load_questions("paraphrase")[:10]]  # a sample, not the head
    assert len(eval_questions("update", 10_000)) == len(load_questions("update"))
    with pytest.raises(ValueError, match="positive whole number"):
        eval_questions("train", 0)
