"""Retrieval metrics: recall@k and mean reciprocal rank (taught in 01 §6).

A retrieved chunk is a hit when it comes from the question's gold document
(``Question.doc_id``). Unanswerable questions have no gold document, so they
are left out of retrieval scores. Hits may be objects with a ``doc_id``
attribute (``course_utils.retrieval.Hit``) or plain doc_id strings.
"""
from __future__ import annotations

from statistics import mean

from ..config import check_positive_int

def _ranked_doc_ids(hits) -> list[str]:
    return [getattr(hit, "doc_id", hit) for hit in hits]


def recall_at_k(hits, gold_doc_id: str, k: int) -> float:
    """1.0 when a chunk of the gold document is among the first ``k`` hits, else 0.0 (taught in 01 §6)."""
    check_positive_int(k, "k", "Fix: use k=1, 3 or 5.")
    return float(gold_doc_id in _ranked_doc_ids(hits)[:k])


def reciprocal_rank(hits, gold_doc_id: str) -> float:
    """1 / rank of the first hit from the gold document; 0.0 when none was retrieved."""
    for rank, doc_id in enumerate(_ranked_doc_ids(hits), 1):
        if doc_id == gold_doc_id:
            return 1.0 / rank
    return 0.0


def mrr(rankings, gold_doc_ids) -> float:
    """Mean reciprocal rank over several queries (one ranked hit list per query; taught in 01 §6)."""
    pairs = list(zip(rankings, gold_doc_ids, strict=True))
    if not pairs:
        raise ValueError("mrr of no queries is undefined. Fix: pass at least one ranking.")
    return mean(reciprocal_rank(hits, gold) for hits, gold in pairs)


def score_rankings(rankings, questions, ks=(1, 3, 5)) -> dict[str, float]:
    """recall@k for each k, and MRR, of one ranked hit list per question (answerable only; taught in 01 §6)."""
    pairs = [(hits, q.doc_id) for hits, q in zip(rankings, questions, strict=True) if q.doc_id]
    if not pairs:
        return {"n": 0, **{f"recall@{k}": float("nan") for k in ks}, "mrr": float("nan")}
    row = {"n": len(pairs)}
    for k in ks:
        row[f"recall@{k}"] = mean(recall_at_k(hits, gold, k) for hits, gold in pairs)
    row["mrr"] = mrr(*zip(*pairs))
    return row


def score_retriever(retriever, questions, ks=(1, 3, 5)) -> dict[str, float]:
    """Run a retriever over the answerable ``questions`` and score it.

    ``retriever`` is a course ``Retriever`` (its batched ``retrieve_many`` is
    used) or any function ``query -> ranked hits``.
    """
    top_k = getattr(retriever, "top_k", None)
    if top_k is not None and max(ks) > top_k:
        raise ValueError(f"recall@{max(ks)} needs {max(ks)} hits but the retriever returns {top_k}. "
                         f"Fix: build it with top_k={max(ks)} or more.")
    answerable = [q for q in questions if q.doc_id]
    queries = [q.question for q in answerable]
    if hasattr(retriever, "retrieve_many"):
        rankings = retriever.retrieve_many(queries) if queries else []
    else:
        rankings = [retriever(query) for query in queries]
    return score_rankings(rankings, answerable, ks)


def retrieval_table(retrievers: dict, questions, ks=(1, 3, 5)):
    """A pandas DataFrame: one row per (retriever, split), recall@k and MRR as columns (taught in 01 §6)."""
    import pandas as pd

    splits = list(dict.fromkeys(q.split for q in questions if q.doc_id))  # first-seen order
    rows = [{"retriever": name, "split": split,
             **score_retriever(retriever, [q for q in questions if q.split == split], ks)}
            for name, retriever in retrievers.items() for split in splits]
    return pd.DataFrame(rows)
