"""Distractors keep the test questions answerable only from the course's documents; the scale searches are right."""
import re
from pathlib import Path
import time

import numpy as np
import pytest

from course_utils import distractors, scale, searches, worldgen
from course_utils.data import load_documents, load_facts, load_questions

DISTRACTORS = distractors.distractor_documents(3000)


def mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None


def test_distractors_are_deterministic_prefix_stable_and_seeded():
    assert distractors.distractor_documents(50) == DISTRACTORS[:50]
    assert distractors.distractor_documents(10, start=100) == DISTRACTORS[100:110]
    assert distractors.distractor_documents(50, seed=7) != DISTRACTORS[:50]


def test_distractors_never_name_a_course_entity_or_an_invented_one():
    names = distractors._course_names() | {"Vellmar"}
    for doc in DISTRACTORS:
        said = [n for n in names if mentions(doc["title"] + " " + doc["text"], n)]
        assert not said, f"{doc['doc_id']} names {said}: it could answer a course question"


def test_every_distractor_sentence_names_its_own_company_or_entity():
    """So no sentence such as 'Customers may return any product within 30 days' floats free of its owner."""
    companies = distractors.OTHER_COMPANIES
    for doc in DISTRACTORS:
        for sentence in re.split(r"(?<=\.)\s+", doc["text"]):
            assert doc["title"] in sentence or any(c in sentence for c in companies), (doc["doc_id"], sentence)


def test_distractor_names_are_near_duplicates_but_never_equal():
    course = {f.entity for f in load_facts()}
    titles = {d["title"] for d in DISTRACTORS}
    assert not titles & course
    assert "Quibo X2" in titles and "Dana Okafo" in titles  # one letter from "Quibit X2", "Dana Okafor"


def test_distractors_avoid_what_the_unanswerable_questions_ask_about():
    test, dev = worldgen._generated_unanswerable()
    for question, probes in test + dev:
        for probe in probes:
            hit = next((d for d in DISTRACTORS if mentions(d["text"], probe)), None)
            assert hit is None, f"{hit['doc_id']} mentions {probe!r}, asked by {question!r}"


def test_distractor_ids_are_unique_and_apart_from_the_course_documents():
    ids = [d["doc_id"] for d in DISTRACTORS]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {d.doc_id for d in load_documents("v1")}


def test_the_command_line_writes_distractors_outside_data(tmp_path):
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "course_utils.worldgen", "--distractors", "20", "--out", str(tmp_path)],
                   check=True, capture_output=True)
    assert [p.name for p in tmp_path.iterdir()] == ["distractors.jsonl"]
    assert worldgen.render(DISTRACTORS[:20]) == (tmp_path / "distractors.jsonl").read_text()


# ---------------------------------------------------------------- the embedding cache

