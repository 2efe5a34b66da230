"""The RAG and fine-tuning benchmarks measure the course's baselines at their best: with the knobs dev chose."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from course_utils.approaches import DEFAULT_SETTINGS
from course_utils.config import get_config
from course_utils.data import load_documents
from course_utils.sources import INSTRUCTIONS
from course_scripts import load_script


def test_bench_rag_asks_with_the_k_prompt_and_answer_length_of_the_comparison(generator):
    model, tokenizer = generator
    prompt = next(name for name in INSTRUCTIONS if name != DEFAULT_SETTINGS.prompt)  # not the untuned prompt
    settings = replace(DEFAULT_SETTINGS.with_k("RAG", 1), prompt=prompt, retriever="bm25")  # nor the untuned k
    rag = load_script("bench_rag").course_pipeline(model, tokenizer, load_documents("v1")[:8], settings)
    assert (rag.retriever.kind, rag.top_k, rag.instruction) == ("bm25", 1, INSTRUCTIONS[prompt])
    assert rag.max_new_tokens == settings.rag_max_new_tokens  # the comparison's cap, not the loop's short default


class _Stop(Exception):
    """Raised by the stand-in trainer: nothing after the first training matters here."""


def test_bench_finetune_reads_the_course_knobs_then_trains_in_a_fresh_cache(monkeypatch, tmp_path, generator):
    import course_utils.adapters as adapters
    import course_utils.knobs as knobs
    import course_utils.models as models

    course_cache = tmp_path / "course-cache"
    monkeypatch.setenv("COURSE_CACHE_DIR", str(course_cache))  # restored after the test, whatever main sets
    script, seen = load_script("bench_finetune"), {}
    monkeypatch.setattr(script, "describe", lambda: {"fp32_gflops": 100.0, "bf16_gflops": None})
    monkeypatch.setattr(script, "choose_precision", lambda: {"dtype": "float32"})
    monkeypatch.setattr(models, "load_generator", lambda: generator)

    def course_knobs(model, tokenizer, progress=True):
        seen["knobs from"] = get_config().cache_dir
        return SimpleNamespace(kwargs={"extra_phrasings": 3})

    def train(model, tokenizer, version, progress=True, **kwargs):
        seen["trained in"], seen["kwargs"] = get_config().cache_dir, kwargs
        raise _Stop

    monkeypatch.setattr(knobs, "fine_tune_knobs", course_knobs)
    monkeypatch.setattr(adapters, "closed_book_adapter", train)
    with pytest.raises(_Stop):
        script.main(["--out", str(tmp_path / "bench_finetune.json")])
    assert seen["knobs from"] == course_cache.resolve()  # the choice notebook 04 made, not a search of its own
    assert seen["trained in"] != course_cache.resolve()  # the adapter itself is trained now, never reused
    assert seen["kwargs"] == {"extra_phrasings": 3}
