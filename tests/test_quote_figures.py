"""scripts/quote_figures.py quotes the measured files, and only them, into the docs.

Every test builds a small fake checkout in a temporary folder, with synthetic
figures chosen so that they cannot appear by accident, and points the script
at it.
"""
from __future__ import annotations

import json
import math
import re

import pytest

from course_scripts import load_script
from course_utils.config import REPO_ROOT


def region(name: str) -> str:
    return f"<!-- figures:{name}:start -->\nstale text\n<!-- figures:{name}:end -->"


def inside(text: str, name: str) -> str:
    match = re.search(f"<!-- figures:{name}:start -->(.*?)<!-- figures:{name}:end -->", text, re.S)
    assert match, f"region {name} is missing"
    return match[1]


def notebook(title: str, words: int, exercises: int) -> dict:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": [f"# {title}\n", "word " * words]}]
    cells += [{"cell_type": "code", "metadata": {}, "source": f"answer = None\ncheck_thing_{i}(answer)",
               "outputs": [], "execution_count": None} for i in range(exercises)]
    cells.append({"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [], "execution_count": None})
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def described(cores: int, cpu: str) -> dict:
    """A machine as course_utils.machine.describe() records it."""
    return {"cores": cores, "cpu": cpu, "torch_threads": cores, "native_bf16": False,
            "fp32_gflops": 12.34, "bf16_gflops": 0.56, "bandwidth_gbs": 7.89}


BUDGET = {"machine": "the run's machine as text", "machine_description": described(7, "synthbox"),
          "seconds": {"00_alpha.ipynb": 123.4, "01_beta.ipynb": 456.7},
          "peak_rss_mb": {"00_alpha.ipynb": 1111, "01_beta.ipynb": 4321}}
BENCH = {
    "models": {"machine": described(5, "benchbox"), "generator_first_load_s": 87.65,
               "generator_first_load_peak_rss_mb": 2718,
               "generation": {"single_tokens_per_s": 31.4, "batch16_tokens_per_s": 271.8}},
    "retrieval": {"machine": described(3, "retrbox"),
                  "settings": {"questions": "paraphrase (held out)", "top_k": 5},
                  "retrievers": {"hybrid": {"build_s": 6.54, "paraphrase": {"n": 9, "recall@1": 0.777,
                                                                          "recall@5": 0.888, "mrr": 0.8123},
                                            "latency_ms": {"p50": 42.42, "p95": 77.77}}},
                  "targets": {"recall": {"target": ">= 0.5", "measured": 0.888, "met": True}}},
    "rag": {"machine": described(4, "ragbox"), "accuracy": {"contains": 0.6543}, "seconds_per_query": 1.234},
}
CLOSED_BOOK = {"generator": "synthetic-generator", "machine": "cbbox",  # text, as data/closed_book.json has it
               "train": {"n": 77, "exact_match": 0.125, "contains": 0.375, "f1": 0.4567},
               "seconds": 65.4}


@pytest.fixture
def fake_repo(tmp_path, monkeypatch):
    """A checkout with two notebooks, the three docs with all their regions, and no measurements yet."""
    qf = load_script("quote_figures")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "build").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "notebooks" / "00_alpha.ipynb").write_text(json.dumps(notebook("00 · Alpha", 300, 2)))
    (tmp_path / "notebooks" / "01_beta.ipynb").write_text(json.dumps(notebook("01 · Beta", 700, 1)))
    readme = "# Course\n\nintro text\n\n" + "\n\n".join(region(n) for n in ("notebooks", "benchmarks", "closed-book"))
    (tmp_path / "README.md").write_text(readme + "\n\n## Troubleshooting\nkeep me\n")
    (tmp_path / "docs" / "INSTRUCTORS.md").write_text(
        "# Guide\n\n" + "\n\n".join(region(n) for n in ("timing", "plan-90", "plan-halfday")) + "\n")
    (tmp_path / "docs" / "JUPYTERHUB.md").write_text("# Hub\n\n" + region("memory") + "\n")
    monkeypatch.setattr(qf, "NOTEBOOKS", tmp_path / "notebooks")
    monkeypatch.setattr(qf, "BUDGET", tmp_path / "notebooks" / "budget.json")
    monkeypatch.setattr(qf, "BUILD", tmp_path / "build")
    monkeypatch.setattr(qf, "BENCH", tmp_path / "build" / "bench.json")
    monkeypatch.setattr(qf, "CLOSED_BOOK", tmp_path / "data" / "closed_book.json")
    monkeypatch.setattr(qf, "TARGETS", [tmp_path / "README.md", tmp_path / "docs" / "INSTRUCTORS.md",
                                        tmp_path / "docs" / "JUPYTERHUB.md"])
    return qf, tmp_path


