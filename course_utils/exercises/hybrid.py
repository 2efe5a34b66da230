"""Checks for the exercises of 05_hybrid.ipynb.

A learner's function that raises counts as "not yet", never as a crash.
"""
from __future__ import annotations

import math

from ..data import eval_questions
from ..evaluation import ABSTAINED, RIGHT, WRONG, abstained, grade_question
from ..hybrid import cite, hybrid_pipeline, remove_adapter
from ..lora import AdapterError
from ..rag import RagPipeline
from ..retrieval import Hit
from . import Verdict, exercise_check, verdict
from ._experiment import shares_problem, shares_shape_problem, trained_on

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


# ------------------------------------------------------------------------------- experiment: teach it to say so

PROBE_SIZE = 8  # unanswerable and answerable test questions each: enough to see a large change, a rerun in seconds
HOW_IDK = ("idk_scores = shares(outcomes(idk_run)): over probe, 8 unanswerable then 8 paraphrases asked in one "
           "ask_many call through hybrid_pipeline(rag, idk_run), the share graded 'abstained' on the unanswerable "
           "ones, and the shares graded 'right' and 'wrong' on the paraphrases")
IDK_KEYS = ("abstains (unanswerable)", "right (answerable)", "confidently wrong (answerable)")


def idk_probe() -> list:
    """The questions the experiment asks: unanswerable ones first, then held-out paraphrases."""
    return eval_questions("unanswerable", n=PROBE_SIZE) + eval_questions("paraphrase", n=PROBE_SIZE)


def idk_shares(outcomes, probe) -> dict:
    """The three shares of the experiment, from each probe question's grade (right, wrong or abstained)."""
    from statistics import mean

    no_answer = [o for o, q in zip(outcomes, probe) if not q.answers]
    answerable = [o for o, q in zip(outcomes, probe) if q.answers]
    return {IDK_KEYS[0]: mean(o == ABSTAINED for o in no_answer), IDK_KEYS[1]: mean(o == RIGHT for o in answerable),
            IDK_KEYS[2]: mean(o == WRONG for o in answerable)}


def pairs_problem(pairs) -> str | None:
    """What is wrong with ``pairs`` as RAFT training data with "I don't know" examples, or None."""
    try:
        targets = [answer for _, answer in pairs]
    except (TypeError, ValueError):
        return "idk_pairs should be the list of (prompt, answer) pairs the adapter was trained on."
    declined = sum(isinstance(t, str) and abstained(t) for t in targets)
    if not declined:
        return ("no training answer says \"I don't know\": give that answer to the examples whose oracle was "
                "left out (e.oracle is None).")
    if declined == len(targets):
        return ("every training answer says \"I don't know\", so that is all the adapter can learn: keep the "
                "examples with the oracle, and their cited answers.")
    return None


@exercise_check
def check_experiment_idk(idk_scores, idk_run, idk_pairs, rag) -> Verdict:
    """Experiment: RAFT taught to say "I don't know" without the oracle; how it then answers and abstains."""
    if not isinstance(rag, RagPipeline):
        return verdict(False, "", "pass the notebook's RAG pipeline, `rag`, as the last argument.")
    problem = pairs_problem(idk_pairs)
    if problem:
        return verdict(False, "", problem)
    if not trained_on(idk_run, idk_pairs, rag.model):
        return verdict(False, "", "idk_run was not trained on idk_pairs over this model: pass the AdapterRun that "
                                  "get_or_train_adapter returned for exactly those pairs.")
    problem = shares_shape_problem(idk_scores, IDK_KEYS, HOW_IDK)
    if problem:  # before the rerun, which takes a while
        return verdict(False, "", problem)
    probe = idk_probe()
    try:
        reader = hybrid_pipeline(rag, idk_run)
    except (AdapterError, ValueError) as err:
        return verdict(False, "", f"the adapter could not be put on rag's model ({err}). Take any adapter off "
                                  "first: model = remove_adapter(...).")
    try:
        answers = reader.ask_many([q.question for q in probe], progress=False)
    finally:
        remove_adapter(reader)  # rag reads with the plain base model again
    measured = idk_shares([grade_question(a.answer, q) for a, q in zip(answers, probe)], probe)
    problem = shares_problem(idk_scores, measured, HOW_IDK)
    if problem:
        return verdict(False, "", problem)
    return verdict(True, f"taught to decline when the oracle is missing, the adapter abstains on "
                         f"{measured[IDK_KEYS[0]]:.0%} of the unanswerable questions, and on the paraphrases is right "
                         f"{measured[IDK_KEYS[1]]:.0%} and confidently wrong {measured[IDK_KEYS[2]]:.0%} of the time. "
                         "Set that beside `before`: abstaining is only a gain if it takes the place of wrong answers, "
                         "not of right ones.", "")
