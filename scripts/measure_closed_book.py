"""Measure the base generator's closed-book accuracy on the knowledge-base questions.

The facts are fictional, so a model that has not seen the documents should
almost never get them right. This script checks that claim and records the
figures in data/closed_book.json and in the table of data/README.md.

    python scripts/measure_closed_book.py
"""
import json
import re
import time

from course_utils.artifacts import write_text_atomic
from course_utils.config import DATA_DIR, get_config, set_seed
from course_utils.data import load_questions
from course_utils.evaluation import score_answers
from course_utils.generation import build_prompt, generate_batch
from course_utils.machine import describe
from course_utils.models import load_generator

SPLITS = ("train", "paraphrase", "update")
START, END = "<!-- closed-book:start -->", "<!-- closed-book:end -->"


def main() -> None:
    machine = describe()  # measured first, while nothing else of ours runs
    set_seed()
    model, tokenizer = load_generator()
    results = {"generator": get_config().generator, "machine": machine}
    start = time.perf_counter()
    for split in SPLITS:
        questions = load_questions(split)
        prompts = [build_prompt(tokenizer, q.question) for q in questions]
        results[split] = score_answers(generate_batch(model, tokenizer, prompts), questions)
    results["seconds"] = round(time.perf_counter() - start, 1)
    write_text_atomic(DATA_DIR / "closed_book.json", json.dumps(results, indent=2) + "\n")

    rows = ["| split | questions | strict | exact match | contains answer | token F1 |",
            "| --- | --- | --- | --- | --- | --- |"]
    rows += [f"| {s} | {results[s]['n']} | {results[s]['strict']:.1%} | {results[s]['exact_match']:.1%} "
             f"| {results[s]['contains']:.1%} | {results[s]['f1']:.2f} |" for s in SPLITS]
    readme = (DATA_DIR / "README.md").read_text()
    table = f"{START}\n" + "\n".join(rows) + f"\n{END}"
    write_text_atomic(DATA_DIR / "README.md", re.sub(f"{START}.*?{END}", table, readme, flags=re.S))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
