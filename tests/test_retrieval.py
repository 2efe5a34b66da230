"""Tests for course_utils.retrieval, its widget and the exercises of notebook 01."""
from __future__ import annotations

import runpy
from dataclasses import dataclass

import numpy as np
import pytest

from course_utils.data import load_documents
from course_utils.exercises import passed, solution_path
from course_utils.exercises.retriever import check_bm25_term, check_rrf
from course_utils.retrieval import (HYBRID_DEPTH, RETRIEVER_KINDS, bm25_scores, build_retriever,
                                    chunk_documents, indexed_text, rrf_fuse, tokenize)
from course_utils.widgets.retrieval import (explore, explorer_html, highlight, query_terms,
                                            render_hits, retrieval_explorer)


@dataclass(frozen=True)
class Doc:
    doc_id: str
    title: str
    text: str


TOY = [
    Doc("robot", "Robot", "The robot vacuums the floor. The robot charges itself at night."),
    Doc("arm", "Arm", "A robotic arm lifts heavy boxes in the factory."),
    Doc("lamp", "Lamp", "The lamp dims at night and glows softly all night. Lamps save energy."),
    Doc("policy", "Policy", "Returns are accepted within thirty days of delivery."),
]


@pytest.fixture(scope="module")
def docs():
    return load_documents("v1")


@pytest.fixture(scope="module")
def bm25(docs):
    return build_retriever("bm25", docs, top_k=5)


# ------------------------------------------------------------------ chunking

def test_chunks_carry_doc_id_title_and_stable_ids(docs):
    nodes = chunk_documents(docs, chunk_size=32)
    assert {n.metadata["doc_id"] for n in nodes} == {d.doc_id for d in docs}
    for n in nodes:
        doc_id, _, number = n.node_id.partition("#")
        assert doc_id == n.metadata["doc_id"] and number.isdigit()
    assert [n.node_id for n in nodes] == [n.node_id for n in chunk_documents(docs, chunk_size=32)]


def test_smaller_chunks_mean_more_chunks_and_no_text_is_lost(docs):
    counts = [len(chunk_documents(docs, chunk_size=size)) for size in (24, 48, 96, 512)]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1] == len(docs)
    by_doc = {d.doc_id: d.text for d in docs}
    for n in chunk_documents(docs, chunk_size=24):
        assert n.get_content() in by_doc[n.metadata["doc_id"]]


def test_with_title_puts_the_title_in_the_indexed_text_only(docs):
    titled = chunk_documents(docs, chunk_size=48, with_title=True)[0]
    bare = chunk_documents(docs, chunk_size=48, with_title=False)[0]
    assert titled.metadata["title"] in indexed_text(titled)
    assert indexed_text(bare) == bare.get_content()
    assert "doc_id" not in indexed_text(titled)


@pytest.mark.parametrize("size, overlap", [(8, 0), (64, 64), (64, -1), ("64", 0)])
def test_bad_chunk_settings_explain_the_fix(docs, size, overlap):
    with pytest.raises(ValueError, match="Fix:"):
        chunk_documents(docs, chunk_size=size, chunk_overlap=overlap)


# ------------------------------------------------------------------ BM25 and RRF by hand

def test_tokenize_matches_the_bm25s_pattern():
    assert tokenize("The Quibit X2's code is VR-6810, a") == ["the", "quibit", "x2", "code", "is", "vr", "6810"]
    assert tokenize("The robots", stopwords={"the"}, stem=lambda ts: [t.rstrip("s") for t in ts]) == ["robot"]


def test_bm25_by_hand_equals_llama_index_bm25_on_a_toy_corpus():
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN
    from llama_index.core.schema import TextNode
    from llama_index.retrievers.bm25 import BM25Retriever

    nodes = [TextNode(text=d.text, id_=d.doc_id) for d in TOY]
    library = BM25Retriever(nodes=nodes, similarity_top_k=len(nodes))
    stem, stop = Stemmer.Stemmer("english").stemWords, set(STOPWORDS_EN)
    corpus = [tokenize(d.text, stop, stem) for d in TOY]
    for query in ("robot at night", "lamps", "heavy robotic boxes", "days delivery returns robot"):
        mine = bm25_scores(tokenize(query, stop, stem), corpus)
        theirs = {r.node.node_id: r.score for r in library.retrieve(query)}
        assert np.allclose(mine, [theirs[d.doc_id] for d in TOY], rtol=1e-5, atol=1e-6)
        positive = mine[mine > 0]
        assert len(set(positive.round(6))) == len(positive)  # no ties, so the order is meaningful
        ranked = [TOY[i].doc_id for i in np.argsort(-mine) if mine[i] > 0]
        assert ranked == [r.node.node_id for r in library.retrieve(query)][: len(ranked)]


