"""The comparison widget and the decision helper: their logic, without a browser."""
from types import SimpleNamespace

import pytest

from course_utils.widgets import compare as W
from course_utils.widgets.decision import UseCase, decision_helper, measured_from, recommend
from test_comparison import make_comparison


def test_a_question_from_the_sample_shows_every_approach_with_marks():
    c = make_comparison()
    view = W.compare_question(c, "Question 0 of paraphrase?")
    assert view["error"] is None and view["source"] == "cached"
    assert [r["approach"] for r in view["rows"]] == c.approaches
    marks = {r["approach"]: r["correct"] for r in view["rows"]}
    assert marks["RAFT"] is True and marks["closed-book"] is False
    assert "<td>right</td>" in view["html"] and "<td>wrong</td>" in view["html"] and "Made in Porto." in view["html"]
    # the last question of the split: only RAFT (RIGHT = 1.0) has it right
    later = W.compare_question(c, "paraphrase-3")
    assert [r["approach"] for r in later["rows"] if r["correct"]] == ["RAFT"]


def test_unanswerable_questions_count_i_dont_know_as_right():
    view = W.compare_question(make_comparison(), "Question 0 of unanswerable?")
    marks = {r["approach"]: r["correct"] for r in view["rows"]}
    assert marks["RAFT"] is True and marks["RAG"] is True and marks["closed-book"] is False


def test_an_empty_question_is_explained():
    for empty in ("", "   ", None):
        view = W.compare_question(make_comparison(), empty)
        assert view["error"] and "Type a question" in view["html"]


def test_a_typed_question_needs_a_model_and_says_how():
    view = W.compare_question(make_comparison(), "Who designed the Quibit X9?")
    assert "Fix" in view["error"]


def test_a_typed_question_is_answered_now_by_every_approach():
    c = make_comparison()
    asked = []

    def answer(name, questions, documents, progress=True):
        asked.append(name)
        hits = [SimpleNamespace(doc_id="quibit-x2", title="Quibit X2", text="Made in Porto.")]
        return [SimpleNamespace(raw=f"{name} says Porto", hits=hits, timings={"prompt_tokens": 99})]

    c.bench = SimpleNamespace(answer=answer)
    view = W.compare_question(c, "Who designed the Quibit X9?")
    assert view["source"] == "live" and asked == c.approaches
    assert all(r["correct"] is None for r in view["rows"]) and "<td>no gold</td>" in view["html"]
    assert "RAFT says Porto" in view["html"]


# ------------------------------------------------------------------------------- the decision helper

@pytest.fixture()
def measured():
    return measured_from(make_comparison())


def test_measured_numbers_come_from_the_comparison(measured):
    assert measured["RAFT"]["accuracy"] == 1.0 and measured["fine-tune"]["p50"] == pytest.approx(0.2)
    assert measured["RAG"]["retrieval"] and not measured["fine-tune"]["retrieval"]
    assert measured["fine-tune"]["trained"] and not measured["RAG"]["trained"]


def test_the_most_accurate_fitting_approach_wins_and_the_reason_quotes_it(measured):
    advice = recommend(UseCase(changes="rarely", latency_budget_s=2.0), measured)
    assert advice["recommendation"] == "RAFT"
    assert "100%" in advice["reasons"][0]


def test_each_constraint_rules_approaches_out(measured):
    no_labels = recommend(UseCase(labelled_examples="none", latency_budget_s=2.0), measured)
    assert no_labels["recommendation"] == "RAG"
    assert set(no_labels["excluded"]) == {"fine-tune", "fine-tune + RAG", "RAFT"}
    no_training = recommend(UseCase(training_budget="none", latency_budget_s=2.0), measured)
    assert "no training budget" in no_training["excluded"]["RAFT"][0]
    model = make_comparison().model_name  # the model that was measured, named, never a fixed one
    assert model in no_training["excluded"]["RAFT"][0] and model in no_training["html"]
    cites = recommend(UseCase(needs_citations=True, latency_budget_s=2.0), measured)
    assert "cannot cite" in cites["excluded"]["fine-tune"][0] and "closed-book" in cites["excluded"]
    fast = recommend(UseCase(changes="rarely", latency_budget_s=0.3), measured)
    assert fast["recommendation"] == "fine-tune"  # RAFT is more accurate, but too slow
    assert "0.45 s, over your 0.30 s budget" in " ".join(fast["excluded"]["RAFT"])
    assert any("RAFT scored higher" in r for r in fast["reasons"])
    weekly = recommend(UseCase(changes="weekly or faster", latency_budget_s=2.0), measured, retrain_s=60)
    assert "frozen at training" in weekly["excluded"]["fine-tune"][0] and "60 s" in weekly["excluded"]["fine-tune"][0]


def test_when_nothing_fits_it_says_what_to_relax(measured):
    advice = recommend(UseCase(needs_citations=True, latency_budget_s=0.1, labelled_examples="none"), measured)
    assert advice["fits"] == [] and "No approach fits" in advice["reasons"][0]


def test_bad_answers_to_the_questions_are_explained():
    with pytest.raises(ValueError, match="changes must be one of"):
        UseCase(changes="hourly")
    with pytest.raises(ValueError, match="latency budget"):
        UseCase(latency_budget_s=0)


def test_the_widgets_update_when_a_control_changes(measured):
    helper = decision_helper(measured)
    out = helper.children[-1]
    helper.children[2].value = 0.25  # the latency slider
    slow = out.value
    helper.children[2].value = 2.0
    assert out.value != slow and "Recommended" in out.value
    explorer = W.comparison_explorer(make_comparison())
    split, question, _, shown = explorer.children
    before = shown.value
    question.value = question.options[-1]
    assert shown.value != before
    split.value = "unanswerable"
    assert "unanswerable" in question.value
