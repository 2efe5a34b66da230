"""Checks for the exercises of 01_retriever.ipynb.

Each check calls the learner's function on a few small cases and compares it
with the course's reference. A function that raises counts as "not yet".
"""
from __future__ import annotations

import math

from ..retrieval import rrf_fuse
from . import Verdict, exercise_check, verdict

# (tf, df, doc_len, avg_doc_len, n_docs): common and rare words, short and long chunks.
_BM25_CASES = [(1, 1, 10, 10, 16), (3, 2, 25, 12.5, 16), (1, 15, 5, 12.5, 16),
               (2, 4, 8, 20, 40), (6, 1, 40, 10, 100)]

_RRF_CASES = [
    [["a", "b", "c"], ["c", "a", "d"]],
    [["x", "y"], ["y", "z"], ["z", "x", "y"]],
    [["only"], []],
]


def _bm25_term(tf, df, doc_len, avg_doc_len, n_docs, k1=1.5, b=0.75):
    idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    return idf * tf / (tf + k1 * (1 - b + b * doc_len / avg_doc_len))


@exercise_check
def check_bm25_term(fn) -> Verdict:
    """Exercise 1: ``fn(tf, df, doc_len, avg_doc_len, n_docs)`` is one word's BM25 score."""
    try:
        ok = all(math.isclose(float(fn(*case)), _bm25_term(*case), rel_tol=1e-6)
                 for case in _BM25_CASES)
    except Exception as err:  # the learner's code failing is an answer, not a crash
        return verdict(False, "", f"your function raised {type(err).__name__}: {err}")
    return verdict(ok, "idf × saturated, length-normalised term frequency, as in bm25_scores.",
                   "idf = log(1 + (n_docs - df + 0.5) / (df + 0.5)); multiply it by "
                   "tf / (tf + k1 * (1 - b + b * doc_len / avg_doc_len)) with k1=1.5, b=0.75.")


def _as_scores(result) -> dict[str, float] | None:
    try:
        pairs = [(str(item), float(score)) for item, score in result]
    except (TypeError, ValueError):
        return None
    scores = [s for _, s in pairs]
    if scores != sorted(scores, reverse=True) or len({i for i, _ in pairs}) != len(pairs):
        return None  # not best-first, or an item listed twice
    return dict(pairs)


@exercise_check
def check_rrf(fn) -> Verdict:
    """Exercise 2: ``fn(rankings)`` fuses ranked lists into (item, score) pairs, best first."""
    try:
        ok = True
        for rankings in _RRF_CASES:
            got, want = _as_scores(fn(rankings)), dict(rrf_fuse(rankings))
            ok = ok and got is not None and got.keys() == want.keys() and all(
                math.isclose(got[i], want[i], rel_tol=1e-9) for i in want)
    except Exception as err:
        return verdict(False, "", f"your function raised {type(err).__name__}: {err}")
    return verdict(ok, "each list gives its item at rank r (from 0) 1 / (60 + r) points.",
                   "loop over the lists and their items with enumerate (rank starts at 0), add "
                   "1 / (60 + rank) to the item's total, then return (item, total) pairs sorted "
                   "by total, highest first.")
