"""Scored answers as rows, and rows as tables: per question, per split, per approach.

A row is one question's answer with its grade and scores (``score_results``,
taught in 03 §3); the tables average rows per split (``split_summary``,
``split_scores``) or per approach and split (``approach_table``, 05 §1).
"""
from __future__ import annotations

from statistics import mean

import numpy as np

from . import ABSTAINED, RIGHT, WRONG, abstained, contains_answer, exact_match, grade_question, score_answers, token_f1


def citation_correct(result, question) -> bool:
    """Is ``result`` (a ``sources.RagAnswer``) right, and does it cite the question's gold document, and nothing else?

    Strict: an uncited answer counts as wrong, and so does a wrong answer with a
    citation, a citation of any other document (even one that happens to
    mention the same value) or of a source that does not exist ([4] of 3; taught in 03 §3).
    """
    if not result.citations or result.invalid_citations:
        return False
    return (grade_question(result.answer, question) == RIGHT
            and all(h.doc_id == question.doc_id for h in result.cited_hits))


def score_results(results, questions) -> list[dict]:
    """One row per question: the answer, its grade and scores, and whether the gold document was in the prompt.

    ``strict`` (1 or 0) is the headline score; ``outcome`` is right, wrong or
    abstained (``evaluation.grade``); exact match, F1 and contains stay beside it (taught in 03 §3).
    """
    rows = []
    for r, q in zip(results, questions, strict=True):
        answerable = bool(q.answers)
        outcome = grade_question(r.answer, q)
        rows.append({
            "qid": q.qid, "fact_id": q.fact_id, "split": q.split, "question": q.question,
            "gold": ", ".join(q.answers) or "-", "answer": r.raw, "outcome": outcome,
            "strict": float(outcome == RIGHT) if answerable else None,
            "exact_match": exact_match(r.answer, q.answers) if answerable else None,
            "f1": token_f1(r.answer, q.answers) if answerable else None,
            "contains": contains_answer(r.answer, q.answers) if answerable else None,
            "cited": r.cited, "citation_correct": citation_correct(r, q) if answerable else None,
            "abstained": outcome == ABSTAINED, "confident_wrong": outcome == WRONG,
            "cut_off": bool(r.timings.get("cut_off", False)),
            "retrieved": ", ".join(h.doc_id for h in r.hits),
            "gold_retrieved": any(h.doc_id == q.doc_id for h in r.hits) if answerable else None,
            "stale": contains_answer(r.answer, q.stale_answers) if q.stale_answers else None,
        })
    return rows


def split_summary(rows):
    """A pandas DataFrame, one row per split: answer quality, citations and abstention (taught in 03 §3)."""
    import pandas as pd

    df = pd.DataFrame(rows)
    table = {}
    for split, part in df.groupby("split", sort=False):
        answerable = part[part["exact_match"].notna()]
        unanswerable = part[part["exact_match"].isna()]
        table[split] = {
            "questions": len(part), "strict": answerable["strict"].mean(),
            "confidently wrong": part["confident_wrong"].mean(),
            "exact match": answerable["exact_match"].mean(), "contains": answerable["contains"].mean(),
            "F1": answerable["f1"].mean(), "cited": part["cited"].mean(),
            "citation accuracy": answerable["citation_correct"].astype(float).mean(),
            "abstains (should)": unanswerable["abstained"].mean(),
            "abstains (should not)": answerable["abstained"].mean(),
        }
    return pd.DataFrame(table).T


def failure_kind(row) -> str:
    """'correct', 'retrieval miss' (gold document not in the prompt) or 'reading miss' (it was; answer wrong).

    Correct means strictly right (``evaluation.grade``): the gold value and no other (taught in 03 §4).
    """
    if row["strict"]:
        return "correct"
    return "reading miss" if row["gold_retrieved"] else "retrieval miss"


def split_scores(answers, questions) -> dict:
    """Scores of answers to one split: exact match, F1, contains, abstention, and stale answers (update split)."""
    row = score_answers(answers, questions)
    row["n"] = len(questions)  # every question of the split; the scores above count the answerable ones
    row["abstains"] = mean(abstained(a) for a in answers) if answers else float("nan")
    stale = [(a, q.stale_answers) for a, q in zip(answers, questions) if q.stale_answers]
    row["stale"] = mean(contains_answer(a, s) for a, s in stale) if stale else float("nan")
    return row


def approach_table(rows, metric: str = "strict"):
    """approach × split: the mean of ``metric`` over the rows where it applies (None rows are skipped)."""
    import pandas as pd

    df = pd.DataFrame(rows)
    df = df[df[metric].notna()]
    table = df.groupby(["approach", "split"], sort=False)[metric].apply(lambda s: s.astype(float).mean())
    return table.unstack("split")


def stale_share(rows) -> float:
    """Share of rows whose answer contains the outdated value."""
    values = [r["stale"] for r in rows if r.get("stale") is not None]
    return float(np.mean(values)) if values else float("nan")


def percentile(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")
