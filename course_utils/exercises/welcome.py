"""Checks for the exercises of 00_welcome.ipynb."""
from __future__ import annotations

from ..config import DATA_DIR
from ..data import eval_questions, load_documents, load_questions
from ..evaluation import RIGHT, grade_question
from ..evaluation.intervals import bootstrap
from . import Verdict, exercise_check, verdict


@exercise_check
def check_paraphrase_count(answer) -> Verdict:
    """Exercise 1: how many held-out paraphrase questions does the course have?"""
    expected = len(load_questions("paraphrase"))
    return verdict(answer == expected, f"{expected} paraphrases, four for every fact.",
                   "filter load_questions() by q.split == 'paraphrase' and count them.")


@exercise_check
def check_changed_documents(answer) -> Verdict:
    """Exercise 2: which doc_ids have a different text in v2 than in v1?"""
    v1 = {d.doc_id: d.text for d in load_documents("v1")}
    expected = {d.doc_id for d in load_documents("v2") if d.text != v1[d.doc_id]}
    try:
        got = set(answer)
    except TypeError:
        got = None
    return verdict(got == expected, f"{len(expected)} of {len(v1)} documents changed in the update.",
                   "build {doc_id: text} for v1, then keep the v2 documents whose text differs.")


# ------------------------------------------------------------------------------- experiment: give it the document

ORACLE_SPLIT = "paraphrase"  # eval_questions' fixed sample of this split: the questions notebooks 03 to 05 score
# Score lists the learner's bootstrap also runs on: every answer right, one right, and half right.
_BOOTSTRAP_CASES = {"eight right scores": [1.0] * 8, "one right score in eight": [1.0] + [0.0] * 7,
                    "twelve scores, half right": [1.0, 0.0] * 6}


def closed_book_strict(split: str = ORACLE_SPLIT) -> float:
    """The base model's strict score with no document, as scripts/measure_closed_book.py recorded it."""
    import json

    try:
        return float(json.loads((DATA_DIR / "closed_book.json").read_text())[split]["strict"])
    except (OSError, KeyError, TypeError, ValueError):  # not measured here: any right answer beats nothing
        return 0.0


def strict_scores(answers, questions) -> list[float]:
    """1.0 for every answer graded right (the gold value and no other), else 0.0."""
    return [float(grade_question(a, q) == RIGHT) for a, q in zip(answers, questions, strict=True)]


def interval_problem(my_bootstrap, scores) -> str | None:
    """What is wrong with ``my_bootstrap(scores)`` as a percentile bootstrap interval of the mean, or None."""
    from statistics import mean

    try:
        low, high = (float(x) for x in my_bootstrap(list(scores)))
    except Exception as err:  # the learner's code failing is an answer, not a crash
        return f"my_bootstrap(scores) should return (low, high); it raised {type(err).__name__}: {err}"
    center = mean(scores)
    if not low <= center <= high:
        return f"({low:.3f}, {high:.3f}) does not hold the share right in those scores, {center:.3f}."
    if low < min(scores) or high > max(scores):
        return ("the mean of a resample can never leave the range of the scores themselves, and your interval "
                "does: resample the scores rather than use a formula (mean ± 1.96 standard errors leaves it).")
    if high == low and max(scores) > min(scores):
        return ("your interval has no width although the scores differ: draw each resample *with replacement* "
                "(rng.choice(scores, size=len(scores), replace=True)); without it every resample is the same list.")
    # Two percentile bootstraps with different random draws differ by at most about one question.
    reference, tolerance = bootstrap(scores), 1 / len(scores) + 1e-9
    if abs(low - reference.low) > tolerance or abs(high - reference.high) > tolerance:
        return ("your interval is more than one question away from a percentile bootstrap's: draw at least 1,000 "
                "resamples of len(scores) scores with replacement, take the mean of each, and return the 2.5th "
                "and 97.5th percentiles of those means (np.percentile).")
    return None


@exercise_check
def check_experiment_oracle_interval(my_bootstrap, oracle_answers) -> Verdict:
    """Experiment: the base model with each question's gold document, and its interval computed by hand."""
    sample = eval_questions(ORACLE_SPLIT)
    if (not isinstance(oracle_answers, (list, tuple)) or len(oracle_answers) != len(sample)
            or not all(isinstance(a, str) for a in oracle_answers)):
        return verdict(False, "", f"set oracle_answers to the {len(sample)} answers of answer_questions(model, "
                                  "tokenizer, sample, documents=docs_v1): one string per question, in sample's order.")
    scores = strict_scores(oracle_answers, sample)
    closed = closed_book_strict()
    if sum(scores) / len(scores) <= closed:
        return verdict(False, "", "these answers score no better than the model alone did in closed_book.json. "
                                  "Pass documents=docs_v1 to answer_questions, so that every prompt holds the "
                                  "question's gold document.")
    cases = {f"your {len(scores)} scores": scores, "your first 8 scores": scores[:8], **_BOOTSTRAP_CASES}
    for label, values in cases.items():
        problem = interval_problem(my_bootstrap, values)
        if problem:
            return verdict(False, "", f"on {label}, {problem}")
    (low, high), (low8, high8) = my_bootstrap(list(scores)), my_bootstrap(list(scores[:8]))
    narrower = (f"{(high8 - low8) / (high - low):.1f} times narrower" if high > low else "no wider")
    return verdict(True, f"with its document the model gets {int(sum(scores))} of {len(scores)} paraphrases "
                         f"strictly right, {low:.0%} to {high:.0%} by your interval (closed-book: {closed:.0%}, "
                         f"closed_book.json). On the first 8 questions the interval spans {high8 - low8:.0%}, on "
                         f"all {len(scores)} it spans {high - low:.0%}: three times the questions, {narrower} "
                         "(the square root of three is about 1.7).", "")
