# Uses the notebook's `documents` and `retrievers`.
from course_utils.data import load_questions
from course_utils.evaluation.intervals import bootstrap
from course_utils.evaluation.ranking import recall_at_k
from course_utils.exercises.retriever import check_experiment_retriever
from course_utils.retrieval import build_retriever

dev = load_questions("dev")  # 112 held-out phrasings, two per fact: knobs are judged here, not on the test split
dev_texts = [q.question for q in dev]
variant = build_retriever("hybrid", documents, top_k=5, chunk_size=64)  # one change: chunks twice as long


def first_hits(retriever):
    """1.0 when the first chunk comes from the gold document, else 0.0, for every dev question."""
    return [recall_at_k(hits, q.doc_id, 1) for hits, q in zip(retriever.retrieve_many(dev_texts), dev)]


# Paired: both retrievers answer the same questions, and whole facts are resampled together.
change = bootstrap(first_hits(variant), other=first_hits(retrievers["hybrid"]), groups=[q.fact_id for q in dev])
print(f"{len(variant.nodes)} chunks instead of {len(retrievers['hybrid'].nodes)}; "
      f"recall@1 on dev changes by {change.text(signed=True)}")

check_experiment_retriever(variant, change)
