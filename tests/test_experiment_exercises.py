"""The experiment exercises: each check accepts its solution and rejects wrong answers.

An experiment check reruns or rescores the learner's variant, so these tests
replace the slow parts with stand-ins that behave in a known way: a fake
generator that answers by rule, a hashed bag-of-words embedder in place of
MiniLM, a tiny random Llama with the course's tokenizer for training, and
synthetic comparison rows. The checks' own logic runs unchanged.
"""
import re
import zlib
from pathlib import Path
from statistics import mean
from types import SimpleNamespace

import numpy as np
import pytest

from course_utils.data import eval_questions, load_documents, load_questions
from course_utils.evaluation.intervals import bootstrap
from course_utils.exercises import passed
from tiny_models import tiny_llama

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


def run_solution(name: str, namespace: dict) -> dict:
    """Run a solution file as its notebook cell would, with the notebook's objects in ``namespace``."""
    exec(compile((SOLUTIONS / f"{name}.py").read_text(), f"{name}.py", "exec"), namespace)
    return namespace


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """Adapters and results go to a temporary cache, never the course's."""
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    return tmp_path


def has_lora(model) -> bool:
    return any("lora" in name for name, _ in model.named_parameters())


# ------------------------------------------------------------------------------- 00: the document, with an interval

def reads_the_document(model, tokenizer, questions, documents=None, **settings):
    """A stand-in for answer_questions: with documents it is right three times in four, alone it declines."""
    if documents is None:
        return ["I don't know." for _ in questions]
    return [f"It is {q.answers[0]}." if i % 4 else "I don't know." for i, q in enumerate(questions)]


def without_replacement(scores, resamples=2000, seed=0):
    rng = np.random.default_rng(seed)
    means = [rng.choice(scores, size=len(scores), replace=False).mean() for _ in range(resamples)]
    return tuple(np.percentile(means, [2.5, 97.5]))


def normal_approximation(scores):
    half = 1.96 * np.std(scores) / len(scores) ** 0.5
    return np.mean(scores) - half, np.mean(scores) + half


def test_experiment_oracle_interval_accepts_the_solution_and_rejects_wrong_answers(monkeypatch, capsys):
    from course_utils import generation
    from course_utils.exercises.welcome import check_experiment_oracle_interval as check

    monkeypatch.setattr(generation, "answer_questions", reads_the_document)
    ns = run_solution("00_experiment_oracle_interval", {"model": None, "tokenizer": None,
                                                         "docs_v1": load_documents("v1")})
    assert "Correct" in capsys.readouterr().out  # the solution's own check call
    sample = eval_questions("paraphrase")
    assert passed(check, ns["my_bootstrap"], ns["oracle_answers"])
    closed_book = reads_the_document(None, None, sample)
    assert not passed(check, ns["my_bootstrap"], closed_book)  # the default experiment, not the variant
    assert not passed(check, ns["my_bootstrap"], None)  # the unsolved cell
    assert not passed(check, ns["my_bootstrap"], ns["oracle_answers"][:8])  # not every question
    assert not passed(check, without_replacement, ns["oracle_answers"])  # every resample is the same list
    assert not passed(check, normal_approximation, ns["oracle_answers"])  # leaves [0, 1] on one right in eight
    assert not passed(check, lambda scores, resamples=2000, seed=0: (0.0, 0.0), ns["oracle_answers"])
    assert not passed(check, lambda scores: 1 / 0, ns["oracle_answers"])
    out = capsys.readouterr().out
    assert out.count("Correct") == 1 and "with replacement" in out and "ZeroDivisionError" in out


# ------------------------------------------------------------------------------- 01: another retriever

def word_hash_embedder():
    """A hashed bag of words in place of MiniLM: similar questions and chunks get similar vectors, no model loads."""
    from llama_index.core.embeddings import BaseEmbedding

    def vector(text, dim=128):
        v = np.zeros(dim)
        for word in re.findall(r"\w+", text.lower()):
            v[zlib.crc32(word.encode()) % dim] += 1.0
        return (v / (np.linalg.norm(v) or 1.0)).tolist()

    class Hashed(BaseEmbedding):
        def _get_text_embedding(self, text):
            return vector(text)

        def _get_query_embedding(self, query):
            return vector(query)

        async def _aget_query_embedding(self, query):
            return vector(query)

    return Hashed(model_name="word-hash")


