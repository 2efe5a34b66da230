"""Checks for the exercises of 01_retriever.ipynb.

Each check calls the learner's function on a few small cases and compares it
with the course's reference. A function that raises counts as "not yet".
"""
from __future__ import annotations

import math

from .. import retrieval
from ..data import load_documents, load_questions
from ..evaluation.intervals import bootstrap
from ..evaluation.ranking import recall_at_k
from ..retrieval import indexed_text, rrf_fuse
from . import Verdict, exercise_check, verdict
from ._experiment import estimate_problem, gap_words

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


# ------------------------------------------------------------------------------- experiment: change the retriever

EXPERIMENT_SPLIT = "dev"  # knobs are judged on dev, never on the test paraphrases
HOW_RETRIEVER = ("change = bootstrap(variant_hits, other=default_hits, groups=[q.fact_id for q in dev]), where "
                 "each list holds recall_at_k(hits, q.doc_id, 1) for every dev question")


def default_retriever():
    """The course's retriever, as notebook 01 builds it: hybrid, default chunks with their title, over v1."""
    return retrieval.build_retriever("hybrid", load_documents("v1"), top_k=5)


def indexed_chunks(retriever) -> tuple:
    """What a retriever searches: its kind and the text of every chunk as it is indexed (title included or not)."""
    return retriever.kind, tuple(indexed_text(n) for n in retriever.nodes)


def first_hits(retriever, questions, vectors) -> list[float]:
    """recall@1 (1.0 or 0.0) of every question; ``vectors`` are the default embedder's query embeddings."""
    texts = [q.question for q in questions]
    # Embedding the questions is the slow part: done once, and shared by every retriever that uses the same model.
    shared = retriever.embedder is not None and retriever.embedder is retrieval.default_embedder()
    rankings = retriever.retrieve_many(texts, query_embeddings=vectors) if shared else retriever.retrieve_many(texts)
    return [recall_at_k(hits, q.doc_id, 1) for hits, q in zip(rankings, questions)]


@exercise_check
def check_experiment_retriever(variant, change) -> Verdict:
    """Experiment: recall@1 on the dev questions, a changed retriever minus the default one, paired over facts."""
    if not all(hasattr(variant, name) for name in ("retrieve_many", "nodes", "kind", "embedder")):
        return verdict(False, "", "variant should be a retriever from build_retriever(kind, documents, top_k=5, "
                                  "chunk_size=..., with_title=...), with one setting changed.")
    default = default_retriever()
    if indexed_chunks(variant) == indexed_chunks(default):
        return verdict(False, "", "your variant searches the very chunks of the default hybrid retriever, so "
                                  "nothing changed. Change kind, chunk_size or with_title (top_k does not change "
                                  "recall@1).")
    dev = load_questions(EXPERIMENT_SPLIT)
    vectors = retrieval.default_embedder().get_text_embedding_batch([q.question for q in dev])
    mine, base = first_hits(variant, dev, vectors), first_hits(default, dev, vectors)
    expected = bootstrap(mine, other=base, groups=[q.fact_id for q in dev])
    problem = estimate_problem(change, expected, "your variant's recall@1 minus the default's on the dev questions",
                               HOW_RETRIEVER)
    if problem:
        return verdict(False, "", problem)
    return verdict(True, f"your {variant.kind} retriever ({len(variant.nodes)} chunks, against "
                         f"{len(default.nodes)}) changes recall@1 on the {expected.n} dev questions by "
                         f"{expected.text(signed=True)}: {gap_words(expected)}. A change of chunking also changes "
                         "what each prompt holds: recall is half the story.", "")
