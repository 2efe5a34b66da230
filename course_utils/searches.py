"""Three ways to search a corpus of chunks, compared in notebook 07 (taught in 07 §2 and §3).

* ``bm25``: bm25s, with the stop words and stemmer llama-index's BM25 uses;
* ``exact``: numpy, one matrix product over the normalised embeddings;
* ``hnsw``: an approximate HNSW graph, inside an in-process Chroma collection.

Each takes a ``Corpus`` and answers ``search(query, vector, k)`` with chunk positions, best first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEARCHES = ("bm25", "exact", "hnsw")


@dataclass
class Corpus:
    """n chunks: ids, their document ids, what is indexed (title + text), and unit-length vectors."""

    chunk_ids: list[str]
    doc_ids: list[str]
    titles: list[str]
    texts: list[str]  # the chunk without its title, as a Hit shows it
    indexed: list[str]  # the title and the chunk: what BM25 reads and the embedder embeds
    vectors: np.ndarray  # float32, shape (n, dim), rows of length 1
    embed_seconds: float = 0.0  # what embedding the chunks cost, where known (scale.build_corpus)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def head(self, n: int) -> Corpus:
        """The first n chunks, with their share of the embedding time."""
        share = min(n, len(self)) / max(len(self), 1)
        return Corpus(*(field[:n] for field in (self.chunk_ids, self.doc_ids, self.titles, self.texts,
                                                self.indexed, self.vectors)), embed_seconds=self.embed_seconds * share)


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


class BM25Search:
    """bm25s over the indexed texts; English stop words and the Snowball stemmer, as llama-index's BM25."""

    def __init__(self, corpus: Corpus):
        import bm25s
        import Stemmer

        self._stemmer, self._n = Stemmer.Stemmer("english"), len(corpus)
        self._bm25 = bm25s.BM25()
        self._bm25.index(self._tokens(corpus.indexed), show_progress=False)
        self.memory_mb = sum(getattr(v, "nbytes", 0) for v in self._bm25.scores.values()) / 2**20

    def _tokens(self, texts):
        import bm25s

        return bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)

    def search(self, query: str, vector, k: int) -> list[int]:
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, return_ids=False,
                                show_progress=False)
        rows, scores = self._bm25.retrieve(tokens, k=min(k, self._n), show_progress=False)
        return [int(r) for r, s in zip(rows[0], scores[0]) if s > 0]  # no shared word, no hit


class ExactSearch:
    """Every chunk scored: one matrix-vector product (cosine, since rows have length 1)."""

    def __init__(self, corpus: Corpus):
        self._vectors = np.ascontiguousarray(corpus.vectors, dtype=np.float32)
        self.memory_mb = self._vectors.nbytes / 2**20

    def search(self, query: str, vector, k: int) -> list[int]:
        scores = self._vectors @ np.asarray(vector, dtype=np.float32)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]  # the k best in O(n), then sort only those
        return [int(i) for i in top[np.argsort(-scores[top])]]


class HnswSearch:
    """An HNSW graph (Chroma's, built in this process): approximate, roughly log(n) per query."""

    _count = 0

    def __init__(self, corpus: Corpus, ef_search: int = 100):
        import chromadb
        from chromadb.config import Settings

        HnswSearch._count += 1
        self._client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
        before = _rss_mb()
        self._collection = self._client.create_collection(
            f"scale-{HnswSearch._count}", embedding_function=None,
            metadata={"hnsw:space": "cosine", "hnsw:search_ef": ef_search})
        batch = self._client.get_max_batch_size()
        for start in range(0, len(corpus), batch):
            self._collection.add(ids=[str(i) for i in range(start, min(start + batch, len(corpus)))],
                                 embeddings=corpus.vectors[start:start + batch])
        self.memory_mb = max(_rss_mb() - before, 0.0)  # resident memory the build added: an estimate

    def search(self, query: str, vector, k: int) -> list[int]:
        found = self._collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)],
                                       n_results=min(k, self._collection.count()), include=["distances"])
        return [int(i) for i in found["ids"][0]]

    def close(self) -> None:
        self._client.delete_collection(self._collection.name)


SEARCH_CLASSES = {"bm25": BM25Search, "exact": ExactSearch, "hnsw": HnswSearch}
