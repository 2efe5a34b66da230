# Uses the notebook's `comparison`.
import random

from course_utils.comparison import Comparison
from course_utils.exercises.compare import check_experiment_fewer_facts

test_facts = sorted({r["fact_id"] for r in comparison.rows if r["split"] == "paraphrase"})
facts = random.Random(0).sample(test_facts, len(test_facts) // 4)  # a quarter of the facts, drawn with a fixed seed
# The same analysis on fewer rows: every phrasing of the kept facts, nothing of the others.
fewer = Comparison([r for r in comparison.rows if r["fact_id"] in facts], latency={}, costs={})
change = fewer.difference("RAG", "fine-tune", "paraphrase")
everything = comparison.difference("RAG", "fine-tune", "paraphrase")
print(f"{len(test_facts)} facts: RAG minus fine-tune {everything.text(signed=True)}")
print(f"{len(facts)} facts: RAG minus fine-tune {change.text(signed=True)}")

check_experiment_fewer_facts(change, facts, comparison)
