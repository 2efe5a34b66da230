"""Experiments for the claims lab of notebook 06 (taught in 06 §3): indexing time, a growing index, an outdated
copy, and the measures the claims read (``measures_from``)."""
from __future__ import annotations

import dataclasses
import time
from collections import Counter

import numpy as np

from . import retrieval, scale
from .approaches import TEST_SPLIT
from .data import Document, load_facts, load_questions
from .evaluation.intervals import bootstrap
from .evaluation.ranking import recall_at_k
from .distractors import DISTRACTOR_PREFIX

def time_index(documents, kind: str = "hybrid") -> float:
    """Seconds to chunk, embed and index ``documents`` (the embedder is loaded first, outside the timing)."""
    if kind != "bm25":
        retrieval.default_embedder()
    start = time.perf_counter()
    retrieval.build_retriever(kind, documents, top_k=5)
    return time.perf_counter() - start


def index_growth(questions, small: int = 100, full: int = 10_000, top_k: int = 3) -> dict:
    """Grow the index from ``small`` to ``full`` chunks of notebook 07's corpus (the course's chunks, then
    generated distractors: ``scale.build_corpus``); compare the indexing cost and retrieval recall@top_k.

    Both indexes use the course's hybrid retriever (BM25 + dense, fused by
    RRF) and hold every course chunk, so every question's gold document is in
    both: only the added distractors change. Index seconds are the embedding
    time of the chunks (measured when they were embedded, see
    ``scale.build_corpus``) plus building the searches now. Per-question hits
    (0/1) and fact ids come back too, for a paired interval on the drop
    (taught in 06 §3; the whole curve is notebook 07's).
    """
    corpus = scale.build_corpus(full)
    course_chunks = sum(not d.startswith(DISTRACTOR_PREFIX) for d in corpus.doc_ids)
    if not course_chunks <= small < full:
        raise ValueError(f"small must be at least the course's {course_chunks} chunks and below full ({full:,}), "
                         f"got {small!r}. Fix: pass small={max(course_chunks, 100)}.")
    asked = [q for q in questions if q.doc_id]
    if not asked:
        raise ValueError("No question has a gold document. Fix: pass answerable questions, such as the paraphrases.")
    out = {"questions": len(asked), "facts": [q.fact_id or q.qid for q in asked]}
    embedder = retrieval.default_embedder()  # loaded once, outside the timing: it is not part of indexing
    for label, n in (("small", small), ("full", full)):
        part = corpus.head(n)
        start = time.perf_counter()
        retriever = scale.ScaleRetriever(part, top_k=top_k, embedder=embedder)
        out[f"index_seconds_{label}"] = part.embed_seconds + time.perf_counter() - start
        out[f"chunks_{label}"], out[f"docs_{label}"] = len(part), len(set(part.doc_ids))
        hits = retriever.retrieve_many([q.question for q in asked])
        out[f"hits_{label}"] = [recall_at_k(h, q.doc_id, top_k) for h, q in zip(hits, asked)]
        out[f"recall_{label}"] = float(np.mean(out[f"hits_{label}"]))
    return out


def planted_outdated_copy(docs_v1, docs_v2):
    """(v2 documents + one outdated v1 copy, the questions it targets, the planted doc_id) (taught in 06 §3).

    The copy is of the document with the most changed facts (first by name on
    a tie); it is labelled v1, as an old page left online would be. Its targets
    are every question about those changed facts (trained, paraphrased and
    update phrasings), with the current value as the answer and the old one as
    the stale answer.
    """
    changed = {f.fact_id: f for f in load_facts() if f.value_v1 != f.value_v2}
    counts = Counter(f.doc_id for f in changed.values())
    doc_id = min(counts, key=lambda d: (-counts[d], d))
    old = next(d for d in docs_v1 if d.doc_id == doc_id)
    planted = Document(f"{doc_id}-old", "v1", old.kind, old.title, old.text)
    targets = [dataclasses.replace(q, answers=[changed[q.fact_id].value_v2], stale_answers=[changed[q.fact_id].value_v1])
               for q in load_questions() if q.fact_id in changed and changed[q.fact_id].doc_id == doc_id
               and q.split in ("train", "paraphrase", "update")]
    return list(docs_v2) + [planted], targets, planted.doc_id


