"""Knobs are chosen on the dev split: which questions that is, and how the best k is picked."""
import pandas as pd

from course_utils.data import DEV_SPLITS, load_questions
from course_utils.tuning import choose_top_k, dev_questions


def test_dev_questions_never_touch_the_test_split():
    dev = dev_questions()
    assert {q.split for q in dev} == set(DEV_SPLITS)
    test_texts = {q.question for q in load_questions("paraphrase") + load_questions("unanswerable")}
    assert not test_texts & {q.question for q in dev}
    assert any(q.answers for q in dev) and any(not q.answers for q in dev)  # both kinds of question


def test_choose_top_k_takes_the_best_dev_score_and_the_smaller_k_on_a_tie():
    sweep = pd.DataFrame({"strict (dev)": [0.40, 0.55, 0.50]}, index=pd.Index([1, 2, 3], name="k"))
    assert choose_top_k(sweep) == 2
    tied = pd.DataFrame({"strict (dev)": [0.5, 0.6, 0.6]}, index=pd.Index([1, 3, 5], name="k"))
    assert choose_top_k(tied) == 3  # the shorter prompt of the two best
