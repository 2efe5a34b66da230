"""Checks for the exercises of 05_hybrid.ipynb.

A learner's function that raises counts as "not yet", never as a crash.
"""
from __future__ import annotations

import math

from ..hybrid import cite
from ..retrieval import Hit
from . import Verdict, exercise_check, verdict

_HITS = [Hit(1, "quibit-x2-pro", "Quibit X2 Pro", "The Quibit X2 Pro is assembled in Lima.", 0.0, "quibit-x2-pro#1"),
         Hit(2, "quibit-x2", "Quibit X2", "The Quibit X2 is assembled in Porto.", 0.0, "quibit-x2#1"),
         Hit(3, "quibit-x2", "Quibit X2", "Vellmar launched the Quibit X2 in 2013.", 0.0, "quibit-x2#2")]
# (answer, sources in prompt order, the oracle's chunk_id): oracle first, middle, last, and absent.
_TARGET_CASES = [("Porto", _HITS, "quibit-x2#1"), ("Lima", _HITS, "quibit-x2-pro#1"),
                 ("2013", _HITS, "quibit-x2#2"), ("Porto", _HITS[::-1], "quibit-x2#1"),
                 ("Porto", [_HITS[0], _HITS[2]], "quibit-x2#1"), ("Leipzig", [], "corvo-scanner#1")]


def raft_target(answer: str, hits, oracle_id: str) -> str:
    number = next((n for n, h in enumerate(hits, 1) if h.chunk_id == oracle_id), None)
    return cite(answer, number)


@exercise_check
def check_raft_target(fn) -> Verdict:
    """Exercise 1: ``fn(answer, hits, oracle_id)`` is the answer a RAFT example trains on."""
    try:
        ok = all(fn(a, list(h), o) == raft_target(a, h, o) for a, h, o in _TARGET_CASES)
    except Exception as err:  # the learner's code failing is an answer, not a crash
        return verdict(False, "", f"your function raised {type(err).__name__}: {err}")
    return verdict(ok, "the answer cites the oracle's number when it is in the prompt, and nothing otherwise.",
                   "find the position n (counting from 1) of the hit whose chunk_id is oracle_id and return "
                   "f'{answer} [{n}]'; when no hit has that id, return the answer alone "
                   "(there is nothing true to cite).")


def hybrid_gain(table, hybrid: str, parent: str) -> dict:
    return {split: float(table.loc[hybrid, split] - table.loc[parent, split]) for split in table.columns}


@exercise_check
def check_hybrid_gain(gain, table, hybrid: str = "RAFT", parent: str = "RAG") -> Verdict:
    """Exercise 2: {split: hybrid's score minus the parent's score} from the approach × split table."""
    expected = hybrid_gain(table, hybrid, parent)
    try:
        ok = set(gain) == set(expected) and all(math.isclose(float(gain[s]), expected[s], abs_tol=1e-9)
                                                for s in expected)
    except (TypeError, ValueError, AttributeError):
        ok = False
    best = max(expected, key=expected.get)
    return verdict(ok, f"{hybrid} gains most over {parent} on the {best} split ({expected[best]:+.0%}).",
                   f"build a dict with one entry per column of the table: "
                   f"table.loc['{hybrid}', split] - table.loc['{parent}', split] (shares, not percentages).")