def test_bm25_properties():
    corpus = [["cat", "sat"], ["dog", "dog", "dog", "ran"], ["dog", "sat", "mat", "on", "the", "rug"]]
    assert np.all(bm25_scores(["zebra"], corpus) == 0)
    dog = bm25_scores(["dog"], corpus)
    assert dog[1] > dog[2] > dog[0] == 0  # more mentions in a shorter text score higher
    assert bm25_scores(["cat"], corpus)[0] > bm25_scores(["sat"], corpus)[0]  # rarer word, more weight


def test_rrf_fuse_on_a_hand_example():
    fused = rrf_fuse([["a", "b"], ["b", "c"]], k=60)
    assert [item for item, _ in fused] == ["b", "a", "c"]
    assert dict(fused)["b"] == pytest.approx(1 / 61 + 1 / 60)
    assert dict(fused)["c"] == pytest.approx(1 / 61)


def test_rrf_fuse_equals_llama_index_query_fusion():
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
    from llama_index.core.schema import NodeWithScore, TextNode

    class Fixed(BaseRetriever):
        def __init__(self, ids):
            super().__init__()
            self.ids = ids

        def _retrieve(self, query_bundle):
            return [NodeWithScore(node=TextNode(text=f"text {i}", id_=i), score=1.0 - r / 10)
                    for r, i in enumerate(self.ids)]

    lists = [["a", "b", "c", "d"], ["d", "c", "e"], ["e", "a"]]
    fusion = QueryFusionRetriever([Fixed(ids) for ids in lists], similarity_top_k=10, num_queries=1,
                                  mode="reciprocal_rerank", use_async=False, llm=MockLLM())
    theirs = [(r.node.node_id, r.score) for r in fusion.retrieve("anything")]
    mine = rrf_fuse(lists)
    assert [i for i, _ in theirs] == [i for i, _ in mine]
    assert np.allclose([s for _, s in theirs], [s for _, s in mine])


# ------------------------------------------------------------------ build_retriever

@pytest.mark.parametrize("kwargs, words", [
    ({"kind": "tfidf"}, "bm25"),
    ({"kind": "bm25", "top_k": 0}, "top_k"),
    ({"kind": "bm25", "top_k": -3}, "top_k"),
    ({"kind": "bm25", "top_k": 2.5}, "top_k"),
    ({"kind": "bm25", "top_k": True}, "top_k"),
    ({"kind": "bm25", "documents": []}, "load_documents"),
    ({"kind": "bm25", "documents": [TOY[0], TOY[0]]}, "unique doc_id"),
])
def test_bad_arguments_name_the_problem_and_the_fix(kwargs, words):
    args = {"documents": TOY, "top_k": 3, **kwargs}
    with pytest.raises(ValueError, match="Fix:") as err:
        build_retriever(args.pop("kind"), **args)
    assert words in str(err.value)


@pytest.mark.parametrize("query", ["", "   ", "\n", None])
def test_empty_query_is_refused_with_a_fix(bm25, query):
    with pytest.raises(ValueError, match="Fix:.*question"):
        bm25.retrieve(query)
    with pytest.raises(ValueError, match="Fix:"):
        bm25.retrieve_many(["Where is the Quibit X2 assembled?", query])


def test_bm25_hits_are_ranked_and_well_formed(docs, bm25):
    hits = bm25.retrieve("Where is the Quibit X2 Pro assembled?")
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    titles = {d.doc_id: d.title for d in docs}
    assert all(titles[h.doc_id] == h.title and h.text for h in hits)
    assert "quibit" in hits[0].doc_id


def test_bm25_returns_only_chunks_that_share_a_word_with_the_query(bm25):
    assert bm25.retrieve("???") == [] and bm25.retrieve("zebra xylophone") == []
    hits = bm25.retrieve("Tessel")
    assert hits and all("Tessel" in h.title and h.score > 0 for h in hits)


def test_top_k_larger_than_the_corpus_returns_every_chunk(embedder):
    retriever = build_retriever("dense", TOY, top_k=50, chunk_size=512, embedder=embedder)
    assert len(retriever.retrieve("robot")) == len(TOY)


def test_bm25_finds_every_catalogue_code_by_the_code_alone(docs, bm25):
    coded = [d for d in docs if "catalogue code is " in d.text]
    assert coded
    for d in coded:
        code = d.text.split("catalogue code is ")[1].split(".")[0]
        assert bm25.retrieve(code)[0].doc_id == d.doc_id


def test_dense_score_is_the_cosine_of_normalised_embeddings(docs, embedder):
    dense = build_retriever("dense", docs, top_k=3, embedder=embedder)
    query = "Which city makes the Tessel Arm?"
    q = np.array(embedder.get_query_embedding(query))
    for hit in dense.retrieve(query):
        node = next(n for n in dense.nodes if n.node_id == hit.chunk_id)
        c = np.array(embedder.get_text_embedding(indexed_text(node)))
        assert hit.score == pytest.approx(float(q @ c / np.linalg.norm(q) / np.linalg.norm(c)), abs=1e-5)


