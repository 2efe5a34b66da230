"""Benchmark the course's retrievers: quality on held-out paraphrases, and latency per query.

    python scripts/bench_retrieval.py [--repeat N] [--out build/bench_retrieval.json]

Targets (the default retrievers of course_utils.retrieval, on this machine):
* hybrid recall@5 on the held-out paraphrase questions >= 0.95;
* retrieval p50 latency <= 20 ms per query, for every retriever.

Latency is measured one query at a time, as a user would ask them: the query
is embedded inside the timed call, never in a batch. The load average is
recorded next to the numbers, since other processes on a 2-core machine
slow every timing down.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from course_utils.artifacts import write_text_atomic  # noqa: E402
from course_utils.config import set_seed  # noqa: E402
from course_utils.data import load_documents, load_questions  # noqa: E402
from course_utils.evaluation.ranking import score_retriever  # noqa: E402
from course_utils.machine import describe  # noqa: E402
from course_utils.retrieval import DEFAULT_CHUNK_SIZE, RETRIEVER_KINDS, build_retriever  # noqa: E402

RECALL_TARGET, P50_TARGET_MS = 0.95, 20.0


def latencies_ms(retriever, queries: list[str], repeat: int) -> list[float]:
    for query in queries[:5]:  # warm-up: first calls pay for lazy imports and caches
        retriever.retrieve(query)
    times = []
    for _ in range(repeat):
        for query in queries:
            start = time.perf_counter()
            retriever.retrieve(query)
            times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="passes over the questions for latency")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench_retrieval.json")
    args = parser.parse_args(argv)

    machine = describe()  # measured first, while nothing else of ours runs
    set_seed()

    documents = load_documents("v1")
    paraphrases = load_questions("paraphrase")
    queries = [q.question for q in paraphrases]
    load_before = os.getloadavg()
    results = {}
    for kind in RETRIEVER_KINDS:
        start = time.perf_counter()
        retriever = build_retriever(kind, documents, top_k=5)
        build_s = time.perf_counter() - start
        quality = score_retriever(retriever, paraphrases)
        times = latencies_ms(retriever, queries, args.repeat)
        results[kind] = {
            "chunks": len(retriever.nodes),
            "build_s": round(build_s, 3),
            "paraphrase": {key: round(value, 4) for key, value in quality.items()},
            "latency_ms": {"p50": round(float(np.percentile(times, 50)), 2),
                           "p95": round(float(np.percentile(times, 95)), 2),
                           "mean": round(float(np.mean(times)), 2), "queries_timed": len(times)},
        }
        print(f"{kind:>6}: recall@5 {quality['recall@5']:.3f}  MRR {quality['mrr']:.3f}  "
              f"p50 {results[kind]['latency_ms']['p50']:.1f} ms  p95 {results[kind]['latency_ms']['p95']:.1f} ms")

    recall = results["hybrid"]["paraphrase"]["recall@5"]
    worst_p50 = max(r["latency_ms"]["p50"] for r in results.values())
    report = {
        "machine": machine,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "settings": {"documents": "v1", "questions": "paraphrase (held out)", "n_questions": len(paraphrases),
                     "top_k": 5, "chunk_size": DEFAULT_CHUNK_SIZE, "repeat": args.repeat},
        "retrievers": results,
        "targets": {
            "hybrid_recall@5_paraphrase": {"target": f">= {RECALL_TARGET}", "measured": recall,
                                           "met": recall >= RECALL_TARGET},
            "p50_latency_ms_every_retriever": {"target": f"<= {P50_TARGET_MS}", "measured_worst": worst_p50,
                                               "met": worst_p50 <= P50_TARGET_MS},
        },
    }
    write_text_atomic(args.out, json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    for name, target in report["targets"].items():
        print(f"{name}: {'met' if target['met'] else 'MISSED'} ({target})")
    return 0 if all(t["met"] for t in report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
