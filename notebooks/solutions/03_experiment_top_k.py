# Uses the notebook's `rag`, `paraphrase_sample` and `v1_answers`.
from course_utils.evaluation.intervals import bootstrap
from course_utils.evaluation import grade_question
from course_utils.exercises.rag_loop import check_experiment_top_k

k = 5  # the index keeps 5 chunks per question: the most any prompt can hold
variant_results = rag.with_options(top_k=k).ask_many([q.question for q in paraphrase_sample], progress=False)
default_results = v1_answers[:len(paraphrase_sample)]  # the same questions at k = 3, answered in section 3


def strict(results):
    return [1.0 if grade_question(r.answer, q) == "right" else 0.0 for r, q in zip(results, paraphrase_sample)]


# Paired: the same questions on both sides, whole facts resampled together.
change = bootstrap(strict(variant_results), other=strict(default_results),
                   groups=[q.fact_id for q in paraphrase_sample])
print(f"k = {k} minus k = 3, strict accuracy: {change.text(signed=True)}")

check_experiment_top_k(change, variant_results, default_results)
