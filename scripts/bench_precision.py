"""Benchmark what bfloat16 costs in quality, on a CPU where it is fast.

    python scripts/bench_precision.py [--out build/bench_precision.json]

bfloat16 is worth asking for (COURSE_PRECISION=bfloat16) only on CPUs with
native bf16 that multiply at least 1.3× faster in it; the course runs in
float32 unless asked (``course_utils.machine.choose_precision``). Speed never
comes at the cost of a result, so this measures the price on such a machine:
the closed-book and RAG answers to every test question, in float32 and in
bfloat16, must agree on at least 95% of questions, and a short LoRA run must
end with a training loss within 5% of float32's. On a CPU without native bf16
the course stays in float32, and the check is recorded as not applicable
(emulated bf16 is far too slow to be worth measuring).
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from course_utils.artifacts import write_text_atomic  # noqa: E402
from course_utils.config import get_config  # noqa: E402

MIN_AGREEMENT, MAX_LOSS_CHANGE = 0.95, 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(REPO / "build" / "bench_precision.json"))
    args = parser.parse_args(argv)
    from course_utils.machine import describe, native_bf16

    result = {"machine": describe(), "date": time.strftime("%Y-%m-%d")}
    if not native_bf16():
        result["applies"] = False
        result["reason"] = "no native bf16 on this CPU: the course runs in float32 here, so bf16 costs nothing"
        write_text_atomic(args.out, json.dumps(result, indent=2) + "\n")
        print(result["reason"])
        return 0

    import torch

    os.environ["COURSE_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-precision-")
    models_cache = REPO / ".cache" / "models"
    if models_cache.exists():
        (get_config().cache_dir / "models").symlink_to(models_cache.resolve())
    os.environ["COURSE_PRECISION"] = "float32"  # the reference; the bf16 copy is made below

    from course_utils.approaches import TEST_SPLIT
    from course_utils.workbench import Workbench
    from course_utils.data import eval_questions, load_documents
    from course_utils.training import DEFAULT_TRAIN, qa_pairs, train_adapter
    from course_utils.adapters import closed_book_questions
    from course_utils.models import load_generator
    from course_utils.tuning import tuned_settings

    fp32, tokenizer = load_generator()
    bf16 = copy.deepcopy(fp32).to(torch.bfloat16)
    settings = tuned_settings(fp32, tokenizer, progress=False)
    test, docs = eval_questions(TEST_SPLIT, n=None), load_documents("v1")
    answers = {}
    for label, model in (("float32", fp32), ("bfloat16", bf16)):
        bench = Workbench(model, tokenizer, {}, settings)
        answers[label] = {a: [r["answer"] for r in bench.evaluate(a, test, docs, progress=False)]
                          for a in ("closed-book", "RAG")}
    agreement = {a: sum(x == y for x, y in zip(answers["float32"][a], answers["bfloat16"][a])) / len(test)
                 for a in ("closed-book", "RAG")}
    short = dataclasses.replace(DEFAULT_TRAIN, epochs=4, until_accuracy=None, dev_epochs=0)
    pairs = qa_pairs(tokenizer, closed_book_questions("v1"))
    loss = {}
    for label, model in (("float32", fp32), ("bfloat16", bf16)):
        run = train_adapter(model, tokenizer, pairs, short, progress=False)
        loss[label] = sum(run.history[-len(pairs) // short.batch_size:]) / (len(pairs) // short.batch_size)
        run.model.unload()
    change = abs(loss["bfloat16"] - loss["float32"]) / loss["float32"]
    result |= {"applies": True, "n": len(test), "answer_agreement": agreement, "final_epoch_loss": loss,
               "loss_change": change, "meets_targets": min(agreement.values()) >= MIN_AGREEMENT
               and change <= MAX_LOSS_CHANGE}
    write_text_atomic(args.out, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
