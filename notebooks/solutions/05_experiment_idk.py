# Uses the notebook's `model`, `tokenizer`, `docs`, `rag` and `raft_run`.
from statistics import mean

from course_utils.data import eval_questions, load_questions
from course_utils.evaluation import grade_question
from course_utils.exercises.hybrid import check_experiment_idk
from course_utils.adapters import get_or_train_adapter
from course_utils.hybrid import RAFT_ONE_EPOCH, hybrid_pipeline, raft_examples, recomputed_activations, remove_adapter

# 16 training questions, half of them without their oracle chunk: those now answer "I don't know".
examples = raft_examples(tokenizer, load_questions("train")[:16], docs["v1"], p_oracle=0.5)
idk_pairs = [(e.prompt, e.answer if e.oracle is not None else "I don't know") for e in examples]
with recomputed_activations(model):  # long prompts: recompute activations rather than keep them
    idk_run = get_or_train_adapter("raft-idk", idk_pairs, RAFT_ONE_EPOCH, model, tokenizer, start_from=raft_run)

probe = eval_questions("unanswerable", n=8) + eval_questions("paraphrase", n=8)


def outcomes(adapter):
    reader = hybrid_pipeline(rag, adapter)
    answers = reader.ask_many([q.question for q in probe], progress=False)
    remove_adapter(reader)  # back to the plain base model
    return [grade_question(a.answer, q) for a, q in zip(answers, probe)]


def shares(graded):
    unanswerable, answerable = graded[:8], graded[8:]
    return {"abstains (unanswerable)": mean(g == "abstained" for g in unanswerable),
            "right (answerable)": mean(g == "right" for g in answerable),
            "confidently wrong (answerable)": mean(g == "wrong" for g in answerable)}


before, idk_scores = shares(outcomes(raft_run)), shares(outcomes(idk_run))
print(f"RAFT:                  {before}")
print(f"RAFT + I don't know:   {idk_scores}")

check_experiment_idk(idk_scores, idk_run, idk_pairs, rag)
