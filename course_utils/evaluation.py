"""Scoring answers and retrievals.

Exact match and token F1 follow the SQuAD v1.1 evaluation: lower-case, drop
punctuation and the articles a/an/the, squeeze whitespace, then compare. A
question may have several accepted answers; the best score counts.
"""
from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from statistics import mean

import numpy as np

from .config import DATA_DIR, SEED

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
    from .data import load_facts, load_value_domains

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
    """``grade`` with the question's own answers, value domain and wording."""
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


# ============================================================================
# Intervals: a paired bootstrap over facts
# ============================================================================
# The phrasings of one fact are not independent (a model that knows a fact
# tends to get all its phrasings right), so the bootstrap resamples *facts*,
# each with all its questions. Two approaches scored on the same questions are
# compared on the same resamples (paired), which gives a tighter, honest
# interval for their difference.
LEVEL = 0.95
RESAMPLES = 2000


@dataclass(frozen=True)
class Estimate:
    """A measured value with its 95% interval, over ``n`` questions from ``groups`` facts."""
    value: float
    low: float
    high: float
    n: int
    groups: int

    def at_least(self, threshold: float) -> bool | None:
        """True when the whole interval is at or above ``threshold``, False when all below, None when it crosses."""
        if self.low >= threshold:
            return True
        return False if self.high < threshold else None

    def text(self, percent: bool = True, signed: bool = False) -> str:
        """'43% [37% to 49%, n=224]'; signed, a difference in points: '+5 points [-7 to +17, n=224]'."""
        if signed:
            return (f"{self.value * 100:+.0f} points [{self.low * 100:+.0f} to {self.high * 100:+.0f}, "
                    f"n={self.n}]")
        if percent:
            return f"{self.value:.0%} [{self.low:.0%} to {self.high:.0%}, n={self.n}]"
        return f"{self.value:.2f} [{self.low:.2f} to {self.high:.2f}, n={self.n}]"

    def __float__(self) -> float:
        return self.value


