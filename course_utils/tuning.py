"""Choosing knobs on the dev split, never on the test split (taught in notebook 03, section "choosing k").

Every retrieving approach gets its k chosen the same way, with the same
effort: each candidate k is scored on the same dev questions (one held-out
phrasing of every fact, not in the test split, plus the dev unanswerable
questions), and the best is kept. RAG's k is chosen in notebook 03, then
its prompt at that k (three wordings of the answer request); the hybrids'
k, once their adapters exist, in notebook 05. Verdicts then use the
test split, which no choice has seen. The scores are cached like every other
evaluation, so notebook 06 reads back what notebooks 03 and 05 computed.
"""
from __future__ import annotations

from dataclasses import replace

from .approaches import APPROACHES, DEFAULT_SETTINGS, EvalSettings, get_approach
from .data import dev_questions, load_documents
from .sources import INSTRUCTIONS
from .workbench import Workbench

TOP_K_CHOICES = (1, 2, 3)  # chunks in the prompt; more only lengthens the prompt of a 2,048-token model


def _dev() -> tuple:
    """The dev questions and the documents they are asked over: loaded once per sweep."""
    return dev_questions(), load_documents("v1")


def _dev_row(bench: Workbench, approach: str, progress: bool, dev: tuple) -> dict:
    """``approach``'s scores on ``dev`` (questions, documents) with ``bench``'s settings (cached answers are reused)."""
    scored = bench.evaluate(approach, *dev, progress)
    answerable = [r for r in scored if r["strict"] is not None]
    unanswerable = [r for r in scored if r["strict"] is None]
    return {"strict (dev)": sum(r["strict"] for r in answerable) / len(answerable),
            "makes up (dev unanswerable)": sum(r["confident_wrong"] for r in unanswerable) / len(unanswerable),
            "cut off": sum(r["cut_off"] for r in scored) / len(scored),
            "prompt tokens": sum(r["prompt_tokens"] for r in scored) / len(scored),
            "n": len(answerable)}


def sweep_top_k(model, tokenizer, ks=TOP_K_CHOICES, settings: EvalSettings = DEFAULT_SETTINGS,
                progress: bool = True, approach: str = "RAG", adapters: dict | None = None):
    """``approach`` on the dev questions with each ``k``: a DataFrame, one row per k (strict accuracy first).

    ``adapters``: what the approach needs, e.g. ``{"RAFT": raft_run}`` (RAG needs none).
    """
    import pandas as pd

    if not get_approach(approach).retrieval:
        raise ValueError(f"{approach!r} reads no retrieved chunks, so it has no k to choose. "
                         "Fix: sweep RAG, 'fine-tune + RAG' or RAFT.")
    dev = _dev()
    rows = [{"k": k, **_dev_row(Workbench(model, tokenizer, adapters, settings.with_k(approach, k)), approach, progress,
                                dev)} for k in ks]
    return pd.DataFrame(rows).set_index("k")


def sweep_prompt(model, tokenizer, settings: EvalSettings = DEFAULT_SETTINGS, prompts=tuple(INSTRUCTIONS),
                 progress: bool = True):
    """RAG on the dev questions with each answer request of ``sources.INSTRUCTIONS``, at ``settings``' k:
    a DataFrame, one row per prompt. The first prompt comes first, so a tie keeps it (``choose_prompt``)."""
    import pandas as pd

    dev = _dev()
    rows = [{"prompt": p, **_dev_row(Workbench(model, tokenizer, None, replace(settings, prompt=p)), "RAG", progress,
                                     dev)} for p in prompts]
    return pd.DataFrame(rows).set_index("prompt")


def choose_prompt(sweep) -> str:
    """The prompt with the best strict dev accuracy; on a tie, the earlier one (the starting point comes first)."""
    return str(sweep["strict (dev)"].idxmax())  # idxmax returns the first of equal maxima


def choose_top_k(sweep) -> int:
    """The k with the best strict dev accuracy; on a tie, the smaller k (a shorter prompt is faster)."""
    best = sweep["strict (dev)"].max()
    return int(min(k for k, score in sweep["strict (dev)"].items() if score == best))


def tuned_settings(model, tokenizer, settings: EvalSettings = DEFAULT_SETTINGS, progress: bool = True,
                   adapters: dict | None = None) -> EvalSettings:
    """``settings`` with k and then the prompt chosen on the dev split for RAG, and k for each hybrid whose adapter
    is in ``adapters`` (fine-tune + RAG reads RAG's prompt; RAFT keeps the one it was trained on).

    Cached after the first run: asking again costs nothing.
    """
    adapters = dict(adapters or {})
    tuned = settings.with_k("RAG", choose_top_k(sweep_top_k(model, tokenizer, settings=settings, progress=progress)))
    # then the prompt, at that k (a second knob, one pass, as coordinate_search does for the trained approaches)
    tuned = replace(tuned, prompt=choose_prompt(sweep_prompt(model, tokenizer, tuned, progress=progress)))
    for approach in APPROACHES:
        if approach.retrieval and approach.adapter in adapters:
            sweep = sweep_top_k(model, tokenizer, settings=tuned, progress=progress, approach=approach.name,
                                adapters=adapters)  # with the prompt it will be evaluated with
            tuned = tuned.with_k(approach.name, choose_top_k(sweep))
    return tuned
