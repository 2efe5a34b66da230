"""Every approach over the same questions: the runner behind notebook 06.

    from course_utils.comparison import run_comparison

    comparison = run_comparison(model, tokenizer)   # loads (or trains) the adapters, reuses cached answers
    comparison.table()                              # one row per approach
    comparison.split_table("contains")              # approach × split

Five approaches answer the fixed evaluation sample of every split
(``data.eval_questions``):

- **closed-book**: the base model, the question alone;
- **RAG**: the base model with retrieved, numbered sources (``course_utils.rag``);
- **fine-tune**: the LoRA adapter trained on the v1 facts, the question alone;
- **fine-tune + RAG**: that adapter, with retrieved sources;
- **RAFT**: an adapter trained on questions with retrieved sources and distractors.

Retrieval reads the v1 documents, except for the *update* split, whose facts
changed: its questions go to a v2 index, as after a re-index. The adapters
were trained on v1 and are not retrained, which is what a team that does not
retrain would ship.

Answers are cached per (approach, split) under ``<cache dir>/results/``, one
JSON file each, written atomically and named by a fingerprint of everything
that decides the answers: the approach, the adapter (its folder name holds the
fingerprint of its training), the base model, the questions, the documents
and the prompt settings. Change any of them and those answers are recomputed;
change nothing and a rerun reads them back in a fraction of a second.
"""
from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .artifacts import fingerprint, write_text_atomic
from .config import get_config
from .data import EVAL_SPLITS, eval_questions, load_documents
from .evaluation import Estimate, bootstrap

FORMAT = 4  # part of every results fingerprint: bump it when the meaning of a cached row changes
TEST_SPLIT = "paraphrase"  # held-out phrasings, never trained or tuned on: what verdicts rest on


# ------------------------------------------------------------------------------- approaches

@dataclass(frozen=True)
class Approach:
    name: str
    adapter: str | None  # key of the adapter it runs with (see prepare_adapters); None = the base model
    retrieval: bool  # are retrieved sources put into the prompt?


APPROACHES = (
    Approach("closed-book", None, False),
    Approach("RAG", None, True),
    Approach("fine-tune", "fine-tune", False),
    Approach("fine-tune + RAG", "fine-tune", True),
    Approach("RAFT", "RAFT", True),
)
BY_NAME = {a.name: a for a in APPROACHES}
COLOURS = {"closed-book": "#9d9d9d", "RAG": "#4c78a8", "fine-tune": "#f58518", "fine-tune + RAG": "#54a24b",
           "RAFT": "#b279a2"}


def get_approach(name) -> Approach:
    if isinstance(name, Approach):
        return name
    if name not in BY_NAME:
        raise ValueError(f"Unknown approach {name!r}. Fix: use one of {list(BY_NAME)}.")
    return BY_NAME[name]


@dataclass(frozen=True)
class EvalSettings:
    """What decides the answers (all of it goes into the cache fingerprint) and how fast they come.

    The defaults are the untuned starting point; ``course_utils.tuning`` picks
    each retrieving approach's k on the dev split (notebooks 03 and 05), and the comparison runs with those.
    """
    n: int | None = None  # questions per split: None = the whole split, as every headline figure needs
    retriever: str = "hybrid"
    top_k: int = 3  # chunks in the prompt: RAG's, and any retrieving approach's without its own below
    own_top_k: tuple[tuple[str, int], ...] = ()  # (approach, k) chosen for that approach on the dev split
    # Generous caps, so that a cut answer is rare, and the share cut off is reported ("cut off" in the table):
    # answers stop at their first line break, so a high cap costs nothing when the model answers briefly.
    closed_max_new_tokens: int = 32
    rag_max_new_tokens: int = 32
    latency_queries: int = 12  # questions timed one at a time, per approach, for p50/p95

    def generation(self) -> dict:
        """The settings that change every approach's answers; k goes in per approach (``k_for``)."""
        return {k: v for k, v in asdict(self).items() if k not in ("latency_queries", "top_k", "own_top_k")}

    def k_for(self, approach: str) -> int:
        """Chunks in the prompt of ``approach``: its own k if one was chosen for it, else ``top_k``."""
        return dict(self.own_top_k).get(approach, self.top_k)

    def with_k(self, approach: str, k: int) -> "EvalSettings":
        """These settings with ``approach`` reading ``k`` chunks (RAG's k is ``top_k`` itself)."""
        if approach == "RAG":
            return replace(self, top_k=k)
        return replace(self, own_top_k=tuple(sorted({**dict(self.own_top_k), approach: k}.items())))


