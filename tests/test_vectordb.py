"""Chroma's server: the course's retriever gives the same hits from it as from memory, and it fails safely.

Each test module starts its own server on a free port with a temporary data
folder, and stops it at the end: nothing here touches `make vectordb`'s server.
"""
import math

import pytest

from course_utils import chroma_server, vectordb
from course_utils.chroma_server import VectorDBUnavailable
from course_utils.vectordb import BadRecords


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = chroma_server.start_server(port=chroma_server.free_port(), folder=tmp_path_factory.mktemp("chroma"))
    yield srv
    chroma_server.stop_server(srv.folder)


@pytest.fixture()
def client(server):
    return vectordb.connect(server.port)


def records(n, dim=4, prefix="doc"):
    ids = [f"{prefix}#{i}" for i in range(n)]
    texts = [f"Sentence number {i}." for i in range(n)]
    vectors = [[math.cos(i + j) for j in range(dim)] for i in range(n)]
    return ids, texts, vectors


def snapshot(coll):
    got = coll.get(include=["documents"])
    return sorted(zip(got["ids"], got["documents"]))


def test_the_server_binds_to_loopback_only(server):
    cmdline = open(f"/proc/{server.pid}/cmdline", "rb").read().split(b"\0")
    assert cmdline[cmdline.index(b"--host") + 1] == b"127.0.0.1"
    assert chroma_server.is_healthy(server.port)


def test_telemetry_is_off_in_server_and_client(server, client):
    environ = open(f"/proc/{server.pid}/environ", "rb").read().split(b"\0")
    assert b"ANONYMIZED_TELEMETRY=False" in environ
    assert client.get_settings().anonymized_telemetry is False


def test_course_retriever_gives_the_same_hits_from_chroma_as_from_memory(server, monkeypatch, embedder):
    from course_utils.data import load_documents, load_questions
    from course_utils.retrieval import build_retriever

    documents, questions = load_documents("v1"), [q.question for q in load_questions("paraphrase")[:40]]
    monkeypatch.setenv("COURSE_VECTOR_STORE", "memory")
    memory = build_retriever("dense", documents, top_k=3, embedder=embedder)
    monkeypatch.setenv("COURSE_VECTOR_STORE", "chroma")
    monkeypatch.setenv("COURSE_CHROMA_PORT", str(server.port))
    chroma = build_retriever("dense", documents, top_k=3, embedder=embedder)
    for question in questions:
        assert ([h.chunk_id for h in chroma.retrieve(question)] == [h.chunk_id for h in memory.retrieve(question)])
    hit = chroma.retrieve(questions[0])[0]
    assert hit.title and hit.doc_id and hit.text  # metadata and text survive the round trip


def test_building_twice_upserts_no_duplicate(server, monkeypatch, embedder, client):
    from course_utils.data import load_documents
    from course_utils.retrieval import build_retriever

    monkeypatch.setenv("COURSE_VECTOR_STORE", "chroma")
    monkeypatch.setenv("COURSE_CHROMA_PORT", str(server.port))
    first = build_retriever("dense", load_documents("v1"), top_k=3, embedder=embedder)
    build_retriever("dense", load_documents("v1"), top_k=3, embedder=embedder)
    course = [c for c in client.list_collections() if c.name.startswith("course-")]
    assert len(course) == 1 and course[0].count() == len(first.nodes)


def test_no_server_names_make_vectordb():
    with pytest.raises(VectorDBUnavailable, match="make vectordb"):
        vectordb.connect(chroma_server.free_port())


def test_an_unknown_store_setting_says_which_to_use(monkeypatch):
    monkeypatch.setenv("COURSE_VECTOR_STORE", "pinecone")
    with pytest.raises(ValueError, match="Fix: set it to one of"):
        vectordb.vector_store_kind()


@pytest.mark.parametrize("spoil, message", [
    (lambda ids, texts, vectors: texts.__setitem__(2, "   "), "has no text"),
    (lambda ids, texts, vectors: texts.__setitem__(2, "x" * (vectordb.MAX_TEXT_CHARS + 1)), "characters, over"),
    (lambda ids, texts, vectors: vectors.__setitem__(2, [float("nan")] * 4), "NaN"),
    (lambda ids, texts, vectors: vectors.__setitem__(2, [0.1] * 3), "3-number vector"),
    (lambda ids, texts, vectors: ids.__setitem__(2, ids[1]), "appears twice"),
    (lambda ids, texts, vectors: ids.__setitem__(2, ""), "has no id"),
    (lambda ids, texts, vectors: texts.pop(), "Fix: pass one text"),
])
def test_bad_records_are_refused_and_the_collection_stays_as_it_was(client, spoil, message):
    coll = vectordb.collection(client, "bad-input")
    vectordb.upsert(coll, *records(5))
    before = snapshot(coll)
    ids, texts, vectors = records(8, prefix="new")
    spoil(ids, texts, vectors)
    with pytest.raises(BadRecords, match=message) as err:
        vectordb.upsert(coll, ids, texts, vectors, batch_size=2)  # the good first batch must not land either
    assert "Fix:" in str(err.value)
    assert snapshot(coll) == before


def test_an_ingest_cut_by_a_killed_server_completes_when_run_again(tmp_path):
    import os
    import signal

    port, ids, texts, vectors = chroma_server.free_port(), *records(3000, dim=8)
    srv = chroma_server.start_server(port=port, folder=tmp_path)
    try:
        coll = vectordb.collection(vectordb.connect(port), "ingest")

        def kill_after_first_batch(written):
            if written == 1000:
                os.kill(srv.pid, signal.SIGKILL)

        with pytest.raises(VectorDBUnavailable, match="run the same ingest"):
            vectordb.upsert(coll, ids, texts, vectors, after_batch=kill_after_first_batch)
        chroma_server.stop_server(tmp_path)  # clears the stale pid file
        srv = chroma_server.start_server(port=port, folder=tmp_path)
        coll = vectordb.collection(vectordb.connect(port), "ingest")
        vectordb.upsert(coll, ids, texts, vectors)
        assert coll.count() == len(ids)
        assert snapshot(coll) == sorted(zip(ids, texts))
    finally:
        chroma_server.stop_server(tmp_path)


def test_stop_reports_whether_a_server_was_running(tmp_path):
    assert chroma_server.stop_server(tmp_path) is False
    srv = chroma_server.start_server(port=chroma_server.free_port(), folder=tmp_path)
    assert chroma_server.stop_server(tmp_path) is True
    assert not chroma_server.is_healthy(srv.port)