@pytest.fixture
def hashed_embedder(monkeypatch):
    from course_utils import retrieval

    embedder = word_hash_embedder()
    monkeypatch.setattr(retrieval, "default_embedder", lambda: embedder)
    return embedder


def test_experiment_retriever_accepts_the_solution_and_rejects_wrong_answers(hashed_embedder, capsys):
    from course_utils.evaluation.ranking import recall_at_k
    from course_utils.exercises.retriever import check_experiment_retriever as check
    from course_utils.retrieval import build_retriever

    documents = load_documents("v1")
    default = build_retriever("hybrid", documents, top_k=5)
    ns = run_solution("01_experiment_retriever", {"documents": documents, "retrievers": {"hybrid": default}})
    assert passed(check, ns["variant"], ns["change"])
    assert ns["change"].n == 112 and ns["change"].groups == 56
    dev = load_questions("dev")
    variant_hits = [recall_at_k(h, q.doc_id, 1) for h, q in zip(ns["variant"].retrieve_many(ns["dev_texts"]), dev)]
    assert not passed(check, default, ns["change"])  # the default itself: nothing changed
    assert not passed(check, build_retriever("hybrid", documents, top_k=3), ns["change"])  # top_k alone: same chunks
    assert not passed(check, None, None)  # the unsolved cell
    assert not passed(check, ns["variant"], float(ns["change"]))  # a number without its interval
    assert not passed(check, ns["variant"], bootstrap(variant_hits, groups=[q.fact_id for q in dev]))  # no default
    assert not passed(check, ns["variant"], bootstrap(variant_hits[:56], groups=[q.fact_id for q in dev][:56]))
    assert capsys.readouterr().out.count("Correct") >= 2  # the solution's call and the first one here


# ------------------------------------------------------------------------------- 02: the system prompt and the cap

def declines_when_allowed(tokenizer):
    """A stand-in for generate_ids: declines when the prompt allows it and holds no document, else guesses."""
    def generate_ids(model, tok, prompts, max_new_tokens=24, *args, **kwargs):
        rows = []
        for prompt in prompts:
            allowed = "I don't know" in prompt and "Context:" not in prompt
            text = "I don't know." if allowed else "The answer is Porto, as the records of the company show."
            rows.append(tok(text, add_special_tokens=False)["input_ids"][:max_new_tokens])
        return rows
    return generate_ids


def test_experiment_system_prompt_accepts_the_solution_and_rejects_wrong_answers(tokenizer, monkeypatch, capsys):
    from course_utils import generation
    from course_utils.exercises.generator import check_experiment_system_prompt as check
    from course_utils.generation import SYSTEM_PROMPT

    monkeypatch.setattr(generation, "generate_ids", declines_when_allowed(tokenizer))
    model = SimpleNamespace(generation_config=SimpleNamespace(eos_token_id=tokenizer.eos_token_id))
    ns = run_solution("02_experiment_system_prompt", {"model": model, "tokenizer": tokenizer,
                                                      "documents": load_documents("v1")})
    assert ns["before"] == {"unanswerable": 0.0, "answerable": 0.0}
    assert ns["declines"] == {"unanswerable": 1.0, "answerable": 0.0}
    system, cap = ns["my_system"], ns["my_max_new_tokens"]
    assert passed(check, ns["declines"], system, cap, model, tokenizer)
    assert not passed(check, ns["before"], system, cap, model, tokenizer)  # the default's figures, not the variant's
    assert not passed(check, {"unanswerable": 100.0, "answerable": 0.0}, system, cap, model, tokenizer)  # percent
    assert not passed(check, {"unanswerable": 1.0}, system, cap, model, tokenizer)  # a side missing
    assert not passed(check, None, SYSTEM_PROMPT, 24, model, tokenizer)  # the unsolved cell: the defaults
    assert not passed(check, ns["declines"], system, 0, model, tokenizer)
    assert not passed(check, ns["declines"], 42, cap, model, tokenizer)
    # A short cap is a variant too; the verdict then counts the answers it cut off.
    assert passed(check, {"unanswerable": 0.0, "answerable": 0.0}, SYSTEM_PROMPT, 3, model, tokenizer)
    assert "stopped at the cap of 3 tokens" in capsys.readouterr().out


