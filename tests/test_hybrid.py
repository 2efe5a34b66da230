"""Tests for course_utils.hybrid (RAFT examples, RAG with an adapter) and the exercises of notebook 05."""
from __future__ import annotations

import runpy

import pytest

from course_utils.config import SEED
from course_utils.data import load_documents, load_questions
from course_utils.evaluation import contains_answer
from course_utils.exercises import passed, solution_path
from course_utils.exercises.hybrid import _HITS, check_hybrid_gain, check_raft_target
from course_utils.hybrid import (cite, knowledge_chunks, oracle_chunk, raft_examples, raft_pairs,
                                 check_raft_settings)
from course_utils.sources import build_rag_prompt, parse_citations, strip_citations


@pytest.fixture(scope="module")
def tokenizer():
    from course_utils.models import load_generator

    return load_generator()[1]


@pytest.fixture(scope="module")
def train():
    return load_questions("train")


@pytest.fixture(scope="module")
def docs():
    return load_documents("v1")


# ------------------------------------------------------------------ structure of RAFT examples

@pytest.mark.parametrize("p_oracle, n_distractors", [(0.8, 2), (0.5, 3), (0.0, 1), (1.0, 0), (0.33, 4)])
def test_raft_examples_structure(tokenizer, train, docs, p_oracle, n_distractors):
    examples = raft_examples(tokenizer, train, docs, p_oracle=p_oracle, n_distractors=n_distractors)
    assert len(examples) == len(train)
    kept = [e for e in examples if e.oracle is not None]
    assert len(kept) == round(p_oracle * len(train))  # the oracle share is P, within rounding
    chunks = knowledge_chunks(docs)
    for e in examples:
        oracle = oracle_chunk(e.question, chunks)
        distractors = [h for h in e.hits if h.chunk_id != oracle.chunk_id]
        assert len(distractors) == n_distractors
        assert len({h.chunk_id for h in e.hits}) == len(e.hits)  # no chunk twice
        assert all(h.text != oracle.text or h.doc_id != oracle.doc_id for h in distractors)
        assert [h.rank for h in e.hits] == list(range(1, len(e.hits) + 1))
        # The prompt is the RAG prompt of notebook 03, so a RAFT model is just RAG with another adapter.
        assert e.prompt == build_rag_prompt(tokenizer, e.question.question, e.hits)
        assert contains_answer(strip_citations(e.answer), e.question.answers)
        if e.oracle is None:
            assert parse_citations(e.answer) == []  # nothing true to cite
            assert oracle.chunk_id not in {h.chunk_id for h in e.hits}
        else:
            assert parse_citations(e.answer) == [e.oracle]
            cited = e.hits[e.oracle - 1]
            assert cited.chunk_id == oracle.chunk_id and contains_answer(cited.text, e.question.answers)


def test_oracle_is_not_always_first(tokenizer, train, docs):
    positions = {e.oracle for e in raft_examples(tokenizer, train, docs, p_oracle=1.0, n_distractors=2)}
    assert positions == {1, 2, 3}  # shuffled: the model cannot learn "cite [1]"


def test_raft_pairs_are_deterministic(tokenizer, train, docs):
    first = raft_pairs(tokenizer, train, docs, p_oracle=0.8, n_distractors=2, seed=SEED)
    assert first == raft_pairs(tokenizer, train, docs, p_oracle=0.8, n_distractors=2, seed=SEED)
    assert first != raft_pairs(tokenizer, train, docs, p_oracle=0.8, n_distractors=2, seed=SEED + 1)
    assert all(isinstance(p, str) and isinstance(a, str) for p, a in first)


def test_cite():
    assert cite("Porto", 2) == "Porto [2]"
    assert cite("Porto", None) == "Porto"


# ------------------------------------------------------------------ bad inputs

@pytest.mark.parametrize("p_oracle", [-0.1, 1.5, "0.8", None, True, float("nan")])
def test_p_oracle_outside_zero_one(p_oracle):
    with pytest.raises(ValueError, match=r"p_oracle.*Fix"):
        check_raft_settings(p_oracle, 2)


@pytest.mark.parametrize("n", [-1, 1.5, "2", None, True])
def test_negative_or_fractional_distractors(n):
    with pytest.raises(ValueError, match=r"n_distractors.*Fix"):
        check_raft_settings(0.8, n)


