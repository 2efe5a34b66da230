"""Checks for the exercises of 02_generator.ipynb."""
from __future__ import annotations

import math

from ..data import eval_questions, load_documents, load_questions
from ..evaluation import abstained, token_f1
from .. import generation
from ..generation import SYSTEM_PROMPT, build_prompt, count_tokens, eos_and_pad_ids, gold_context
from ..stopping import cut_off
from . import Verdict, exercise_check, verdict
from ._experiment import shares_problem, shares_shape_problem

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


# ------------------------------------------------------------------------------- experiment: the prompt and the cap

DEFAULT_MAX_NEW_TOKENS = 24  # answer_questions' cap
PROBE_SIZE = 8  # questions per side: a large effect shows, and a rerun takes seconds
DECLINE_KEYS = ("unanswerable", "answerable")
HOW_DECLINES = ("answers = answer_questions(model, tokenizer, probe, documents, max_new_tokens=my_max_new_tokens, "
                "system=my_system); declines = {'unanswerable': share of abstained(a) over the first 8 answers, "
                "'answerable': the same over the last 8}")


def decline_probe() -> list:
    """Unanswerable dev questions, then answerable ones: given the documents, only the latter get one in the prompt."""
    return eval_questions("dev_unanswerable", n=PROBE_SIZE) + eval_questions("dev", n=PROBE_SIZE)


def answers_and_cut_offs(model, tokenizer, questions, documents, system, max_new_tokens):
    """What ``answer_questions`` returns for these settings, and for each answer whether the cap cut it off."""
    prompts = [build_prompt(tokenizer, q.question, gold_context(q, documents) if documents else None, system)
               for q in questions]
    # The very call answer_questions makes, so that the answers are the learner's, token for token.
    ids = generation.generate_ids(model, tokenizer, prompts, max_new_tokens, progress=False)
    stop = eos_and_pad_ids(model, tokenizer)
    answers = [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]
    return answers, [cut_off(tokenizer, row, max_new_tokens, stop) for row in ids]


@exercise_check
def check_experiment_system_prompt(declines, my_system, my_max_new_tokens, model, tokenizer) -> Verdict:
    """Experiment: how often the model declines, with another system prompt or answer cap."""
    from statistics import mean

    if my_system is not None and not isinstance(my_system, str):
        return verdict(False, "", f"my_system should be the system prompt, a string; got {type(my_system).__name__}.")
    if isinstance(my_max_new_tokens, bool) or not isinstance(my_max_new_tokens, int) or my_max_new_tokens < 1:
        return verdict(False, "", "my_max_new_tokens should be a whole number of tokens >= 1, "
                                  f"got {my_max_new_tokens!r}.")
    if (my_system, my_max_new_tokens) == (SYSTEM_PROMPT, DEFAULT_MAX_NEW_TOKENS):
        return verdict(False, "", "these are the default settings, so nothing changed: write another system "
                                  "prompt in my_system, or set another my_max_new_tokens.")
    problem = shares_shape_problem(declines, DECLINE_KEYS, HOW_DECLINES)
    if problem:  # before the rerun
        return verdict(False, "", problem)
    probe = decline_probe()
    answers, cut_offs = answers_and_cut_offs(model, tokenizer, probe, load_documents("v1"), my_system,
                                             my_max_new_tokens)
    declined = [abstained(a) for a in answers]
    measured = {"unanswerable": mean(d for d, q in zip(declined, probe) if not q.answers),
                "answerable": mean(d for d, q in zip(declined, probe) if q.answers)}
    problem = shares_problem(declines, measured, HOW_DECLINES)
    if problem:
        return verdict(False, "", problem)
    cut = sum(cut_offs)
    cap = (f" {cut} of the {len(probe)} answers stopped at the cap of {my_max_new_tokens} tokens: those measure "
           "the cap, not the model." if cut else " No answer was cut off by the cap.")
    return verdict(True, f"with your settings the model declines {measured['unanswerable']:.0%} of the unanswerable "
                         f"questions (right to) and {measured['answerable']:.0%} of those it had the document for "
                         f"(a miss).{cap} Set them beside the default prompt's two numbers.", "")
