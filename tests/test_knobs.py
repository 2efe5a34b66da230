"""The trained approaches' knobs: the search, the proxy it runs on, and the adapters trained with its choice."""
from dataclasses import replace

import pytest

from course_utils import knobs
from course_utils.data import load_questions
from course_utils.hybrid import RAFT_TRAIN
from course_utils.training import DEFAULT_TRAIN


def test_coordinate_search_keeps_the_best_candidate_of_each_knob_in_turn():
    calls = []

    def score(setting):  # best at a=2, and b=20 is best only once a=2 has been chosen
        calls.append(dict(setting))
        return {1: 0.0, 2: 0.5, 3: 0.1}[setting["a"]] + (0.3 if (setting["a"], setting["b"]) == (2, 20) else 0), True

    choice, rows = knobs.coordinate_search({"a": (1, 2, 3), "b": (10, 20, 30)}, score)
    assert choice == {"a": 2, "b": 20}
    assert len(calls) == 5  # 3 + 3 candidates, the current choice scored once
    assert [r["kept"] for r in rows] == [False, True, False, False, True, False]
    assert all(c["a"] == 2 for c in calls[3:])  # b was searched with a at its best


def test_coordinate_search_keeps_the_first_candidate_on_a_tie():
    choice, rows = knobs.coordinate_search({"lr": (3e-3, 1e-3, 1e-2)}, lambda s: (0.5, True))
    assert choice == {"lr": 3e-3}
    assert [r["strict (dev)"] for r in rows] == [0.5, 0.5, 0.5]


def test_a_candidate_that_does_not_know_its_training_set_is_never_kept():
    # 1e-2 scores best on dev but never learned its training set (it diverged): not eligible
    choice, rows = knobs.coordinate_search({"lr": (3e-3, 1e-3, 1e-2)}, lambda s: (0.9, False) if s["lr"] == 1e-2
                                           else ({3e-3: 0.4, 1e-3: 0.6}[s["lr"]], True))
    assert choice == {"lr": 1e-3}
    assert [r["eligible"] for r in rows] == [True, True, False]
    none_eligible, _ = knobs.coordinate_search({"lr": (3e-3, 1e-3)}, lambda s: (s["lr"], False))
    assert none_eligible == {"lr": 3e-3}  # then the dev score decides


def test_the_choice_becomes_the_training_arguments():
    ft = knobs.fine_tune_kwargs({"lr": 1.5e-3, "r": 16, "extra_phrasings": 3})
    assert ft["extra_phrasings"] == 3
    assert (ft["config"].lr, ft["config"].r) == (1.5e-3, 16)
    assert ft["config"].until_accuracy == DEFAULT_TRAIN.until_accuracy and ft["config"].dev_epochs == DEFAULT_TRAIN.dev_epochs
    assert ft["config"].batch_size == DEFAULT_TRAIN.batch_size  # the full run keeps its batches; only the proxy has 1
    raft = knobs.raft_kwargs({"lr": 6e-3, "p_oracle": 0.6, "n_distractors": 3})
    assert (raft["p_oracle"], raft["n_distractors"]) == (0.6, 3)
    assert raft["config"] == replace(RAFT_TRAIN, lr=6e-3)


def test_the_proxy_takes_as_many_steps_per_epoch_as_the_full_run(monkeypatch):
    every = {q.fact_id for q in load_questions("train")}
    facts = knobs.proxy_facts()
    assert set(facts) <= every and facts == sorted(set(facts))
    assert len(facts) / knobs.PROXY_BATCH == len(every) / DEFAULT_TRAIN.batch_size  # 14 steps each at 56 facts
    monkeypatch.setenv("COURSE_FACTS", "8")  # a reduced course: still a few facts to score on
    assert len(knobs.proxy_facts()) == knobs.MIN_TUNE_FACTS


def test_both_trained_approaches_get_the_same_search_effort():
    assert len(knobs.FINE_TUNE_KNOBS) == len(knobs.RAFT_KNOBS) == 3
    assert knobs.FINE_TUNE_KNOBS["lr"] == knobs.RAFT_KNOBS["lr"] and DEFAULT_TRAIN.lr == knobs.LEARNING_RATES[0]
    assert all(len(values) == 3 for table in (knobs.FINE_TUNE_KNOBS, knobs.RAFT_KNOBS) for values in table.values())


class FakeRun(dict):
    def __init__(self, settings, info):
        super().__init__(settings)
        self.info = info


class FakeBench:
    """A workbench whose dev score is read off the adapter's settings, with an in-memory cache."""
    cache: dict = {}

    def __init__(self, model, tokenizer):
        self.adapters = {}

    def evaluate(self, approach, questions, documents=None, progress=True):
        run = self.adapters[approach]  # half the questions need r=4 (or 16), the other half 3 phrasings
        half = len(questions) // 2
        return [{"strict": run["r"] in (4, 16)}] * half + [{"strict": run["phrasings"] == 3}] * (len(questions) - half)

    def remember(self, label, parts, measure):
        key = (label, repr(parts))
        if key not in self.cache:
            self.cache[key] = measure()
        return self.cache[key]