def write_measurements(root, budget=True, bench=True, closed_book=True):
    if budget:
        (root / "notebooks" / "budget.json").write_text(json.dumps(BUDGET))
    if bench:
        (root / "build" / "bench.json").write_text(json.dumps(BENCH))
    if closed_book:
        (root / "data" / "closed_book.json").write_text(json.dumps(CLOSED_BOOK))


def read_all(root) -> dict[str, str]:
    return {p: (root / p).read_text() for p in ("README.md", "docs/INSTRUCTORS.md", "docs/JUPYTERHUB.md")}


def test_tables_quote_the_synthetic_figures_and_their_machines(fake_repo):
    qf, root = fake_repo
    write_measurements(root)
    assert qf.main([]) == 0
    docs = read_all(root)
    notebooks = inside(docs["README.md"], "notebooks")
    for figure in ("123.4", "456.7", "1111", "4321", "580.1",
                   "7 cores, synthbox, 7 torch threads, 12.34 GFLOP/s float32, 0.56 GFLOP/s bfloat16 (emulated), "
                   "7.89 GB/s memory copy"):
        assert figure in notebooks, figure
    benchmarks = inside(docs["README.md"], "benchmarks")
    for figure in ("87.65", "2718", "31.4", "271.8", "5 cores, benchbox",   # models
                   "0.777", "0.888", "0.812", "42.42", "77.77", "6.54", "3 cores, retrbox",  # retrieval
                   "0.654", "1.234", "4 cores, ragbox"):                     # rag, quoted generically
        assert figure in benchmarks, figure
    assert "**Fine-tuning**: not measured yet" in benchmarks
    closed = inside(docs["README.md"], "closed-book")
    for figure in ("| train | 77 | 12.5% | 37.5% | 0.46 |", "synthetic-generator", "cbbox", "65.4"):
        assert figure in closed
    timing = inside(docs["docs/INSTRUCTORS.md"], "timing")
    assert "| `00_alpha` | Alpha | 123.4 | 1111 | 302 | 2 |" in timing  # 300 words + "00" and "Alpha"
    memory = inside(docs["docs/JUPYTERHUB.md"], "memory")
    assert "4321 MB (`01_beta`)" in memory and "2718 MB" in memory and "| 7 |" in memory
    assert "stale text" not in "".join(docs.values())


def test_estimates_follow_the_measured_run_time_and_the_stated_assumptions(fake_repo):
    qf, root = fake_repo
    write_measurements(root)
    rows = {r["name"]: r for r in qf.estimates(qf.load_figures())}
    beta = rows["01_beta.ipynb"]
    assert beta["words"] == 702 and beta["exercises"] == 1  # 700 + the title line's "01" and "Beta"
    from course_utils import kit

    code_min = 3 * kit.SECONDS_PER_CODE_LINE / 60  # two lines of the exercise cell, one of the last cell
    read_min = 702 / kit.WORDS_PER_MINUTE + code_min
    expected = 456.7 / 60 + read_min + kit.MINUTES_PER_EXERCISE
    assert beta["hands_on"] == math.ceil(expected)  # rounded up
    expected_demo = 456.7 / 60 + read_min * qf.DEMO_READING_SHARE
    assert beta["demo"] == math.ceil(expected_demo)


