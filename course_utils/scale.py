"""The scale curve of notebook 07: retrieval quality and cost as the index grows.

The corpus at size n is the course's own chunks plus distractor chunks
(``distractors.distractor_documents``: other companies, near-duplicate names)
until there are n. The three searches of ``course_utils.searches`` (BM25,
exact dense, HNSW) are compared on the same chunks and the same query vectors.

Embedding the distractors is the slow part, so it is cached under the course
cache dir in blocks of ``BLOCK_DOCS`` documents, each keyed by a fingerprint
of what it depends on: a larger size reuses every block a smaller one made.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from . import retrieval
from .artifacts import atomic_folder, fingerprint, is_fresh
from .config import SEED, get_config
from .data import Document, load_documents
from .evaluation.intervals import bootstrap
from .evaluation.ranking import recall_at_k, reciprocal_rank
from .evaluation.summaries import score_results
from .distractors import distractor_documents
from .rag import RagPipeline
from .retrieval import DEFAULT_CHUNK_SIZE, HYBRID_DEPTH, Hit, chunk_documents, indexed_text, rrf_fuse
from .searches import SEARCH_CLASSES, SEARCHES, BM25Search, Corpus, ExactSearch

BLOCK_DOCS = 500  # distractor documents per cached block (about 2,200 chunks)
DEFAULT_SIZES = (100, 1_000, 10_000)  # the notebook's curve, real chunks
BENCH_SIZES = (100, 1_000, 10_000, 100_000)  # `make bench`
DISTRACTOR_VERSION = 3  # bump when worldgen's distractor text or a block's files change, so blocks are rebuilt


# ---------------------------------------------------------------- embedding, cached

def embed_texts(texts: list[str], embedder=None, batch_size: int = 64) -> np.ndarray:
    """Unit-length float32 embeddings, in batches of ``batch_size`` (taught in 07 §2).

    The sentence-transformers model under llama-index's wrapper is called
    directly: the wrapper sends batches of 10, several times slower on a CPU
    for the same vectors.
    """
    model = (embedder or retrieval.default_embedder())._model
    vectors = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def _rows(documents) -> list[tuple[str, str, str, str, str]]:
    """(chunk id, doc id, title, text, indexed text) of every chunk, chunked as the course chunks."""
    docs = [d if isinstance(d, Document) else Document(**d) for d in documents]
    return [(n.node_id, n.metadata["doc_id"], n.metadata["title"], n.get_content(), indexed_text(n))
            for n in chunk_documents(docs)]


def _block_folder(block: int, embedder_name: str) -> tuple[Path, str]:
    key = fingerprint(embedder=embedder_name, seed=SEED, block=block, block_docs=BLOCK_DOCS,
                      chunk_size=DEFAULT_CHUNK_SIZE, version=DISTRACTOR_VERSION)
    return get_config().cache_dir / "scale" / f"block-{block:04d}-{key}", key


def distractor_block(block: int, embedder=None) -> tuple[list[tuple], np.ndarray, float]:
    """The chunks, vectors and embedding seconds of distractor documents block*BLOCK_DOCS .. +BLOCK_DOCS.

    From the cache when fresh; the seconds are those measured when the block
    was embedded, kept beside its vectors, so an index built from the cache
    still reports what indexing it cost.
    """
    folder, key = _block_folder(block, get_config().embedder)
    if is_fresh(folder, key):
        rows = [tuple(r) for r in json.loads((folder / "chunks.json").read_text())]
        seconds = json.loads((folder / "seconds.json").read_text())["embed_seconds"]
        return rows, np.load(folder / "vectors.npy"), seconds
    rows = _rows(distractor_documents(BLOCK_DOCS, start=block * BLOCK_DOCS))
    start = time.perf_counter()
    vectors = embed_texts([r[4] for r in rows], embedder)
    seconds = time.perf_counter() - start
    with atomic_folder(folder, key) as tmp:
        (tmp / "chunks.json").write_text(json.dumps(rows))
        (tmp / "seconds.json").write_text(json.dumps({"embed_seconds": seconds}))
        np.save(tmp / "vectors.npy", vectors)
    return rows, vectors, seconds


def build_corpus(n_chunks: int, embedder=None, progress=print) -> Corpus:
    """The course's v1 chunks, then distractor chunks, ``n_chunks`` in all (taught in 07 §2).

    ``corpus.embed_seconds`` is what embedding its chunks cost: measured now
    for the course's chunks, when each block was made for the distractors (a
    share of the last block's time, for the share of its chunks used).
    """
    rows = _rows(load_documents("v1"))
    start = time.perf_counter()
    parts = [embed_texts([r[4] for r in rows], embedder)]
    seconds, block = time.perf_counter() - start, 0
    while len(rows) < n_chunks:
        start = time.perf_counter()
        block_rows, vectors, block_seconds = distractor_block(block, embedder)
        used = min(len(block_rows), n_chunks - len(rows))
        rows, block, seconds = rows + block_rows, block + 1, seconds + block_seconds * used / len(block_rows)
        parts.append(vectors)
        if progress and time.perf_counter() - start > 5:  # say so only when it had to embed
            progress(f"embedded distractor block {block} ({len(rows):,} chunks so far)", flush=True)
    columns = list(zip(*rows[:n_chunks]))
    return Corpus(*[list(c) for c in columns], np.concatenate(parts)[:n_chunks], embed_seconds=seconds)


# ---------------------------------------------------------------- measuring

def timed_build(kind: str, corpus: Corpus):
    """(search, seconds to build it)."""
    start = time.perf_counter()
    search = SEARCH_CLASSES[kind](corpus)
    return search, time.perf_counter() - start


def quality(search, corpus: Corpus, questions, vectors, ks=(1, 5), depth: int = 10) -> dict:
    """recall@k and MRR (over the first ``depth`` hits) on answerable questions: is a chunk of the gold document found?"""
    ranked = [[corpus.doc_ids[i] for i in search.search(q.question, v, depth)] for q, v in zip(questions, vectors)]
    scores = {f"recall@{k}": float(np.mean([recall_at_k(r, q.doc_id, k) for r, q in zip(ranked, questions)]))
              for k in ks}
    scores["mrr"] = float(np.mean([reciprocal_rank(r, q.doc_id) for r, q in zip(ranked, questions)]))
    return scores


def latency_ms(search, queries: list[str], vectors, k: int = 5, repeat: int = 1) -> dict:
    """p50 and p95 milliseconds of one search, one query at a time (query vectors given: not timed)."""
    for q, v in list(zip(queries, vectors))[:3]:  # warm-up: first calls pay for lazy set-up
        search.search(q, v, k)
    times = []
    for _ in range(repeat):
        for q, v in zip(queries, vectors):
            start = time.perf_counter()
            search.search(q, v, k)
            times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95))}


def one_blas_thread():
    """numpy's matrix code on one thread while timing: on a busy machine a second thread that waits for
    a core makes one small query ten times slower, which would measure the scheduler, not the search."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def measure(corpus: Corpus, questions, vectors, kinds=SEARCHES) -> list[dict]:
    """One row per search: size, build seconds, memory, recall@1/@5, MRR, p50/p95 latency."""
    with one_blas_thread():
        return _measure(corpus, questions, vectors, kinds)


