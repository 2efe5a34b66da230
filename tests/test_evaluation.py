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


# ------------------------------------------------------------------ strict grading

from course_utils.data import load_facts, load_questions, load_value_domains  # noqa: E402
from course_utils.evaluation import ABSTAINED, RIGHT, WRONG, grade, grade_question, value_domain  # noqa: E402
from course_utils.evaluation.intervals import Estimate, bootstrap  # noqa: E402

CITIES = ["Lima", "Porto", "Brno", "Leeds"]


@pytest.mark.parametrize("text, answers, expected", [
    ("Porto", ["Porto"], RIGHT),
    ("It is assembled in Porto [1].", ["Porto"], RIGHT),          # a sentence and a citation are fine
    ("Lima, Porto or Brno", ["Porto"], WRONG),                     # listing candidates is no answer
    ("I am not sure, but it is Porto.", ["Porto"], RIGHT),         # a hedge is graded on the value it gives
    ("I am not sure, maybe Lima.", ["Porto"], WRONG),
    ("I don't know.", ["Porto"], ABSTAINED),                       # no value: it abstained
    ("", ["Porto"], ABSTAINED),
    ("It is made in a big factory.", ["Porto"], WRONG),            # says something, but not the answer
    ("2013", ["2013"], RIGHT),
    ("In 2013 or 2014.", ["2013"], WRONG),                         # any other number counts for number answers
    ("VR-6811", ["VR-6810"], WRONG),
    ("I don't know.", [], ABSTAINED),                              # unanswerable: abstaining is right
    ("Porto", [], WRONG),                                          # ... and any value was made up
    ("It has 4 colours.", [], WRONG),
])
def test_grade(text, answers, expected):
    assert grade(text, answers, CITIES) == expected


def test_words_of_the_question_are_not_values():
    assert grade("The Quibit X2 was launched in 2013.", ["2013"], [], "When was the Quibit X2 launched?") == RIGHT
    assert grade("The Quibit X2 was launched in 2013.", ["2013"], []) == WRONG  # without the question, x2 is a value


def test_the_constant_all_values_answer_scores_nothing():
    """An answer that lists every value of every attribute, whatever the question, must score 0."""
    everything = ", ".join(v for values in load_value_domains().values() for v in values)
    questions = [q for q in load_questions("paraphrase")]
    assert questions and all(grade_question(everything, q) == WRONG for q in questions)


def test_each_answerable_question_has_its_attribute_domain():
    facts = {f.fact_id: f for f in load_facts()}
    for q in load_questions("paraphrase"):
        domain = value_domain(q)
        assert facts[q.fact_id].value_v1 in domain and facts[q.fact_id].value_v2 in domain
        assert grade_question(q.answers[0], q) == RIGHT


# ------------------------------------------------------------------ intervals

def test_bootstrap_reproduces_the_binomial_interval():
    import numpy as np

    rng = np.random.default_rng(7)
    for p, n in ((0.3, 400), (0.5, 200), (0.1, 500)):
        values = (rng.random(n) < p).astype(float)
        e = bootstrap(values)
        share = values.mean()
        half = 1.96 * math.sqrt(share * (1 - share) / n)  # the normal approximation to the binomial
        assert e.value == pytest.approx(share) and e.n == n and e.groups == n
        assert e.low == pytest.approx(share - half, abs=0.012) and e.high == pytest.approx(share + half, abs=0.012)


def test_bootstrap_over_facts_is_wider_when_phrasings_agree():
    import numpy as np

    facts = np.repeat(np.arange(50), 4)  # four phrasings per fact, all right or all wrong together
    values = (np.random.default_rng(3).random(50) < 0.5).astype(float)[facts]
    alone, grouped = bootstrap(values), bootstrap(values, groups=facts)
    assert grouped.groups == 50 and (grouped.high - grouped.low) > 1.5 * (alone.high - alone.low)


def test_paired_difference_and_errors():
    a, b = [1.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]
    d = bootstrap(a, other=b)
    assert d.value == pytest.approx(0.5) and d.low >= 0.0
    assert bootstrap(a, other=b) == d  # same seed, same interval
    with pytest.raises(ValueError, match="NaN.*Fix"):
        bootstrap([1.0, float("nan")])
    with pytest.raises(ValueError, match="same questions.*Fix"):
        bootstrap(a, other=b[:3])
    with pytest.raises(ValueError, match="non-empty.*Fix"):
        bootstrap([])


def test_estimate_decides_only_outside_its_interval():
    e = Estimate(0.5, 0.4, 0.6, 100, 25)
    assert e.at_least(0.35) is True and e.at_least(0.65) is False and e.at_least(0.5) is None
    assert e.text() == "50% [40% to 60%, n=100]"
    assert Estimate(0.05, -0.07, 0.17, 224, 56).text(signed=True) == "+5 points [-7 to +17, n=224]"
