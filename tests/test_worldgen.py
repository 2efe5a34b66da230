"""The committed data/ must be exactly what the generator writes."""
import json
from collections import Counter

from course_utils import worldgen
from course_utils.config import DATA_DIR
from course_utils.data import load_documents, load_facts, load_questions


def test_committed_data_matches_the_generator(tmp_path):
    written = worldgen.write(tmp_path)
    assert written
    for path in written:
        committed = DATA_DIR / path.name
        assert committed.read_text() == path.read_text(), (
            f"data/{path.name} differs from what the generator writes: run `make data` and commit.")


def test_generation_is_deterministic_and_depends_on_the_seed():
    assert worldgen.generate() == worldgen.generate()
    assert worldgen.generate(seed=1) != worldgen.generate(seed=2)


def test_every_fact_has_training_and_two_heldout_phrasings():
    questions = load_questions()
    per_fact = Counter((q.fact_id, q.split) for q in questions)
    for fact in load_facts():
        assert per_fact[(fact.fact_id, "train")] == 1
        assert per_fact[(fact.fact_id, "paraphrase")] >= 2
    train = {q.fact_id: q.question for q in questions if q.split == "train"}
    for q in questions:
        if q.split == "paraphrase":
            assert q.question != train[q.fact_id]


def test_every_answer_is_stated_in_its_gold_document():
    for version, splits in (("v1", ("train", "paraphrase")), ("v2", ("update",))):
        docs = {d.doc_id: d.text for d in load_documents(version)}
        for q in load_questions():
            if q.split in splits:
                assert any(a in docs[q.doc_id] for a in q.answers), q.qid


def test_update_questions_have_a_new_answer_and_the_stale_one():
    updates = load_questions("update")
    assert len(updates) >= 10
    facts = {f.fact_id: f for f in load_facts()}
    for q in updates:
        fact = facts[q.fact_id]
        assert q.answers == [fact.value_v2] and q.stale_answers == [fact.value_v1]
        assert fact.value_v1 != fact.value_v2
    changed = {f.fact_id for f in facts.values() if f.value_v1 != f.value_v2}
    assert changed == {q.fact_id for q in updates}


def test_unanswerable_questions_have_no_answer_and_no_source():
    questions = load_questions("unanswerable")
    assert len(questions) >= 10
    assert all(not q.answers and q.doc_id is None and not q.answerable for q in questions)


def test_near_duplicate_names_exist():
    titles = [d.title for d in load_documents("v1")]
    assert any(a != b and b.startswith(a) for a in titles for b in titles)


def test_output_is_valid_json_lines():
    for path in DATA_DIR.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            assert isinstance(json.loads(line), dict)