def _measure(corpus: Corpus, questions, vectors, kinds) -> list[dict]:
    rows = []
    for kind in kinds:
        search, build_s = timed_build(kind, corpus)
        row = {"search": kind, "chunks": len(corpus), "build_s": build_s, "memory_mb": search.memory_mb}
        row |= quality(search, corpus, questions, vectors)
        row |= latency_ms(search, [q.question for q in questions], vectors)
        if hasattr(search, "close"):
            search.close()
        rows.append(row)
    return rows


def random_unit_vectors(n: int, dim: int, seed: int = SEED, block: int = 50_000) -> np.ndarray:
    """n random directions, float32. Drawn and normalised in blocks: no full-size temporary at 10^6 rows."""
    rng, vectors = np.random.default_rng(seed), np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, block):
        part = vectors[start:start + block]
        rng.standard_normal(part.shape, dtype=np.float32, out=part)
        part /= np.linalg.norm(part, axis=1, keepdims=True)
    return vectors


def random_latency(sizes, kinds=("exact", "hnsw"), dim: int = 384, n_queries: int = 50) -> list[dict]:
    """Latency and build time on random vectors (no text, no quality): how search cost grows past real data."""
    queries = random_unit_vectors(n_queries, dim, seed=SEED + 1)
    with one_blas_thread():
        return [row for n in sizes for row in _random_rows(n, kinds, dim, queries)]


def _random_rows(n: int, kinds, dim: int, queries) -> list[dict]:
    corpus, rows = Corpus([""] * n, [""] * n, [""] * n, [""] * n, [""] * n, random_unit_vectors(n, dim)), []
    for kind in kinds:
        search, build_s = timed_build(kind, corpus)
        rows.append({"search": kind, "chunks": n, "build_s": build_s, "memory_mb": search.memory_mb,
                     **latency_ms(search, [""] * len(queries), queries)})
        if hasattr(search, "close"):
            search.close()
    return rows


# ---------------------------------------------------------------- end to end

class ScaleRetriever:
    """The course's hybrid retriever (BM25 + dense, fused by RRF) over a prebuilt corpus, for ``RagPipeline``.

    Same fusion and depth as ``retrieval.build_retriever('hybrid')``, but the
    vectors come from the cache, so a large index is ready in seconds.
    """

    kind = "hybrid"

    def __init__(self, corpus: Corpus, top_k: int = 5, embedder=None):
        self.corpus, self.top_k, self.depth = corpus, top_k, max(top_k, HYBRID_DEPTH)
        self.embedder = embedder or retrieval.default_embedder()
        self._bm25, self._exact = BM25Search(corpus), ExactSearch(corpus)

    def __repr__(self) -> str:
        return f"ScaleRetriever(top_k={self.top_k}, chunks={len(self.corpus):,})"

    def _hits(self, query: str, vector):
        fused = rrf_fuse([self._exact.search(query, vector, self.depth), self._bm25.search(query, vector, self.depth)])
        c = self.corpus
        return [Hit(rank, c.doc_ids[i], c.titles[i], c.texts[i], score, c.chunk_ids[i])
                for rank, (i, score) in enumerate(fused[: self.top_k], 1)]

    def retrieve(self, query: str):
        return self.retrieve_many([query])[0]

    def retrieve_many(self, queries: list[str]):
        vectors = embed_texts(queries, self.embedder)
        return [self._hits(q, v) for q, v in zip(queries, vectors)]


def rag_strict(model, tokenizer, corpus: Corpus, questions, embedder=None, top_k: int = 5):
    """Strict accuracy of the course's RAG pipeline over ``corpus``, reading ``top_k`` chunks: a bootstrap
    ``Estimate`` (facts resampled)."""
    rag = RagPipeline(model, tokenizer, ScaleRetriever(corpus, top_k=top_k, embedder=embedder), top_k=top_k)
    rows = score_results(rag.ask_many([q.question for q in questions], progress=False), questions)
    return bootstrap([r["strict"] for r in rows], groups=[q.fact_id for q in questions])
