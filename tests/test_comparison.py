"""The comparison runner: its tables, its results cache, the adapter switch, and the exercises of notebook 06."""
import json
import math
from pathlib import Path

import pytest

from course_utils import approaches, experiments, knobs
from course_utils.adapters import adapter_on
from course_utils.approaches import APPROACHES, BY_NAME, EvalSettings
from course_utils.comparison import Comparison
from course_utils.data import EVAL_SPLITS, eval_questions
from course_utils.evaluation.summaries import stale_share
from course_utils.workbench import Workbench, approach_adapter
from course_utils.exercises import passed

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"

# contains-answer share per (approach, split) in the synthetic comparison below
RIGHT = {"closed-book": 0.0, "RAG": 0.5, "fine-tune": 0.75, "fine-tune + RAG": 0.5, "RAFT": 1.0}
P50 = {"closed-book": 0.5, "RAG": 0.9, "fine-tune": 0.2, "fine-tune + RAG": 0.35, "RAFT": 0.45}


def make_comparison(n: int = 4) -> Comparison:
    """Four questions per split; approach A gets the first RIGHT[A]·n right; RAG-like approaches cite."""
    rows = []
    for a in APPROACHES:
        for split in EVAL_SPLITS:
            for i in range(n):
                answerable = split != "unanswerable"
                right = i < RIGHT[a.name] * n
                rows.append({
                    "approach": a.name, "qid": f"{split}-{i}", "split": split, "question": f"Question {i} of {split}?",
                    "gold": "Porto" if answerable else "-", "answers": ["Porto"] if answerable else [],
                    "answer": ("Porto [1]" if right else "Lima") if answerable else ("I don't know" if right else "Lima"),
                    "fact_id": f"fact-{i // 2}" if answerable else None,  # two phrasings per fact
                    "outcome": ("right" if answerable else "abstained") if right else "wrong",
                    "strict": float(right) if answerable else None,
                    "confident_wrong": not right, "cut_off": False,
                    "exact_match": float(right) if answerable else None, "f1": float(right) if answerable else None,
                    "contains": float(right) if answerable else None,
                    "cited": True if a.retrieval else None,
                    "citation_correct": (right if answerable else None) if a.retrieval else None,
                    "abstained": (not answerable) and right,
                    "stale": (not right) if split == "update" else None,
                    "prompt_tokens": 170 if a.retrieval else 40,
                    "hits": [{"doc_id": "quibit-x2", "title": "Quibit X2", "text": "Made in Porto.", "chunk_id": "c0"}]
                    if a.retrieval else []})
    latency = {a.name: [{"retrieve": 0.01 * a.retrieval, "prefill": P50[a.name] / 4, "decode": P50[a.name] * 3 / 4,
                         "total": P50[a.name] * f, "prompt_tokens": 40} for f in (0.9, 1.0, 1.1)] for a in APPROACHES}
    costs = {a.name: {"training_seconds": 60.0 if a.adapter else 0.0,
                      "training_peak_mb": 1500.0 if a.adapter else float("nan"),
                      "index_seconds": 0.4 if a.retrieval else 0.0} for a in APPROACHES}
    return Comparison(rows, latency, costs)


def test_scores_follow_the_rows():
    c = make_comparison()
    for name, share in RIGHT.items():
        assert c.score(name, "train") == pytest.approx(share)
        assert c.score(name, "paraphrase", "exact_match") == pytest.approx(share)
    assert c.abstention("RAFT") == 1.0 and c.abstention("closed-book") == 0.0
    assert c.abstention("RAFT", answerable=True) == 0.0
    assert math.isnan(c.score("fine-tune", None, "citation_correct"))  # cannot cite: not a zero
    assert c.score("RAFT", None, "citation_correct") == 1.0


def test_latency_percentiles():
    stats = make_comparison().latency_stats("RAG")
    assert stats["p50"] == pytest.approx(0.9)
    assert 0.9 < stats["p95"] <= 0.99 + 1e-9
    assert stats["decode"] > stats["prefill"]


def test_table_has_every_column_the_comparison_promises():
    table = make_comparison().table()
    assert list(table.index) == [a.name for a in APPROACHES]
    for column in ("strict paraphrase", "confidently wrong (test)", "makes up (unanswerable)", "cut off",
                   "EM train", "F1 paraphrase", "contains update", "p50 s", "p95 s", "prompt tokens",
                   "citation accuracy", "abstains (unanswerable)", "training s", "training peak MB"):
        assert column in table.columns
    assert table.loc["RAFT", "contains train"] == 1.0
    assert table.loc["fine-tune", "training s"] == 60.0 and table.loc["RAG", "training s"] == 0.0
    split_table = make_comparison().split_table("contains")
    assert list(split_table.columns) == ["train", "paraphrase", "update"]  # unanswerable has no gold answer


