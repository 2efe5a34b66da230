"""The committed data/ must be exactly what the generator writes, and its splits must be sound."""
import json
import re
from collections import Counter

import pytest

from course_utils import world, worldgen
from course_utils.config import DATA_DIR
from course_utils.data import DEV_SPLITS, EVAL_SPLITS, load_documents, load_facts, load_questions, load_value_domains

def mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None


def test_committed_data_matches_the_generator(tmp_path):
    written = worldgen.write(tmp_path)
    assert {p.name for p in written} >= {"facts.jsonl", "questions.jsonl", "values.json"}
    for path in written:
        committed = DATA_DIR / path.name
        assert committed.read_text() == path.read_text(), (
            f"data/{path.name} differs from what the generator writes: run `make data` and commit.")


def test_generation_is_deterministic_and_depends_on_the_seed():
    assert worldgen.generate() == worldgen.generate()
    assert worldgen.generate(seed=1) != worldgen.generate(seed=2)


def test_every_fact_has_one_training_three_extra_two_dev_and_four_heldout_phrasings():
    questions = load_questions()
    per_fact = Counter((q.fact_id, q.split) for q in questions)
    facts = load_facts()
    for fact in facts:
        assert per_fact[(fact.fact_id, "train")] == 1
        assert per_fact[(fact.fact_id, "train_extra")] == 3
        assert per_fact[(fact.fact_id, "dev")] == 2
        assert per_fact[(fact.fact_id, "paraphrase")] == 4
    qids = {q.qid for q in questions}
    for fact in facts:
        assert {f"{fact.fact_id}.dev{i}" for i in (1, 2)} <= qids
        assert {f"{fact.fact_id}.heldout{i}" for i in (1, 2, 3, 4)} <= qids
    assert len(load_questions("paraphrase")) == 4 * len(facts) == 224


def test_the_first_two_heldout_phrasings_keep_their_ids():
    """Results cached under heldout1 and heldout2 must still be about the same question."""
    questions = {q.qid: q.question for q in load_questions("paraphrase")}
    assert questions["quibit-x2.factory.heldout1"] == "Where does Vellmar assemble the Quibit X2?"
    assert questions["dana-okafor.joined_year.heldout2"] == "Dana Okafor began at Vellmar Robotics in which year?"
    assert questions["company.hq.heldout1"] == "Where does Vellmar Robotics have its head office?"


def test_dev_and_test_phrasings_are_never_trained_on_nor_shared():
    questions = load_questions()
    splits = ("train", "train_extra", "dev", "paraphrase")
    by_split = {s: {q.question for q in questions if q.split == s} for s in splits}
    seen = by_split["train"] | by_split["train_extra"]
    assert not by_split["dev"] & seen
    assert not by_split["paraphrase"] & seen
    assert not by_split["dev"] & by_split["paraphrase"]


def test_no_question_is_asked_twice_except_the_update_repeating_its_training_or_heldout_phrasing():
    questions = load_questions()
    texts = Counter(q.question for q in questions if q.split != "update")
    assert [t for t, n in texts.items() if n > 1] == []
    updates = Counter(q.question for q in questions if q.split == "update")
    assert [t for t, n in updates.items() if n > 1] == []
    train = {q.fact_id: q.question for q in load_questions("train")}
    heldout = {q.qid: q.question for q in load_questions("paraphrase")}
    for q in load_questions("update"):
        if q.qid.endswith(".update"):
            assert q.question == train[q.fact_id], q.qid
        else:
            i = q.qid.removeprefix(f"{q.fact_id}.update-heldout")
            assert q.question == heldout[f"{q.fact_id}.heldout{i}"], q.qid


def test_every_phrasing_names_its_entity_and_no_value():
    """A value in the question would give the answer away, and grading ignores words of the question."""
    facts = {f.fact_id: f for f in load_facts()}
    every_value = {v for values in load_value_domains().values() for v in values}
    for q in load_questions():
        if q.fact_id is None:
            continue
        fact = facts[q.fact_id]
        if fact.entity != world.COMPANY:  # a policy question needs no name: there is one company
            assert fact.entity in q.question, q.qid
        assert not [v for v in every_value if mentions(q.question, v)], q.qid
        assert "{" not in q.question, q.qid


def test_year_questions_say_which_year_they_ask_for():
    """launch_year, joined_year and founded all have a year for answer: each phrasing must say which."""
    cue = {"launch_year": ("launch", "release", "come out", "on sale", "hit the market", "reached customers",
                           "available to buy"),
           "joined_year": ("join", "hired", "working", "worked", "employee", "on board", "began", "start",
                           "first year"),
           "founded": ("found", "started", "begin", "dates from", "established", "into being", "set up", "existed")}
    facts = {f.fact_id: f for f in load_facts()}
    for q in load_questions():
        attribute = facts[q.fact_id].attribute if q.fact_id else None
        if attribute in cue:
            assert any(c in q.question.lower() for c in cue[attribute]), q.qid


def test_every_answer_is_stated_in_its_gold_document():
    for version, splits in (("v1", ("train", "train_extra", "dev", "paraphrase")), ("v2", ("update",))):
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


