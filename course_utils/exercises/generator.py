"""Checks for the exercises of 02_generator.ipynb."""
from __future__ import annotations

import math

from ..data import load_documents, load_questions
from ..evaluation import token_f1
from ..generation import build_prompt, count_tokens, gold_context
from . import Verdict, exercise_check, verdict

# (prediction, gold answer) pairs that catch the usual slips: case, punctuation,
# articles, a hyphen, repeated words, partial overlap, no overlap, an empty prediction.
F1_CASES = [
    ("Porto", "Porto"),
    ("The Quibit X2 is assembled in Porto.", "Porto"),
    ("in the city of Lima, Peru", "Lima"),
    ("VR-6810", "VR 6810"),
    ("Dana Okafor", "Dana Okoro"),
    ("2013 2013 2013", "2013"),
    ("Leipzig", "Porto"),
    ("", "Porto"),
]


def _first_train_question():
    return load_questions("train")[0]


@exercise_check
def check_oracle_prompt(oracle_prompt, tokenizer) -> Verdict:
    """Exercise 1: ``oracle_prompt(tokenizer, question, document)`` builds the same string as build_prompt."""
    docs = load_documents("v1")
    for q in load_questions("train")[:3]:
        expected = build_prompt(tokenizer, q.question, gold_context(q, docs))
        try:
            got = oracle_prompt(tokenizer, q.question, gold_context(q, docs))
        except Exception as err:  # the learner's code: report it, never crash the check
            return verdict(False, "", f"your function raised {type(err).__name__}: {err}")
        if got != expected:
            if not isinstance(got, str) or not got:
                return verdict(False, "", "return tokenizer.apply_chat_template(messages, tokenize=False, "
                                          "add_generation_prompt=True) for a system and a user message.")
            where = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
            return verdict(False, "", f"your prompt differs from the expected one at character {where}: "
                                      f"yours has {got[where:where + 30]!r}, expected {expected[where:where + 30]!r}.")
    return verdict(True, "your prompt is exactly the one the model sees, special tokens and all.", "")


@exercise_check
def check_token_f1(my_token_f1) -> Verdict:
    """Exercise 2: a hand-written token F1 agrees with SQuAD's on tricky cases."""
    for prediction, gold in F1_CASES:
        expected = token_f1(prediction, [gold])
        try:
            got = float(my_token_f1(prediction, gold))
        except Exception as err:
            return verdict(False, "", f"on ({prediction!r}, {gold!r}) your function raised "
                                      f"{type(err).__name__}: {err}")
        if not math.isclose(got, expected, abs_tol=1e-6):
            return verdict(False, "", f"for prediction {prediction!r} and gold {gold!r} you gave {got:.3f}, "
                                      f"SQuAD gives {expected:.3f}. Normalise both first (normalize_answer), "
                                      "then count the tokens they share.")
    return verdict(True, f"your F1 matches SQuAD's on all {len(F1_CASES)} test cases.", "")


@exercise_check
def check_context_tokens(n_context_tokens, tokenizer) -> Verdict:
    """Exercise 3: how many more tokens has the first training question's oracle prompt than its closed-book one?"""
    q = _first_train_question()
    with_doc = build_prompt(tokenizer, q.question, gold_context(q, load_documents("v1")))
    expected = count_tokens(tokenizer, with_doc) - count_tokens(tokenizer, build_prompt(tokenizer, q.question))
    return verdict(n_context_tokens == expected,
                   f"{expected} more tokens, which the model reads before it writes a word.",
                   "count_tokens(tokenizer, oracle prompt) minus count_tokens(tokenizer, closed-book prompt).")