# ------------------------------------------------------------------------------- 03: another k

def rag_answer(question, k: int, right: bool):
    """A RagAnswer as ask_many returns it, built from k sources of the gold document."""
    from course_utils.sources import make_answer
    from course_utils.retrieval import Hit

    hits = [Hit(n, question.doc_id, "Title", "A sentence.", 0.0, f"{question.doc_id}#{n}") for n in range(1, k + 1)]
    raw = f"{question.answers[0]} [1]" if right else "I don't know."
    return make_answer(question.question, raw, hits, f"a prompt with {k} sources")


class FakeRag:
    """Answers by rule: with 3 sources two questions in three right, with 5 every second one."""

    def __init__(self, top_k=3):
        self.top_k = top_k

    def with_options(self, top_k):
        return FakeRag(top_k)

    def ask_many(self, texts, progress=True):
        by_text = {q.question: q for q in eval_questions("paraphrase")}
        return [rag_answer(by_text[t], self.top_k, i % 3 != 0 if self.top_k == 3 else i % 2 == 0)
                for i, t in enumerate(texts)]


def test_experiment_top_k_accepts_the_solution_and_rejects_wrong_answers(capsys):
    from course_utils.exercises.rag_loop import check_experiment_top_k as check

    sample = eval_questions("paraphrase")
    v1_answers = FakeRag().ask_many([q.question for q in sample])  # section 3's answers (only the sample here)
    ns = run_solution("03_experiment_top_k", {"rag": FakeRag(), "paraphrase_sample": sample, "v1_answers": v1_answers})
    change, new, old = ns["change"], ns["variant_results"], ns["default_results"]
    assert change.value != 0.0  # so that a reversed difference is a wrong answer
    assert passed(check, change, new, old)
    facts = [q.fact_id for q in sample]
    strict_new, strict_old = ns["strict"](new), ns["strict"](old)
    assert not passed(check, bootstrap(strict_old, other=strict_new, groups=facts), new, old)  # reversed
    assert not passed(check, bootstrap(strict_new, groups=facts), new, old)  # the variant alone, not the change
    assert not passed(check, change, old, old)  # no variant: both at k = 3
    assert not passed(check, change, new[::-1], old)  # answers in another order than the questions
    assert not passed(check, change, new, FakeRag(5).ask_many([q.question for q in sample]))  # default not k = 3
    assert not passed(check, None, None, old)  # the unsolved cell
    assert not passed(check, float(change), new, old)
    assert "k stays the one chosen on dev" in capsys.readouterr().out


# ------------------------------------------------------------------------------- 04: train longer

def notebook_04(model, tokenizer) -> dict:
    """What section 6 of notebook 04 defines and the solution uses: ``subset`` and ``score_adapter``."""
    from course_utils.evaluation import contains_answer
    from course_utils.adapters import (SWEEP_FACTS, answer_closed_book, closed_book_questions, finetuned_model,
                                       sweep_subset)

    subset = sweep_subset(SWEEP_FACTS)
    held_out = [q for q in load_questions("paraphrase") if q.fact_id in subset]
    seen_q = [q for q in closed_book_questions("v1") if q.fact_id in subset]

    def score_adapter(run):  # as in the notebook
        tuned = finetuned_model(model, run.folder)
        answers = answer_closed_book(tuned, tokenizer, seen_q + held_out, progress=False)
        tuned.unload()
        right = [contains_answer(a, q.answers) for a, q in zip(answers, seen_q + held_out)]
        return mean(right[:len(seen_q)]), mean(right[len(seen_q):])

    return {"model": model, "tokenizer": tokenizer, "subset": subset, "score_adapter": score_adapter}