DEFAULT_SETTINGS = EvalSettings()


def index_version(split: str) -> str:
    """Which documents retrieval reads for a split: v2 for the facts that changed, v1 otherwise."""
    return "v2" if split == "update" else "v1"


# ------------------------------------------------------------------------------- adapters

def closed_book_adapter(model, tokenizer, version: str = "v1", extra_phrasings: int = 0, progress: bool = True):
    """The closed-book LoRA adapter of notebook 04 (reused from the cache, or trained now)."""
    from .finetune import closed_book_adapter as recipe

    return recipe(model=model, tokenizer=tokenizer, version=version, extra_phrasings=extra_phrasings, progress=progress)


def sweep_adapter(model, tokenizer, extra_phrasings: int, progress: bool = True):
    """One adapter of notebook 04's paraphrase sweep (reused from the cache, or trained now)."""
    from .finetune import sweep_adapter as recipe

    return recipe(model, tokenizer, extra_phrasings=extra_phrasings, progress=progress)


def raft_adapter(model, tokenizer, progress: bool = True):
    """The RAFT-style adapter of notebook 05 (reused from the cache, or trained now)."""
    from . import hybrid
    return hybrid.raft_adapter(model=model, tokenizer=tokenizer, progress=progress)


ADAPTER_RECIPES = {
    "fine-tune": lambda m, t, p: closed_book_adapter(m, t, "v1", 0, p),
    "RAFT": raft_adapter,
    "fine-tune v2": lambda m, t, p: closed_book_adapter(m, t, "v2", 0, p),  # retrained after the change
    # The paraphrase sweep of notebook 04 (a few facts, cheap): the same facts with 0 and with 3 extra phrasings.
    "sweep +0 phrasings": lambda m, t, p: sweep_adapter(m, t, 0, p),
    "sweep +3 phrasings": lambda m, t, p: sweep_adapter(m, t, 3, p),
}


def prepare_adapters(model, tokenizer, names=("fine-tune", "RAFT"), progress: bool = True) -> dict:
    """{name: AdapterRun}: each adapter reused from the cache when notebooks 04/05 trained it, else trained now."""
    runs = {}
    for name in names:
        if name not in ADAPTER_RECIPES:
            raise ValueError(f"Unknown adapter {name!r}. Fix: use one of {list(ADAPTER_RECIPES)}.")
        print(f"[{name}] ", end="", flush=True)  # the recipe says whether it reuses or trains
        runs[name] = ADAPTER_RECIPES[name](model, tokenizer, progress)
    return runs


@contextmanager
def adapted(model, folder):
    """The model with the adapter in ``folder`` on it (the base model when ``folder`` is None); taken off after."""
    if folder is None:
        yield model
        return
    from .finetune import finetuned_model

    peft_model = finetuned_model(model, folder)
    try:
        yield peft_model
    finally:
        peft_model.unload()  # the LoRA branches come off: the caller's base model is as it was


def adapter_folder(approach: Approach, adapters: dict):
    if approach.adapter is None:
        return None
    if approach.adapter not in adapters:
        raise ValueError(f"The approach {approach.name!r} needs the {approach.adapter!r} adapter. "
                         f"Fix: adapters = prepare_adapters(model, tokenizer, names=['{approach.adapter}']).")
    run = adapters[approach.adapter]
    return Path(getattr(run, "folder", run))


# ------------------------------------------------------------------------------- answering

