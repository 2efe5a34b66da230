"""Benchmark LoRA fine-tuning: the default run's time, throughput, MFU and memory, and the v2 retrain.

    python scripts/bench_finetune.py [--sweep] [--out build/bench_finetune.json]

Targets (course_utils.training.DEFAULT_TRAIN on the bundled SmolLM2-135M, 2 cores):
* the default LoRA run <= 180 s;
* peak RSS <= 2 GB.

MFU (model FLOPs utilisation) compares the training FLOP/s with this
machine's matmul FLOP/s in the precision the course runs in (describe() measures it)
for the machine recorded with the figures. FLOPs per token for LoRA training:
4 × the non-embedding parameters (forward 2N, backward through the
activations 2N; the frozen weights get no weight gradients, which the usual
6N of full training counts). Attention scores, the output layer (applied at
the answer positions only) and the small LoRA matrices are left out, so the
figure is a slight underestimate.

Adapters are trained into a fresh temporary cache, so every figure is measured
now, never read from an earlier run. --sweep adds the full-size paraphrase
sweep (all 56 facts, 0/1/3 extra phrasings, the default settings; ~6 minutes).
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

TARGET_SECONDS, TARGET_RSS_MB = 180.0, 2048.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sweep", action="store_true", help="also run the full-size paraphrase sweep")
    parser.add_argument("--out", default=str(REPO / "build" / "bench_finetune.json"))
    args = parser.parse_args(argv)
    os.environ["COURSE_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-finetune-")
    models_cache = Path(os.environ.get("BENCH_MODELS_CACHE", REPO / ".cache" / "models"))
    if models_cache.exists():  # reuse the converted generator; only the adapters must be fresh
        (get_config().cache_dir / "models").symlink_to(models_cache.resolve())

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

    knobs = fine_tune_knobs(model, tokenizer, progress=False).kwargs  # chosen on dev (cached after notebook 04)
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
        "default_run_target_seconds": TARGET_SECONDS,
        "training_tokens": run.info["tokens"],
        "training_tokens_per_second": round(tokens_per_second, 1),
        "flops_per_token_estimate": f"4 x {non_embedding:,} non-embedding parameters = {flops_per_token:.3g}",
        "mfu": round(tokens_per_second * flops_per_token / flops, 3),
        "mfu_if_counted_as_6N": round(tokens_per_second * 6 * non_embedding / flops, 3),
        "peak_rss_mb": round(max(run.info["peak_rss_mb"], psutil.Process().memory_info().rss / 2**20), 0),
        "peak_rss_target_mb": TARGET_RSS_MB,
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
    result["meets_targets"] = bool(default_seconds <= TARGET_SECONDS and result["peak_rss_mb"] <= TARGET_RSS_MB)
    write_text_atomic(args.out, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
