"""Tests for the retrieval metrics in course_utils.evaluation."""
from __future__ import annotations

import random

import pytest

from course_utils.data import Question
from course_utils.evaluation.ranking import (mrr, recall_at_k, reciprocal_rank, retrieval_table, score_rankings,
                                             score_retriever)
from course_utils.retrieval import Hit


def q(doc_id, split="train", text="a question?"):
    return Question(qid=f"{doc_id}-{split}-{text}", split=split, question=text,
                    answers=["x"] if doc_id else [], stale_answers=[], fact_id=None, doc_id=doc_id)


def hit(doc_id, rank=1):
    return Hit(rank=rank, doc_id=doc_id, title=doc_id, text="…", score=1.0, chunk_id=f"{doc_id}#0")


def test_recall_at_k_on_a_hand_example():
    ranking = ["b", "a", "a", "c"]
    assert [recall_at_k(ranking, "a", k) for k in (1, 2, 3, 10)] == [0.0, 1.0, 1.0, 1.0]
    assert recall_at_k(ranking, "z", 4) == 0.0
    assert recall_at_k([hit("b"), hit("a", 2)], "a", 2) == 1.0  # Hit objects work too


def test_recall_is_monotone_in_k_and_bounds_mrr():
    rng = random.Random(0)
    for _ in range(200):
        ranking = rng.choices("abcdef", k=rng.randint(0, 6))
        gold = rng.choice("abcdef")
        recalls = [recall_at_k(ranking, gold, k) for k in range(1, 8)]
        assert recalls == sorted(recalls)
        # for a list no longer than k: recall@1 <= reciprocal rank <= recall@k
        assert recalls[0] <= reciprocal_rank(ranking, gold) <= recalls[-1]


def test_mrr_on_a_hand_example():
    rankings = [["a", "b"], ["b", "a"], ["c", "d", "a"], ["d"]]
    assert mrr(rankings, ["a"] * 4) == pytest.approx((1 + 1 / 2 + 1 / 3 + 0) / 4)
    assert reciprocal_rank([], "a") == 0.0


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_k_is_refused(k):
    with pytest.raises(ValueError, match="Fix:"):
        recall_at_k(["a"], "a", k)


def test_mrr_needs_matching_lengths_and_at_least_one_query():
    with pytest.raises(ValueError):
        mrr([["a"]], ["a", "b"])
    with pytest.raises(ValueError, match="Fix:"):
        mrr([], [])


def test_score_rankings_skips_unanswerable_questions():
    questions = [q("a"), q(None, "unanswerable"), q("b")]
    row = score_rankings([["a"], ["a"], ["c", "b"]], questions, ks=(1, 2))
    assert row == {"n": 2, "recall@1": 0.5, "recall@2": 1.0, "mrr": 0.75}
    empty = score_rankings([["a"]], [q(None, "unanswerable")])
    assert empty["n"] == 0


def test_score_retriever_accepts_a_plain_function():
    questions = [q("a", text="about a"), q("b", text="about b")]
    always_a = lambda query: [hit("a"), hit("b", 2)]  # noqa: E731
    row = score_retriever(always_a, questions, ks=(1, 2))
    assert row["recall@1"] == 0.5 and row["recall@2"] == 1.0 and row["mrr"] == 0.75


def test_score_retriever_refuses_k_beyond_top_k():
    class Two:
        top_k = 2

        def retrieve_many(self, queries):
            return [[hit("a")] for _ in queries]

    with pytest.raises(ValueError, match="top_k=5"):
        score_retriever(Two(), [q("a")], ks=(1, 5))
    assert score_retriever(Two(), [q("a")], ks=(1, 2))["recall@1"] == 1.0


def test_retrieval_table_has_one_row_per_retriever_and_split():
    questions = [q("a", "train"), q("b", "paraphrase"), q(None, "unanswerable")]
    table = retrieval_table({"always a": lambda s: ["a"], "always b": lambda s: ["b"]}, questions, ks=(1,))
    assert list(table.columns) == ["retriever", "split", "n", "recall@1", "mrr"]
    assert len(table) == 4 and set(table["split"]) == {"train", "paraphrase"}
    best = table.set_index(["retriever", "split"])["recall@1"]
    assert best[("always a", "train")] == 1.0 and best[("always a", "paraphrase")] == 0.0