def _checked(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or not len(array):
        raise ValueError(f"{name} must be a non-empty list of numbers, got {len(array)} values. "
                         "Fix: score at least one question before asking for an interval.")
    if np.isnan(array).any():
        raise ValueError(f"{name} holds NaN, a score that was never measured. Fix: drop the questions "
                         "that have no score (e.g. unanswerable ones for accuracy) before the bootstrap.")
    return array


def bootstrap(values, groups=None, other=None, statistic=None, level: float = LEVEL, resamples: int = RESAMPLES,
              seed: int = SEED) -> Estimate:
    """The mean of ``values`` (minus the mean of ``other``, paired) with a percentile bootstrap interval.

    ``groups`` gives each value's fact; whole facts are resampled. Without it
    every value is its own group. ``statistic(values[, other])`` replaces the
    mean (e.g. a ratio of medians for latencies).
    """
    values = _checked(values, "values")
    columns = [values] if other is None else [values, _checked(other, "other")]
    if len(columns[-1]) != len(values):
        raise ValueError(f"A paired comparison needs the same questions on both sides: {len(values)} against "
                         f"{len(columns[-1])}. Fix: score both approaches on the same question list.")
    groups = np.arange(len(values)) if groups is None else np.asarray(groups)
    if len(groups) != len(values):
        raise ValueError(f"groups has {len(groups)} entries for {len(values)} values. Fix: one fact id per value.")
    _, inverse = np.unique(groups, return_inverse=True)
    n_groups = int(inverse.max()) + 1
    picks = np.random.default_rng(seed).integers(0, n_groups, size=(resamples, n_groups))
    counts = np.stack([np.bincount(row, minlength=n_groups) for row in picks])[:, inverse]  # weight of each value
    if statistic is None:  # the (paired) mean, for every resample at once
        diff = values if other is None else values - columns[1]
        value, samples = float(diff.mean()), (counts * diff).sum(1) / counts.sum(1)
    else:
        value = float(statistic(*columns))
        samples = np.array([statistic(*(np.repeat(c, w) for c in columns)) for w in counts])
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return Estimate(value, float(low), float(high), len(values), n_groups)


# ============================================================================
# Retrieval metrics
# ============================================================================
# A retrieved chunk is a hit when it comes from the question's gold document
# (``Question.doc_id``). Unanswerable questions have no gold document, so they
# are left out of retrieval scores. Hits may be objects with a ``doc_id``
# attribute (``course_utils.retrieval.Hit``) or plain doc_id strings.

def _ranked_doc_ids(hits) -> list[str]:
    return [getattr(hit, "doc_id", hit) for hit in hits]


def recall_at_k(hits, gold_doc_id: str, k: int) -> float:
    """1.0 when a chunk of the gold document is among the first ``k`` hits, else 0.0."""
    if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
        raise ValueError(f"k must be a positive whole number, got {k!r}. Fix: use k=1, 3 or 5.")
    return float(gold_doc_id in _ranked_doc_ids(hits)[:k])


def reciprocal_rank(hits, gold_doc_id: str) -> float:
    """1 / rank of the first hit from the gold document; 0.0 when none was retrieved."""
    for rank, doc_id in enumerate(_ranked_doc_ids(hits), 1):
        if doc_id == gold_doc_id:
            return 1.0 / rank
    return 0.0


def mrr(rankings, gold_doc_ids) -> float:
    """Mean reciprocal rank over several queries (one ranked hit list per query)."""
    pairs = list(zip(rankings, gold_doc_ids, strict=True))
    if not pairs:
        raise ValueError("mrr of no queries is undefined. Fix: pass at least one ranking.")
    return mean(reciprocal_rank(hits, gold) for hits, gold in pairs)


def score_rankings(rankings, questions, ks=(1, 3, 5)) -> dict[str, float]:
    """recall@k for each k, and MRR, of one ranked hit list per question (answerable only)."""
    pairs = [(hits, q.doc_id) for hits, q in zip(rankings, questions, strict=True) if q.doc_id]
    if not pairs:
        return {"n": 0, **{f"recall@{k}": float("nan") for k in ks}, "mrr": float("nan")}
    row = {"n": len(pairs)}
    for k in ks:
        row[f"recall@{k}"] = mean(recall_at_k(hits, gold, k) for hits, gold in pairs)
    row["mrr"] = mrr(*zip(*pairs))
    return row


def score_retriever(retriever, questions, ks=(1, 3, 5)) -> dict[str, float]:
    """Run a retriever over the answerable ``questions`` and score it.

    ``retriever`` is a course ``Retriever`` (its batched ``retrieve_many`` is
    used) or any function ``query -> ranked hits``.
    """
    top_k = getattr(retriever, "top_k", None)
    if top_k is not None and max(ks) > top_k:
        raise ValueError(f"recall@{max(ks)} needs {max(ks)} hits but the retriever returns {top_k}. "
                         f"Fix: build it with top_k={max(ks)} or more.")
    answerable = [q for q in questions if q.doc_id]
    queries = [q.question for q in answerable]
    if hasattr(retriever, "retrieve_many"):
        rankings = retriever.retrieve_many(queries) if queries else []
    else:
        rankings = [retriever(query) for query in queries]
    return score_rankings(rankings, answerable, ks)


def retrieval_table(retrievers: dict, questions, ks=(1, 3, 5)):
    """A pandas DataFrame: one row per (retriever, split), recall@k and MRR as columns."""
    import pandas as pd

    splits = list(dict.fromkeys(q.split for q in questions if q.doc_id))  # first-seen order
    rows = [{"retriever": name, "split": split,
             **score_retriever(retriever, [q for q in questions if q.split == split], ks)}
            for name, retriever in retrievers.items() for split in splits]
    return pd.DataFrame(rows)
