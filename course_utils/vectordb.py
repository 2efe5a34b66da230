"""A real vector database: Chroma's server, on this machine, for the course's dense retriever (taught in 07 §6).

    make vectordb        # start it (127.0.0.1 only; data under the course cache dir)
    make vectordb-stop   # stop it

One setting chooses where the dense retriever keeps its vectors:
``COURSE_VECTOR_STORE=memory`` (the default: llama-index's in-process store)
or ``COURSE_VECTOR_STORE=chroma`` (the server, through llama-index's
``ChromaVectorStore``). Everything else in the RAG pipeline stays the same.

Writes are upserts keyed by the chunk ids, which are stable (``<doc_id>#<n>``):
an ingest cut off half-way can simply be run again. Every record is checked
before the first write, so bad input leaves the collection as it was.
Telemetry is off in the server and the client: nothing here uses the network.
The server itself is started and stopped by ``course_utils.chroma_server``.
"""
from __future__ import annotations

import math
import os
import sys

from .artifacts import fingerprint
from .chroma_server import HOST, VectorDBUnavailable, chroma_port, is_healthy, start_server, stop_server

STORES = ("memory", "chroma")
MAX_TEXT_CHARS = 4_000  # a course chunk is a sentence or two; anything far longer is not a chunk


class BadRecords(ValueError):
    """Records that must not be written: nothing of the batch was (taught in 07 §6)."""


# ---------------------------------------------------------------- settings

def vector_store_kind() -> str:
    """'memory' or 'chroma', from COURSE_VECTOR_STORE (read each time, so a notebook can switch)."""
    kind = os.environ.get("COURSE_VECTOR_STORE") or "memory"
    if kind not in STORES:
        raise ValueError(f"COURSE_VECTOR_STORE={kind!r} is not a vector store the course knows. "
                         f"Fix: set it to one of {STORES}, or unset it.")
    return kind


# ---------------------------------------------------------------- the client

def connect(port: int | None = None):
    """A Chroma client for the server on 127.0.0.1, or a clear error if none answers (taught in 07 §6)."""
    import chromadb
    from chromadb.config import Settings

    port = port or chroma_port()
    if not is_healthy(port):
        raise VectorDBUnavailable(f"No Chroma server answers at http://{HOST}:{port}. Fix: start it with "
                                  "`make vectordb` (or set COURSE_VECTOR_STORE=memory to keep vectors in memory).")
    return chromadb.HttpClient(host=HOST, port=port, settings=Settings(anonymized_telemetry=False))


def collection(client, name: str):
    """The collection ``name`` (cosine distance), created if missing. Vectors always come from the course's embedder."""
    return client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)


def _problem(i: int, record_id, text, vector, dim: int) -> str | None:
    if not isinstance(record_id, str) or not record_id.strip():
        return f"record {i} has no id ({record_id!r})"
    if not isinstance(text, str) or not text.strip():
        return f"record {record_id!r} has no text ({text!r})"
    if len(text) > MAX_TEXT_CHARS:
        return f"record {record_id!r} is {len(text):,} characters, over the {MAX_TEXT_CHARS:,} a chunk may have"
    if len(vector) != dim:
        return f"record {record_id!r} has a {len(vector)}-number vector, the collection holds {dim}-number ones"
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in map(float, vector)):
        return f"record {record_id!r} has a vector with NaN or infinity"
    return None


def check_records(ids, texts, vectors, dim: int | None = None) -> None:
    """Raise ``BadRecords`` naming the first bad record; write nothing."""
    if not len(ids) == len(texts) == len(vectors):
        raise BadRecords(f"{len(ids)} ids, {len(texts)} texts and {len(vectors)} vectors. "
                         "Fix: pass one text and one vector per id.")
    seen = set()
    for i, (record_id, text, vector) in enumerate(zip(ids, texts, vectors)):
        problem = _problem(i, record_id, text, vector, dim or len(vectors[0]))
        if problem is None and record_id in seen:
            problem = f"the id {record_id!r} appears twice"
        if problem:
            raise BadRecords(f"Nothing was written: {problem}. Fix: correct or drop that record "
                             "(split long documents into chunks first), then ingest again.")
        seen.add(record_id)