def test_the_fine_tune_search_trains_on_the_proxy_and_is_read_back(monkeypatch):
    trained = []

    def fake_adapter(model, tokenizer, version, extra, config, progress, fact_ids):
        trained.append((version, extra, config, tuple(fact_ids)))
        return FakeRun({"r": config.r, "phrasings": extra}, {"train_accuracy": 0.5 if config.r == 16 else 0.95})

    monkeypatch.setattr(knobs, "closed_book_adapter", fake_adapter)
    monkeypatch.setattr(knobs, "Workbench", FakeBench)
    FakeBench.cache = {}
    found = knobs.fine_tune_knobs(model="m", tokenizer="t", progress=False)
    assert found.choice == {"lr": 3e-3, "r": 4, "extra_phrasings": 3}  # r=16 scores as well, but missed its target
    assert found.kwargs["extra_phrasings"] == 3 and found.kwargs["config"].r == 4
    assert found.kwargs["config"].lr == DEFAULT_TRAIN.lr  # every rate scored the same: the first is kept
    assert found.kwargs["config"].batch_size == DEFAULT_TRAIN.batch_size
    assert len(trained) == 7 and {t[3] for t in trained} == {tuple(knobs.proxy_facts())}
    assert {t[2].lr for t in trained} == set(knobs.LEARNING_RATES)
    # the proxy: one pair per step, the full run's stopping rule, epochs chosen only in the full run
    assert all(t[2].batch_size == knobs.PROXY_BATCH == 1 and t[2].dev_epochs == 0 and t[0] == "v1" for t in trained)
    assert all(t[2].until_accuracy == DEFAULT_TRAIN.until_accuracy for t in trained)
    assert len(found.rows) == 9 and list(found.table().columns) == ["strict (dev)", "eligible", "kept"]
    assert [r["eligible"] for r in found.rows if r["knob"] == "r"] == [True, True, False]  # r=16 missed its target
    knobs.fine_tune_knobs(model="m", tokenizer="t", progress=False)
    assert len(trained) == 7  # the second call reads the cached choice: nothing trained again


def test_the_raft_search_scores_on_the_dev_phrasings_of_the_proxy_facts(monkeypatch):
    seen = []

    def fake_raft(model, tokenizer, p_oracle, n_distractors, config, questions, progress):
        seen.append((p_oracle, n_distractors, config, {q.fact_id for q in questions}))
        return FakeRun({"r": 4 if p_oracle == 1.0 else 8, "phrasings": 3},
                       {"train_accuracy": 0.2 if config.lr == 6e-3 else 0.9})

    class Bench(FakeBench):
        def evaluate(self, approach, questions, documents=None, progress=True):
            assert {q.split for q in questions} == {"dev"} and documents
            assert {q.fact_id for q in questions} == set(knobs.proxy_facts())
            return super().evaluate(approach, questions, documents, progress)

    monkeypatch.setattr(knobs, "raft_adapter", fake_raft)
    monkeypatch.setattr(knobs, "Workbench", Bench)
    Bench.cache = {}
    found = knobs.raft_knobs(model="m", tokenizer="t", progress=False)
    assert found.choice == {"lr": 3e-3, "p_oracle": 1.0, "n_distractors": 2}
    assert [r["eligible"] for r in found.rows if r["knob"] == "lr"] == [True, True, False]  # 6e-3 never learned them
    # trained like the full run (until it knows its examples), one example per step
    assert len(seen) == 7 and all(c.batch_size == 1 and c.until_accuracy == RAFT_TRAIN.until_accuracy
                                  and c.epochs == RAFT_TRAIN.epochs for _, _, c, _ in seen)
    assert found.kwargs["config"].batch_size == RAFT_TRAIN.batch_size
    assert list(found.table().loc["n_distractors"].index) == ["2", "1", "3"]  # counts stay counts beside shares
    train_facts = {q.fact_id for q in load_questions("train")} & set(knobs.proxy_facts())
    assert all(facts == train_facts for *_, facts in seen)


def test_the_course_adapters_are_trained_with_the_chosen_knobs(monkeypatch):
    chosen = knobs.Knobs("fine-tune", {}, [], {"extra_phrasings": 3, "config": DEFAULT_TRAIN})
    calls = []
    monkeypatch.setattr(knobs, "fine_tune_knobs", lambda m, t, p: chosen)
    monkeypatch.setattr(knobs, "closed_book_adapter", lambda *a, **kw: calls.append((a, kw)) or "run")
    runs = knobs.prepare_adapters("m", "t", names=["fine-tune", "fine-tune v2"], progress=False)
    assert runs == {"fine-tune": "run", "fine-tune v2": "run"}
    assert [a[2] for a, _ in calls] == ["v1", "v2"] and all(kw["extra_phrasings"] == 3 for _, kw in calls)
    with pytest.raises(ValueError, match="Unknown adapter"):
        knobs.prepare_adapters("m", "t", names=["nope"])