def test_summary_text_lists_every_approach_with_n_and_intervals():
    text = make_comparison(8).summary_text()
    for a in APPROACHES:
        assert a.name in text
    assert "test 75% [" in text and "n=8]" in text  # the fine-tune's strict test score, with its interval


def test_estimates_resample_facts_and_pair_the_questions():
    c = make_comparison(8)
    e = c.estimate("fine-tune", "paraphrase")
    assert (e.value, e.n, e.groups) == (0.75, 8, 4)  # 8 questions, 2 per fact
    assert e.low <= 0.75 <= e.high and e.high - e.low > 0
    d = c.difference("RAFT", "closed-book", "paraphrase")
    assert d.value == 1.0 and d.low == d.high == 1.0  # every question flips: no resample can say otherwise
    with pytest.raises(ValueError, match="No 'strict' rows.*Fix"):
        c.estimate("fine-tune", "unanswerable")


def test_measures_from_gathers_test_split_estimates_and_every_claim_is_judged():
    from course_utils import claims as C
    from course_utils.experiments import measures_from

    c = make_comparison(8)
    experiments = {"reindex_seconds": 0.5, "retrain_seconds": 60.0, "chunks_full": 50, "docs_full": 16,
                   "index_seconds_full": 0.4, "recall_small": 1.0, "recall_full": 0.9, "recall_drop": 0.1,
                   "follow_effect": 0.4, "follow_planted": 0.4, "follow_clean": 0.0, "ft_aug_gain": 0.3,
                   "extra_phrasings": 3, "ft_phrasings": 1}
    m = measures_from(c, experiments)
    assert m["paraphrase_finetune_minus_rag"].value == pytest.approx(0.25)  # 0.75 - 0.5, on the test split
    assert m["paraphrase_finetune_minus_rag"].n == 8
    assert m["best_parent"] == "fine-tune"  # the better parent on the test split
    assert m["raft_minus_best_parent"].value == pytest.approx(0.25)
    assert m["p50_ratio_rag_over_finetune"].value == pytest.approx(0.9 / 0.2)
    assert m["sources_logged_rag"] == 1.0 and m["model"] == c.model_name
    verdicts = C.judge_all(m)
    assert len(verdicts) == len(C.CLAIMS)
    assert "inconclusive" in verdicts.set_index("claim").loc["RAG scales by growing the knowledge base", "verdict"]


def test_index_version_reads_v2_only_for_changed_facts():
    assert [approaches.index_version(s) for s in EVAL_SPLITS] == ["v1", "v1", "v2", "v1"]


def test_unknown_approach_and_missing_adapter_are_explained():
    with pytest.raises(ValueError, match="Unknown approach.*Fix"):
        approaches.get_approach("prompt tuning")
    with pytest.raises(ValueError, match="needs the 'fine-tune' adapter.*Fix"):
        approach_adapter(BY_NAME["fine-tune"], {})
    with pytest.raises(ValueError, match="Unknown adapter"):
        knobs.prepare_adapters(None, None, names=["nope"])


def test_planted_copy_targets_the_changed_facts_of_one_document():
    from course_utils.data import load_documents

    v1, v2 = load_documents("v1"), load_documents("v2")
    docs, targets, planted = experiments.planted_outdated_copy(v1, v2)
    assert len(docs) == len(v2) + 1 and planted.endswith("-old")
    copy = next(d for d in docs if d.doc_id == planted)
    assert copy.version == "v1" and copy.text == next(d.text for d in v1 if f"{d.doc_id}-old" == planted)
    assert targets and all(q.answers != q.stale_answers for q in targets)
    assert {q.doc_id for q in targets} == {planted[: -len("-old")]}


def test_stale_share():
    assert stale_share([{"stale": True}, {"stale": False}, {"stale": None}]) == 0.5
    assert math.isnan(stale_share([]))


# ------------------------------------------------------------------------------- with the model

@pytest.fixture()
def bench(generator, tmp_path):
    model, tokenizer = generator
    return Workbench(model, tokenizer, {}, EvalSettings(closed_max_new_tokens=4), cache_dir=tmp_path)


def test_results_are_cached_and_recomputed_when_an_input_changes(bench, tmp_path, monkeypatch):
    questions = eval_questions("train")[:2]
    first = bench.evaluate("closed-book", questions)
    files = list(tmp_path.glob("*.json"))
    assert len(first) == 2 and len(files) == 1
    assert {"answer", "contains", "prompt_tokens", "approach"} <= set(first[0])

    def refuse(*args, **kwargs):
        raise AssertionError("answered again although the answers were cached")

    monkeypatch.setattr(bench, "answer", refuse)
    assert bench.evaluate("closed-book", questions) == first  # read back, not recomputed
    with pytest.raises(AssertionError, match="answered again"):
        bench.evaluate("closed-book", questions[:1])  # other questions: another fingerprint
    files[0].write_text("{not json")  # a damaged entry is recomputed, not trusted
    with pytest.raises(AssertionError, match="answered again"):
        bench.evaluate("closed-book", questions)


