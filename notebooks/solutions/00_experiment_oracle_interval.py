# Uses the notebook's `model`, `tokenizer` and `docs_v1`.
import numpy as np

from course_utils.data import eval_questions
from course_utils.evaluation import grade_question
from course_utils.exercises.welcome import check_experiment_oracle_interval
from course_utils.generation import answer_questions

sample = eval_questions("paraphrase")  # the fixed sample of 24 test paraphrases
# The one change: each question's gold document goes into its prompt.
oracle_answers = answer_questions(model, tokenizer, sample, documents=docs_v1, progress=False)
scores = [1.0 if grade_question(answer, q) == "right" else 0.0 for answer, q in zip(oracle_answers, sample)]


def my_bootstrap(scores, resamples=2000, seed=0):
    rng = np.random.default_rng(seed)  # seeded: the same interval on every run
    scores = np.asarray(scores, dtype=float)
    # Each resample draws len(scores) scores *with replacement*: some twice, some not at all.
    means = [rng.choice(scores, size=len(scores), replace=True).mean() for _ in range(resamples)]
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


for n in (8, len(scores)):
    low, high = my_bootstrap(scores[:n])
    print(f"first {n:>2} questions: {np.mean(scores[:n]):.0%} right, interval {low:.0%} to {high:.0%} "
          f"({high - low:.0%} wide)")

check_experiment_oracle_interval(my_bootstrap, oracle_answers)