def _stored_dim(coll) -> int | None:
    sample = coll.get(limit=1, include=["embeddings"])
    return len(sample["embeddings"][0]) if sample["ids"] else None


def upsert(coll, ids, texts, vectors, metadatas=None, batch_size: int = 1000, after_batch=None) -> int:
    """Write records in batches, replacing any with the same id; returns how many were written (taught in 07 §6).

    All records are checked first. Running it again after a failure writes the
    same ids again: no duplicates, nothing lost. ``after_batch(n_written)`` is
    called after each batch (progress bars; the fault tests stop the server there).
    """
    vectors = [list(map(float, v)) for v in vectors]
    check_records(ids, texts, vectors, _stored_dim(coll))
    for start in range(0, len(ids), batch_size):
        end = start + batch_size
        try:
            coll.upsert(ids=list(ids[start:end]), documents=list(texts[start:end]), embeddings=vectors[start:end],
                        metadatas=None if metadatas is None else list(metadatas[start:end]))
        except Exception as err:
            if is_healthy(_port_of(coll)):
                raise
            raise VectorDBUnavailable(f"The Chroma server stopped after {start} of {len(ids)} records. Fix: start "
                                      "it again (`make vectordb`) and run the same ingest: it upserts, so "
                                      "nothing is duplicated.") from err
        if after_batch:
            after_batch(min(end, len(ids)))
    return len(ids)


def _port_of(coll) -> int:
    settings = coll._client.get_settings()  # the client knows where it connects; the collection does not say
    return int(settings.chroma_server_http_port or chroma_port())


# ---------------------------------------------------------------- the course's dense index

def vector_index(nodes, embedder):
    """A llama-index ``VectorStoreIndex`` over ``nodes``, in memory or in Chroma (COURSE_VECTOR_STORE)."""
    from llama_index.core import VectorStoreIndex

    if vector_store_kind() == "memory":
        return VectorStoreIndex(nodes, embed_model=embedder, show_progress=False)
    return chroma_index(nodes, embedder, connect())


def chroma_index(nodes, embedder, client):
    """Embed ``nodes`` as ``VectorStoreIndex`` would, upsert them into the server, and index the collection.

    The collection is named after a fingerprint of the chunks and the embedder,
    so another set of documents never mixes with this one.
    """
    from llama_index.core import VectorStoreIndex
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict
    from llama_index.vector_stores.chroma import ChromaVectorStore

    embedded = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    name = "course-" + fingerprint(embedder=getattr(embedder, "model_name", repr(embedder)),
                                   chunks=[(n.node_id, t) for n, t in zip(nodes, embedded)])
    coll = collection(client, name)
    # The same metadata layout as ChromaVectorStore.add (node restored from "_node_content"), but upserted.
    metadatas = [{k: ("" if v is None else v) for k, v in node_to_metadata_dict(n, remove_text=True).items()}
                 for n in nodes]
    upsert(coll, [n.node_id for n in nodes], [n.get_content(metadata_mode=MetadataMode.NONE) for n in nodes],
           embedder.get_text_embedding_batch(embedded), metadatas)
    return VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=coll), embed_model=embedder)


# ---------------------------------------------------------------- make vectordb / vectordb-stop

def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Start or stop the course's Chroma server (127.0.0.1).")
    parser.add_argument("action", choices=("start", "stop", "status"))
    args = parser.parse_args(argv)
    if args.action == "start":
        if is_healthy(chroma_port()):
            print(f"Chroma already answers at http://{HOST}:{chroma_port()}.")
            return 0
        server = start_server()
        print(f"Chroma is running at {server.url} (pid {server.pid}), data in {server.folder / 'data'}. "
              "Use it with COURSE_VECTOR_STORE=chroma; stop it with `make vectordb-stop`.")
    elif args.action == "stop":
        print("Chroma stopped." if stop_server() else "No course Chroma server was running.")
    else:
        healthy = is_healthy(chroma_port())
        print(f"Chroma at http://{HOST}:{chroma_port()}: {'healthy' if healthy else 'not running'}.")
        return 0 if healthy else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