def test_experiment_epochs_accepts_the_solution_and_rejects_wrong_answers(tokenizer, cache, capsys):
    import dataclasses

    from course_utils.exercises.lora import check_experiment_epochs as check
    from course_utils.adapters import SWEEP_TRAIN, closed_book_adapter, closed_book_questions

    model = tiny_llama()
    ns = run_solution("04_experiment_epochs", notebook_04(model, tokenizer))
    run, score = ns["longer_run"], ns["held_out_score"]
    assert passed(check, run, score, model, tokenizer)
    assert not has_lora(model)  # the check took the adapter off again
    assert not passed(check, run, score + 0.5, model, tokenizer)  # not what the adapter scores
    assert not passed(check, run, None, model, tokenizer)
    assert not passed(check, None, None, model, tokenizer)  # the unsolved cell
    subset = ns["subset"]
    # The wrong runs below are refused before anything is scored, so any figure goes with them.
    as_before = closed_book_adapter(model, tokenizer, config=SWEEP_TRAIN, fact_ids=subset, progress=False)
    assert not passed(check, as_before, score, model, tokenizer)  # not longer
    also_rank = dataclasses.replace(SWEEP_TRAIN, epochs=SWEEP_TRAIN.epochs + 1, r=2)
    two_changes = closed_book_adapter(model, tokenizer, config=also_rank, fact_ids=subset, progress=False)
    assert not passed(check, two_changes, score, model, tokenizer)  # two knobs moved
    others = sorted({q.fact_id for q in closed_book_questions("v1")} - set(subset))[:len(subset)]
    other_facts = closed_book_adapter(model, tokenizer, config=dataclasses.replace(SWEEP_TRAIN, epochs=5),
                                      fact_ids=others, progress=False)
    assert not passed(check, other_facts, score, model, tokenizer)  # other training data
    out = capsys.readouterr().out
    assert out.count("Correct") == 2 and "more than the epochs" in out and "not trained on the sweep" in out


# ------------------------------------------------------------------------------- 05: RAFT that says "I don't know"

def test_experiment_idk_accepts_the_solution_and_rejects_wrong_answers(tokenizer, cache, capsys):
    from course_utils.exercises.hybrid import check_experiment_idk as check
    from course_utils.adapters import get_or_train_adapter
    from course_utils.hybrid import RAFT_ONE_EPOCH, raft_pairs
    from course_utils.rag import build_rag

    model, docs = tiny_llama(), {"v1": load_documents("v1")}
    rag = build_rag(model, tokenizer, docs["v1"], retriever="bm25", top_k=3)  # BM25: no embedder to load
    raft_run = get_or_train_adapter("raft", raft_pairs(tokenizer, load_questions("train")[:4], docs["v1"]),
                                    RAFT_ONE_EPOCH, model, tokenizer, progress=False)
    ns = run_solution("05_experiment_idk", {"model": model, "tokenizer": tokenizer, "docs": docs, "rag": rag,
                                            "raft_run": raft_run})
    scores, run, pairs = ns["idk_scores"], ns["idk_run"], ns["idk_pairs"]
    assert passed(check, scores, run, pairs, rag)
    assert not has_lora(rag.model)  # the check took the adapter off again
    assert not passed(check, {k: 1.0 - v for k, v in scores.items()}, run, pairs, rag)  # not what it measures
    assert not passed(check, {"abstains (unanswerable)": 1.0}, run, pairs, rag)
    assert not passed(check, scores, run, pairs[:-1], rag)  # not the pairs it was trained on
    assert not passed(check, scores, raft_run, pairs, rag)  # the RAFT adapter, untouched
    plain = [(e.prompt, e.answer) for e in ns["examples"]]  # RAFT as it was: no "I don't know"
    assert not passed(check, scores, run, plain, rag)
    assert not passed(check, scores, run, [(p, "I don't know") for p, _ in pairs], rag)  # nothing but "I don't know"
    assert not passed(check, None, None, [], rag)  # the unsolved cell
    assert not passed(check, scores, run, pairs, None)
    out = capsys.readouterr().out
    assert out.count("Correct") == 2 and "no training answer says" in out and "every training answer says" in out


# ------------------------------------------------------------------------------- 06: fewer test facts

