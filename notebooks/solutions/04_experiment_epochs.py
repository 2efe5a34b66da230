# Uses the notebook's `model`, `tokenizer`, `subset` and `score_adapter` (section 6).
import dataclasses

from course_utils.exercises.lora import check_experiment_epochs
from course_utils.adapters import SWEEP_TRAIN, closed_book_adapter

longer = dataclasses.replace(SWEEP_TRAIN, epochs=3 * SWEEP_TRAIN.epochs)  # one change: three times the epochs
longer_run = closed_book_adapter(model, tokenizer, config=longer, fact_ids=subset)  # no extra phrasings
seen, held_out_score = score_adapter(longer_run)
print(f"{longer.epochs} epochs: training phrasings {seen:.0%}, held-out paraphrases {held_out_score:.0%} "
      f"(trained in {longer_run.seconds:.0f} s)")

check_experiment_epochs(longer_run, held_out_score, model, tokenizer)
