"""Benchmark the knowledge base as it grows: the scale curve of notebook 07, to 10^5 real chunks.

    python scripts/bench_scale.py [--sizes 100 1000 10000 100000] [--out build/bench_scale.json]

For each size: recall@1/@5, MRR, p50/p95 latency, build time and memory of
BM25, exact dense search and HNSW (course_utils.scale), and the strict
accuracy of the RAG loop on a fixed sample of held-out questions, with its
bootstrap interval. Then latency on random vectors to 10^6, and the ingest
rate and query latency of Chroma's server on the largest corpus.

The JSON is rewritten after every stage, so a run cut short keeps what it
measured ("complete": false until the end). The first run embeds the
distractors (cached under the course cache dir), which takes most of its time.
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

from course_utils import chroma_server, scale, vectordb  # noqa: E402
from course_utils.artifacts import write_text_atomic  # noqa: E402
from course_utils.config import get_config, set_seed  # noqa: E402
from course_utils.data import eval_questions, load_questions  # noqa: E402
from course_utils.machine import describe  # noqa: E402

N_RAG_QUESTIONS = 16


def save(report: dict, out: Path) -> None:
    write_text_atomic(out, json.dumps(report, indent=2, default=float) + "\n")


def server_figures(corpus, query_vectors) -> dict:
    """Ingest rate and one-query latency of Chroma's server (its own port and a fresh folder)."""
    import shutil

    folder = get_config().cache_dir / "chroma-bench"
    shutil.rmtree(folder, ignore_errors=True)
    server = chroma_server.start_server(port=chroma_server.free_port(), folder=folder)
    try:
        coll = vectordb.collection(vectordb.connect(server.port), "bench")
        start = time.perf_counter()
        vectordb.upsert(coll, corpus.chunk_ids, corpus.texts, corpus.vectors, batch_size=2000)
        ingest_s = time.perf_counter() - start
        times = []
        for v in query_vectors:
            t = time.perf_counter()
            coll.query(query_embeddings=[v.tolist()], n_results=5, include=["distances"])
            times.append((time.perf_counter() - t) * 1000)
        return {"chunks": len(corpus), "ingest_per_s": len(corpus) / ingest_s,
                "p50_ms": float(np.percentile(times[3:], 50)), "p95_ms": float(np.percentile(times[3:], 95))}
    finally:
        chroma_server.stop_server(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(scale.BENCH_SIZES))
    parser.add_argument("--random-sizes", type=int, nargs="+", default=[10**3, 10**4, 10**5, 10**6])
    # An HNSW build of 10^6 vectors takes over 20 minutes on 2 cores; exact search needs no build.
    parser.add_argument("--hnsw-random-max", type=int, default=10**5)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench_scale.json")
    args = parser.parse_args(argv)

    set_seed()
    questions = load_questions("paraphrase")
    report = {"machine": describe(), "load_average_before": os.getloadavg(), "complete": False,
              "settings": {"sizes": args.sizes, "questions": f"paraphrase (held out), {len(questions)}",
                           "rag_questions": N_RAG_QUESTIONS, "random_sizes": args.random_sizes,
                           "hnsw_random_max": args.hnsw_random_max},
              "curve": [], "rag_strict": {}, "random_curve": [], "chroma_server": None}
    query_vectors = scale.embed_texts([q.question for q in questions])
    for n in sorted(args.sizes):  # smallest first: their figures are saved before the long embedding
        start = time.perf_counter()
        corpus = scale.build_corpus(n)
        report.setdefault("corpus_ready_s", {})[str(n)] = time.perf_counter() - start
        report["embedding"] = {"chunks": len(corpus), "seconds": corpus.embed_seconds,  # when each block was made
                               "chunks_per_s": len(corpus) / corpus.embed_seconds}
        report["curve"] += scale.measure(corpus, questions, query_vectors)
        print(f"measured {n:,} chunks", flush=True)
        save(report, args.out)

    from course_utils.models import load_generator
    from course_utils.tuning import tuned_settings

    model, tokenizer = load_generator()
    sample = eval_questions("paraphrase", n=N_RAG_QUESTIONS)
    top_k = tuned_settings(model, tokenizer).k_for("RAG")  # RAG's k, chosen on dev (cached by notebook 03)
    report["settings"]["rag_top_k"] = top_k
    for n in args.sizes:
        est = scale.rag_strict(model, tokenizer, corpus.head(n), sample, top_k=top_k)
        report["rag_strict"][str(n)] = {"value": est.value, "low": est.low, "high": est.high, "n": est.n}
        save(report, args.out)

    report["chroma_server"] = server_figures(corpus, query_vectors)
    save(report, args.out)
    for n in args.random_sizes:  # one size at a time, so a long HNSW build still leaves the smaller ones
        report["random_curve"] += scale.random_latency([n], kinds=("exact", "hnsw")[:1 + (n <= args.hnsw_random_max)])
        print(f"random vectors: {n:,}", flush=True)
        save(report, args.out)
    report["complete"], report["load_average_after"] = True, os.getloadavg()
    save(report, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