def prompt_settings() -> dict:
    """The prompt text and retrieval set-up: part of every fingerprint, so editing a prompt recomputes."""
    from . import generation, rag, retrieval

    return {"system": generation.SYSTEM_PROMPT, "closed": generation.CLOSED_BOOK_INSTRUCTION,
            "instruction": rag.INSTRUCTION, "template": rag.QA_TEMPLATE, "chunk_size": retrieval.DEFAULT_CHUNK_SIZE,
            "embedder": get_config().embedder}


def documents_fingerprint(documents) -> str:
    return fingerprint(docs=[(d.doc_id, d.title, d.text) for d in documents])


def _hit_dict(hit) -> dict:
    return {"doc_id": hit.doc_id, "title": hit.title, "text": hit.text, "chunk_id": hit.chunk_id}


def score_rows(results, questions, retrieval: bool) -> list[dict]:
    """``rag.score_results`` rows, plus prompt tokens and the sources; citations only where there were sources."""
    from .rag import score_results

    rows = score_results(results, questions)
    for row, r, q in zip(rows, results, questions):
        row["answers"] = list(q.answers)
        row["prompt_tokens"] = r.timings.get("prompt_tokens")
        row["hits"] = [_hit_dict(h) for h in r.hits]
        if not retrieval:  # nothing to cite from: citation scores do not apply
            row.update(cited=None, citation_correct=None, retrieved="", gold_retrieved=None)
    return rows


def answer_closed_book(model, tokenizer, questions, settings: EvalSettings, progress: bool = True):
    """RagAnswer objects for closed-book prompts (no sources), in one batched run."""
    from .generation import build_prompt, count_tokens
    from .rag import answers_for

    asked = [(q.question, [], build_prompt(tokenizer, q.question)) for q in questions]
    results = answers_for(model, tokenizer, asked, settings.closed_max_new_tokens, progress=progress)
    for r in results:
        r.timings["prompt_tokens"] = count_tokens(tokenizer, r.prompt)
    return results


def answer_with_sources(model, tokenizer, retriever, questions, settings: EvalSettings, progress: bool = True,
                        top_k: int | None = None):
    """RagAnswer objects from the course's RAG pipeline run on ``model`` (base or adapted), batched."""
    from .generation import count_tokens
    from .rag import RagPipeline

    pipeline = RagPipeline(model, tokenizer, retriever, top_k=top_k or settings.top_k,
                           max_new_tokens=settings.rag_max_new_tokens)
    results = pipeline.ask_many([q.question for q in questions], progress=progress)
    for r in results:
        r.timings["prompt_tokens"] = count_tokens(tokenizer, r.prompt)
    return results


