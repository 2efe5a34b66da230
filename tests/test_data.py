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


def test_load_value_domains_reads_attribute_value_lists():
    from course_utils.data import load_facts, load_value_domains

    domains = load_value_domains()
    assert set(domains) == {f.attribute for f in load_facts()}
    assert all(isinstance(v, list) and v and all(isinstance(x, str) for x in v) for v in domains.values())
    assert "Porto" in domains["factory"] and "head of sales" in domains["role"]


@pytest.mark.parametrize("content, problem", [
    (None, r"values\.json is missing\. Fix: run `python -m course_utils\.worldgen`"),
    ('{"factory": ["Lima",', r"values\.json, line 1: not valid JSON .*Fix: regenerate"),
    ('["Lima", "Porto"]', r"expected a JSON object .* got list\. Fix: regenerate"),
    ('{"factory": "Lima"}', r"'factory' should be a list of strings, got \"Lima\"\. Fix: regenerate"),
    ('{"launch_year": [2013, 2014]}', r"'launch_year' should be a list of strings.*Fix: regenerate"),
    (b'{"factory": ["Gda\xf1sk"]}', r"values\.json is not UTF-8 text .*Fix: regenerate"),
])
def test_load_value_domains_names_the_problem_and_the_fix(tmp_path, content, problem):
    from course_utils.data import DataError, load_value_domains

    path = tmp_path / "values.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=problem):
        load_value_domains(tmp_path)


def test_the_new_splits_load():
    from course_utils.data import DEV_SPLITS, SPLITS, load_questions

    assert set(DEV_SPLITS) <= set(SPLITS)
    assert {q.split for q in load_questions()} == set(SPLITS)
    assert len(load_questions("dev")) == 112 and len(load_questions("dev_unanswerable")) == 12


def test_a_subset_of_facts_keeps_their_questions_and_a_share_of_the_unanswerable(monkeypatch):
    every_fact = {f.fact_id for f in load_facts()}
    monkeypatch.setenv("COURSE_FACTS", "14")
    kept = load_facts()
    assert len(kept) == 14 and len({f.doc_id for f in kept}) >= 10  # spread over the documents, not the first few
    ids = {f.fact_id for f in kept}
    assert ids < every_fact
    for split in ("train", "paraphrase", "update", "dev"):
        questions = load_questions(split)
        assert questions and {q.fact_id for q in questions} <= ids
    assert len(load_questions("train")) == 14
    assert len(load_questions("unanswerable")) == 10  # 40 × 14 / 56
    assert [q.qid for q in load_questions()] == [q.qid for q in load_questions()]  # the same subset every time
    monkeypatch.delenv("COURSE_FACTS")
    assert len(load_facts()) == len(every_fact)  # unset: every fact again


@pytest.mark.parametrize("value", ["three", "0", "-5", "2.5", "3"])
def test_a_bad_number_of_facts_names_the_setting_and_the_fix(monkeypatch, value):
    monkeypatch.setenv("COURSE_FACTS", value)
    with pytest.raises(ValueError, match="COURSE_FACTS.*Fix: unset COURSE_FACTS"):
        load_facts()