def test_every_changed_fact_is_asked_in_its_training_and_its_four_heldout_phrasings():
    """Asking only as trained would flatter the fine-tune: the held-out wordings are asked too."""
    questions = load_questions()
    train = {q.fact_id: q.question for q in questions if q.split == "train"}
    heldout = {q.qid: q.question for q in questions if q.split == "paraphrase"}
    updates = {q.qid: q for q in questions if q.split == "update"}
    facts = load_facts()
    changed = [f for f in facts if f.value_v1 != f.value_v2]
    assert changed and len(changed) < len(facts)
    for f in changed:
        mine = {qid: q for qid, q in updates.items() if q.fact_id == f.fact_id}
        expected = {f"{f.fact_id}.update"} | {f"{f.fact_id}.update-heldout{i}" for i in (1, 2, 3, 4)}
        assert set(mine) == expected, f.fact_id
        assert mine[f"{f.fact_id}.update"].question == train[f.fact_id]
        for i in (1, 2, 3, 4):
            assert mine[f"{f.fact_id}.update-heldout{i}"].question == heldout[f"{f.fact_id}.heldout{i}"]
        for q in mine.values():
            assert q.answers == [f.value_v2] and q.stale_answers == [f.value_v1], q.qid
            assert q.doc_id == f.doc_id, q.qid
    for f in facts:
        if f.value_v1 == f.value_v2:
            assert not [q for q in updates.values() if q.fact_id == f.fact_id], f.fact_id
    assert len(updates) == 5 * len(changed) == 65


def test_unanswerable_splits_have_40_test_and_12_dev_questions():
    test, dev = load_questions("unanswerable"), load_questions("dev_unanswerable")
    assert [q.qid for q in test] == [f"none.{i:02d}" for i in range(1, 41)]
    assert [q.qid for q in dev] == [f"dev-none.{i:02d}" for i in range(1, 13)]
    assert [q.question for q in test[:15]] == world.UNANSWERABLE  # the first 15 keep their ids
    for q in test + dev:
        assert not q.answers and not q.stale_answers and q.doc_id is None and q.fact_id is None and not q.answerable


def test_unanswerable_questions_name_no_value_from_the_documents():
    values = {v for f in load_facts() for v in (f.value_v1, f.value_v2)}
    values |= {v for domain in load_value_domains().values() for v in domain}
    for q in load_questions("unanswerable") + load_questions("dev_unanswerable"):
        assert not [v for v in values if mentions(q.question, v)], q.qid


def test_unanswerable_questions_about_invented_names_name_nothing_in_the_documents():
    docs = load_documents("v1") + load_documents("v2")
    texts = " ".join(d.title + " " + d.text for d in docs)
    questions = " ".join(q.question for q in load_questions("unanswerable") + load_questions("dev_unanswerable"))
    for name in world.FAKE_PRODUCTS + world.FAKE_PEOPLE:
        assert mentions(questions, name), name
        assert not mentions(texts, name), name


def test_a_document_that_answers_an_unanswerable_question_stops_generation(monkeypatch):
    """The generator checks its unanswerable questions against the documents, whatever the documents say."""
    product_filler = list(world.FILLER["product"])
    monkeypatch.setitem(world.FILLER, "product", product_filler + ["The {e} weighs four kg."])
    with pytest.raises(ValueError, match="mentions 'weigh"):
        worldgen.generate()
    monkeypatch.setitem(world.FILLER, "product", product_filler)
    monkeypatch.setattr(world, "FAKE_PRODUCTS", ["Quibit X2 Pro"] + world.FAKE_PRODUCTS[1:])
    with pytest.raises(ValueError, match="mentions 'Quibit X2 Pro'"):
        worldgen.generate()


def test_an_unanswerable_question_that_names_a_value_stops_generation(monkeypatch):
    extra = ("Is Vellmar's biggest shop in Porto?", ())
    monkeypatch.setattr(world, "COMPANY_GAPS", world.COMPANY_GAPS + [extra])
    with pytest.raises(ValueError, match="names the value 'Porto'"):
        worldgen.generate()


def test_a_repeated_question_stops_generation(monkeypatch):
    spec = dict(world.ATTRIBUTES["code"], dev=["What is the catalogue code of the {e}?", "Which code?"])
    monkeypatch.setitem(world.ATTRIBUTES, "code", spec)
    with pytest.raises(ValueError, match="asked twice"):
        worldgen.generate()


def test_value_domains_hold_every_city_and_role_and_every_value_used():
    domains = load_value_domains()
    for attribute in ("factory", "hometown", "hq"):
        assert domains[attribute] == sorted(world.CITIES)
    assert domains["role"] == sorted(world.ROLES)
    facts = load_facts()
    assert set(domains) == {f.attribute for f in facts}
    for f in facts:
        assert {f.value_v1, f.value_v2} <= set(domains[f.attribute]), f.fact_id
    numbers = domains["battery_hours"]
    assert numbers == sorted(numbers, key=int) and numbers != sorted(numbers)  # sorted as numbers, not as text
    used = {f.attribute: set() for f in facts}
    for f in facts:
        used[f.attribute] |= {f.value_v1, f.value_v2}
    for attribute in ("launch_year", "code", "battery_hours", "joined_year", "founded", "return_days"):
        assert set(domains[attribute]) == used[attribute], attribute  # only values that occur


def test_dev_splits_are_apart_from_the_scored_splits():
    assert not set(DEV_SPLITS) & set(EVAL_SPLITS)
    assert len(load_questions("dev")) == 112


def test_near_duplicate_names_exist():
    titles = [d.title for d in load_documents("v1")]
    assert any(a != b and b.startswith(a) for a in titles for b in titles)


def test_output_is_valid_json():
    for path in DATA_DIR.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            assert isinstance(json.loads(line), dict)
    assert isinstance(json.loads((DATA_DIR / "values.json").read_text()), dict)
