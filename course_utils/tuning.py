"""Choosing knobs on the dev split, never on the test split (taught in notebook 03, section "choosing k").

Every retrieving approach gets its k chosen the same way, with the same
effort: each candidate k is scored on the same dev questions (one held-out
phrasing of every fact, not in the test split, plus the dev unanswerable
questions), and the best is kept. RAG's k is chosen in notebook 03; the
hybrids', once their adapters exist, in notebook 05. Verdicts then use the
test split, which no choice has seen. The scores are cached like every other
evaluation, so notebook 06 reads back what notebooks 03 and 05 computed.
"""
from __future__ import annotations

from .approaches import APPROACHES, DEFAULT_SETTINGS, EvalSettings, get_approach
from .data import dev_questions, load_documents
from .workbench import Workbench

TOP_K_CHOICES = (1, 2, 3)  # chunks in the prompt; more only lengthens the prompt of a 2,048-token model


def sweep_top_k(model, tokenizer, ks=TOP_K_CHOICES, settings: EvalSettings = DEFAULT_SETTINGS,
                progress: bool = True, approach: str = "RAG", adapters: dict | None = None):
    """``approach`` on the dev questions with each ``k``: a DataFrame, one row per k (strict accuracy first).

    ``adapters``: what the approach needs, e.g. ``{"RAFT": raft_run}`` (RAG needs none).
    """
    import pandas as pd

    if not get_approach(approach).retrieval:
        raise ValueError(f"{approach!r} reads no retrieved chunks, so it has no k to choose. "
                         "Fix: sweep RAG, 'fine-tune + RAG' or RAFT.")
    questions, documents, rows = dev_questions(), load_documents("v1"), []
    for k in ks:
        bench = Workbench(model, tokenizer, adapters, settings.with_k(approach, k))
        scored = bench.evaluate(approach, questions, documents, progress)
        answerable = [r for r in scored if r["strict"] is not None]
        unanswerable = [r for r in scored if r["strict"] is None]
        rows.append({"k": k, "strict (dev)": sum(r["strict"] for r in answerable) / len(answerable),
                     "makes up (dev unanswerable)": sum(r["confident_wrong"] for r in unanswerable) / len(unanswerable),
                     "cut off": sum(r["cut_off"] for r in scored) / len(scored),
                     "prompt tokens": sum(r["prompt_tokens"] for r in scored) / len(scored),
                     "n": len(answerable)})
    return pd.DataFrame(rows).set_index("k")


def choose_top_k(sweep) -> int:
    """The k with the best strict dev accuracy; on a tie, the smaller k (a shorter prompt is faster)."""
    best = sweep["strict (dev)"].max()
    return int(min(k for k, score in sweep["strict (dev)"].items() if score == best))


def tuned_settings(model, tokenizer, settings: EvalSettings = DEFAULT_SETTINGS, progress: bool = True,
                   adapters: dict | None = None) -> EvalSettings:
    """``settings`` with k chosen on the dev split for RAG, and for each hybrid whose adapter is in ``adapters``.

    Cached after the first run: asking again costs nothing.
    """
    adapters = dict(adapters or {})
    tuned = settings.with_k("RAG", choose_top_k(sweep_top_k(model, tokenizer, settings=settings, progress=progress)))
    for approach in APPROACHES:
        if approach.retrieval and approach.adapter in adapters:
            sweep = sweep_top_k(model, tokenizer, settings=settings, progress=progress, approach=approach.name,
                                adapters=adapters)
            tuned = tuned.with_k(approach.name, choose_top_k(sweep))
    return tuned