def measures_from(comparison, experiments: dict) -> dict:
    """The flat dict the claims read: estimates from the comparison's test split, plus the notebook's experiments.

    ``experiments`` holds what the comparison does not measure: reindex_seconds,
    retrain_seconds, the index-growth figures (chunks_full, docs_full,
    index_seconds_full, recall_small/full, recall_drop), follow_planted,
    follow_clean, follow_effect, ft_aug_gain, extra_phrasings (the sweep's) and
    ft_phrasings (the labelled phrasings per fact the course's fine-tune learned).
    """
    c, test = comparison, TEST_SPLIT
    lat = {a: c.latency_stats(a) for a in ("RAG", "fine-tune")}
    totals = {a: [t["total"] for t in c.latency[a]] for a in ("RAG", "fine-tune")}
    parents = {a: c.score(a, test) for a in ("RAG", "fine-tune")}
    parent = max(parents, key=parents.get)
    rag_rows = [r for r in c.rows if r["approach"] == "RAG" and r["split"] == test]
    m = {
        "model": c.model_name,
        "update_rag_minus_finetune": c.difference("RAG", "fine-tune", "update"),
        "update_rag": c.estimate("RAG", "update"), "update_finetune_stale": c.estimate("fine-tune", "update", "stale"),
        "train_finetune_minus_rag": c.difference("fine-tune", "RAG", "train"),
        "paraphrase_finetune_minus_rag": c.difference("fine-tune", "RAG", test),
        "format_finetune_minus_rag": c.difference("fine-tune", "RAG", test, "exact_match"),
        # The same probe questions, timed one at a time for each: a paired ratio of medians.
        "p50_ratio_rag_over_finetune": bootstrap(totals["fine-tune"], other=totals["RAG"],
                                                 statistic=lambda ft, rag: np.median(rag) / np.median(ft)),
        "p50_rag": lat["RAG"]["p50"], "p50_finetune": lat["fine-tune"]["p50"],
        "prefill_rag": lat["RAG"]["prefill"], "prefill_finetune": lat["fine-tune"]["prefill"],
        "decode_rag": lat["RAG"]["decode"], "decode_finetune": lat["fine-tune"]["decode"],
        "tokens_rag": c.prompt_tokens("RAG"), "tokens_finetune": c.prompt_tokens("fine-tune"),
        "sources_logged_rag": float(np.mean([bool(r["hits"]) for r in rag_rows])),
        "citation_rag": c.estimate("RAG", test, "citation_correct"),
        "citation_raft": c.estimate("RAFT", test, "citation_correct"),
        "training_seconds": c.costs["fine-tune"]["training_seconds"],
        "training_peak_mb": c.costs["fine-tune"]["training_peak_mb"],
        "index_seconds": c.costs["RAG"]["index_seconds"],
        "ft_seen_gain": c.difference("fine-tune", "closed-book", "train"),
        "ft_unseen_gain": c.difference("fine-tune", "closed-book", test),
        "best_parent": parent,
        "finetune_rag_minus_best_parent": c.difference("fine-tune + RAG", parent, test),
        "raft_minus_best_parent": c.difference("RAFT", parent, test),
        "made_up_drop_unanswerable": c.difference("closed-book", "RAG", "unanswerable", "confident_wrong"),
        "wrong_drop_answerable": c.difference("closed-book", "RAG", test, "confident_wrong"),
        "made_up_rag": c.estimate("RAG", "unanswerable", "confident_wrong"),
        "abstain_rag": c.estimate("RAG", "unanswerable", "abstained"),
    }
    return {**m, **experiments}