def fake_embed(texts, embedder=None, batch_size=64):
    fake_embed.calls += 1
    vectors = np.array([[len(t), t.count(" ") + 1.0] for t in texts], dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture()
def small_blocks(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(scale, "BLOCK_DOCS", 4)
    monkeypatch.setattr(scale, "embed_texts", fake_embed)
    fake_embed.calls = 0
    return tmp_path


def test_a_distractor_block_is_embedded_once_then_read_from_the_cache(small_blocks, monkeypatch):
    rows, vectors, seconds = scale.distractor_block(0)
    assert fake_embed.calls == 1 and len(rows) == len(vectors) > 0 and seconds > 0
    again_rows, again_vectors, again_seconds = scale.distractor_block(0)
    assert fake_embed.calls == 1 and again_rows == rows and np.array_equal(again_vectors, vectors)
    assert again_seconds == seconds  # the time measured when it was embedded, not the time to read it back
    monkeypatch.setenv("COURSE_EMBEDDER", "another/embedder")  # another embedder: another cache key
    scale.distractor_block(0)
    assert fake_embed.calls == 2


def test_a_corpus_has_exactly_n_chunks_course_chunks_first(small_blocks):
    corpus = scale.build_corpus(100, progress=None)
    assert len(corpus) == len(corpus.vectors) == 100
    course = {d.doc_id for d in load_documents("v1")}
    n_course = sum(d in course for d in corpus.doc_ids)
    assert all(d in course for d in corpus.doc_ids[:n_course]) and n_course < 100
    assert corpus.doc_ids[n_course].startswith("ext-")
    assert len(corpus.head(10)) == 10
    assert corpus.embed_seconds > 0 and corpus.head(50).embed_seconds == pytest.approx(corpus.embed_seconds / 2)


def test_index_growth_adds_distractors_to_every_course_chunk_and_asks_the_same_questions(small_blocks, monkeypatch):
    from course_utils import experiments

    def slow_embed(texts, embedder=None, batch_size=64):  # 50 ms a call: the index time must include it
        time.sleep(0.05)
        return fake_embed(texts)

    monkeypatch.setattr(scale, "embed_texts", slow_embed)
    questions = load_questions("paraphrase")
    growth = experiments.index_growth(questions, small=100, full=160, top_k=3)
    corpus = scale.build_corpus(160, progress=None)  # the blocks, from the cache, with their recorded seconds
    assert (growth["chunks_small"], growth["chunks_full"]) == (100, 160)
    assert growth["docs_full"] > growth["docs_small"] > len(load_documents("v1")) - 1
    assert growth["questions"] == len(questions) == len(growth["hits_full"]) == len(growth["facts"])
    assert growth["recall_full"] == pytest.approx(sum(growth["hits_full"]) / len(questions))
    assert growth["index_seconds_full"] >= corpus.embed_seconds - 0.05 > 0.2  # several blocks of 50 ms
    assert growth["index_seconds_small"] >= corpus.head(100).embed_seconds - 0.05
    with pytest.raises(ValueError, match="at least the course's"):
        experiments.index_growth(questions, small=5, full=160)


@pytest.mark.parametrize("top_k", [1, 3])
def test_the_rag_loop_at_scale_reads_the_k_it_is_given(small_blocks, tokenizer, top_k):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from tiny_models import tiny_llama

    questions = load_questions("paraphrase")[:4]
    corpus = scale.build_corpus(120, progress=None)
    estimate = scale.rag_strict(tiny_llama(), tokenizer, corpus, questions, top_k=top_k)
    assert estimate.n == len(questions) and 0 <= estimate.value <= 1  # a random model: the score is not the point
    retriever = scale.ScaleRetriever(corpus, top_k=top_k)
    assert [len(hits) for hits in retriever.retrieve_many([q.question for q in questions])] == [top_k] * 4


# ---------------------------------------------------------------- the three searches

def random_corpus(n, dim=16):
    texts = [f"chunk {i} word{i % 7}" for i in range(n)]
    return scale.Corpus([str(i) for i in range(n)], [f"d{i}" for i in range(n)], [""] * n, texts, texts,
                        scale.random_unit_vectors(n, dim))


def test_exact_search_ranks_by_cosine():
    corpus = random_corpus(500)
    query = scale.random_unit_vectors(1, 16, seed=9)[0]
    expected = list(np.argsort(-(corpus.vectors @ query))[:5])
    assert searches.ExactSearch(corpus).search("", query, 5) == expected


def test_hnsw_search_finds_nearly_what_exact_search_finds():
    corpus = random_corpus(2000)
    exact, hnsw = searches.ExactSearch(corpus), searches.HnswSearch(corpus)
    try:
        queries = scale.random_unit_vectors(20, 16, seed=5)
        overlap = np.mean([len(set(exact.search("", q, 5)) & set(hnsw.search("", q, 5))) / 5 for q in queries])
        assert overlap >= 0.9
    finally:
        hnsw.close()


def test_bm25_search_needs_a_shared_word():
    corpus = random_corpus(50)
    search = searches.BM25Search(corpus)
    assert search.search("word3", None, 5)[0] % 7 == 3
    assert search.search("zebra", None, 5) == []


def test_random_latency_reports_each_search_at_each_size():
    rows = scale.random_latency([200, 400], dim=8, n_queries=5)
    assert [(r["search"], r["chunks"]) for r in rows] == [("exact", 200), ("hnsw", 200), ("exact", 400), ("hnsw", 400)]
    assert all(r["p95_ms"] >= r["p50_ms"] > 0 for r in rows)
