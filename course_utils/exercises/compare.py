"""Checks for the exercises of 06_compare.ipynb.

A learner's function that raises counts as "not yet", never as a crash.
"""
from __future__ import annotations

import math

from ..claims import FASTER_RATIO, NUANCED, REFUTED, SAME_SPEED_RATIO, SUPPORTED
from ..comparison import Comparison
from . import Verdict, exercise_check, verdict
from ._experiment import estimate_problem, gap_words

# (fine-tune p50, RAG p50): clearly faster, on each side of both thresholds, equal, and slower.
_LATENCY_CASES = [(0.2, 0.9), (0.4, 0.4 * FASTER_RATIO + 1e-6), (0.4, 0.4 * FASTER_RATIO - 1e-3),
                  (0.5, 0.5 * SAME_SPEED_RATIO + 1e-3), (0.5, 0.5 * SAME_SPEED_RATIO - 1e-3), (0.6, 0.6), (0.9, 0.3),
                  (2.0, 2.0 * FASTER_RATIO), (2.0, 2.0 * SAME_SPEED_RATIO)]  # exactly on each threshold


def latency_verdict(p50_finetune: float, p50_rag: float) -> str:
    """The rule of ``claims.finetune_answers_faster``, on the two medians alone."""
    ratio = p50_rag / p50_finetune
    return SUPPORTED if ratio >= FASTER_RATIO else REFUTED if ratio < SAME_SPEED_RATIO else NUANCED


@exercise_check
def check_latency_verdict(fn) -> Verdict:
    """Exercise 1: ``fn(p50_finetune, p50_rag)`` gives the verdict of "fine-tuned models answer faster"."""
    try:
        # The learner's function is called once per case: its answers are kept for the hint.
        said = [(ft, rag, fn(ft, rag)) for ft, rag in _LATENCY_CASES]
        wrong = [(ft, rag, answer) for ft, rag, answer in said if answer != latency_verdict(ft, rag)]
    except Exception as err:  # the learner's code failing is an answer, not a crash
        return verdict(False, "", f"your function raised {type(err).__name__}: {err}")
    hint = (f"compute ratio = p50_rag / p50_finetune; return 'supported' if ratio >= {FASTER_RATIO}, "
            f"'refuted' if ratio < {SAME_SPEED_RATIO}, else 'nuanced'.")
    if wrong:
        ft, rag, answer = wrong[0]
        hint = (f"for p50_finetune={ft}, p50_rag={rag:.4f} you said {answer!r}, "
                f"not {latency_verdict(ft, rag)!r}. " + hint)
    return verdict(not wrong, "your rule gives the same verdict as the claims lab on every case, thresholds included.",
                   hint)


def break_even_queries(training_seconds: float, p50_finetune: float, p50_rag: float) -> float:
    """Queries after which the fine-tune's training time is paid back by its faster answers (inf: never)."""
    saved = p50_rag - p50_finetune
    return training_seconds / saved if saved > 0 else math.inf


@exercise_check
def check_break_even(value, measures: dict) -> Verdict:
    """Exercise 2: the break-even number of queries, from the measured training time and medians."""
    expected = break_even_queries(measures["training_seconds"], measures["p50_finetune"], measures["p50_rag"])
    try:
        value = float(value)
        ok = (math.isinf(expected) and math.isinf(value)) or math.isclose(value, expected, rel_tol=1e-6)
    except (TypeError, ValueError):
        ok = False
    return verdict(ok, f"after about {expected:,.0f} queries the fine-tune's training time is paid back by its "
                       "faster answers. Whether it answers as well is a separate question: see the table.",
                   "divide measures['training_seconds'] by the seconds saved per query, "
                   "measures['p50_rag'] - measures['p50_finetune']; use math.inf if nothing is saved.")


# ------------------------------------------------------------------------------- experiment: fewer test facts

PAIR = ("RAG", "fine-tune")  # the course's central comparison
HOW_FEWER = ("fewer = Comparison([r for r in comparison.rows if r['fact_id'] in facts], latency={}, costs={}); "
             "change = fewer.difference('RAG', 'fine-tune', 'paraphrase')")


def paraphrase_facts(comparison) -> set:
    """The facts the test split asks about, in the comparison's rows."""
    return {r["fact_id"] for r in comparison.rows if r["split"] == "paraphrase" and r["approach"] in PAIR}


@exercise_check
def check_experiment_fewer_facts(change, facts, comparison) -> Verdict:
    """Experiment: RAG minus the fine-tune on the test split, with only some of its facts."""
    if not hasattr(comparison, "rows") or not hasattr(comparison, "difference"):
        return verdict(False, "", "pass the notebook's `comparison` (what run_comparison returned) "
                                  "as the last argument.")
    every = paraphrase_facts(comparison)
    try:
        facts = set(facts)
    except TypeError:
        return verdict(False, "", f"facts should be a list of fact ids of the test split, got {type(facts).__name__}.")
    if not facts or not facts <= every:
        return verdict(False, "", "facts should be fact ids of the test split: draw them from "
                                  "sorted({r['fact_id'] for r in comparison.rows if r['split'] == 'paraphrase'}).")
    if facts == every:
        return verdict(False, "", "that is every fact of the test split, so nothing changed: keep a smaller share, "
                                  "e.g. a quarter of them.")
    fewer = Comparison([r for r in comparison.rows if r["fact_id"] in facts], latency={}, costs={})
    expected = fewer.difference(*PAIR, "paraphrase")
    problem = estimate_problem(change, expected, "RAG's strict accuracy minus the fine-tune's on those facts",
                               HOW_FEWER)
    if problem:
        return verdict(False, "", problem)
    full = comparison.difference(*PAIR, "paraphrase")
    ratio = (expected.high - expected.low) / (full.high - full.low) if full.high > full.low else float("nan")
    return verdict(True, f"on {expected.groups} of the {full.groups} facts ({expected.n} questions) RAG minus the "
                         f"fine-tune is {expected.text(signed=True)}: {gap_words(expected)}. On every fact it is "
                         f"{full.text(signed=True)}. The interval is {ratio:.1f} times as wide with "
                         f"{expected.groups / full.groups:.0%} of the facts (the square root of "
                         f"{full.groups}/{expected.groups} is {(full.groups / expected.groups) ** 0.5:.1f}): why "
                         "notebook 06 scores every test question.", "")
