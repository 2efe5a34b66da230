"""Scoring answers: exact match, F1 and contains (taught in 02 §3), and the strict grade (03 §3).

The package holds everything that scores: this module grades one answer;
``evaluation.intervals`` puts a 95% interval on a score,
``evaluation.ranking`` scores retrievals and ``evaluation.summaries`` turns
scored answers into rows and tables.

Exact match and token F1 follow the SQuAD v1.1 evaluation: lower-case, drop
punctuation and the articles a/an/the, squeeze whitespace, then compare. A
question may have several accepted answers; the best score counts.
"""
from __future__ import annotations

import re
import string
from collections import Counter
from functools import lru_cache
from statistics import mean

from ..config import DATA_DIR
from ..data import load_facts, load_value_domains

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)

# Phrases that count as "I don't know" when a question has no answer.
ABSTAIN_MARKERS = ("i don't know", "i do not know", "not in the", "no information", "cannot answer",
                   "can't answer", "not mentioned", "not provided", "unknown", "not sure")


def normalize_answer(text: str) -> str:
    text = text.lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: list[str]) -> float:
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(a) for a in answers))


def token_f1(prediction: str, answers: list[str]) -> float:
    def f1(gold: str) -> float:
        p, g = normalize_answer(prediction).split(), normalize_answer(gold).split()
        common = sum((Counter(p) & Counter(g)).values())
        if common == 0:
            return 0.0
        precision, recall = common / len(p), common / len(g)
        return 2 * precision * recall / (precision + recall)

    return max((f1(a) for a in answers), default=0.0)


def contains_answer(prediction: str, answers: list[str]) -> float:
    """Lenient match: a gold answer appears inside the normalised prediction (taught in 02 §3).

    Small models wrap answers in sentences ("It is assembled in Lima."), which
    strict exact match counts as wrong; the course reports both.
    """
    pred = f" {normalize_answer(prediction)} "
    return float(any(f" {normalize_answer(a)} " in pred for a in answers if normalize_answer(a)))


def abstained(prediction: str) -> bool:
    text = prediction.lower().replace("’", "'")
    return any(marker in text for marker in ABSTAIN_MARKERS)


# ============================================================================
# Strict grading: the headline score
# ============================================================================
# "Contains the answer" can be gamed: an answer listing every city contains
# the right one. Strict grading also looks for the *other* values the answer
# gives. A value is a word from the attribute's domain (every city, every
# role: ``data.load_value_domains``) or, when the gold answer is a number or a
# code, any other number or code. Words of the question never count: "the
# Quibit X2" names a product, it does not answer with one.
RIGHT, WRONG, ABSTAINED = "right", "wrong", "abstained"
_NUMBER_LIKE = re.compile(r"^[a-z]*\d+$")  # 2013, 21, vr6810 (VR-6810 once normalised)
_CITATION = re.compile(r"\[\d+\]")


def values_given(prediction: str, domain, question: str = "", numbers: bool = False) -> set[str]:
    """The normalised values that ``prediction`` states: domain values, and numbers/codes when ``numbers``."""
    text = normalize_answer(_CITATION.sub(" ", prediction))
    padded, asked = f" {text} ", f" {normalize_answer(question)} "
    found = {v for v in map(normalize_answer, domain) if v and f" {v} " in padded and f" {v} " not in asked}
    if numbers:
        found |= {t for t in text.split() if _NUMBER_LIKE.match(t) and f" {t} " not in asked}
    return found


def grade(prediction: str, answers: list[str], domain=(), question: str = "") -> str:
    """RIGHT, WRONG or ABSTAINED, strictly.

    - RIGHT: a gold value is given and no other value of the same attribute is;
    - ABSTAINED: no value at all (an empty answer, or "I don't know" with nothing else);
    - WRONG: anything else, hedges included: "not sure, but Porto" gives a value and is graded on it.

    For an unanswerable question (no ``answers``) any value is WRONG: the model made one up.
    """
    gold = {normalize_answer(a) for a in answers if normalize_answer(a)}
    numbers = not answers or any(_NUMBER_LIKE.match(g) for g in gold)
    given = values_given(prediction, set(domain) | set(answers), question, numbers)
    text = f" {normalize_answer(_CITATION.sub(' ', prediction))} "
    gold_given = any(f" {g} " in text for g in gold)
    if gold_given and not (given - gold):
        return RIGHT
    if gold_given or given or not (abstained(prediction) or not text.strip()):
        return WRONG
    return ABSTAINED


@lru_cache(maxsize=4)
def _domains(data_dir: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    domains = {k: tuple(v) for k, v in load_value_domains(data_dir).items()}
    return {f.fact_id: f.attribute for f in load_facts(data_dir)}, domains


def value_domain(question, data_dir=DATA_DIR) -> tuple[str, ...]:
    """Every value the question's attribute can take; every value of every attribute when it has no fact."""
    attributes, domains = _domains(str(data_dir))
    attribute = attributes.get(getattr(question, "fact_id", None) or "")
    if attribute is None:
        return tuple(v for values in domains.values() for v in values)
    return domains.get(attribute, ())


def grade_question(prediction: str, question) -> str:
    """``grade`` with the question's own answers, value domain and wording (taught in 03 §3)."""
    return grade(prediction, question.answers, value_domain(question), question.question)


def score_answers(predictions: list[str], questions) -> dict[str, float]:
    """Mean strict accuracy (the headline), exact match, F1 and contains-answer over answerable questions."""
    pairs = [(p, q) for p, q in zip(predictions, questions, strict=True) if q.answers]
    if not pairs:
        return {"n": 0, "strict": float("nan"), "exact_match": float("nan"), "f1": float("nan"),
                "contains": float("nan")}
    return {
        "n": len(pairs),
        "strict": mean(float(grade_question(p, q) == RIGHT) for p, q in pairs),
        "exact_match": mean(exact_match(p, q.answers) for p, q in pairs),
        "f1": mean(token_f1(p, q.answers) for p, q in pairs),
        "contains": mean(contains_answer(p, q.answers) for p, q in pairs),
    }
