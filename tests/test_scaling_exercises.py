"""The exercises of notebook 07: the solutions pass and wrong answers fail."""
import runpy

import numpy as np

from course_utils.data import load_questions
from course_utils.exercises import passed, solution_path
from course_utils.exercises.scaling import check_experiment_recall_at_k, check_mrr, exact_recall
from course_utils.searches import Corpus


def test_mrr_check_accepts_the_solution_and_rejects_wrong_answers():
    solution = runpy.run_path(str(solution_path("07_mrr")))["my_mrr"]
    assert passed(check_mrr, solution)
    assert not passed(check_mrr, lambda rankings, gold: 1.0)
    # ranks counted from 0 instead of 1: a classic slip
    assert not passed(check_mrr, lambda rankings, gold: np.mean(
        [next((1 / (i + 1e-9) for i, d in enumerate(r) if d == g), 0.0) for r, g in zip(rankings, gold)]))
    assert not passed(check_mrr, lambda rankings, gold: 1 / 0)


def tiny_corpus():
    """Four chunks in 2-d, two questions: exact search's answers are known by construction."""
    questions = [q for q in load_questions("paraphrase")[::4][:2]]
    docs = [questions[0].doc_id, "other-a", questions[1].doc_id, "other-b"]
    vectors = np.array([[1, 0], [0.8, 0.6], [0.1, 0.995], [0.6, 0.8]], dtype=np.float32)
    corpus = Corpus([f"c{i}" for i in range(4)], docs, docs, ["t"] * 4, ["t"] * 4, vectors)
    # question 1 is nearest its own chunk; question 2 sees two other chunks first
    query_vectors = np.array([[1, 0], [0.7, 0.7]], dtype=np.float32)
    return corpus, questions, query_vectors


def test_the_experiment_check_recomputes_the_learners_recall():
    corpus, questions, vectors = tiny_corpus()
    assert exact_recall(corpus, questions, vectors, 2) == 0.5  # the second gold chunk ranks 3rd
    assert exact_recall(corpus, questions, vectors, 3) == 1.0
    assert passed(check_experiment_recall_at_k, 3, 1.0, corpus, questions, vectors)
    assert not passed(check_experiment_recall_at_k, 3, 0.5, corpus, questions, vectors)  # a made-up figure
    assert not passed(check_experiment_recall_at_k, 5, 1.0, corpus, questions, vectors)  # the table's own k
    assert not passed(check_experiment_recall_at_k, 3, None, corpus, questions, vectors)
