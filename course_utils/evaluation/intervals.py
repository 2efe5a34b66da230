"""Intervals: a paired bootstrap over facts (taught in 01 §7).

The phrasings of one fact are not independent (a model that knows a fact
tends to get all its phrasings right), so the bootstrap resamples *facts*,
each with all its questions. Two approaches scored on the same questions are
compared on the same resamples (paired), which gives a tighter, honest
interval for their difference.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import SEED

LEVEL = 0.95
RESAMPLES = 2000


@dataclass(frozen=True)
class Estimate:
    """A measured value with its 95% interval, over ``n`` questions from ``groups`` facts (taught in 01 §7)."""
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
