"""The workbench: the model, its indexes and its adapters, answering for any approach, with a results cache.

Answers are cached per (approach, split) under ``<cache dir>/results/``, one
JSON file each, written atomically and named by a fingerprint of everything
that decides the answers: the approach, the adapter (its folder name holds the
fingerprint of its training), the base model, the questions, the documents
and the prompt settings. Change any of them and those answers are recomputed;
change nothing and a rerun reads them back in a fraction of a second.
Taught in 05 §1; notebook 06 runs every approach through it.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from . import generation, retrieval, sources
from .adapters import adapter_on
from .approaches import DEFAULT_SETTINGS, Approach, EvalSettings, get_approach, index_version
from .artifacts import fingerprint, write_text_atomic
from .config import get_config
from .evaluation.summaries import score_results
from .generation import build_prompt, count_tokens, timed_answer
from .lora import adapter_folder, base_fingerprint
from .rag import RagPipeline, answers_for

RESULTS_FORMAT = 5  # part of every results fingerprint: bump it when the meaning of a cached row changes


def approach_adapter(approach: Approach, adapters: dict) -> Path | None:
    """The folder of the adapter ``approach`` runs with (from ``adapters``, by its key), or None for the base model."""
    if approach.adapter is None:
        return None
    if approach.adapter not in adapters:
        raise ValueError(f"The approach {approach.name!r} needs the {approach.adapter!r} adapter. "
                         f"Fix: adapters = prepare_adapters(model, tokenizer, names=['{approach.adapter}']).")
    return adapter_folder(adapters[approach.adapter])


def prompt_settings() -> dict:
    """The prompt text and retrieval set-up: part of every fingerprint, so editing a prompt recomputes."""
    return {"system": generation.SYSTEM_PROMPT, "closed": generation.CLOSED_BOOK_INSTRUCTION,
            "instruction": sources.INSTRUCTION, "template": sources.QA_TEMPLATE, "chunk_size": retrieval.DEFAULT_CHUNK_SIZE,
            "embedder": get_config().embedder}


def documents_fingerprint(documents) -> str:
    return fingerprint(docs=[(d.doc_id, d.title, d.text) for d in documents])


def _hit_dict(hit) -> dict:
    return {"doc_id": hit.doc_id, "title": hit.title, "text": hit.text, "chunk_id": hit.chunk_id}


def score_rows(results, questions, retrieval: bool) -> list[dict]:
    """``evaluation.summaries.score_results`` rows, plus prompt tokens and the sources; citations only where there
    were sources."""
    rows = score_results(results, questions)
    for row, r, q in zip(rows, results, questions):
        row["answers"] = list(q.answers)
        row["prompt_tokens"] = r.timings.get("prompt_tokens")
        row["hits"] = [_hit_dict(h) for h in r.hits]
        if not retrieval:  # nothing to cite from: citation scores do not apply
            row.update(cited=None, citation_correct=None, retrieved="", gold_retrieved=None)
    return rows


def answer_without_sources(model, tokenizer, questions, settings: EvalSettings, progress: bool = True):
    """RagAnswer objects for closed-book prompts (no sources), in one batched run: scorable like RAG's."""
    asked = [(q.question, [], build_prompt(tokenizer, q.question)) for q in questions]
    results = answers_for(model, tokenizer, asked, settings.closed_max_new_tokens, progress=progress)
    for r in results:
        r.timings["prompt_tokens"] = count_tokens(tokenizer, r.prompt)
    return results


def settings_pipeline(model, tokenizer, retriever, settings: EvalSettings, approach: str = "RAG") -> RagPipeline:
    """The course's RAG pipeline on ``model`` (base or adapted), with the k and the prompt ``settings`` give
    ``approach``."""
    return RagPipeline(model, tokenizer, retriever, top_k=settings.k_for(approach),
                       max_new_tokens=settings.rag_max_new_tokens, instruction=settings.instruction_for(approach))