def test_memory_suggestions_come_from_the_largest_peak(fake_repo):
    qf, root = fake_repo
    write_measurements(root)
    memory = qf.render_memory(qf.load_figures())
    guarantee = qf.round_up(4321 * qf.MEMORY_HEADROOM)
    assert guarantee >= 4321 * qf.MEMORY_HEADROOM and guarantee % qf.ROUND_MEMORY_TO_MB == 0
    assert f"| {guarantee}M |" in memory
    assert f"{guarantee * qf.CLASS_SIZE / 1024:.1f} GB" in memory


def test_missing_files_say_not_measured_and_do_not_fail(fake_repo):
    qf, root = fake_repo
    assert qf.main([]) == 0
    docs = read_all(root)
    for path, name in [("README.md", "notebooks"), ("README.md", "benchmarks"), ("README.md", "closed-book"),
                       ("docs/INSTRUCTORS.md", "timing"), ("docs/JUPYTERHUB.md", "memory")]:
        assert qf.NOT_MEASURED in inside(docs[path], name), (path, name)
    # No number is invented: the notebook table has no figure at all without a budget.
    assert not re.search(r"\| \d", inside(docs["README.md"], "notebooks"))
    # The plans still use what the notebooks themselves say, and warn that run times are missing.
    assert "lower bound" in inside(docs["docs/INSTRUCTORS.md"], "plan-90")


def test_a_missing_bench_section_is_read_from_its_own_file(fake_repo):
    qf, root = fake_repo
    (root / "build" / "bench.json").write_text(json.dumps({"retrieval": BENCH["retrieval"]}))
    (root / "build" / "bench_models.json").write_text(json.dumps(BENCH["models"]))
    benchmarks = qf.render_benchmarks(qf.load_figures())
    assert "42.42" in benchmarks and "87.65" in benchmarks
    assert "`build/bench_models.json`" in benchmarks
    assert "**RAG**: not measured yet" in benchmarks


def test_a_corrupt_file_is_reported_and_treated_as_not_measured(fake_repo, capsys):
    qf, root = fake_repo
    (root / "notebooks" / "budget.json").write_text("{not json")
    assert qf.main([]) == 0
    assert "budget.json could not be read" in capsys.readouterr().err
    assert qf.NOT_MEASURED in inside((root / "README.md").read_text(), "notebooks")


def test_running_twice_changes_nothing(fake_repo, capsys):
    qf, root = fake_repo
    write_measurements(root)
    qf.main([])
    first = read_all(root)
    capsys.readouterr()
    qf.main([])
    assert read_all(root) == first
    assert capsys.readouterr().out.count("unchanged") == 3


def test_text_outside_the_markers_is_kept(fake_repo):
    qf, root = fake_repo
    write_measurements(root)
    qf.main([])
    readme = (root / "README.md").read_text()
    assert readme.startswith("# Course\n\nintro text\n\n")
    assert readme.endswith("## Troubleshooting\nkeep me\n")


def test_budget_option_quotes_another_timings_file(fake_repo):
    qf, root = fake_repo
    other = dict(BUDGET, machine_description=described(3, "learner laptop"), seconds={"00_alpha.ipynb": 98.7})
    (root / "mine.json").write_text(json.dumps(other))
    qf.main(["--budget", str(root / "mine.json")])
    notebooks = inside((root / "README.md").read_text(), "notebooks")
    assert "98.7" in notebooks and "3 cores, learner laptop" in notebooks