def test_no_distractors_and_no_oracle_is_refused():
    with pytest.raises(ValueError, match=r"no source at all.*Fix"):
        check_raft_settings(0.5, 0)


def test_bad_inputs_fail_before_any_work(tokenizer, train, docs):
    with pytest.raises(ValueError, match="p_oracle"):
        raft_pairs(tokenizer, train, docs, p_oracle=2)
    with pytest.raises(ValueError, match="n_distractors"):
        raft_pairs(tokenizer, train, docs, n_distractors=-1)
    with pytest.raises(ValueError, match=r"No questions.*Fix"):
        raft_pairs(tokenizer, [], docs)
    with pytest.raises(ValueError, match=r"only \d+ other chunks.*Fix"):
        raft_pairs(tokenizer, train[:2], docs, n_distractors=10_000)


def test_unanswerable_question_has_no_oracle(tokenizer, docs):
    with pytest.raises(ValueError, match=r"no answer.*Fix"):
        raft_pairs(tokenizer, load_questions("unanswerable")[:1], docs)


def test_wrong_documents_give_a_clear_error(tokenizer, train, docs):
    others = [d for d in docs if d.doc_id != train[0].doc_id]
    with pytest.raises(ValueError, match=r"No chunk of document.*Fix"):
        raft_pairs(tokenizer, train[:1], others)


# ------------------------------------------------------------------ exercises

def test_check_raft_target_accepts_the_solution_and_rejects_wrong_answers(capsys):
    solution = runpy.run_path(str(solution_path("05_raft_target")), {"check_raft_target": check_raft_target})
    fn = solution["my_raft_target"]
    assert passed(check_raft_target, fn)
    assert not passed(check_raft_target, lambda answer, hits, oracle_id: answer)  # never cites
    assert not passed(check_raft_target, lambda answer, hits, oracle_id: f"{answer} [1]")  # always cites [1]
    assert not passed(check_raft_target, lambda answer, hits, oracle_id:  # counts from 0
                                 next((f"{answer} [{i}]" for i, h in enumerate(hits) if h.chunk_id == oracle_id),
                                      answer))
    assert not passed(check_raft_target, lambda *args: 1 / 0)  # a crash is "not yet", not an exception
    assert "Not yet" in capsys.readouterr().out
    assert fn("Porto", _HITS, "quibit-x2#1") == "Porto [2]"


def test_check_hybrid_gain_accepts_the_solution_and_rejects_wrong_answers(capsys):
    import pandas as pd

    table = pd.DataFrame({"train": {"RAG": 0.5, "RAFT": 0.875, "fine-tune": 0.9},
                          "paraphrase": {"RAG": 0.25, "RAFT": 0.625, "fine-tune": 0.4},
                          "update": {"RAG": 0.6, "RAFT": 0.7, "fine-tune": 0.2}})
    solution = runpy.run_path(str(solution_path("05_hybrid_gain")), {"check_hybrid_gain": check_hybrid_gain,
                                                                     "table": table})
    assert passed(check_hybrid_gain, solution["gain"], table)
    assert not passed(check_hybrid_gain, None, table)  # the unsolved notebook must not raise
    assert not passed(check_hybrid_gain, {s: -v for s, v in solution["gain"].items()}, table)  # RAG minus RAFT
    assert not passed(check_hybrid_gain, {s: 100 * v for s, v in solution["gain"].items()}, table)  # percentages
    assert not passed(check_hybrid_gain, {"train": solution["gain"]["train"]}, table)  # a split missing
    assert "Not yet" in capsys.readouterr().out


# ------------------------------------------------------------------ RAG with an adapter (tiny training)

