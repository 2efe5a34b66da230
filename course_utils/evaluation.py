"""Scoring answers and retrievals.

Exact match and token F1 follow the SQuAD v1.1 evaluation: lower-case, drop
punctuation and the articles a/an/the, squeeze whitespace, then compare. A
question may have several accepted answers; the best score counts.
"""
from __future__ import annotations

import re
import string
from collections import Counter
from statistics import mean

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
    """Lenient match: a gold answer appears inside the normalised prediction.

    Small models wrap answers in sentences ("It is assembled in Lima."), which
    strict exact match counts as wrong; the course reports both.
    """
    pred = f" {normalize_answer(prediction)} "
    return float(any(f" {normalize_answer(a)} " in pred for a in answers if normalize_answer(a)))


def abstained(prediction: str) -> bool:
    text = prediction.lower().replace("’", "'")
    return any(marker in text for marker in ABSTAIN_MARKERS)


def score_answers(predictions: list[str], questions) -> dict[str, float]:
    """Mean exact match, F1 and contains-answer over answerable questions."""
    pairs = [(p, q.answers) for p, q in zip(predictions, questions, strict=True) if q.answers]
    if not pairs:
        return {"n": 0, "exact_match": float("nan"), "f1": float("nan"), "contains": float("nan")}
    return {
        "n": len(pairs),
        "exact_match": mean(exact_match(p, a) for p, a in pairs),
        "f1": mean(token_f1(p, a) for p, a in pairs),
        "contains": mean(contains_answer(p, a) for p, a in pairs),
    }
