import math

saved_per_query = measures["p50_rag"] - measures["p50_finetune"]  # seconds the fine-tune saves on each answer
break_even = measures["training_seconds"] / saved_per_query if saved_per_query > 0 else math.inf

check_break_even(break_even, measures)
