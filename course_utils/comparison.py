"""Every approach over the same questions: the runner behind notebook 06.

    from course_utils.comparison import run_comparison

    comparison = run_comparison(model, tokenizer)   # loads (or trains) the adapters, reuses cached answers
    comparison.table()                              # one row per approach
    comparison.split_table("contains")              # approach × split

The five approaches (``course_utils.approaches``) answer every question of
every split (``data.eval_questions``), through the cached
``course_utils.workbench``. Taught in 06 §2.

Retrieval reads the v1 documents, except for the *update* split, whose facts
changed: its questions go to a v2 index, as after a re-index. The adapters
were trained on v1 and are not retrained, which is what a team that does not
retrain would ship.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .approaches import APPROACHES, DEFAULT_SETTINGS, TEST_SPLIT, EvalSettings, get_approach, index_version
from .config import get_config
from .data import EVAL_SPLITS, eval_questions, load_documents
from .evaluation.intervals import Estimate, bootstrap
from .evaluation.summaries import percentile
from .knobs import prepare_adapters
from .models import load_generator
from .workbench import Workbench, documents_fingerprint


@dataclass
class Comparison:
    """Every approach's scored answers, per-query timings and up-front costs."""
    rows: list[dict]  # one per (approach, question): see evaluation.summaries.score_results, plus approach, prompt_tokens, hits
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
        """``score`` with its n and 95% interval (bootstrap over facts, ``evaluation.intervals.bootstrap``)."""
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
                 + f"; answer request \"{self.settings.prompt}\", chosen on dev too (RAFT keeps the one it learned).", ""]
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
    """Put every approach over every evaluation split, whole; cached answers are reused (taught in 06 §2).

    ``settings``: pass ``tuning.tuned_settings(model, tokenizer)`` for RAG at the k and prompt the dev split chose.

    ``adapters``: ``prepare_adapters(...)``'s result; by default the adapters the
    approaches need are loaded from the cache or trained now.
    """
    if bench is None:
        if model is None or tokenizer is None:
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
