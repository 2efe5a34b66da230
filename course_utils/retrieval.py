"""Retrievers over the knowledge base: BM25, dense (MiniLM) and hybrid (RRF).

Notebook 01 builds each idea by hand first; this module holds the library-
backed versions that later notebooks import::

    from course_utils.data import load_documents
    from course_utils.retrieval import build_retriever

    retriever = build_retriever("hybrid", load_documents("v1"), top_k=3)
    for hit in retriever.retrieve("Where is the Quibit X2 assembled?"):
        print(hit.doc_id, round(hit.score, 3), hit.text)

``retriever.llama_retriever`` is the underlying llama-index retriever, for a
``RetrieverQueryEngine``. Nothing is cached on disk: the 16 short documents
embed in well under a second, and a query needs the embedder loaded anyway.
"""
from __future__ import annotations

import contextlib
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from llama_index.core import Document as LlamaDocument
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.schema import MetadataMode, QueryBundle
from llama_index.retrievers.bm25 import BM25Retriever

from .config import check_positive_int, get_config
from .models import load_embedder
from .vectordb import vector_index

RETRIEVER_KINDS = ("bm25", "dense", "hybrid")
DEFAULT_CHUNK_SIZE = 32  # tokens (llama-index's tiktoken count), title included; chosen in notebook 01
RRF_K = 60  # the constant of reciprocal rank fusion, as in llama-index and the RRF paper
HYBRID_DEPTH = 10  # how many candidates each retriever hands to the fusion step
MIN_KEPT = 5  # chunks an index keeps at least, so that k can be swept up to 5 on one index (03 §1)

