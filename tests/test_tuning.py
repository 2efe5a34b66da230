"""Knobs are chosen on the dev split: which questions that is, and how the best k is picked."""
import pandas as pd

from course_utils.data import DEV_SPLITS, load_questions
from course_utils.tuning import choose_top_k, dev_questions


def test_dev_questions_never_touch_the_test_split():
    dev = dev_questions()
    assert {q.split for q in dev} == set(DEV_SPLITS)
    test_texts = {q.question for q in load_questions("paraphrase") + load_questions("unanswerable")}
    assert not test_texts & {q.question for q in dev}
    assert any(q.answers for q in dev) and any(not q.answers for q in dev)  # both kinds of question


def test_choose_top_k_takes_the_best_dev_score_and_the_smaller_k_on_a_tie():
    sweep = pd.DataFrame({"strict (dev)": [0.40, 0.55, 0.50]}, index=pd.Index([1, 2, 3], name="k"))
    assert choose_top_k(sweep) == 2
    tied = pd.DataFrame({"strict (dev)": [0.5, 0.6, 0.6]}, index=pd.Index([1, 3, 5], name="k"))
    assert choose_top_k(tied) == 3  # the shorter prompt of the two best


def test_dev_questions_take_one_phrasing_per_fact_and_every_unanswerable_one():
    dev = dev_questions()
    facts = [q.fact_id for q in dev if q.fact_id is not None]
    assert len(facts) == len(set(facts)) == len({q.fact_id for q in load_questions("dev")})
    assert [q for q in dev if q.fact_id is None] == load_questions("dev_unanswerable")


def test_each_retrieving_approach_has_its_own_k_in_the_settings_and_the_cache_key():
    from course_utils.approaches import DEFAULT_SETTINGS, get_approach
    from course_utils.workbench import Workbench

    tuned = DEFAULT_SETTINGS.with_k("RAG", 1).with_k("RAFT", 3)
    assert (tuned.k_for("RAG"), tuned.k_for("RAFT"), tuned.k_for("fine-tune + RAG")) == (1, 3, 1)
    assert "top_k" not in tuned.generation()  # k enters each approach's cache key on its own

    def key(settings, approach):
        bench = Workbench.__new__(Workbench)  # the fingerprint needs no model: only names and settings
        bench.settings, bench.adapters, bench.base = settings, {"RAFT": "raft-x", "fine-tune": "ft-x"}, "base"
        return bench.fingerprint(get_approach(approach), load_questions("dev")[:2], documents=[])

    # choosing RAFT's k leaves RAG's and the closed-book answers' cache entries as they were
    assert key(tuned, "RAG") == key(DEFAULT_SETTINGS.with_k("RAG", 1), "RAG")
    assert key(tuned, "closed-book") == key(DEFAULT_SETTINGS, "closed-book")
    assert key(tuned, "RAFT") != key(tuned.with_k("RAFT", 2), "RAFT")


def test_a_closed_book_approach_has_no_k_to_sweep():
    import pytest

    from course_utils.tuning import sweep_top_k

    with pytest.raises(ValueError, match="no k to choose"):
        sweep_top_k(None, None, approach="fine-tune")


def test_the_course_retriever_is_the_one_dev_chooses(embedder):
    """Notebook 01 chooses the retriever and its chunking by MRR on the dev phrasings; the course uses that choice."""
    from course_utils.approaches import DEFAULT_SETTINGS
    from course_utils.data import load_documents
    from course_utils.evaluation.ranking import score_retriever
    from course_utils.retrieval import DEFAULT_CHUNK_SIZE, RETRIEVER_KINDS, build_retriever

    documents, dev = load_documents("v1"), load_questions("dev")
    mrr = {(kind, size, title): score_retriever(build_retriever(kind, documents, top_k=5, chunk_size=size,
                                                                with_title=title, embedder=embedder), dev)["mrr"]
           for title in (True, False) for size in (24, 32, 48, 64, 128) for kind in RETRIEVER_KINDS}
    assert max(mrr, key=mrr.get) == (DEFAULT_SETTINGS.retriever, DEFAULT_CHUNK_SIZE, True)


