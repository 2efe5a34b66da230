"""Checks for the exercises of 07_scaling.ipynb."""
from __future__ import annotations

import numpy as np

from ..evaluation.ranking import reciprocal_rank
from ..searches import ExactSearch
from ..scale import quality
from . import Verdict, exercise_check, verdict

# (ranked document ids, gold document): found first, found later, found twice, and not found.
_MRR_CASES = [
    ([["a", "b"], ["x", "gold"], ["gold", "gold"], ["x", "y", "z"]], ["a", "gold", "gold", "gold"]),
    ([["q", "r", "s", "t"]], ["t"]),
    ([[]], ["gold"]),
]


@exercise_check
def check_mrr(fn) -> Verdict:
    """Exercise 1: ``fn(rankings, gold_doc_ids)`` is the mean reciprocal rank of the gold documents."""
    try:
        ok = all(np.isclose(float(fn(rankings, gold)),
                            np.mean([reciprocal_rank(r, g) for r, g in zip(rankings, gold)]))
                 for rankings, gold in _MRR_CASES)
    except Exception as err:  # the learner's code failing is an answer, not a crash
        return verdict(False, "", f"your function raised {type(err).__name__}: {err}")
    return verdict(ok, "each question scores 1 / (rank of its first gold hit), or 0 when none is found.",
                   "for each ranking, find the first position (counting from 1) whose document is the gold "
                   "one; add 1 / position, or 0 if it never appears; divide by the number of rankings.")


def exact_recall(corpus, questions, vectors, k: int) -> float:
    """recall@k of exact search over ``corpus``: the reference the experiment is checked against."""
    return quality(ExactSearch(corpus), corpus, questions, vectors, ks=(k,), depth=max(k, 1))[f"recall@{k}"]


@exercise_check
def check_experiment_recall_at_k(k, measured, corpus, questions, vectors) -> Verdict:
    """Exercise 2 (an experiment): recall@k of exact search on ``corpus`` for a k other than 1 and 5."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 2 or k in (5,):
        return verdict(False, "", "pick a whole number k of 2 or more, other than the 5 of the table: "
                                  "the point is a setting nobody measured for you.")
    if measured is None:
        return verdict(False, "", "set `my_recall` to the recall@k you measured.")
    want = exact_recall(corpus, questions, vectors, k)
    ok = abs(float(measured) - want) < 1e-9
    return verdict(ok, f"recall@{k} of exact search over {len(corpus):,} chunks is {want:.3f}; compare it with "
                       "recall@1 and recall@5 in the table: how much does a longer list buy?",
                   "build ExactSearch(corpus) and pass it to scale.quality with ks=(k,), depth=k, "
                   "on the same corpus, questions and query vectors as the table.")