def answer_with_sources(model, tokenizer, retriever, questions, settings: EvalSettings, progress: bool = True,
                        approach: str = "RAG"):
    """RagAnswer objects from ``settings_pipeline``, batched."""
    pipeline = settings_pipeline(model, tokenizer, retriever, settings, approach)
    results = pipeline.ask_many([q.question for q in questions], progress=progress)
    for r in results:
        r.timings["prompt_tokens"] = count_tokens(tokenizer, r.prompt)
    return results


class Workbench:
    """The model, its indexes and its adapters: everything an approach needs to answer, with a results cache.

    ``evaluate(approach, questions, documents)`` returns one scored row per
    question, from the cache when the same answers were computed before (taught in 05 §1).
    """

    def __init__(self, model, tokenizer, adapters: dict | None = None, settings: EvalSettings = DEFAULT_SETTINGS,
                 cache_dir=None):
        self.model, self.tokenizer, self.adapters, self.settings = model, tokenizer, dict(adapters or {}), settings
        self.base = base_fingerprint(model)
        self.cache_dir = Path(cache_dir) if cache_dir else get_config().cache_dir / "results"
        self._indexes: dict[str, object] = {}
        self.index_seconds: dict[str, float] = {}  # seconds to build each index, keyed by documents fingerprint

    # -- indexes
    def index(self, documents):
        """The retriever over ``documents`` (built once per document set, and timed)."""
        key = documents_fingerprint(documents)
        if key not in self._indexes:
            if self.settings.retriever != "bm25":
                retrieval.default_embedder()  # loaded once, outside the timing: it is not part of indexing
            start = time.perf_counter()
            most = retrieval.kept_chunks(self.settings.top_k, *(k for _, k in self.settings.own_top_k))
            self._indexes[key] = retrieval.build_retriever(self.settings.retriever, documents, top_k=most)
            elapsed = time.perf_counter() - start
            self.index_seconds[key] = self.remember("index-seconds", {"documents": key}, lambda: elapsed)
        return self._indexes[key]

    def remember(self, label: str, parts: dict, measure):
        """``measure()``'s result, measured once and then read from the cache.

        Timings change a little from run to run; cached, the numbers and the
        verdicts built on them stay put. Delete ``<cache dir>/results`` to measure again.
        """
        stamp = fingerprint(label=label, base=self.base, settings=self.settings.generation(), format=RESULTS_FORMAT, **parts)
        path = self._path(label, stamp)
        value = self._read(path, stamp)
        if value is None:
            value = measure()
            self._write(path, stamp, value)
        return value

    # -- the cache
    def fingerprint(self, approach: Approach, questions, documents=None, kind: str = "answers") -> str:
        folder = approach_adapter(approach, self.adapters)
        return fingerprint(kind=kind, approach=approach.name, adapter=folder.name if folder else None, base=self.base,
                           questions=[(q.qid, q.question, q.answers, q.stale_answers) for q in questions],
                           documents=documents_fingerprint(documents) if approach.retrieval else None,
                           top_k=self.settings.k_for(approach.name) if approach.retrieval else None,
                           instruction=self.settings.instruction_for(approach) if approach.retrieval else None,
                           settings=self.settings.generation(), prompts=prompt_settings(), format=RESULTS_FORMAT)

    def _path(self, label: str, stamp: str) -> Path:
        slug = "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-")
        return self.cache_dir / f"{slug}-{stamp}.json"

    def _read(self, path: Path, stamp: str):
        try:
            saved = json.loads(path.read_text())
            return saved["data"] if saved.get("fingerprint") == stamp else None
        except (OSError, ValueError, KeyError, TypeError):  # missing or damaged: compute again
            return None

    def _write(self, path: Path, stamp: str, data) -> None:
        write_text_atomic(path, json.dumps({"fingerprint": stamp, "data": data}))

    # -- answering
    def answer(self, approach, questions, documents=None, progress: bool = True):
        """Live RagAnswer objects (no cache), e.g. for a question typed in a widget."""
        approach = get_approach(approach)
        with adapter_on(self.model, approach_adapter(approach, self.adapters)) as model:
            if approach.retrieval:
                return answer_with_sources(model, self.tokenizer, self.index(documents), questions, self.settings,
                                           progress, approach.name)
            return answer_without_sources(model, self.tokenizer, questions, self.settings, progress)

    def evaluate(self, approach, questions, documents=None, progress: bool = True):
        """Scored rows (dicts) for ``questions``: from the cache, or answered now and cached.

        The cache entry depends on what decides the answers, not on who asks:
        any notebook that evaluates the same approach on the same questions,
        documents and settings shares it.
        """
        return self.evaluate_groups(approach, {"rows": questions}, documents, progress)["rows"]

    def evaluate_groups(self, approach, groups: dict, documents=None, progress: bool = True) -> dict:
        """``evaluate`` for several question lists at once, {label: questions} -> {label: rows}.

        Each list is cached on its own, but the uncached ones are answered in
        one batched run: fewer, fuller batches than one run per list.
        """
        approach = get_approach(approach)
        if approach.retrieval and documents is None:
            raise ValueError(f"{approach.name} retrieves: pass the documents to index, e.g. load_documents('v1').")
        stamps = {label: self.fingerprint(approach, qs, documents) for label, qs in groups.items()}
        paths = {label: self._path(f"{approach.name}-{_split_of(qs)}", stamps[label]) for label, qs in groups.items()}
        rows = {label: self._read(paths[label], stamps[label]) for label in groups}
        missing = [label for label in groups if rows[label] is None]
        asked = [q for label in missing for q in groups[label]]
        if asked:
            scored = iter(score_rows(self.answer(approach, asked, documents, progress), asked, approach.retrieval))
            for label in missing:
                rows[label] = [next(scored) for _ in groups[label]]
                self._write(paths[label], stamps[label], rows[label])
        return {label: [dict(r, approach=approach.name) for r in rows[label]] for label in groups}

    def time_queries(self, approach, questions, documents=None) -> list[dict]:
        """Seconds for each question asked alone (retrieve, prefill, decode, total) and its prompt tokens; cached."""
        approach = get_approach(approach)
        stamp = self.fingerprint(approach, questions, documents, kind="latency")
        path = self._path(f"{approach.name}-latency", stamp)
        timings = self._read(path, stamp)
        if timings is None:
            timings = self._time(approach, questions, documents)
            self._write(path, stamp, timings)
        return timings

    def _time(self, approach: Approach, questions, documents) -> list[dict]:
        timings = []
        with adapter_on(self.model, approach_adapter(approach, self.adapters)) as model:
            if approach.retrieval:
                pipeline = settings_pipeline(model, self.tokenizer, self.index(documents), self.settings, approach.name)
                pipeline.ask(questions[0].question)  # warm-up: the first call pays one-off costs
                return [pipeline.ask(q.question).timings for q in questions]
            timed_answer(model, self.tokenizer, build_prompt(self.tokenizer, questions[0].question), 2)  # warm-up
            for q in questions:
                prompt = build_prompt(self.tokenizer, q.question)
                _, prefill, decode = timed_answer(model, self.tokenizer, prompt, self.settings.closed_max_new_tokens)
                timings.append({"retrieve": 0.0, "prefill": prefill, "decode": decode, "total": prefill + decode,
                                "prompt_tokens": count_tokens(self.tokenizer, prompt)})
        return timings


def _split_of(questions) -> str:
    """The split the questions share (for a readable file name), or 'mixed'."""
    splits = {getattr(q, "split", "typed") for q in questions}
    return splits.pop() if len(splits) == 1 else "mixed"


def evaluate_approaches(bench, approaches, questions_by_split, documents_by_version, progress: bool = True):
    """Scored rows of every approach on every split, through notebook 06's cached runner.

    ``bench``: a ``Workbench`` holding the adapters. The update split is
    answered over the v2 documents (its facts changed), the rest over v1
    (``approaches.index_version``). Answers are cached, so notebook 06 reads
    these back. Taught in 05 §3.
    """
    by_version = {}
    for split, questions in questions_by_split.items():  # one batched run per approach and document set
        by_version.setdefault(index_version(split), {})[split] = questions
    rows = []
    for name in approaches:
        answered = {}
        for version, groups in by_version.items():
            answered |= bench.evaluate_groups(name, groups, documents_by_version[version], progress=progress)
        rows += [row for split in questions_by_split for row in answered[split]]
    return rows
