"""Choosing knobs on the dev split, never on the test split (taught in notebook 03, section "choosing k").

Every approach gets its knobs chosen the same way: each candidate is scored on
the dev questions (held-out phrasings that are not in the test split, plus
dev unanswerable questions), and the best one is kept. Verdicts then use the
test split, which no choice has seen. The scores are cached like every other
evaluation, so notebook 06 reads back what notebook 03 computed.
"""
from __future__ import annotations

from dataclasses import replace

from .comparison import DEFAULT_SETTINGS, EvalSettings, Workbench
from .data import DEV_SPLITS, load_documents, load_questions

TOP_K_CHOICES = (1, 2, 3)  # chunks in RAG's prompt; more only lengthens the prompt of a 2,048-token model


def dev_questions() -> list:
    """The questions knobs are tuned on: dev phrasings of every fact, and dev unanswerable questions."""
    return [q for split in DEV_SPLITS for q in load_questions(split)]


def sweep_top_k(model, tokenizer, ks=TOP_K_CHOICES, settings: EvalSettings = DEFAULT_SETTINGS,
                progress: bool = True):
    """RAG on the dev questions with each ``k``: a DataFrame, one row per k (strict accuracy first)."""
    import pandas as pd

    questions, documents, rows = dev_questions(), load_documents("v1"), []
    for k in ks:
        bench = Workbench(model, tokenizer, {}, replace(settings, top_k=k))
        scored = bench.evaluate("RAG", questions, documents, progress)
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


def tuned_settings(model, tokenizer, settings: EvalSettings = DEFAULT_SETTINGS, progress: bool = True) -> EvalSettings:
    """``settings`` with RAG's k chosen on the dev split (cached after the first run)."""
    return replace(settings, top_k=choose_top_k(sweep_top_k(model, tokenizer, settings=settings, progress=progress)))