def test_raft_adapter_is_cached_and_hybrid_pipeline_reads_with_it(tmp_path, monkeypatch, generator, docs, train):
    """A tiny RAFT run: cached by fingerprint, loaded into a RAG pipeline, and taken off again."""
    import torch

    from course_utils.training import TrainConfig
    from course_utils.hybrid import hybrid_pipeline, raft_adapter, remove_adapter
    from course_utils.rag import build_rag

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    model, tokenizer = generator
    tiny = TrainConfig(r=2, epochs=1, batch_size=2)
    first = raft_adapter(model, tokenizer, p_oracle=0.5, n_distractors=1, config=tiny, questions=train[:4],
                         documents=docs, progress=False)
    again = raft_adapter(model, tokenizer, p_oracle=0.5, n_distractors=1, config=tiny, questions=train[:4],
                         documents=docs, progress=False)
    assert not first.reused and again.reused and again.folder == first.folder
    other = raft_adapter(model, tokenizer, p_oracle=1.0, n_distractors=1, config=tiny, questions=train[:4],
                         documents=docs, progress=False)
    assert other.folder != first.folder  # another P, another adapter
    assert not getattr(model, "is_activation_checkpointing", False)  # switched off again after training

    rag = build_rag(model, tokenizer, docs, retriever="bm25", top_k=2)
    before = rag.model(**tokenizer("Porto", return_tensors="pt")).logits
    hybrid = hybrid_pipeline(rag, first)
    assert hybrid.retriever is rag.retriever and hybrid.top_k == rag.top_k
    hits = rag.retrieve("Quibit X2 factory")
    assert hybrid.prompt("Where?", hits) == rag.prompt("Where?", hits)
    with pytest.raises(ValueError, match="already carries an adapter"):
        hybrid_pipeline(hybrid, first)
    base = remove_adapter(hybrid)
    assert remove_adapter(base) is base
    after = base(**tokenizer("Porto", return_tensors="pt")).logits
    assert torch.equal(before, after)  # the base model is exactly as it was


def test_robustness_sweep_grades_strictly_and_keeps_every_question(generator, docs, monkeypatch):
    from course_utils import hybrid

    model, tokenizer = generator
    from course_utils.evaluation import value_domain

    questions = load_questions("paraphrase")[::4][:3]  # three different facts
    # a reader that hedges between the gold value and another of the same attribute: contains the gold one,
    # but is never strictly right
    every_value = [f"{q.answers[0]} or {next(v for v in value_domain(q) if v != q.answers[0])}" for q in questions]
    answers = iter(every_value * 2)

    def listing(reader, tok, examples, progress=True):
        from course_utils.sources import make_answer
        return [make_answer(e.question.question, next(answers), e.hits, e.prompt) for e in examples]

    monkeypatch.setattr(hybrid, "answer_examples", listing)
    sweep = hybrid.robustness_sweep(model, tokenizer, {"RAG": None}, questions, docs, distractors=(0, 1),
                                    progress=False)
    assert list(sweep.index) == [0, 1] and list(sweep.columns) == ["RAG"]
    assert (sweep["RAG"] == 0).all()  # a hedge across values scores nothing
    assert sweep.attrs["right"]["RAG"] == {0: [0.0] * 3, 1: [0.0] * 3}
    assert sweep.attrs["facts"] == [q.fact_id for q in questions]


def test_raft_trains_until_it_knows_its_examples_like_the_fine_tune(monkeypatch):
    """The RAFT adapter is held to the fine-tune's rule; its knob candidates get one pass each (equal training)."""
    import contextlib

    from course_utils import hybrid
    from course_utils.training import DEFAULT_TRAIN

    seen = {}
    monkeypatch.setattr(hybrid, "raft_pairs", lambda *args: [("prompt", "answer")])
    monkeypatch.setattr(hybrid, "recomputed_activations", lambda model: contextlib.nullcontext())
    monkeypatch.setattr(hybrid, "get_or_train_adapter", lambda name, pairs, config, *a, **k: seen.update(config=config))
    hybrid.raft_adapter("model", "tokenizer", questions=[], documents=[], progress=False)
    assert seen["config"].until_accuracy == DEFAULT_TRAIN.until_accuracy
    assert seen["config"].epochs > 1  # room to get there
    assert hybrid.RAFT_ONE_EPOCH.until_accuracy is None and hybrid.RAFT_ONE_EPOCH.epochs == 1


def test_a_raft_target_is_known_only_with_its_value_and_its_citation(tokenizer, docs, train):
    """The stopping rule grades RAFT's own targets: 'Porto [2]' must come back as the value and the citation."""
    from course_utils.hybrid import raft_pairs
    from course_utils.sources import knows_target

    targets = [target for _, target in raft_pairs(tokenizer, train[:4], docs, 1.0, 1)]  # every example cites
    value = train[0].answers[0]
    assert all(knows_target(target, target) for target in targets)  # the target itself is known, however cited
    assert knows_target(f"{value} [2].", f"{value} [2]")
    assert not knows_target(value, f"{value} [2]")  # the value without the citation
    assert not knows_target(f"{value} [1]", f"{value} [2]")  # the wrong source
    assert knows_target(value, value) and not knows_target(f"{value} [1]", value)  # a closed-book target