def percentile(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


class Workbench:
    """The model, its indexes and its adapters: everything an approach needs to answer, with a results cache.

    ``evaluate(approach, questions, documents)`` returns one scored row per
    question, from the cache when the same answers were computed before.
    """

    def __init__(self, model, tokenizer, adapters: dict | None = None, settings: EvalSettings = DEFAULT_SETTINGS,
                 cache_dir=None):
        from .lora import base_fingerprint

        self.model, self.tokenizer, self.adapters, self.settings = model, tokenizer, dict(adapters or {}), settings
        self.base = base_fingerprint(model)
        self.cache_dir = Path(cache_dir) if cache_dir else get_config().cache_dir / "results"
        self._indexes: dict[str, object] = {}
        self.index_seconds: dict[str, float] = {}  # seconds to build each index, keyed by documents fingerprint

    # -- indexes
    def index(self, documents):
        """The retriever over ``documents`` (built once per document set, and timed)."""
        from .retrieval import build_retriever, default_embedder

        key = documents_fingerprint(documents)
        if key not in self._indexes:
            if self.settings.retriever != "bm25":
                default_embedder()  # loaded once, outside the timing: it is not part of indexing
            start = time.perf_counter()
            most = max([self.settings.top_k, 5] + [k for _, k in self.settings.own_top_k])
            self._indexes[key] = build_retriever(self.settings.retriever, documents, top_k=most)
            elapsed = time.perf_counter() - start
            self.index_seconds[key] = self.remember("index-seconds", {"documents": key}, lambda: elapsed)
        return self._indexes[key]

    def remember(self, label: str, parts: dict, measure):
        """``measure()``'s result, measured once and then read from the cache.

        Timings change a little from run to run; cached, the numbers and the
        verdicts built on them stay put. Delete ``<cache dir>/results`` to measure again.
        """
        stamp = fingerprint(label=label, base=self.base, settings=self.settings.generation(), format=FORMAT, **parts)
        path = self._path(label, stamp)
        value = self._read(path, stamp)
        if value is None:
            value = measure()
            self._write(path, stamp, value)
        return value

    # -- the cache
    def fingerprint(self, approach: Approach, questions, documents=None, kind: str = "answers") -> str:
        folder = adapter_folder(approach, self.adapters)
        return fingerprint(kind=kind, approach=approach.name, adapter=folder.name if folder else None, base=self.base,
                           questions=[(q.qid, q.question, q.answers, q.stale_answers) for q in questions],
                           documents=documents_fingerprint(documents) if approach.retrieval else None,
                           top_k=self.settings.k_for(approach.name) if approach.retrieval else None,
                           settings=self.settings.generation(), prompts=prompt_settings(), format=FORMAT)

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
        with adapted(self.model, adapter_folder(approach, self.adapters)) as model:
            if approach.retrieval:
                return answer_with_sources(model, self.tokenizer, self.index(documents), questions, self.settings,
                                           progress, self.settings.k_for(approach.name))
            return answer_closed_book(model, self.tokenizer, questions, self.settings, progress)

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
        from .generation import build_prompt, count_tokens
        from .rag import RagPipeline, timed_generate

        timings = []
        with adapted(self.model, adapter_folder(approach, self.adapters)) as model:
            if approach.retrieval:
                pipeline = RagPipeline(model, self.tokenizer, self.index(documents),
                                       top_k=self.settings.k_for(approach.name),
                                       max_new_tokens=self.settings.rag_max_new_tokens)
                pipeline.ask(questions[0].question)  # warm-up: the first call pays one-off costs
                return [pipeline.ask(q.question).timings for q in questions]
            timed_generate(model, self.tokenizer, build_prompt(self.tokenizer, questions[0].question), 2)  # warm-up
            for q in questions:
                prompt = build_prompt(self.tokenizer, q.question)
                _, prefill, decode = timed_generate(model, self.tokenizer, prompt, self.settings.closed_max_new_tokens)
                timings.append({"retrieve": 0.0, "prefill": prefill, "decode": decode, "total": prefill + decode,
                                "prompt_tokens": count_tokens(self.tokenizer, prompt)})
        return timings


def _split_of(questions) -> str:
    """The split the questions share (for a readable file name), or 'mixed'."""
    splits = {getattr(q, "split", "typed") for q in questions}
    return splits.pop() if len(splits) == 1 else "mixed"


# ------------------------------------------------------------------------------- the comparison

@dataclass
class Comparison:
    """Every approach's scored answers, per-query timings and up-front costs."""
    rows: list[dict]  # one per (approach, question): see rag.score_results, plus approach, prompt_tokens, hits
    latency: dict[str, list[dict]]  # approach -> timings of the questions asked one at a time
    costs: dict[str, dict]  # approach -> {"training_seconds", "training_peak_mb", "index_seconds"}
    settings: EvalSettings = field(default_factory=EvalSettings)
    bench: Workbench | None = field(default=None, repr=False)
    model_name: str = field(default_factory=lambda: get_config().generator_name)

    @property
    def approaches(self) -> list[str]:
        return list(dict.fromkeys(r["approach"] for r in self.rows))

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows)

    def _rows(self, approach: str, split: str | None, metric: str) -> list[dict]:
        return [r for r in self.rows if r["approach"] == approach and (split is None or r["split"] == split)
                and r.get(metric) is not None]

    def score(self, approach: str, split: str | None = None, metric: str = "strict") -> float:
        """Mean of ``metric`` over the rows of one approach (one split, or every split that has it)."""
        values = [float(r[metric]) for r in self._rows(approach, split, metric)]
        return float(np.mean(values)) if values else float("nan")

    def estimate(self, approach: str, split: str, metric: str = "strict") -> Estimate:
        """``score`` with its n and 95% interval (bootstrap over facts, ``evaluation.bootstrap``)."""
        rows = self._rows(approach, split, metric)
        if not rows:
            raise ValueError(f"No {metric!r} rows for {approach!r} on {split!r}. Fix: run the comparison with "
                             "that approach, and pick a metric that applies to the split.")
        return bootstrap([float(r[metric]) for r in rows], groups=[r.get("fact_id") or r["qid"] for r in rows])

    def difference(self, a: str, b: str, split: str, metric: str = "strict") -> Estimate:
        """Approach ``a`` minus approach ``b`` on the same questions, with a paired interval."""
        left = {r["qid"]: r for r in self._rows(a, split, metric)}
        right = {r["qid"]: r for r in self._rows(b, split, metric)}
        shared = [q for q in left if q in right]
        if not shared:
            raise ValueError(f"{a!r} and {b!r} share no scored question on {split!r}. Fix: run both on that split.")
        return bootstrap([float(left[q][metric]) for q in shared], other=[float(right[q][metric]) for q in shared],
                         groups=[left[q].get("fact_id") or q for q in shared])

    def abstention(self, approach: str, answerable: bool = False) -> float:
        """Share of answers that give no value, on unanswerable (default) or on answerable questions."""
        values = [r["abstained"] for r in self.rows if r["approach"] == approach
                  and (r["exact_match"] is not None) == answerable]
        return float(np.mean(values)) if values else float("nan")

    def latency_stats(self, approach: str) -> dict:
        t = self.latency.get(approach, [])
        totals = [x["total"] for x in t]
        return {"p50": percentile(totals, 50), "p95": percentile(totals, 95),
                **{step: percentile([x[step] for x in t], 50) for step in ("retrieve", "prefill", "decode")}}

    def prompt_tokens(self, approach: str) -> float:
        return float(np.mean([r["prompt_tokens"] for r in self.rows if r["approach"] == approach]))

    def split_table(self, metric: str = "strict"):
        """approach × split, the mean of ``metric`` ('strict', 'exact_match', 'f1', 'contains', 'citation_correct')."""
        import pandas as pd

        splits = [s for s in EVAL_SPLITS if any(r["split"] == s and r.get(metric) is not None for r in self.rows)]
        return pd.DataFrame({s: {a: self.score(a, s, metric) for a in self.approaches} for s in splits})

    def table(self):
        """One row per approach: strict accuracy per split, then errors, speed, citations and up-front cost."""
        import pandas as pd

        table = {}
        answerable = [s for s in EVAL_SPLITS if s != "unanswerable"]
        for a in self.approaches:
            row = {f"strict {s}": self.score(a, s) for s in answerable}
            row |= {"confidently wrong (test)": self.score(a, TEST_SPLIT, "confident_wrong"),
                    "abstains (unanswerable)": self.abstention(a), "abstains (answerable)": self.abstention(a, True),
                    "makes up (unanswerable)": self.score(a, "unanswerable", "confident_wrong"),
                    "cut off": self.score(a, None, "cut_off")}
            row |= {f"contains {s}": self.score(a, s, "contains") for s in answerable}
            row |= {f"EM {s}": self.score(a, s, "exact_match") for s in answerable}
            row |= {f"F1 {s}": self.score(a, s, "f1") for s in answerable}
            stats = self.latency_stats(a)
            row |= {"p50 s": stats["p50"], "p95 s": stats["p95"], "prompt tokens": self.prompt_tokens(a),
                    "citation accuracy": self.score(a, None, "citation_correct"),
                    "index s": self.costs.get(a, {}).get("index_seconds", 0.0),
                    "training s": self.costs.get(a, {}).get("training_seconds", 0.0),
                    "training peak MB": self.costs.get(a, {}).get("training_peak_mb", float("nan"))}
            table[a] = row
        return pd.DataFrame(table).T

    def summary_text(self) -> str:
        """The headline figures as plain text, each with n and its 95% interval (what ``make course`` prints)."""
        n_test = len(self._rows(self.approaches[0], TEST_SPLIT, "strict"))
        lines = ["Compare and decide: every approach on the same held-out test questions",
                 f"strict accuracy on the {n_test} test paraphrases (right value, no other value given), "
                 "95% interval from a bootstrap over facts;",
                 "update = changed facts; unanswerable = share that made a value up; p50 = median seconds per query.",
                 "chunks in the prompt, each chosen on the dev split: " + ", ".join(
                     f"{a} k = {self.settings.k_for(a)}" for a in self.approaches if get_approach(a).retrieval)
                 + ".", ""]
        width = max(len(a) for a in self.approaches)
        for a in self.approaches:
            test, update = self.estimate(a, TEST_SPLIT), self.estimate(a, "update")
            made_up = self.estimate(a, "unanswerable", "confident_wrong")
            lines.append(f"{a:<{width}}  test {test.text()}  update {update.text()}  "
                         f"makes up {made_up.text()}  p50 {self.latency_stats(a)['p50']:.2f} s")
        return "\n".join(lines) + "\n"


