# Uses the notebook's `model`, `tokenizer` and `documents`.
from statistics import mean

from course_utils.data import eval_questions
from course_utils.evaluation import abstained
from course_utils.exercises.generator import check_experiment_system_prompt
from course_utils.generation import SYSTEM_PROMPT, answer_questions

# 8 unanswerable dev questions (declining is right), then 8 answerable ones (declining is a miss).
probe = eval_questions("dev_unanswerable", n=8) + eval_questions("dev", n=8)


def decline_shares(system, max_new_tokens):
    # One call: answer_questions puts its gold document in the prompt of every question that has one.
    answers = answer_questions(model, tokenizer, probe, documents, max_new_tokens=max_new_tokens, system=system,
                               progress=False)
    return {"unanswerable": mean(abstained(a) for a in answers[:8]),
            "answerable": mean(abstained(a) for a in answers[8:])}


my_system = "You are a helpful assistant. If you are not sure of the answer, say: I don't know."
my_max_new_tokens = 24  # the default cap: only the system prompt changes
before = decline_shares(SYSTEM_PROMPT, 24)
declines = decline_shares(my_system, my_max_new_tokens)
print(f"declines, default prompt: {before}")
print(f"declines, your prompt:    {declines}")

check_experiment_system_prompt(declines, my_system, my_max_new_tokens, model, tokenizer)
