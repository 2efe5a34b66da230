"""What the experiment checks share: comparing a learner's figure with the one recomputed from their variant.

An experiment check reruns (or rescores) the learner's variant and compares
the figure the learner reported with the recomputed one. Its hints say what
to compute and how, never the expected figure itself: the learner's own run
has to produce it.
"""
from __future__ import annotations

import math
from pathlib import Path

from ..adapters import adapter_fingerprint
from ..evaluation.intervals import Estimate
from ..lora import base_fingerprint
from ..training import TrainConfig, check_pairs

VALUE_TOL = 1e-9  # same answers, same arithmetic: only float rounding may differ
INTERVAL_TOL = 1e-6  # the course's bootstrap is seeded, so the same call gives the same interval


def estimate_problem(got, expected: Estimate, measure: str, how: str) -> str | None:
    """What is wrong with the learner's ``got`` as an estimate of ``measure``, or None when it matches ``expected``.

    ``how`` is the call that computes it, quoted in every hint.
    """
    if not isinstance(got, Estimate):
        return f"report the Estimate that evaluation.intervals.bootstrap returns, not a {type(got).__name__}. Fix: {how}."
    if got.n != expected.n:
        return (f"your estimate is over n={got.n} values, and the experiment has {expected.n} questions. "
                f"Fix: score every one of them, once: {how}.")
    if got.groups != expected.groups:
        return (f"your estimate resamples {got.groups} groups, and these questions come from {expected.groups} "
                f"facts: the phrasings of one fact are not independent, so resample facts. Fix: {how}.")
    if not math.isclose(got.value, expected.value, abs_tol=VALUE_TOL):
        return (f"your value is not {measure}, as the answers give it (mind the order of the difference, and "
                f"use shares between 0 and 1, not percentages). Fix: {how}.")
    if not got.low <= got.value <= got.high:
        return f"your interval does not hold its own value. Fix: {how}."
    if not (math.isclose(got.low, expected.low, abs_tol=INTERVAL_TOL)
            and math.isclose(got.high, expected.high, abs_tol=INTERVAL_TOL)):
        return (f"your value is right, but the interval is not the course's paired bootstrap over facts "
                f"(both sides resampled together, with the default settings). Fix: {how}.")
    return None


def shares_shape_problem(got, keys, how: str) -> str | None:
    """What is wrong with the form of the learner's ``{name: share}`` dict, or None: checked before any rerun."""
    if not isinstance(got, dict) or set(got) != set(keys):
        names = ", ".join(repr(k) for k in keys)
        return f"report a dict with exactly the keys {names}, each a share between 0 and 1. Fix: {how}."
    for name in keys:
        try:
            float(got[name])
        except (TypeError, ValueError):
            return f"{name!r} should be a number between 0 and 1, got {got[name]!r}. Fix: {how}."
    return None


def shares_problem(got, expected: dict, how: str) -> str | None:
    """What is wrong with the learner's ``{name: share}`` dict, or None when it matches ``expected``."""
    problem = shares_shape_problem(got, list(expected), how)
    if problem:
        return problem
    for name, share in expected.items():
        value = float(got[name])
        if not math.isclose(value, share, abs_tol=VALUE_TOL):
            return (f"your {name!r} is not what your variant gives when it is run again (a share between 0 and 1, "
                    f"not a percentage). Fix: {how}.")
    return None


def gap_words(estimate: Estimate) -> str:
    """Say whether an interval of a difference tells the change from no change."""
    if estimate.low > 0:
        return "a gain, and its interval excludes zero"
    if estimate.high < 0:
        return "a loss, and its interval excludes zero"
    return "its interval holds zero, so these questions cannot tell it from no change"


def run_config(run):
    """The ``TrainConfig`` an ``AdapterRun`` was trained with, or None when ``run`` is not one."""
    try:
        return TrainConfig(**run.info["config"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def trained_on(run, pairs, model) -> bool:
    """Was the adapter of ``run`` trained on exactly ``pairs``, over ``model``? Read from its folder's fingerprint."""
    config = run_config(run)
    if config is None:
        return False
    try:
        pairs = check_pairs(pairs)
    except (TypeError, ValueError):
        return False
    # The cache names every adapter folder <name>-<fingerprint of its data, base model, settings and start>.
    stamp = adapter_fingerprint(pairs, config, base_fingerprint(model), run.info.get("start_from"))
    return Path(run.folder).name.endswith(f"-{stamp}")