def synthetic_comparison(n_facts: int = 24, phrasings: int = 4):
    """RAG and fine-tune rows on the test split, plus unanswerable rows: RAG right on two facts in three."""
    from course_utils.comparison import Comparison

    rows = []
    for approach, right_if in (("RAG", lambda f, p: f % 3 != 0), ("fine-tune", lambda f, p: (f + p) % 4 == 0)):
        for f in range(n_facts):
            for p in range(phrasings):
                right = right_if(f, p)
                rows.append({"approach": approach, "qid": f"para-{f}-{p}", "split": "paraphrase",
                             "fact_id": f"fact-{f:02d}", "strict": float(right), "abstained": False,
                             "exact_match": float(right), "confident_wrong": not right})
        rows += [{"approach": approach, "qid": f"none-{i}", "split": "unanswerable", "fact_id": None,
                  "strict": None, "abstained": bool(i % 2), "exact_match": None, "confident_wrong": not i % 2}
                 for i in range(4)]
    return Comparison(rows, latency={}, costs={})


def test_experiment_fewer_facts_accepts_the_solution_and_rejects_wrong_answers(capsys):
    from course_utils.comparison import Comparison
    from course_utils.exercises.compare import check_experiment_fewer_facts as check

    comparison = synthetic_comparison()
    ns = run_solution("06_experiment_fewer_facts", {"comparison": comparison})
    change, facts = ns["change"], ns["facts"]
    assert change.groups == len(facts) == 6 and change.n == 24
    assert passed(check, change, facts, comparison)
    every = sorted({r["fact_id"] for r in comparison.rows if r["fact_id"]})
    assert not passed(check, comparison.difference("RAG", "fine-tune", "paraphrase"), every, comparison)  # all facts
    assert not passed(check, comparison.difference("RAG", "fine-tune", "paraphrase"), facts, comparison)  # full n
    fewer = Comparison([r for r in comparison.rows if r["fact_id"] in facts], latency={}, costs={})
    if change.value != 0.0:
        assert not passed(check, fewer.difference("fine-tune", "RAG", "paraphrase"), facts, comparison)  # reversed
    assert not passed(check, fewer.estimate("RAG", "paraphrase"), facts, comparison)  # RAG alone, not the gap
    assert not passed(check, change, facts + ["no-such-fact"], comparison)
    assert not passed(check, None, None, comparison)  # the unsolved cell
    assert not passed(check, change, facts, None)
    out = capsys.readouterr().out
    assert out.count("Correct") == 2 and "times as wide" in out


# ------------------------------------------------------------------------------- the unsolved cells

def test_unsolved_cells_say_not_yet_without_running_anything(tokenizer, monkeypatch, capsys):
    """What each notebook's exercise cell does before it is solved: one "Not yet" line, no model call."""
    from course_utils import generation, retrieval
    from course_utils.exercises import compare, generator, hybrid, lora, rag_loop, retriever, welcome
    from course_utils.generation import SYSTEM_PROMPT
    from course_utils.rag import build_rag

    def refuse(*args, **kwargs):
        raise AssertionError("an unsolved exercise cell started a model or an index")

    monkeypatch.setattr(generation, "generate_ids", refuse)
    monkeypatch.setattr(retrieval, "default_embedder", refuse)
    rag = build_rag(tiny_llama(), tokenizer, load_documents("v1"), retriever="bm25")
    sample_answers = FakeRag().ask_many([q.question for q in eval_questions("paraphrase")])
    unsolved = [
        (welcome.check_experiment_oracle_interval, (lambda scores, resamples=2000, seed=0: (0.0, 0.0), None)),
        (retriever.check_experiment_retriever, (None, None)),
        (generator.check_experiment_system_prompt, (None, SYSTEM_PROMPT, 24, None, tokenizer)),
        (rag_loop.check_experiment_top_k, (None, None, sample_answers)),
        (lora.check_experiment_epochs, (None, None, None, tokenizer)),
        (hybrid.check_experiment_idk, (None, None, [], rag)),
        (compare.check_experiment_fewer_facts, (None, None, synthetic_comparison())),
    ]
    for check, args in unsolved:
        assert check(*args) is None  # a check prints its verdict and returns nothing
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(unsolved) and all(line.startswith("❌ Not yet. Hint: ") for line in lines)