def run_comparison(model=None, tokenizer=None, adapters: dict | None = None, approaches=None,
                   settings: EvalSettings = DEFAULT_SETTINGS, progress: bool = True, bench: Workbench | None = None
                   ) -> Comparison:
    """Put every approach over every evaluation split, whole; cached answers are reused.

    ``settings``: pass ``tuning.tuned_settings(model, tokenizer)`` for RAG at the k the dev split chose.

    ``adapters``: ``prepare_adapters(...)``'s result; by default the adapters the
    approaches need are loaded from the cache or trained now.
    """
    if bench is None:
        if model is None or tokenizer is None:
            from .models import load_generator

            model, tokenizer = load_generator()
        approaches = [get_approach(a) for a in (approaches or [a.name for a in APPROACHES])]
        if adapters is None:
            needed = list(dict.fromkeys(a.adapter for a in approaches if a.adapter))
            adapters = prepare_adapters(model, tokenizer, needed, progress)
        bench = Workbench(model, tokenizer, adapters, settings)
    approaches = [get_approach(a) for a in (approaches or [a.name for a in APPROACHES])]
    questions = {s: eval_questions(s, bench.settings.n) for s in EVAL_SPLITS}
    docs = {v: load_documents(v) for v in ("v1", "v2")}
    rows, latency = [], {}
    for approach in approaches:
        start, by_split = time.perf_counter(), {}
        for version in ("v1", "v2"):  # the splits that read the same index are answered together
            splits = [s for s in EVAL_SPLITS if index_version(s) == version]
            answered = bench.evaluate_groups(approach, {f"{approach.name}-{s}": questions[s] for s in splits},
                                             docs[version], progress)
            by_split.update(zip(splits, answered.values()))
        rows += [row for s in EVAL_SPLITS for row in by_split[s]]
        # Unseen phrasings, as users ask, spread over the facts: every few questions of the test split.
        step = max(1, len(questions[TEST_SPLIT]) // bench.settings.latency_queries)
        probe = questions[TEST_SPLIT][::step][: bench.settings.latency_queries]
        latency[approach.name] = bench.time_queries(approach, probe, docs["v1"])
        print(f"{approach.name:<16} {len(EVAL_SPLITS)} splits answered and timed in {time.perf_counter() - start:.1f} s")
    return Comparison(rows, latency, up_front_costs(bench, approaches, docs["v1"]), bench.settings, bench)


def up_front_costs(bench: Workbench, approaches, documents) -> dict:
    """What each approach costs before its first query: training (adapters) and indexing (retrieval)."""
    bench.index(documents)
    index_s = bench.index_seconds[documents_fingerprint(documents)]
    costs = {}
    for a in approaches:
        run = bench.adapters.get(a.adapter) if a.adapter else None
        info = getattr(run, "info", {}) or {}
        costs[a.name] = {"training_seconds": float(info.get("seconds", 0.0)),
                         "training_peak_mb": float(info["peak_rss_mb"]) if "peak_rss_mb" in info else float("nan"),
                         "index_seconds": index_s if a.retrieval else 0.0}
    return costs


# ------------------------------------------------------------------------------- experiments for the claims lab

def time_index(documents, kind: str = "hybrid") -> float:
    """Seconds to chunk, embed and index ``documents`` (the embedder is loaded first, outside the timing)."""
    from .retrieval import build_retriever, default_embedder

    if kind != "bm25":
        default_embedder()
    start = time.perf_counter()
    build_retriever(kind, documents, top_k=5)
    return time.perf_counter() - start


def index_growth(documents, questions, small: int, kind: str = "hybrid", top_k: int = 3) -> dict:
    """Index the first ``small`` documents, then all of them; time both and compare retrieval recall@top_k.

    Recall is measured on the same questions both times: those whose gold
    document is among the first ``small``, so that only the added documents
    (distractors for these questions) change. Per-question hits (0/1) and fact
    ids come back too, for a paired interval on the drop.
    """
    from .evaluation import recall_at_k
    from .retrieval import build_retriever, default_embedder

    if not 0 < small < len(documents):
        raise ValueError(f"small must be between 1 and {len(documents) - 1}, got {small!r}.")
    if kind != "bm25":
        default_embedder()  # loaded once, outside the timing: it is not part of indexing
    subset = documents[:small]
    kept = {d.doc_id for d in subset}
    asked = [q for q in questions if q.doc_id in kept]
    if not asked:
        raise ValueError("No question has its gold document among the first documents. Fix: pass answerable "
                         "questions about those documents, or a larger `small`.")
    out = {"docs_small": small, "docs_full": len(documents), "questions": len(asked),
           "facts": [q.fact_id or q.qid for q in asked]}
    for label, docs in (("small", subset), ("full", documents)):
        start = time.perf_counter()
        retriever = build_retriever(kind, docs, top_k=top_k)
        out[f"index_seconds_{label}"] = time.perf_counter() - start
        out[f"chunks_{label}"] = len(retriever.nodes)
        hits = retriever.retrieve_many([q.question for q in asked])
        out[f"hits_{label}"] = [recall_at_k(h, q.doc_id, top_k) for h, q in zip(hits, asked)]
        out[f"recall_{label}"] = float(np.mean(out[f"hits_{label}"]))
    return out


def planted_outdated_copy(docs_v1, docs_v2):
    """(v2 documents + one outdated v1 copy, the questions it targets, the planted doc_id).

    The copy is of the document with the most changed facts (first by name on
    a tie); it is labelled v1, as an old page left online would be. Its targets
    are every question about those changed facts (trained, paraphrased and
    update phrasings), with the current value as the answer and the old one as
    the stale answer.
    """
    import dataclasses
    from collections import Counter

    from .data import Document, load_facts, load_questions

    changed = {f.fact_id: f for f in load_facts() if f.value_v1 != f.value_v2}
    counts = Counter(f.doc_id for f in changed.values())
    doc_id = min(counts, key=lambda d: (-counts[d], d))
    old = next(d for d in docs_v1 if d.doc_id == doc_id)
    planted = Document(f"{doc_id}-old", "v1", old.kind, old.title, old.text)
    targets = [dataclasses.replace(q, answers=[changed[q.fact_id].value_v2], stale_answers=[changed[q.fact_id].value_v1])
               for q in load_questions() if q.fact_id in changed and changed[q.fact_id].doc_id == doc_id
               and q.split in ("train", "paraphrase", "update")]
    return list(docs_v2) + [planted], targets, planted.doc_id


def stale_share(rows) -> float:
    """Share of rows whose answer contains the outdated value."""
    values = [r["stale"] for r in rows if r.get("stale") is not None]
    return float(np.mean(values)) if values else float("nan")