def test_the_prompt_knob_reaches_rag_and_its_cache_key_but_not_the_prompt_raft_was_trained_on():
    from dataclasses import replace

    import pytest

    from course_utils.approaches import DEFAULT_SETTINGS, get_approach
    from course_utils.sources import INSTRUCTION, INSTRUCTIONS
    from course_utils.workbench import Workbench

    tuned = replace(DEFAULT_SETTINGS, prompt="name or number")
    assert tuned.instruction_for("RAG") == tuned.instruction_for("fine-tune + RAG") == INSTRUCTIONS["name or number"]
    assert tuned.instruction_for("RAFT") == INSTRUCTION  # what its training examples held (hybrid.raft_examples)

    def key(settings, approach):
        bench = Workbench.__new__(Workbench)
        bench.settings, bench.adapters, bench.base = settings, {"RAFT": "raft-x", "fine-tune": "ft-x"}, "base"
        return bench.fingerprint(get_approach(approach), load_questions("dev")[:2], documents=[])

    assert key(tuned, "RAG") != key(DEFAULT_SETTINGS, "RAG")  # another prompt, other answers
    assert key(tuned, "RAFT") == key(DEFAULT_SETTINGS, "RAFT")
    assert key(tuned, "closed-book") == key(DEFAULT_SETTINGS, "closed-book")
    with pytest.raises(ValueError, match="Unknown prompt"):
        replace(DEFAULT_SETTINGS, prompt="polite").instruction_for("RAG")


def test_choose_prompt_takes_the_best_dev_score_and_the_earlier_prompt_on_a_tie():
    from course_utils.tuning import choose_prompt

    sweep = pd.DataFrame({"strict (dev)": [0.5, 0.7, 0.6]}, index=pd.Index(["a", "b", "c"], name="prompt"))
    assert choose_prompt(sweep) == "b"
    tied = pd.DataFrame({"strict (dev)": [0.6, 0.4, 0.6]}, index=pd.Index(["a", "b", "c"], name="prompt"))
    assert choose_prompt(tied) == "a"


def test_tuned_settings_chooses_the_prompt_at_the_chosen_k(monkeypatch):
    """The wiring: k first, then the prompt swept at that k, and both kept in the settings the comparison reads."""
    from course_utils import tuning
    from course_utils.sources import INSTRUCTIONS

    swept = {}

    def fake_k(model, tokenizer, settings, progress, approach="RAG", **_):
        swept[approach] = settings.instruction_for(approach)
        return pd.DataFrame({"strict (dev)": [0.3, 0.6, 0.5]}, index=pd.Index([1, 2, 3], name="k"))

    def fake_prompt(model, tokenizer, settings, progress):
        swept["k"] = settings.k_for("RAG")
        return pd.DataFrame({"strict (dev)": [0.6, 0.6, 0.8]},
                            index=pd.Index(["few words", "name or number", "one sentence"], name="prompt"))

    monkeypatch.setattr(tuning, "sweep_top_k", fake_k)
    monkeypatch.setattr(tuning, "sweep_prompt", fake_prompt)
    tuned = tuning.tuned_settings(None, None, progress=False, adapters={"fine-tune": "ft"})
    assert swept["k"] == 2 and tuned.k_for("RAG") == 2 and tuned.prompt == "one sentence"
    # the hybrid's k is chosen with the prompt it will be evaluated with, not the starting one
    assert swept["fine-tune + RAG"] == INSTRUCTIONS["one sentence"] and tuned.k_for("fine-tune + RAG") == 2


def test_rag_reads_the_prompt_its_settings_name(generator, tmp_path):
    from dataclasses import replace

    from course_utils.approaches import EvalSettings
    from course_utils.data import eval_questions, load_documents
    from course_utils.sources import INSTRUCTIONS
    from course_utils.workbench import Workbench

    model, tokenizer = generator
    settings = replace(EvalSettings(rag_max_new_tokens=2), prompt="name or number")
    [answer] = Workbench(model, tokenizer, {}, settings, cache_dir=tmp_path).answer(
        "RAG", eval_questions("train")[:1], load_documents("v1"), progress=False)
    assert INSTRUCTIONS["name or number"] in answer.prompt and INSTRUCTIONS["few words"] not in answer.prompt


def test_one_index_keeps_room_for_every_k_an_approach_was_given(generator, tmp_path):
    from dataclasses import replace

    from course_utils.approaches import EvalSettings
    from course_utils.data import load_documents
    from course_utils.retrieval import MIN_KEPT
    from course_utils.workbench import Workbench

    model, tokenizer = generator
    small = replace(EvalSettings(retriever="bm25", top_k=1), own_top_k=(("RAFT", 2),))
    wide = small.with_k("fine-tune + RAG", MIN_KEPT + 2)
    # k=1 still keeps room for the sweep (k up to 5); an approach's own larger k widens the index
    assert Workbench(model, tokenizer, {}, small, cache_dir=tmp_path).index(load_documents("v1")).top_k == MIN_KEPT
    assert Workbench(model, tokenizer, {}, wide, cache_dir=tmp_path).index(load_documents("v1")).top_k == MIN_KEPT + 2
