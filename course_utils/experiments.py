"""Experiments for the claims lab of notebook 06 (taught in 06 §3): indexing time, a growing index, an outdated copy."""
from __future__ import annotations

import dataclasses
import time
from collections import Counter

import numpy as np

from . import retrieval
from .data import Document, load_facts, load_questions
from .evaluation.ranking import recall_at_k

def time_index(documents, kind: str = "hybrid") -> float:
    """Seconds to chunk, embed and index ``documents`` (the embedder is loaded first, outside the timing)."""
    if kind != "bm25":
        retrieval.default_embedder()
    start = time.perf_counter()
    retrieval.build_retriever(kind, documents, top_k=5)
    return time.perf_counter() - start


def index_growth(documents, questions, small: int, kind: str = "hybrid", top_k: int = 3) -> dict:
    """Index the first ``small`` documents, then all of them; time both and compare retrieval recall@top_k.

    Recall is measured on the same questions both times: those whose gold
    document is among the first ``small``, so that only the added documents
    (distractors for these questions) change. Per-question hits (0/1) and fact
    ids come back too, for a paired interval on the drop.
    """
    if not 0 < small < len(documents):
        raise ValueError(f"small must be between 1 and {len(documents) - 1}, got {small!r}.")
    if kind != "bm25":
        retrieval.default_embedder()  # loaded once, outside the timing: it is not part of indexing
    subset = documents[:small]
    kept = {d.doc_id for d in subset}
    asked = [q for q in questions if q.doc_id in kept]
    if not asked:
        raise ValueError("No question has its gold document among the first documents. Fix: pass answerable "
                         "questions about those documents, or a larger `small`.")
    out = {"docs_small": small, "docs_full": len(documents), "questions": len(asked),
           "facts": [q.fact_id or q.qid for q in asked]}
    for label, docs in (("small", subset), ("full", documents)):
        start = time.perf_counter()
        retriever = retrieval.build_retriever(kind, docs, top_k=top_k)
        out[f"index_seconds_{label}"] = time.perf_counter() - start
        out[f"chunks_{label}"] = len(retriever.nodes)
        hits = retriever.retrieve_many([q.question for q in asked])
        out[f"hits_{label}"] = [recall_at_k(h, q.doc_id, top_k) for h, q in zip(hits, asked)]
        out[f"recall_{label}"] = float(np.mean(out[f"hits_{label}"]))
    return out


def planted_outdated_copy(docs_v1, docs_v2):
    """(v2 documents + one outdated v1 copy, the questions it targets, the planted doc_id).

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
