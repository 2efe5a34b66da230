"""Benchmark LoRA fine-tuning: the course's fine-tune, its time, throughput, MFU and memory, and the v2 retrain.

    python scripts/bench_finetune.py [--sweep] [--out build/bench_finetune.json]

The fine-tune is the course's: the knobs that notebook 04 chose on dev
(``course_utils.knobs.fine_tune_knobs``), read back from the course's cache
(chosen now, into that cache, when no course has run). Its adapters are then
trained into a fresh temporary cache, so every figure is measured now, never
read from an earlier run.

Target: its peak memory within the course's kernel target
(``course_utils.run_course.KERNEL_MB_TARGET``), since it trains inside a
notebook's kernel. Its time has no target of its own (it is part of the
course's); it is stated in seconds and as work, seconds × the matmul rate.

MFU (model FLOPs utilisation) compares the training FLOP/s with this
machine's matmul FLOP/s in the precision the course runs in (describe() measures it)
for the machine recorded with the figures. FLOPs per token for LoRA training:
4 × the non-embedding parameters (forward 2N, backward through the
activations 2N; the frozen weights get no weight gradients, which the usual
6N of full training counts). Attention scores, the output layer (applied at
the answer positions only) and the small LoRA matrices are left out, so the
figure is a slight underestimate.

--sweep adds the full-size paraphrase sweep (all 56 facts, 0/1/3 extra
phrasings, the default settings; ~6 minutes).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from course_utils.artifacts import write_text_atomic  # noqa: E402
from course_utils.config import get_config, set_seed  # noqa: E402
from course_utils.machine import choose_precision, describe, working_gflops  # noqa: E402
from course_utils.run_course import KERNEL_MB_TARGET  # noqa: E402


def fresh_adapter_cache() -> Path:
    """Point the course at an empty temporary cache, so that every adapter trains now; the converted generator is
    shared with the course's cache (it is the same file, and converting it is not what this benchmark measures)."""
    models_cache = Path(os.environ.get("BENCH_MODELS_CACHE", get_config().cache_dir / "models"))
    os.environ["COURSE_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-finetune-")
    if models_cache.exists():
        (get_config().cache_dir / "models").symlink_to(models_cache.resolve())
    return get_config().cache_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sweep", action="store_true", help="also run the full-size paraphrase sweep")
    parser.add_argument("--out", default=str(REPO / "build" / "bench_finetune.json"))
    args = parser.parse_args(argv)

    from course_utils.adapters import closed_book_adapter, evaluate_closed_book, finetuned_model
    from course_utils.knobs import fine_tune_knobs
    from course_utils.models import load_generator

    machine = describe()  # measured first, while nothing else of ours runs
    flops = working_gflops(machine, choose_precision()["dtype"]) * 1e9  # MFU against the precision in use
    set_seed()
    model, tokenizer = load_generator()
    embeddings = model.get_input_embeddings().weight.numel()
    non_embedding = sum({id(p): p.numel() for p in model.parameters()}.values()) - embeddings
    flops_per_token = 4 * non_embedding

    knobs = fine_tune_knobs(model, tokenizer, progress=False).kwargs  # the course's choice (cached by notebook 04)
    fresh_adapter_cache()
    start = time.perf_counter()
    run = closed_book_adapter(model, tokenizer, "v1", progress=False, **knobs)
    default_seconds = time.perf_counter() - start  # wall time of the call, saving included
    ft = finetuned_model(model, run.folder)
    scores, _ = evaluate_closed_book(ft, tokenizer, progress=False)
    model = ft.unload()
    v2 = closed_book_adapter(model, tokenizer, "v2", progress=False, **knobs)

    tokens_per_second = run.info["tokens_per_second"]
    result = {
        "machine": machine,
        "load_average": os.getloadavg(),
        "default_config": run.info["config"],
        "default_run_seconds": round(default_seconds, 1),
        "default_run_work_gflop": round(default_seconds * flops / 1e9),  # seconds x the matmul rate: travels
        "training_tokens": run.info["tokens"],
        "training_tokens_per_second": round(tokens_per_second, 1),
        "flops_per_token_estimate": f"4 x {non_embedding:,} non-embedding parameters = {flops_per_token:.3g}",
        "mfu": round(tokens_per_second * flops_per_token / flops, 3),
        "mfu_if_counted_as_6N": round(tokens_per_second * 6 * non_embedding / flops, 3),
        "peak_rss_mb": round(max(run.info["peak_rss_mb"], psutil.Process().memory_info().rss / 2**20), 0),
        "peak_rss_target_mb": KERNEL_MB_TARGET,
        "v2_retrain_seconds": round(v2.seconds, 1),
        "default_scores": {split: {k: None if math.isnan(v) else round(float(v), 3) for k, v in row.items()}
                           for split, row in scores.iterrows()},  # null: not defined (e.g. no answerable question)
    }
    if args.sweep:
        sweep = {}
        for extra in (0, 1, 3):
            sweep_run = closed_book_adapter(model, tokenizer, "v1", extra_phrasings=extra, progress=False)
            ft = finetuned_model(model, sweep_run.folder)
            table, _ = evaluate_closed_book(ft, tokenizer, splits=("train", "paraphrase"), progress=False)
            model = ft.unload()
            sweep[extra] = {"seconds": round(sweep_run.seconds, 1),
                            **{s: round(float(table.loc[s, "contains"]), 3) for s in ("train", "paraphrase")}}
        result["paraphrase_sweep_contains"] = sweep
    result["meets_targets"] = bool(result["peak_rss_mb"] <= KERNEL_MB_TARGET)
    write_text_atomic(args.out, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