def test_a_plan_over_its_slot_demotes_the_least_essential_notebooks(fake_repo):
    qf, _ = fake_repo
    names = [f"0{i}_nb.ipynb" for i in range(7)]
    parts = {"reading": 20.0, "code": 10.0, "exercises": 36.0}
    figures = {"notebooks": {n: {"title": n, "words": 2000, "exercises": 3, "learner_minutes": parts} for n in names},
               "budget": {"machine": "m", "seconds": {n: 300.0 for n in names}, "peak_rss_mb": {}}}
    for key, plan in qf.PLANS.items():
        segments, total = qf.plan_segments(figures, plan)
        assert total <= plan["budget_min"], key
        modes = {s["title"][1:3]: s["mode"] for s in segments if s["title"].startswith("`")}
        assert modes[plan["priority"][0]] == "hands-on", key  # the most essential notebook stays hands-on
        assert any(m in ("demo", "after the session") for m in modes.values()), key
        rendered = qf.render_plan(figures, key)
        assert f"of {plan['budget_min']} min" in rendered


def test_short_notebooks_all_stay_hands_on(fake_repo):
    qf, _ = fake_repo
    names = [f"0{i}_nb.ipynb" for i in range(3)]
    parts = {"reading": 1.0, "code": 1.0, "exercises": 12.0}
    figures = {"notebooks": {n: {"title": n, "words": 100, "exercises": 1, "learner_minutes": parts} for n in names},
               "budget": {"machine": "m", "seconds": {n: 10.0 for n in names}, "peak_rss_mb": {}}}
    segments, _ = qf.plan_segments(figures, qf.PLANS["plan-halfday"])
    assert {s["mode"] for s in segments if s["title"].startswith("`")} == {"hands-on"}


@pytest.mark.parametrize("text, message", [
    ("<!-- figures:nosuch:start -->\n<!-- figures:nosuch:end -->", "unknown figures region"),
    ("<!-- figures:notebooks:start -->\nno end", "has no end marker"),
    ("<!-- figures:notebooks:end -->", "no matching start"),
])
def test_broken_markers_give_a_clear_error(fake_repo, text, message):
    qf, _ = fake_repo
    with pytest.raises(ValueError, match=message):
        qf.rewrite(text, {})


def test_the_headline_table_compares_each_figure_with_its_target(fake_repo):
    qf, root = fake_repo
    budget = dict(BUDGET, total_seconds=580.1, total_work_gflop=98765)
    bench = dict(BENCH, rag={"latency": {"p50_s": 1.2}, "limits": {"decode_share_of_bound": 0.31}},
                 finetune={"mfu": 0.42})
    figures = {"budget": budget, "bench": bench}
    rows = {r[0]: r[1:] for r in qf.headline_rows(figures)}
    assert rows["whole course, `make course`"] == ["580.1 s", f"≤ {qf.run_course.COURSE_SECONDS_TARGET} s", "no"]
    assert rows["largest kernel peak"][0] == "4321 MB" and rows["largest kernel peak"][2] == "no"
    assert rows["RAG query, median"] == ["1.2 s", "≤ 1.5 s", "yes"]
    assert rows["prefill, share of the matmul rate"][0] == qf.NOT_MEASURED  # never invented
    text = qf.render_headline(figures)
    assert "98,765 GFLOP" in text and "synthbox" in text and "docs/BENCHMARKS.md" in text
    assert all(r[1] == qf.NOT_MEASURED for r in qf.headline_rows({}))


def test_the_course_docs_carry_the_marker_pairs():
    qf = load_script("quote_figures")
    expected = {"README.md": {"headline"}, "docs/BENCHMARKS.md": {"notebooks", "benchmarks", "closed-book"},
                "docs/INSTRUCTORS.md": {"timing", "plan-90", "plan-halfday"},
                "docs/JUPYTERHUB.md": {"memory"}, "docs/SCALING.md": {"scale"}}
    for path, names in expected.items():
        text = (REPO_ROOT / path).read_text()
        qf.check_markers(text, path)  # balanced, and every name known to the script
        for name in names:
            assert text.count(f"<!-- figures:{name}:start -->") == 1, (path, name)
            assert text.count(f"<!-- figures:{name}:end -->") == 1, (path, name)
    readme = (REPO_ROOT / "README.md").read_text()
    assert readme.index("## Measured figures") < readme.index("## Troubleshooting")
    # A newcomer reads what the course is, the quick start and the notebooks, then the figures: about two screens.
    assert readme[:readme.index("## Measured figures")].count("\n") <= 100