# The pattern BM25Retriever (bm25s) splits text with: runs of 2+ word characters.
TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk. ``rank`` starts at 1; ``score`` depends on the retriever (taught in 01 §5)."""

    rank: int
    doc_id: str
    title: str
    text: str
    score: float
    chunk_id: str


# ---------------------------------------------------------------- input checks

def _check_kind(kind: str) -> None:
    if kind not in RETRIEVER_KINDS:
        raise ValueError(f"Unknown retriever kind {kind!r}. Fix: use one of {RETRIEVER_KINDS}.")


def _check_top_k(top_k) -> None:
    check_positive_int(top_k, "top_k", "Fix: pass top_k=1 or more (3 to 5 is typical).")


def _check_query(query) -> None:
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"The query is empty ({query!r}). Fix: pass a question as text, "
                         "e.g. 'Where is the Quibit X2 assembled?'.")


def _check_documents(documents) -> None:
    if not documents:
        raise ValueError("There are no documents to index. "
                         "Fix: pass a non-empty list, e.g. course_utils.data.load_documents('v1').")
    seen = set()
    for doc in documents:
        if doc.doc_id in seen:
            raise ValueError(f"Two documents share the doc_id {doc.doc_id!r}, so a hit could not "
                             "say which one it came from. Fix: give every document a unique doc_id.")
        seen.add(doc.doc_id)


# ---------------------------------------------------------------- chunking

class QuietSentenceSplitter(SentenceSplitter):
    """llama-index's ``SentenceSplitter``, without its printed note about chunks under 50 tokens.

    The splitter prints "Metadata length (5) is close to chunk size (32)…"
    whenever the title leaves fewer than 50 tokens for text. The course wants
    one-sentence chunks (notebook 01 measures why), so the note is always true
    and never useful. Chunks are exactly the ones ``SentenceSplitter`` makes.
    """

    @classmethod
    def class_name(cls) -> str:
        return "QuietSentenceSplitter"

    def split_text_metadata_aware(self, text: str, metadata_str: str) -> list[str]:
        # The note is a bare print() in llama-index (no logger, no warning), so only its stdout can be caught.
        with contextlib.redirect_stdout(io.StringIO()):
            return super().split_text_metadata_aware(text, metadata_str)


def chunk_documents(documents, chunk_size: int = DEFAULT_CHUNK_SIZE, chunk_overlap: int = 0,
                    with_title: bool = True):
    """Split course documents into llama-index ``TextNode`` chunks (taught in 01 §1).

    Each chunk carries ``doc_id`` and ``title`` as metadata. With ``with_title``
    the title is also part of the text that is embedded and BM25-indexed, so a
    one-sentence chunk such as "Its catalogue code is VR-6810." still says which
    product it is about. Chunk ids are ``<doc_id>#<n>``, stable between runs.
    """
    _check_documents(documents)
    if not isinstance(chunk_size, int) or chunk_size < 16:
        raise ValueError(f"chunk_size must be a whole number of tokens >= 16, got {chunk_size!r}. "
                         f"Fix: try the default, {DEFAULT_CHUNK_SIZE}.")
    if not isinstance(chunk_overlap, int) or not 0 <= chunk_overlap < chunk_size:
        raise ValueError(f"chunk_overlap must be >= 0 and smaller than chunk_size ({chunk_size}), "
                         f"got {chunk_overlap!r}. Fix: use 0, or a few tokens.")
    hidden = ["doc_id"] if with_title else ["doc_id", "title"]  # the id is bookkeeping, not content
    llama_docs = [
        LlamaDocument(text=d.text, id_=d.doc_id, metadata={"doc_id": d.doc_id, "title": d.title},
                      excluded_embed_metadata_keys=hidden, excluded_llm_metadata_keys=hidden)
        for d in documents
    ]
    splitter = QuietSentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap,
                                     id_func=lambda i, doc: f"{doc.id_}#{i}")
    return splitter.get_nodes_from_documents(llama_docs)


def indexed_text(node) -> str:
    """The text a retriever actually sees for a chunk (title included when kept; taught in 01 §1)."""
    return node.get_content(metadata_mode=MetadataMode.EMBED)


# ---------------------------------------------------------------- BM25 and RRF by hand

def tokenize(text: str, stopwords=(), stem=None) -> list[str]:
    """Lower-case, split like bm25s, drop ``stopwords``, then apply ``stem`` (a list -> list function)."""
    tokens = [t for t in TOKEN_PATTERN.findall(text.lower()) if t not in stopwords]
    return stem(tokens) if stem else tokens


def bm25_scores(query_tokens: list[str], corpus_tokens: list[list[str]],
                k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """BM25 score of every document for one query, in numpy (the Lucene variant bm25s uses; taught in 01 §2)."""
    vocab = {t: i for i, t in enumerate(sorted({t for doc in corpus_tokens for t in doc}))}
    tf = np.zeros((len(corpus_tokens), len(vocab)))
    for d, doc in enumerate(corpus_tokens):
        for t in doc:
            tf[d, vocab[t]] += 1
    doc_len = tf.sum(axis=1, keepdims=True)
    df = (tf > 0).sum(axis=0)
    idf = np.log(1 + (len(corpus_tokens) - df + 0.5) / (df + 0.5))  # never negative
    # tf saturates (k1) and long documents are damped (b): ten mentions are not ten times better.
    weight = idf * tf / (tf + k1 * (1 - b + b * doc_len / doc_len.mean()))
    columns = [vocab[t] for t in query_tokens if t in vocab]  # unknown words score nothing
    return weight[:, columns].sum(axis=1)


def rrf_fuse(rankings: list[list[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: each list gives its item at rank r (from 0) 1 / (k + r) points (taught in 01 §4).

    Ranks count from 0 as in llama-index (the paper counts from 1; only the scores shift).
    Ties keep the order in which items were first seen.
    """
    fused: dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            fused[item] += 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda pair: pair[1], reverse=True)


# ---------------------------------------------------------------- library-backed retrievers

@lru_cache(maxsize=2)
def _shared_embedder(name: str):
    return load_embedder(name)


def default_embedder():
    """The configured embedder, loaded once per process (loading takes a few seconds; taught in 01 §3)."""
    return _shared_embedder(get_config().embedder)


class MatchingBM25Retriever(BM25Retriever):
    """llama-index's BM25Retriever, minus the chunks that share no word with the query.

    Those score 0 and come back in arbitrary order; inside a hybrid they would
    earn RRF points by accident, so they are dropped.
    """

    def _retrieve(self, query_bundle):
        return [r for r in super()._retrieve(query_bundle) if (r.score or 0.0) > 0]


def _bm25(nodes, top_k: int):
    # Library defaults: English stop words removed, Snowball stemming ("assembled" -> "assembl").
    return MatchingBM25Retriever(nodes=nodes, similarity_top_k=min(top_k, len(nodes)))