def test_the_fingerprint_covers_settings_adapter_and_documents(bench):
    from course_utils.data import load_documents

    qs = eval_questions("train")[:2]
    closed = bench.fingerprint(BY_NAME["closed-book"], qs)
    bench.settings = EvalSettings(closed_max_new_tokens=5)
    assert bench.fingerprint(BY_NAME["closed-book"], qs) != closed
    bench.adapters = {"fine-tune": Path("/x/closed-book-aaaa"), "RAFT": Path("/x/raft-bbbb")}
    ft = bench.fingerprint(BY_NAME["fine-tune"], qs)
    bench.adapters["fine-tune"] = Path("/x/closed-book-cccc")
    assert bench.fingerprint(BY_NAME["fine-tune"], qs) != ft
    rag = BY_NAME["RAG"]
    assert bench.fingerprint(rag, qs, load_documents("v1")) != bench.fingerprint(rag, qs, load_documents("v2"))


def test_an_adapter_comes_off_after_answering(generator, tmp_path):
    import torch

    from course_utils.lora import add_lora, lora_config, save_adapter

    model, tokenizer = generator
    before = {n: p.detach().clone() for n, p in model.named_parameters() if "q_proj" in n}
    peft_model = add_lora(model, lora_config(r=2, model=model))
    save_adapter(peft_model, tmp_path / "adapter")
    peft_model.unload()
    with adapter_on(model, tmp_path / "adapter") as tuned:
        assert any("lora" in n for n, _ in tuned.named_parameters())
    assert not any("lora" in n for n, _ in model.named_parameters())
    after = dict(model.named_parameters())
    assert all(torch.equal(before[n], after[n]) for n in before)


# ------------------------------------------------------------------------------- exercises

def run_solution(name: str, namespace: dict) -> dict:
    exec((SOLUTIONS / f"{name}.py").read_text(), namespace)
    return namespace


def test_check_latency_verdict_accepts_the_solution_and_rejects_wrong_rules(capsys):
    from course_utils.exercises.compare import check_latency_verdict

    ns = run_solution("06_latency_verdict", {"check_latency_verdict": check_latency_verdict})
    assert passed(check_latency_verdict, ns["my_latency_verdict"])
    assert not passed(check_latency_verdict, lambda ft, rag: None)  # the notebook's unsolved cell
    assert not passed(check_latency_verdict, lambda ft, rag: "supported" if rag > ft else "refuted")  # no nuance
    assert not passed(check_latency_verdict, lambda ft, rag: "supported" if rag / ft > 1.5 else  # > instead of >=
                                     "refuted" if rag / ft < 1.1 else "nuanced")
    assert not passed(check_latency_verdict, lambda ft, rag: 1 / 0)
    assert "Not yet" in capsys.readouterr().out


def test_check_break_even_accepts_the_solution_and_rejects_wrong_numbers():
    from course_utils.exercises.compare import break_even_queries, check_break_even

    measures = {"training_seconds": 60.0, "p50_finetune": 0.2, "p50_rag": 0.8}
    ns = run_solution("06_break_even", {"check_break_even": check_break_even, "measures": measures})
    assert ns["break_even"] == pytest.approx(100.0)
    assert passed(check_break_even, 100.0, measures)
    assert not passed(check_break_even, None, measures)
    assert not passed(check_break_even, 60.0 / 0.8, measures)
    slower = {**measures, "p50_finetune": 0.9}
    assert break_even_queries(60.0, 0.9, 0.8) == math.inf
    assert passed(check_break_even, math.inf, slower) and not passed(check_break_even, 100.0, slower)


def test_results_files_are_json_with_their_fingerprint(bench, tmp_path):
    bench.evaluate("closed-book", eval_questions("unanswerable")[:1])
    [path] = tmp_path.glob("*.json")
    saved = json.loads(path.read_text())
    assert path.stem.endswith(saved["fingerprint"]) and saved["data"][0]["exact_match"] is None


def test_groups_are_cached_apart_and_only_missing_ones_are_answered(bench, monkeypatch):
    train, unanswerable = eval_questions("train")[:2], eval_questions("unanswerable")[:1]
    alone = bench.evaluate("closed-book", train)
    asked = []
    real = bench.answer
    monkeypatch.setattr(bench, "answer", lambda a, qs, *rest: asked.append([q.qid for q in qs]) or real(a, qs, *rest))
    both = bench.evaluate_groups("closed-book", {"closed-book-train": train, "closed-book-unanswerable": unanswerable})
    assert asked == [[unanswerable[0].qid]]  # the cached group was read back
    assert both["closed-book-train"] == alone and len(both["closed-book-unanswerable"]) == 1