SCALE = {"machine": described(6, "scalebox"), "complete": True,
         "settings": {"questions": "paraphrase (held out), 224", "rag_top_k": 2},
         "curve": [{"search": "exact", "chunks": 100000, "build_s": 0.0, "memory_mb": 146.5, "recall@5": 0.8312,
                    "mrr": 0.7691, "p50_ms": 12.07, "p95_ms": 14.5}],
         "rag_strict": {"100000": {"value": 0.5, "low": 0.25, "high": 0.75, "n": 16}},
         "embedding": {"chunks": 100000, "seconds": 1234.5, "chunks_per_s": 81.0},
         "chroma_server": {"chunks": 100000, "ingest_per_s": 987.6, "p50_ms": 3.21, "p95_ms": 6.54},
         "random_curve": [{"search": "hnsw", "chunks": 1000000, "build_s": 432.1, "memory_mb": 2100.0,
                           "p50_ms": 1.11, "p95_ms": 2.22}]}


def test_the_scale_curve_is_quoted_alone_with_its_machine(fake_repo):
    qf, root = fake_repo
    (root / "docs" / "SCALING.md").write_text("# Scaling\n\n" + region("scale") + "\n")
    qf.TARGETS.append(root / "docs" / "SCALING.md")
    assert qf.main([]) == 0
    assert "not measured yet" in inside((root / "docs" / "SCALING.md").read_text(), "scale")
    (root / "build" / "bench.json").write_text(json.dumps({"scale": SCALE}))
    assert qf.main([]) == 0
    scale = inside((root / "docs" / "SCALING.md").read_text(), "scale")
    for figure in ("| 100,000 | exact | 0.831 | 0.769 | 12.07 | 14.50 | 0.00 | 146.5 |", "k = 2 (chosen on dev)",
                   "| 100,000 | 16 | 50.0% | 25.0% – 75.0% |", "1234 s, 81 chunks/s", "ingest 988 chunks/s",
                   "p50 3.21 ms", "| 1,000,000 | HNSW | 1.11 | 2.22 | 432.10 | 2100.0 |", "6 cores, scalebox"):
        assert figure in scale, figure
    assert "stopped before its end" not in scale


def test_an_extra_chapter_reads_as_outside_the_course_run_not_as_unmeasured(fake_repo, monkeypatch):
    qf, _ = fake_repo
    monkeypatch.setattr(qf.run_course, "EXTRA_NOTEBOOKS", ("01_beta.ipynb",))
    measured = {"00_alpha.ipynb": 12.0}
    figures = {"notebooks": {"00_alpha.ipynb": {}, "01_beta.ipynb": {}, "02_gamma.ipynb": {}},
               "budget": {"machine": "m", "seconds": measured, "peak_rss_mb": {"00_alpha.ipynb": 900}}}
    rows = {line.split("|")[1].strip(): line for line in qf.render_notebooks(figures).splitlines() if line.startswith("| `")}
    assert rows["`01_beta`"].count(qf.OUTSIDE_COURSE) == 2  # its time and its memory
    assert qf.NOT_MEASURED in rows["`02_gamma`"] and qf.OUTSIDE_COURSE not in rows["`02_gamma`"]  # a main chapter
    assert "(measured notebooks only)" in qf.render_notebooks(figures)  # 02 is missing from the total
    del figures["notebooks"]["02_gamma.ipynb"]
    assert "(measured notebooks only)" not in qf.render_notebooks(figures)  # the extra chapter is not
