"""Benchmark the spread across training seeds: the fine-tune and RAFT, each trained with three seeds.

    python scripts/bench_seeds.py [--out build/bench_seeds.json]

One training run is one draw: LoRA's starting matrices and the batch order
come from the seed. This trains the course's fine-tune (``DEFAULT_TRAIN`` with the knobs chosen on dev,
until it knows its training set) and its RAFT adapter (``RAFT_TRAIN``, its knobs chosen on dev, until it
knows its examples) with three seeds each, and scores every one on the
whole test split with strict grading. The spread between seeds is a second
source of uncertainty, beside the bootstrap interval over facts: a verdict
that flips between seeds was never strong evidence.

It reads the course's cache, as the notebooks do: the knobs, the k chosen on
dev and the first seed's adapters are the ones the course run of the same
``make bench`` made (an adapter is never trained twice), so only the other
seeds train: about 25 minutes on 2 cores. A run with an empty cache trains
and chooses everything itself, which takes longer.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from course_utils.artifacts import write_text_atomic  # noqa: E402
from course_utils.config import SEED  # noqa: E402

SEEDS = (SEED, SEED + 1, SEED + 2)


def spread(values: list[float]) -> dict:
    return {"min": min(values), "max": max(values), "mean": statistics.mean(values),
            "stdev": statistics.stdev(values) if len(values) > 1 else 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(REPO / "build" / "bench_seeds.json"))
    args = parser.parse_args(argv)
    from course_utils.approaches import TEST_SPLIT
    from course_utils.workbench import Workbench
    from course_utils.data import eval_questions, load_documents
    from course_utils.adapters import closed_book_adapter
    from course_utils.hybrid import raft_adapter
    from course_utils.machine import describe
    from course_utils.models import load_generator
    from course_utils.knobs import fine_tune_knobs, raft_knobs
    from course_utils.tuning import tuned_settings

    start = time.perf_counter()
    model, tokenizer = load_generator()
    ft_knobs, raft_choice = fine_tune_knobs(model, tokenizer, False).kwargs, raft_knobs(model, tokenizer, False).kwargs
    settings = tuned_settings(model, tokenizer, progress=False,
                              adapters={"RAFT": raft_adapter(model, tokenizer, progress=False, **raft_choice)})
    test, docs = eval_questions(TEST_SPLIT, n=None), load_documents("v1")
    runs = {"fine-tune": [], "RAFT": []}
    for seed in SEEDS:
        adapters = {"fine-tune": closed_book_adapter(model, tokenizer, "v1", ft_knobs["extra_phrasings"],
                                                     dataclasses.replace(ft_knobs["config"], seed=seed), progress=False),
                    "RAFT": raft_adapter(model, tokenizer, progress=False, **{
                        **raft_choice, "config": dataclasses.replace(raft_choice["config"], seed=seed)})}
        # RAFT reads the k chosen on dev for the default seed's adapter: the seed spread is measured at one setting
        bench = Workbench(model, tokenizer, adapters, settings)
        for name, run in adapters.items():
            rows = bench.evaluate(name, test, docs, progress=False)
            runs[name].append({"seed": seed, "reused": run.reused, "training_seconds": round(run.seconds, 1),
                               "epochs": run.info.get("epochs_run"), "kept_epoch": run.info.get("kept_epoch"),
                               "train_accuracy": run.info.get("train_accuracy"),
                               "test_strict": sum(r["strict"] for r in rows) / len(rows), "n": len(rows)})
            print(f"seed {seed} {name:<10} {runs[name][-1]}", flush=True)
    result = {"machine": describe(), "date": time.strftime("%Y-%m-%d"), "seeds": list(SEEDS), "top_k": {"RAG": settings.k_for("RAG"), "RAFT": settings.k_for("RAFT")},
              "runs": runs, "spread": {name: {"test_strict": spread([r["test_strict"] for r in rs]),
                                              "training_seconds": spread([r["training_seconds"] for r in rs])}
                                       for name, rs in runs.items()},
              "seconds": round(time.perf_counter() - start, 1)}
    write_text_atomic(args.out, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["spread"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
