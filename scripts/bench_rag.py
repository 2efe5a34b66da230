"""Benchmark the course's RAG at its best: latency per query, and answer quality on every full split.

    python scripts/bench_rag.py [--latency-questions N] [--out build/bench_rag.json]

RAG at its best is the loop of notebook 03 with the k and the prompt that the
dev split chose (``course_utils.tuning.tuned_settings``, read back from the
course's cache after ``make course``, else chosen now) and the comparison's
answer length; the answers that length still cuts off are counted.

Targets (default generator, on this machine):
* RAG query p50 <= 1.5 s end to end (retrieve + prefill + decode), one query at a time.

Recorded, with no target: strict accuracy, exact match, F1, contains,
citation accuracy and abstention for each split over ALL its questions (the
settings of the RAG row in notebook 06's comparison, so the two can be
checked against each other), answers cut off by the cap, the stale-answer rate
of the update questions over the v1 and v2 indexes, and the re-index time
from v1 to v2 documents. The load average is recorded next to the timings,
since other processes on a 2-core machine slow every timing down.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from statistics import median

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from course_utils.artifacts import write_text_atomic  # noqa: E402
from course_utils.config import get_config, set_seed  # noqa: E402
from course_utils.data import EVAL_SPLITS, load_documents, load_questions  # noqa: E402
from course_utils.evaluation import contains_answer  # noqa: E402
from course_utils.machine import describe  # noqa: E402
from course_utils.retrieval import build_retriever, kept_chunks  # noqa: E402
from course_utils.workbench import settings_pipeline  # noqa: E402
from course_utils.evaluation.summaries import failure_kind, score_results, split_summary  # noqa: E402

P50_TARGET_S = 1.5
STEPS = ("retrieve", "prefill", "decode", "total")


def latency(rag, questions: list[str]) -> dict:
    """Seconds per query, asked one at a time as a user would, after two warm-up queries."""
    for question in questions[:2]:  # first calls pay for lazy imports and caches
        rag.ask(question)
    timings = [rag.ask(q).timings for q in questions]
    totals = [t["total"] for t in timings]
    return {"queries_timed": len(timings),
            "p50_s": round(float(np.percentile(totals, 50)), 3), "p95_s": round(float(np.percentile(totals, 95)), 3),
            "median_s": {step: round(median(t[step] for t in timings), 4) for step in STEPS},
            "median_prompt_tokens": median(t["prompt_tokens"] for t in timings)}


def limits(model, tokenizer, speed: dict) -> dict:
    """Each speed figure as a share of the limit it runs against on this machine.

    * decode, one query at a time: every new token reads all the weights once, so tokens/s is bounded by
      memory bandwidth / model bytes;
    * prefill: a matmul-bound pass of ~2 x parameters FLOPs per prompt token, bounded by the measured
      matmul rate of the precision in use.
    """
    from course_utils.generation import chat_prompt, timed_generation
    from course_utils.machine import matmul_gflops, memory_bandwidth_gbs

    dtype = next(model.parameters()).dtype
    params = sum(p.numel() for p in model.parameters())
    model_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    bandwidth, gflops = memory_bandwidth_gbs(), matmul_gflops(dtype)
    prompt = chat_prompt(tokenizer, "Write a long story about a lighthouse keeper.")
    timed_generation(model, tokenizer, [prompt], batch_size=1, max_new_tokens=4)  # warm-up
    run = timed_generation(model, tokenizer, [prompt], batch_size=1, max_new_tokens=64)
    decode_bound = bandwidth * 1e9 / model_bytes
    prefill_gflops = 2 * params * speed["median_prompt_tokens"] / speed["median_s"]["prefill"] / 1e9
    return {"dtype": str(dtype).removeprefix("torch."), "parameters": params, "model_mb": round(model_bytes / 2**20),
            "memory_bandwidth_gbs": round(bandwidth, 1), "matmul_gflops": round(gflops, 1),
            "decode_tokens_per_s_one_stream": round(run.tokens_per_second, 1),
            "decode_bound_tokens_per_s": round(decode_bound, 1),
            "decode_share_of_bound": round(run.tokens_per_second / decode_bound, 3),
            "prefill_gflops": round(prefill_gflops, 1),
            "prefill_share_of_matmul_rate": round(prefill_gflops / gflops, 3)}


def course_pipeline(model, tokenizer, documents, settings):
    """RAG as the comparison runs it (``settings_pipeline``): the retriever, k, prompt and answer length in
    ``settings``, over a fresh index of ``documents``."""
    retriever = build_retriever(settings.retriever, documents, top_k=kept_chunks(settings.k_for("RAG")))
    return settings_pipeline(model, tokenizer, retriever, settings)


def reindex_seconds(model, tokenizer, documents, settings, repeat: int = 3) -> tuple[float, object]:
    """Median time to build a fresh index and pipeline over ``documents`` (the embedder is already loaded)."""
    times, rag = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        rag = course_pipeline(model, tokenizer, documents, settings)
        times.append(time.perf_counter() - start)
    return median(times), rag


def quality(rows) -> dict:
    """split -> scores (rounded), with the failure counts of the answerable questions."""
    table = split_summary(rows)
    report = {}
    for split, scores in table.iterrows():
        report[split] = {name: (None if value != value else round(float(value), 4))  # NaN -> null
                         for name, value in scores.items()}
        answerable = [r for r in rows if r["split"] == split and r["contains"] is not None]
        kinds = [failure_kind(r) for r in answerable]
        report[split]["outcomes"] = {k: kinds.count(k) for k in ("correct", "retrieval miss", "reading miss")}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-questions", type=int, default=30, help="paraphrase questions timed one by one")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench_rag.json")
    args = parser.parse_args(argv)

    machine = describe()  # measured first, while nothing else of ours runs
    set_seed()

    from course_utils.models import load_generator
    from course_utils.tuning import tuned_settings

    load_before = os.getloadavg()
    model, tokenizer = load_generator()
    settings = tuned_settings(model, tokenizer, progress=False)  # chosen on dev; cached after notebook 03
    docs_v1, docs_v2 = load_documents("v1"), load_documents("v2")
    rag_v1 = course_pipeline(model, tokenizer, docs_v1, settings)  # loads the embedder
    reindex_s, rag_v2 = reindex_seconds(model, tokenizer, docs_v2, settings)
    print(f"re-index v1 -> v2 ({len(docs_v2)} documents): {reindex_s:.2f} s")

    timed = [q.question for q in load_questions("paraphrase")[: args.latency_questions]]
    speed = latency(rag_v1, timed)
    print(f"RAG query: p50 {speed['p50_s']:.2f} s, p95 {speed['p95_s']:.2f} s; medians {speed['median_s']}")
    bounds = limits(model, tokenizer, speed)
    print(f"decode {bounds['decode_tokens_per_s_one_stream']} tokens/s = {bounds['decode_share_of_bound']:.0%} of the "
          f"bandwidth bound ({bounds['decode_bound_tokens_per_s']}); prefill {bounds['prefill_gflops']} GFLOP/s = "
          f"{bounds['prefill_share_of_matmul_rate']:.0%} of the matmul rate ({bounds['matmul_gflops']})")

    # Every split in full; the update questions go to the v2 index (and to v1, for the stale rate).
    splits = {split: load_questions(split) for split in EVAL_SPLITS}
    start = time.perf_counter()
    rows = []
    for split, questions in splits.items():
        pipeline = rag_v2 if split == "update" else rag_v1
        results = pipeline.ask_many([q.question for q in questions], progress=False)
        rows += score_results(results, questions)
        print(f"{split}: {len(questions)} questions answered")
    stale_v1 = rag_v1.ask_many([q.question for q in splits["update"]], progress=False)
    eval_s = time.perf_counter() - start
    update_rows = [r for r in rows if r["split"] == "update"]
    freshness = {
        "v1 index (before)": {"contains new": np.mean([contains_answer(r.answer, q.answers) for r, q in
                                                       zip(stale_v1, splits["update"])]),
                              "contains stale": np.mean([contains_answer(r.answer, q.stale_answers) for r, q in
                                                         zip(stale_v1, splits["update"])])},
        "v2 index (after)": {"contains new": np.mean([r["contains"] for r in update_rows]),
                             "contains stale": np.mean([r["stale"] for r in update_rows])},
    }

    p50 = speed["p50_s"]
    report = {
        "machine": machine,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "settings": {"generator": get_config().generator, "retriever": rag_v1.retriever.kind,
                     "top_k": rag_v1.top_k, "prompt": settings.prompt, "chosen_on": "dev split",
                     "max_new_tokens": rag_v1.max_new_tokens, "decoding": "greedy",
                     "latency_questions": f"first {len(timed)} paraphrase questions, one at a time"},
        "latency": speed,
        "limits": bounds,
        "reindex_v1_to_v2_s": round(reindex_s, 3),
        "evaluation_s": round(eval_s, 1),
        "answers_cut_off": sum(r["cut_off"] for r in rows),  # stopped by the cap before their end: 0 wanted
        "full_splits": quality(rows),
        "update_freshness": {k: {m: round(float(v), 4) for m, v in d.items()} for k, d in freshness.items()},
        "targets": {"rag_p50_s": {"target": f"<= {P50_TARGET_S}", "measured": p50, "met": p50 <= P50_TARGET_S}},
    }
    write_text_atomic(args.out, json.dumps(report, indent=2) + "\n")
    for split, scores in report["full_splits"].items():
        print(f"{split:>12}: " + ", ".join(f"{k} {v}" for k, v in scores.items() if k != "outcomes"))
    print(f"\nwrote {args.out}")
    for name, target in report["targets"].items():
        print(f"{name}: {'met' if target['met'] else 'MISSED'} ({target})")
    return 0 if all(t["met"] for t in report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
