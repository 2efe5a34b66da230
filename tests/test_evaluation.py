"""The answer metrics on SQuAD-style cases worked out by hand."""
import math

import pytest

from course_utils.data import Question
from course_utils.evaluation import abstained, contains_answer, exact_match, normalize_answer, score_answers, token_f1


def question(answers, qid="q"):
    return Question(qid=qid, split="train", question="?", answers=answers, stale_answers=[],
                    fact_id=None, doc_id=None)


@pytest.mark.parametrize("text, expected", [
    ("The Cat sat.", "cat sat"),                     # lower case, punctuation and articles go
    ("  An   apple,  a pear ", "apple pear"),        # whitespace is squeezed
    ("theatre another", "theatre another"),          # articles only as whole words
    ("VR-6810", "vr6810"),                           # punctuation is deleted, not replaced by a space
    ("A", ""),
    ("Café Ünïcode", "café ünïcode"),                 # non-ASCII letters are kept
])
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_after_normalisation():
    assert exact_match("the Porto.", ["Porto"]) == 1.0
    assert exact_match("Porto, Portugal", ["Porto"]) == 0.0  # one extra word is a miss
    assert exact_match("Lima", ["Porto", "lima"]) == 1.0      # any accepted answer counts
    assert exact_match("Porto", []) == 0.0


def test_token_f1_known_values():
    # SQuAD's classic: one of two predicted words is right and it is the whole gold answer.
    assert math.isclose(token_f1("Denver Broncos", ["Broncos"]), 2 / 3)
    # predicted {cat, sat, on, mat} vs gold {cat, on, mat}: precision 3/4, recall 1.
    assert math.isclose(token_f1("the cat sat on the mat", ["cat on the mat"]), 6 / 7)
    # repeated words are only shared as often as they occur in both: precision 1/3, recall 1.
    assert math.isclose(token_f1("2013 2013 2013", ["2013"]), 0.5)
    assert token_f1("Porto", ["porto."]) == 1.0
    assert token_f1("Leipzig", ["Porto"]) == 0.0
    assert token_f1("", ["Porto"]) == 0.0
    assert token_f1("Porto", []) == 0.0


def test_token_f1_takes_the_best_answer():
    assert math.isclose(token_f1("Dana Okafor", ["Okafor", "Dana Okafor"]), 1.0)
    assert math.isclose(token_f1("Dana Okafor", ["Dana Okoro"]), 0.5)


def test_contains_answer_is_lenient_but_respects_words():
    assert contains_answer("The Quibit X2 is assembled in Porto.", ["Porto"]) == 1.0
    assert contains_answer("It was launched in 2013.", ["1999", "2013"]) == 1.0
    assert contains_answer("Limassol", ["Lima"]) == 0.0  # a prefix of a word is not the word
    assert contains_answer("anything", ["the"]) == 0.0   # an answer that normalises to nothing never matches
    assert contains_answer("The code is VR-6810.", ["VR-6810"]) == 1.0


def test_strict_match_is_harsh_on_sentences():
    answer = "The Quibit X2 is assembled in Porto."
    assert exact_match(answer, ["Porto"]) == 0.0
    assert contains_answer(answer, ["Porto"]) == 1.0
    assert 0 < token_f1(answer, ["Porto"]) < 0.5


@pytest.mark.parametrize("text, expected", [
    ("I don't know.", True),
    ("I don’t know.", True),  # a typographic apostrophe too
    ("The documents provide no information about it.", True),
    ("The Quibit X2 is assembled in Porto.", False),
])
def test_abstained(text, expected):
    assert abstained(text) is expected


def test_score_answers_averages_answerable_questions_only():
    questions = [question(["Porto"], "a"), question(["2013"], "b"), question([], "c")]
    scores = score_answers(["Porto", "It was in 2013.", "I don't know"], questions)
    assert scores["n"] == 2
    assert scores["exact_match"] == 0.5
    assert scores["contains"] == 1.0
    assert math.isclose(scores["f1"], (1.0 + token_f1("It was in 2013.", ["2013"])) / 2)


def test_score_answers_edge_cases():
    assert math.isnan(score_answers(["I don't know"], [question([])])["exact_match"])
    with pytest.raises(ValueError):  # one prediction per question, no silent truncation
        score_answers(["Porto"], [question(["Porto"]), question(["Lima"])])
