"""Checks for the exercises of 03_rag_loop.ipynb.

A learner's function that raises counts as "not yet", never as a crash.
"""
from __future__ import annotations

from statistics import mean

from ..data import eval_questions
from ..evaluation import RIGHT, contains_answer, grade_question
from ..evaluation.intervals import bootstrap
from ..rag import DEFAULT_TOP_K
from ..sources import parse_citations
from . import Verdict, exercise_check, verdict
from ._experiment import estimate_problem, gap_words

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
    return verdict(ok, "you read citations the way course_utils.sources.parse_citations does.",
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


# ------------------------------------------------------------------------------- experiment: another k

HOW_TOP_K = ("change = bootstrap(variant_strict, other=default_strict, groups=[q.fact_id for q in "
             "paraphrase_sample]), each list holding 1.0 where grade_question(result.answer, q) == 'right', else 0.0")


def results_problem(results, questions, name: str) -> str | None:
    """What is wrong with ``results`` as the RAG answers to ``questions``, in order, or None."""
    if not isinstance(results, (list, tuple)) or len(results) != len(questions):
        return (f"{name} should hold the {len(questions)} RagAnswers of rag.ask_many over paraphrase_sample, "
                f"got {type(results).__name__}{f' of {len(results)}' if hasattr(results, '__len__') else ''}.")
    for i, (r, q) in enumerate(zip(results, questions)):
        if not all(hasattr(r, a) for a in ("answer", "hits", "question")):
            return f"{name}[{i}] is a {type(r).__name__}, not a RagAnswer: use what rag.ask_many returns."
        if r.question != q.question:
            return (f"{name}[{i}] answers {r.question!r}, but question {i} of paraphrase_sample is {q.question!r}: "
                    "ask the questions in the sample's order.")
    return None


def sources_per_prompt(results) -> int:
    """The k the answers were given: the most sources any prompt held."""
    return max(len(r.hits) for r in results)


@exercise_check
def check_experiment_top_k(change, variant_results, default_results) -> Verdict:
    """Experiment: strict accuracy with another number of sources minus with the default 3, paired over facts."""
    questions = eval_questions("paraphrase")
    problem = (results_problem(variant_results, questions, "variant_results")
               or results_problem(default_results, questions, "default_results"))
    if problem:
        return verdict(False, "", problem)
    k_new, k_old = sources_per_prompt(variant_results), sources_per_prompt(default_results)
    if k_old != DEFAULT_TOP_K:
        return verdict(False, "", f"default_results had {k_old} sources per prompt; the default is "
                                  f"{DEFAULT_TOP_K}: use the section 3 answers, v1_answers[:len(paraphrase_sample)].")
    if k_new == k_old:
        return verdict(False, "", f"variant_results also had {k_old} sources per prompt, so nothing changed: answer "
                                  "with rag.with_options(top_k=...) and another k (1 to 5: the index keeps 5).")

    def strict(results):
        return [float(grade_question(r.answer, q) == RIGHT) for r, q in zip(results, questions)]

    expected = bootstrap(strict(variant_results), other=strict(default_results), groups=[q.fact_id for q in questions])
    problem = estimate_problem(change, expected, f"strict accuracy with k = {k_new} minus with k = {k_old}", HOW_TOP_K)
    if problem:
        return verdict(False, "", problem)
    return verdict(True, f"with {k_new} sources instead of {k_old}, strict accuracy on these {expected.n} test "
                         f"paraphrases changes by {expected.text(signed=True)}: {gap_words(expected)}. This measures, "
                         "it does not choose: k stays the one chosen on dev (section 4).", "")