def _dense(nodes, top_k: int, embedder):
    index = vector_index(nodes, embedder)  # in memory, or in Chroma's server: COURSE_VECTOR_STORE
    return index.as_retriever(similarity_top_k=min(top_k, len(nodes)))


def _hybrid(nodes, top_k: int, embedder):
    depth = max(top_k, HYBRID_DEPTH)
    # num_queries=1: no query rewriting, so the LLM is never called; MockLLM only
    # stops llama-index from looking for its default (OpenAI) model.
    return QueryFusionRetriever([_dense(nodes, depth, embedder), _bm25(nodes, depth)],
                                similarity_top_k=top_k, num_queries=1, mode="reciprocal_rerank",
                                use_async=False, llm=MockLLM())


class Retriever:
    """A built retriever: ``retrieve(query)`` returns ranked :class:`Hit` s."""

    def __init__(self, kind: str, nodes, llama_retriever, top_k: int, embedder=None):
        self.kind, self.nodes, self.top_k = kind, nodes, top_k
        self.llama_retriever = llama_retriever
        self.embedder = embedder

    def __repr__(self) -> str:
        return f"Retriever(kind={self.kind!r}, top_k={self.top_k}, chunks={len(self.nodes)})"

    def retrieve(self, query: str) -> list[Hit]:
        """The ``top_k`` best chunks for ``query``, best first."""
        _check_query(query)
        return self._hits(self.llama_retriever.retrieve(query))

    def retrieve_many(self, queries: list[str], query_embeddings=None) -> list[list[Hit]]:
        """Like ``retrieve`` for each query, but embeds all queries in one batch (faster).

        ``query_embeddings``: vectors computed earlier with the same embedder, to
        score several retrievers on the same questions without embedding them again.
        """
        for query in queries:
            _check_query(query)
        if self.embedder is None:  # BM25 reads words only
            return [self.retrieve(q) for q in queries]
        vectors = (self.embedder.get_text_embedding_batch(list(queries)) if query_embeddings is None
                   else [list(map(float, v)) for v in query_embeddings])
        if len(vectors) != len(queries):
            raise ValueError(f"Got {len(vectors)} query embeddings for {len(queries)} queries. "
                             "Fix: pass one embedding per query, in the same order.")
        return [self._hits(self.llama_retriever.retrieve(QueryBundle(q, embedding=v)))
                for q, v in zip(queries, vectors)]

    def _hits(self, results) -> list[Hit]:
        return [Hit(rank=i, doc_id=r.node.metadata["doc_id"], title=r.node.metadata["title"],
                    text=r.node.get_content(), score=float(r.score or 0.0), chunk_id=r.node.node_id)
                for i, r in enumerate(results[: self.top_k], 1)]


def kept_chunks(*ks: int) -> int:
    """How many chunks an index built for prompts of ``ks`` chunks keeps: the largest k, and never fewer than
    ``MIN_KEPT``, so one index serves a sweep of k as well as the k that was chosen."""
    return max((MIN_KEPT, *ks))


def build_retriever(kind: str, documents, top_k: int = 5, chunk_size: int = DEFAULT_CHUNK_SIZE,
                    chunk_overlap: int = 0, with_title: bool = True, embedder=None) -> Retriever:
    """Chunk ``documents`` and build a ``'bm25'``, ``'dense'`` or ``'hybrid'`` retriever (taught in 01 §5).

    ``documents``: course documents (anything with ``doc_id``, ``title``, ``text``).
    ``embedder``: a llama-index embedding model; by default the course's MiniLM,
    loaded once. BM25 needs none.
    BM25 returns only chunks that share a word with the query, so it can return
    fewer than ``top_k`` hits, or none.
    """
    _check_kind(kind)
    _check_top_k(top_k)
    nodes = chunk_documents(documents, chunk_size, chunk_overlap, with_title)
    if kind == "bm25":
        return Retriever(kind, nodes, _bm25(nodes, top_k), top_k)
    embedder = embedder or default_embedder()
    build = _dense if kind == "dense" else _hybrid
    return Retriever(kind, nodes, build(nodes, top_k, embedder), top_k, embedder)
