"""Checks for the exercises of 03_rag_loop.ipynb.

A learner's function that raises counts as "not yet", never as a crash.
"""
from __future__ import annotations

from statistics import mean

from ..evaluation import contains_answer
from ..rag import parse_citations
from . import Verdict, exercise_check, verdict

# Answers as the model writes them: one citation, several, repeated, none, and one cut off.
_CITATION_CASES = [
    "The Quibit X2 is assembled in Porto [1].",
    "Porto [2][3]",
    "Lima [1, 3]",
    "It runs for 21 hours [2]. It launched in 2013 [2].",
    "I don't know.",
    "Vellmar's head of research [3] and [1]",
    "The catalogue code is VR-6810 [1",
]


@exercise_check
def check_parse_citations(fn) -> Verdict:
    """Exercise 1: ``fn(answer)`` lists the cited source numbers, in order, without repeats."""
    try:
        ok = all(list(fn(text)) == parse_citations(text) for text in _CITATION_CASES)
    except Exception as err:  # the learner's code failing is an answer, not a crash
        return verdict(False, "", f"your function raised {type(err).__name__}: {err}")
    return verdict(ok, "you read citations the way course_utils.rag.parse_citations does.",
                   "use re.findall(r'\\[([\\d,\\s]+)\\]', answer), split each match on ',', convert to int, "
                   "and skip numbers you already have. A citation cut off ('[1' at the end) does not count.")


def stale_rate(results, questions) -> float:
    return mean(contains_answer(r.answer, q.stale_answers) for r, q in zip(results, questions, strict=True))


@exercise_check
def check_stale_rate(value, results, questions) -> Verdict:
    """Exercise 2: the share of answers, over the v1 index, that contain the old (v1) value."""
    expected = stale_rate(results, questions)
    try:
        ok = abs(float(value) - expected) < 1e-9
    except (TypeError, ValueError):
        ok = False
    return verdict(ok, f"{expected:.0%} of the answers from the old index give the outdated value.",
                   "for each (result, question) pair, test contains_answer(result.answer, question.stale_answers), "
                   "then take the mean (a share between 0 and 1, not a percentage).")