def test_retrieve_many_equals_retrieve(docs, embedder):
    dense = build_retriever("dense", docs, top_k=3, embedder=embedder)
    queries = ["Where was Ravi Anand raised?", "How long is the return window?"]
    batched = dense.retrieve_many(queries)
    for query, hits in zip(queries, batched):
        one = dense.retrieve(query)
        assert [h.chunk_id for h in hits] == [h.chunk_id for h in one]
        assert np.allclose([h.score for h in hits], [h.score for h in one], atol=1e-5)
    with pytest.raises(ValueError, match="Fix:"):
        dense.retrieve_many(queries, query_embeddings=[[0.0] * 384])


def test_hybrid_is_rrf_of_dense_and_bm25(docs, embedder):
    hybrid = build_retriever("hybrid", docs, top_k=5, embedder=embedder)
    dense = build_retriever("dense", docs, top_k=HYBRID_DEPTH, embedder=embedder)
    bm25 = build_retriever("bm25", docs, top_k=HYBRID_DEPTH)
    for query in ("What is Dana Okoro's job?", "VR-1259", "When did the Lumen Hub Mini launch?"):
        fused = rrf_fuse([[h.chunk_id for h in r.retrieve(query)] for r in (dense, bm25)])[:5]
        hits = hybrid.retrieve(query)
        assert [h.chunk_id for h in hits] == [i for i, _ in fused]
        assert np.allclose([h.score for h in hits], [s for _, s in fused])


def test_every_kind_builds(embedder):
    for kind in RETRIEVER_KINDS:
        retriever = build_retriever(kind, TOY, top_k=2, embedder=embedder)
        assert retriever.kind == kind and len(retriever.retrieve("robot at night")) == 2


# ------------------------------------------------------------------ widget

def test_highlight_marks_query_words_and_escapes_html():
    terms = query_terms("Where is the robot assembled?")
    shown = highlight("The <b>Robot</b> is assembling & robots", terms)
    assert "<b>" not in shown and "&lt;b&gt;" in shown and "&amp;" in shown
    assert "<mark>Robot</mark>" in shown and "<mark>robots</mark>" in shown
    assert "<mark>assembling</mark>" in shown
    assert "<mark>is</mark>" not in shown  # stop words are not what BM25 matches on


def test_render_hits_lists_hits_in_rank_order(bm25):
    query = "catalogue code of the Lumen Hub Mini"
    hits = bm25.retrieve(query)
    page = render_hits(query, hits)
    positions = [page.index(f"<td>{h.rank}</td>") for h in hits]
    assert positions == sorted(positions) and "<mark>" in page
    assert "No chunks" in render_hits(query, [])


def test_explore_checks_its_inputs(bm25):
    retrievers = {"bm25": bm25}
    assert len(explore("Who is Tomas Reyes?", "bm25", 2, retrievers)) == 2
    for kind, k in (("dense", 2), ("bm25", 0), ("bm25", 6)):
        with pytest.raises(ValueError, match="Fix:"):
            explore("Who is Tomas Reyes?", kind, k, retrievers)
    assert "Fix:" in explorer_html("  ", "bm25", 2, retrievers)


def test_widget_updates_when_the_query_changes(bm25):
    box = retrieval_explorer({"bm25": bm25}, query="Where did Dana Okafor grow up?")
    text, controls, out = box.children
    before = out.value
    assert "Okafor" in before
    text.value = "Which product has catalogue code VR-2874?"
    assert out.value != before and "2874" in out.value
    controls.children[1].value = 1
    assert out.value.count("<tr>") == 2  # header + one hit


# ------------------------------------------------------------------ exercises

def _solution(name, function):
    return runpy.run_path(str(solution_path(name)))[function]


def test_bm25_term_check_accepts_the_solution_and_rejects_wrong_answers():
    assert passed(check_bm25_term, _solution("01_bm25_term", "bm25_term"))
    assert not passed(check_bm25_term, lambda tf, df, dl, avg, n: 0.0)  # the notebook's placeholder
    assert not passed(check_bm25_term, lambda tf, df, dl, avg, n: tf)  # forgot idf and saturation
    assert not passed(check_bm25_term, lambda *args: 1 / 0)


def test_rrf_check_accepts_the_solution_and_rejects_wrong_answers():
    assert passed(check_rrf, _solution("01_rrf", "rrf"))
    assert not passed(check_rrf, lambda rankings: [])  # the notebook's placeholder
    assert not passed(check_rrf, lambda rankings: rrf_fuse(rankings, k=61))  # ranks counted from 1
    assert not passed(check_rrf, lambda rankings: rrf_fuse(rankings)[::-1])  # worst first
    assert not passed(check_rrf, lambda rankings: None)
