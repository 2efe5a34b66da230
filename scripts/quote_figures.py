"""Quote the course's measured figures in its documentation.

    python scripts/quote_figures.py                              # make figures
    python scripts/quote_figures.py --budget build/timings.json  # quote your own machine's times

It reads what the course's measurement commands wrote:
* notebooks/budget.json: seconds and peak kernel memory per notebook (`make budget`);
* build/bench.json: the benchmarks (`make bench`); a section missing there is
  read from the build/bench_<section>.json file its benchmark writes;
* data/closed_book.json: the base model's closed-book scores (`make closed-book`);
* the notebooks themselves: words of explanation and number of exercises,
  for the workshop plans.

and rewrites every region between ``<!-- figures:NAME:start -->`` and
``<!-- figures:NAME:end -->`` in README.md and the pages of docs/ listed
in TARGETS. Text outside the markers is never touched. A figure that
was not measured is shown as "not measured yet"; nothing is ever made up.
The output depends only on those files, so running it twice changes nothing.

The planning assumptions (reading speed, minutes per exercise, memory
headroom, ...) are the constants below; the generated tables state them.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from course_utils import kit, run_course  # noqa: E402
from course_utils.artifacts import write_text_atomic  # noqa: E402
from course_utils.machine import in_words  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
BUDGET = kit.BUDGET
BUILD = ROOT / "build"
BENCH = BUILD / "bench.json"
CLOSED_BOOK = ROOT / "data" / "closed_book.json"
TARGETS = [ROOT / "README.md", ROOT / "docs" / "BENCHMARKS.md", ROOT / "docs" / "INSTRUCTORS.md",
           ROOT / "docs" / "JUPYTERHUB.md", ROOT / "docs" / "SCALING.md"]

NOT_MEASURED = "not measured yet"
OUTSIDE_COURSE = "outside the course run"  # an extra chapter (run_course.EXTRA_NOTEBOOKS), not timed by make course
MARKERS = re.compile(r"<!-- figures:([a-z0-9-]+):start -->(.*?)<!-- figures:\1:end -->", re.S)
ANY_MARKER = re.compile(r"<!-- figures:([a-z0-9-]+):(start|end) -->")

# --- Planning assumptions (stated in the generated tables) -------------------
# Learner time (reading, code, exercises) follows the one rule of course_utils.kit, which notebooks print too.
DEMO_READING_SHARE = 0.5     # a demo talks through about half of what learners would read
MEMORY_HEADROOM = 1.5        # on top of the largest kernel peak: Jupyter server, terminal, spikes
KERNELS_IN_LIMIT = 2         # the limit leaves room for a second kernel left running
ROUND_MEMORY_TO_MB = 256
CLASS_SIZE = 30

# --- Workshop plans: teaching choices, not measurements ----------------------
# "priority": notebooks in the order they are kept when time is short (first = kept longest);
# the first "core" of them keep their hands-on time longest. "before": notebooks learners
# run before the session. Fixed segments are (title, minutes).
PLANS = {
    "plan-90": {
        "title": "90-minute workshop",
        "budget_min": 90,
        "opening": ("Opening: the question, and how the course answers it with measurements", 5),
        "closing": ("Wrap-up: the decision helper, questions", 5),
        "break": None,
        "before": ["00"],
        "priority": ["03", "06", "04", "01", "02", "05"],
        "core": 2,
    },
    "plan-halfday": {
        "title": "Half-day workshop (3.5 h)",
        "budget_min": 210,
        "opening": ("Opening: the question, the course map, who runs what", 10),
        "closing": ("Wrap-up: the claims lab verdicts, the decision helper, questions", 10),
        "break": ("Break", 15),
        "before": [],
        "priority": ["03", "06", "04", "01", "02", "00", "05"],
        "core": 4,
    },
}


# --- Reading the measured files -----------------------------------------------
def read_json(path: Path):
    """The parsed file, or None when it does not exist or cannot be read (with a warning)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        print(f"warning: {path} could not be read ({err}); its figures are shown as '{NOT_MEASURED}'.",
              file=sys.stderr)
        return None


def load_bench(bench_path: Path | None = None, build_dir: Path | None = None) -> tuple[dict, dict]:
    """The benchmarks by section, and the file each section was read from.

    `make bench` merges every build/bench_<section>.json into build/bench.json;
    a section missing there is read from its own file, if that exists.
    """
    bench_path, build_dir = Path(bench_path or BENCH), Path(build_dir or BUILD)
    merged = read_json(bench_path)
    merged = {k: v for k, v in merged.items()} if isinstance(merged, dict) else {}
    sources = {section: f"build/{bench_path.name}` → `{section}" for section in merged}
    for single in sorted(build_dir.glob("bench_*.json")):
        section = single.stem.removeprefix("bench_")
        if section not in merged and (data := read_json(single)) is not None:
            merged[section], sources[section] = data, f"build/{single.name}"
    return merged, sources


def notebook_stats(folder: Path | None = None) -> dict[str, dict]:
    """Per notebook file: its title, words of explanation (markdown) and number of exercises."""
    stats = {}
    for path in sorted(Path(folder or NOTEBOOKS).glob("[0-9][0-9]_*.ipynb")):
        nb = read_json(path) or {}
        markdown = [cell_source(c) for c in nb.get("cells", []) if c.get("cell_type") == "markdown"]
        title = markdown[0].strip().splitlines()[0].lstrip("# ").strip() if markdown and markdown[0].strip() \
            else path.stem
        title = re.sub(r"^\d+\s*[·.:-]\s*", "", title)  # "00 · Welcome" -> "Welcome"
        counts = kit.notebook_text(path)
        stats[path.name] = {"title": title, "words": counts["words"], "exercises": counts["exercises"],
                            "learner_minutes": kit.learner_parts(path)}
    return stats


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def load_figures(budget_path: Path | None = None) -> dict:
    bench, bench_sources = load_bench()
    return {
        "budget": read_json(budget_path or BUDGET),
        "bench": bench,
        "bench_sources": bench_sources,
        "closed_book": read_json(CLOSED_BOOK),
        "notebooks": notebook_stats(),
    }


# --- Formatting helpers ---------------------------------------------------------
def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def number(value, digits: int | None = None) -> str:
    """A figure as text: floats with `digits` decimals, or as recorded up to 3 decimals."""
    if value is None:
        return NOT_MEASURED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if digits is None:
            text = f"{value:.3f}".rstrip("0")
            return text + "0" if text.endswith(".") else text
        return f"{value:.{digits}f}"
    return str(value)


def percent(value) -> str:
    return NOT_MEASURED if value is None else f"{value:.1%}"


def machine_text(machine) -> str:
    """The machine a file's figures came from, in words: its ``course_utils.machine.describe()`` record.

    A machine recorded as plain text (as in data/closed_book.json) is quoted as it stands.
    """
    if isinstance(machine, dict):
        return in_words(machine)
    return str(machine) if machine else "machine not recorded"


def budget_machine(budget) -> dict | None:
    """The machine of a course run: `make budget` records its ``describe()`` next to the times."""
    return (budget or {}).get("machine_description")


def flatten(data, prefix: str = "") -> list[tuple[str, object]]:
    """(dotted key, scalar) pairs of a nested JSON object, skipping lists and the machine."""
    pairs = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key == "machine":
            continue
        if isinstance(value, dict):
            pairs += flatten(value, name + ".")
        elif not isinstance(value, list):
            pairs.append((name, value))
    return pairs


def measured_on(machine, source: str) -> str:
    return f"Measured on: {machine_text(machine)}. Source: {source}."


def round_up(mb: float, step: int = ROUND_MEMORY_TO_MB) -> int:
    return int(math.ceil(mb / step) * step)


# --- Per-notebook times ---------------------------------------------------------
def notebook_rows(figures: dict) -> list[tuple[str, float | None, float | None]]:
    """(notebook, seconds, peak MB) for every notebook on disk or in the budget, in order."""
    budget = figures.get("budget") or {}
    seconds, peak = budget.get("seconds") or {}, budget.get("peak_rss_mb") or {}
    names = sorted(set(figures.get("notebooks") or {}) | set(seconds) | set(peak))
    return [(name, seconds.get(name), peak.get(name)) for name in names]


def render_notebooks(figures: dict) -> str:
    budget = figures.get("budget")
    rows = notebook_rows(figures)
    if not rows:
        return f"Per-notebook times: {NOT_MEASURED}."
    extra = set(run_course.EXTRA_NOTEBOOKS)  # chapters after the main course: `make course` does not run them

    def cell(name, value, digits=None):
        return OUTSIDE_COURSE if value is None and name in extra else number(value, digits)
    body = [[f"`{name.removesuffix('.ipynb')}`", cell(name, s, 1), cell(name, m)] for name, s, m in rows]
    measured = [s for _, s, _ in rows if s is not None]
    total = number(float(sum(measured)), 1) if measured else NOT_MEASURED
    if measured and any(s is None and name not in extra for name, s, _ in rows):
        total += " (measured notebooks only)"
    body.append(["**sum of the notebooks**", total, ""])  # `make course` itself takes a few seconds more
    text = table(["notebook", "run time (s)", "peak kernel memory (MB)"], body)
    if budget is None:
        return text + "\n\nNo run has been recorded yet: `make budget` runs the course headless and records it."
    return text + "\n\n" + measured_on(budget_machine(budget), "`notebooks/budget.json`, written by `make budget`")


# --- The README's headline table -------------------------------------------------
def dig(data, path: str):
    """``data["a"]["b"]`` for ``path = "a.b"``; None where any step is missing."""
    for key in path.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def headline_rows(figures: dict) -> list[list]:
    budget, bench = figures.get("budget") or {}, figures.get("bench") or {}
    peaks = (budget.get("peak_rss_mb") or {}).values()
    rows = [  # (figure, value, unit, target as text, the most it may be: None for a figure with no target)
        ("whole course, `make course`", budget.get("total_seconds"), "s", f"≤ {run_course.COURSE_SECONDS_TARGET} s",
         run_course.COURSE_SECONDS_TARGET),
        ("largest kernel peak", max(peaks) if peaks else None, "MB", f"≤ {run_course.KERNEL_MB_TARGET} MB",
         run_course.KERNEL_MB_TARGET),
        ("RAG query, median", dig(bench, "rag.latency.p50_s"), "s", "≤ 1.5 s", 1.5),
        ("decode, share of the memory-bandwidth bound", dig(bench, "rag.limits.decode_share_of_bound"), "", "—", None),
        ("prefill, share of the matmul rate", dig(bench, "rag.limits.prefill_share_of_matmul_rate"), "", "—", None),
        ("LoRA training, share of the matmul rate (MFU)", dig(bench, "finetune.mfu"), "", "—", None),
    ]
    body = []
    for label, value, unit, target, limit in rows:
        shown = NOT_MEASURED if value is None else f"{number(value)} {unit}".strip()
        met = "—" if value is None or limit is None else ("yes" if value <= limit else "no")
        body.append([label, shown, target, met])
    return body


def render_headline(figures: dict) -> str:
    budget = figures.get("budget") or {}
    text = table(["figure", "measured", "target", "met?"], headline_rows(figures))
    machine = budget_machine(budget)
    work = budget.get("total_work_gflop")
    if machine:
        text += f"\n\nCourse time measured on: {machine_text(machine)}"
        precision = budget.get("precision", "float32")  # budgets recorded before the field counted work in float32
        text += (f"; the course ran in {precision}: {work:,} GFLOP of work at its {precision} matmul rate, which "
                 "notebook 00 divides by your machine's rate in its own precision." if work else ".")
    return text + ("\n\nEvery table, with the machine that measured it: [`docs/BENCHMARKS.md`](docs/BENCHMARKS.md).")


# --- Benchmarks -----------------------------------------------------------------
MODEL_LABELS = {
    "generator_first_load_s": "generator, first load: converting the bundled GGUF (s)",
    "generator_first_load_peak_rss_mb": "generator, first load: peak memory (MB)",
    "generator_later_load_s_median": "generator, later loads from the cache, median (s)",
    "generator_later_load_peak_rss_mb": "generator, later loads: peak memory (MB)",
    "import_torch_transformers_s_median": "importing torch and transformers, median (s)",
    "target_later_load_s": "target for a later load (s)",
    "generation.prompts": "generation: prompts timed",
    "generation.single_tokens_per_s": "greedy generation, one prompt at a time (tokens/s)",
    "generation.batch16_tokens_per_s": "greedy generation, batches of 16 (tokens/s)",
    "generation.batched_equals_single": "batched answers identical to one-at-a-time answers",
}


def render_labelled(section: dict, labels: dict[str, str]) -> str:
    rows = [[labels.get(key, f"`{key}`"), number(value)] for key, value in flatten(section)]
    return table(["figure", "value"], rows) if rows else f"No figures in this section: {NOT_MEASURED}."


def render_retrieval(section: dict) -> str:
    retrievers = section.get("retrievers")
    if not isinstance(retrievers, dict) or not retrievers:
        return render_labelled(section, {})
    settings = section.get("settings") or {}
    split = next((k for r in retrievers.values() for k, v in r.items()
                  if isinstance(v, dict) and "n" in v), None)
    ks = sorted({k for r in retrievers.values() for k in (r.get(split) or {}) if k.startswith("recall@")},
                key=lambda k: int(k.split("@")[1]))
    rows = []
    for kind, r in retrievers.items():
        scores, latency = r.get(split) or {}, r.get("latency_ms") or {}
        rows.append([kind] + [number(scores.get(k), 3) for k in ks]
                    + [number(scores.get("mrr"), 3), number(latency.get("p50"), 2),
                       number(latency.get("p95"), 2), number(r.get("build_s"), 2)])
    text = table(["retriever"] + ks + ["MRR", "p50 latency (ms)", "p95 latency (ms)", "index build (s)"], rows)
    described = [f"{k.replace('_', ' ')}: {v}" for k, v in settings.items() if not isinstance(v, (dict, list))]
    if described:
        text = "Settings: " + "; ".join(described) + ".\n\n" + text
    targets = section.get("targets") or {}
    if targets:
        target_rows = [[name, t.get("target", ""), number(t.get("measured", t.get("measured_worst"))),
                        number(t.get("met"))] for name, t in targets.items() if isinstance(t, dict)]
        text += "\n\n" + table(["target", "wanted", "measured", "met"], target_rows)
    return text


def render_scale(section: dict) -> str:
    """The scale curve of notebook 07 to 10^5 real chunks, RAG at each size, Chroma's server, random vectors."""
    names = {"bm25": "BM25", "exact": "exact", "hnsw": "HNSW"}
    rows = [[f"{r['chunks']:,}", names.get(r["search"], r["search"]), number(r.get("recall@5"), 3),
             number(r.get("mrr"), 3), number(r.get("p50_ms"), 2), number(r.get("p95_ms"), 2),
             number(r.get("build_s"), 2), number(r.get("memory_mb"), 1)] for r in section.get("curve") or []]
    settings = section.get("settings") or {}
    text = (f"Questions: {settings.get('questions', NOT_MEASURED)}; search only (each query embedded beforehand), "
            "one BLAS thread.\n\n" + table(["chunks", "search", "recall@5", "MRR", "p50 ms", "p95 ms", "build s",
                                              "memory MB"], rows))
    rag = section.get("rag_strict") or {}
    if rag:
        text += (f"\n\nEnd to end, the RAG loop at k = {settings.get('rag_top_k', NOT_MEASURED)} (chosen on dev) over the hybrid "
                 f"retriever, strict accuracy with its 95% interval (facts resampled):\n\n"
                 + table(["chunks", "n", "strict", "95% interval"],
                         [[f"{int(n):,}", e["n"], percent(e["value"]), f"{percent(e['low'])} – {percent(e['high'])}"]
                          for n, e in rag.items()]))
    embedding, server = section.get("embedding"), section.get("chroma_server")
    if embedding:
        text += (f"\n\nEmbedding with the course's embedder: {embedding['chunks']:,} chunks in "
                 f"{number(embedding['seconds'], 0)} s, {number(embedding['chunks_per_s'], 0)} chunks/s.")
    if server:
        text += (f"\n\nChroma's server on 127.0.0.1, {server['chunks']:,} chunks, vectors precomputed: ingest "
                 f"{number(server['ingest_per_s'], 0)} chunks/s; one query p50 {number(server['p50_ms'], 2)} ms, "
                 f"p95 {number(server['p95_ms'], 2)} ms.")
    randoms = section.get("random_curve") or []
    if randoms:
        text += ("\n\nRandom unit vectors (cost only, no quality):\n\n"
                 + table(["vectors", "search", "p50 ms", "p95 ms", "build s", "memory MB"],
                         [[f"{r['chunks']:,}", names.get(r["search"], r["search"]), number(r.get("p50_ms"), 2),
                           number(r.get("p95_ms"), 2), number(r.get("build_s"), 2), number(r.get("memory_mb"), 1)]
                          for r in randoms]))
    if not section.get("complete"):
        text += "\n\nThis run stopped before its end: the sections missing above were not measured."
    return text


SECTIONS = [  # (key in bench.json, heading, renderer); other sections are quoted generically
    ("models", "Models: loading and generation", lambda s: render_labelled(s, MODEL_LABELS)),
    ("retrieval", "Retrieval", render_retrieval),
    ("rag", "RAG", lambda s: render_labelled(s, {})),
    ("finetune", "Fine-tuning", lambda s: render_labelled(s, {})),
    ("scale", "Scaling the knowledge base (notebook 07)", render_scale),
]


def render_benchmark_section(figures: dict, key: str, render=None) -> str:
    """One section of the benchmarks, with its machine and source (docs/SCALING.md quotes the scale curve alone)."""
    render = render or next(r for k, _, r in SECTIONS if k == key)
    section = (figures.get("bench") or {}).get(key)
    if not isinstance(section, dict):
        return f"{NOT_MEASURED} (`make bench`)."
    source = (figures.get("bench_sources") or {}).get(key, "build/bench.json")
    return f"{render(section)}\n\n" + measured_on(section.get("machine"), f"`{source}`, written by `make bench`")


def render_benchmarks(figures: dict) -> str:
    bench = figures.get("bench") or {}
    known = [key for key, _, _ in SECTIONS]
    sections = SECTIONS + [(k, k.replace("_", " ").capitalize(), lambda s: render_labelled(s, {}))
                           for k in sorted(bench) if k not in known]
    return "\n\n".join(f"**{heading}**" + (f"\n\n{render_benchmark_section(figures, key, render)}"
                                            if isinstance(bench.get(key), dict) else f": {NOT_MEASURED} (`make bench`).")
                         for key, heading, render in sections)


# --- Closed-book scores ---------------------------------------------------------
def render_closed_book(figures: dict) -> str:
    data = figures.get("closed_book")
    if not isinstance(data, dict):
        return f"Closed-book scores: {NOT_MEASURED} (`make closed-book`)."
    rows = [[split, number(s.get("n")), percent(s.get("exact_match")), percent(s.get("contains")),
             number(s.get("f1"), 2)] for split, s in data.items() if isinstance(s, dict) and "n" in s]
    text = table(["split", "questions", "exact match", "contains answer", "token F1"], rows)
    extra = f"Generator: `{data['generator']}`. " if data.get("generator") else ""
    if data.get("seconds") is not None:
        extra += f"All splits answered in {number(data['seconds'], 1)} s. "
    return text + "\n\n" + extra + measured_on(data.get("machine"),
                                               "`data/closed_book.json`, written by `make closed-book`")


# --- Workshop planning ------------------------------------------------------------
def estimates(figures: dict) -> list[dict]:
    """Per notebook on disk: run, reading and exercise minutes, and the two session estimates."""
    budget = figures.get("budget") or {}
    seconds, peaks = budget.get("seconds") or {}, budget.get("peak_rss_mb") or {}
    rows = []
    for name, stats in (figures.get("notebooks") or {}).items():
        run_s = seconds.get(name)
        run_min = (run_s or 0) / 60
        parts = stats["learner_minutes"]
        read_min = parts["reading"] + parts["code"]
        rows.append({
            "name": name, "prefix": name[:2], "title": stats["title"], "run_s": run_s, "peak_mb": peaks.get(name),
            "words": stats["words"], "exercises": stats["exercises"],
            "hands_on": math.ceil(run_min + read_min + parts["exercises"]),
            "demo": math.ceil(run_min + read_min * DEMO_READING_SHARE),
        })
    return rows


def assumptions_text() -> str:
    return (f"Assumptions (not measurements), the rule of `course_utils/kit.py` that each notebook also prints: "
            f"learners read {kit.WORDS_PER_MINUTE} words of explanation per minute and take "
            f"{kit.SECONDS_PER_CODE_LINE} s per line of code; an exercise takes {kit.MINUTES_PER_EXERCISE} min, "
            f"one that changes an experiment {kit.MINUTES_PER_EXPERIMENT} min; a demo talks through "
            f"{DEMO_READING_SHARE:.0%} of the reading. Hands-on = run time + reading + exercises; "
            "demo = run time + talk, no exercises. Minutes are rounded up.")


def render_timing(figures: dict) -> str:
    rows = estimates(figures)
    if not rows:
        return f"Notebook estimates: {NOT_MEASURED}."
    body = [[f"`{r['name'].removesuffix('.ipynb')}`", r["title"], number(r["run_s"], 1), number(r["peak_mb"]),
             r["words"], r["exercises"], r["hands_on"], r["demo"]] for r in rows]
    text = table(["notebook", "title", "run time (s)", "peak kernel memory (MB)", "words to read", "exercises",
                  "hands-on (min)", "demo (min)"], body)
    budget = figures.get("budget")
    if budget is None or any(r["run_s"] is None for r in rows):
        text += (f"\n\nWhere the run time is {NOT_MEASURED}, the estimates count reading and exercises only: "
                 "run `make budget` on a machine like your learners' and regenerate this table with `make figures`.")
    if budget is not None:
        text += f"\n\nRun times measured on: {machine_text(budget_machine(budget))}. Source: `notebooks/budget.json`."
    return text + "\n\n" + assumptions_text()


def plan_segments(figures: dict, plan: dict) -> tuple[list[dict], int]:
    """Choose a mode per notebook so that the session fits its budget; return the segments and total."""
    rows = {r["prefix"]: r for r in estimates(figures)}
    order = plan["priority"] + sorted(p for p in rows if p not in plan["priority"] + plan["before"])
    order = [p for p in order if p in rows]
    mode = {p: "hands-on" for p in order}
    fixed = plan["opening"][1] + plan["closing"][1] + (plan["break"][1] if plan["break"] else 0)

    def total() -> int:
        return fixed + sum(rows[p]["hands_on"] if m == "hands-on" else rows[p]["demo"] if m == "demo" else 0
                           for p, m in mode.items())

    # Shorten from the lowest priority up: the others first go to demo, then to after the
    # session; only then does the core lose its hands-on time. The first notebook always stays.
    core, others = order[:plan["core"]], order[plan["core"]:]
    for group, step_from, step_to in ((others, "hands-on", "demo"), (others, "demo", "homework"),
                                      (core[1:], "hands-on", "demo"), (core[1:], "demo", "homework"),
                                      (core[:1], "hands-on", "demo")):
        for prefix in reversed(group):
            if total() <= plan["budget_min"]:
                break
            if mode.get(prefix) == step_from:
                mode[prefix] = step_to
    segments = [{"title": plan["opening"][0], "mode": "—", "minutes": plan["opening"][1]}]
    for prefix in sorted(rows):
        r = rows[prefix]
        label = f"`{r['name'].removesuffix('.ipynb')}`: {r['title']}"
        if prefix in plan["before"]:
            segments.append({"title": label, "mode": "before the session", "minutes": 0})
        elif mode[prefix] == "homework":
            segments.append({"title": label, "mode": "after the session", "minutes": 0})
        else:
            minutes = r["hands_on"] if mode[prefix] == "hands-on" else r["demo"]
            segments.append({"title": label, "mode": mode[prefix], "minutes": minutes})
    if plan["break"]:  # between two timed segments, where the clock is closest to half the session
        clocks, clock = [], 0
        for i, seg in enumerate(segments):
            clock += seg["minutes"]
            if seg["minutes"]:
                clocks.append((abs(clock - plan["budget_min"] / 2), i))
        segments.insert(min(clocks)[1] + 1, {"title": plan["break"][0], "mode": "—", "minutes": plan["break"][1]})
    segments.append({"title": plan["closing"][0], "mode": "—", "minutes": plan["closing"][1]})
    return segments, sum(s["minutes"] for s in segments)


def render_plan(figures: dict, key: str) -> str:
    plan = PLANS[key]
    if not figures.get("notebooks"):
        return f"{plan['title']}: {NOT_MEASURED}."
    segments, total = plan_segments(figures, plan)
    rows, clock = [], 0
    for seg in segments:
        if seg["minutes"] or seg["mode"] in ("—", "hands-on", "demo"):
            rows.append([f"{clock // 60}:{clock % 60:02d}", seg["title"], seg["mode"], seg["minutes"]])
            clock += seg["minutes"]
        else:
            rows.append(["", seg["title"], seg["mode"], ""])
    text = table(["starts at", "segment", "mode", "minutes"], rows)
    spare = plan["budget_min"] - total
    verdict = (f"{spare} min spare for questions and slow machines" if spare >= 0
               else f"over by {-spare} min: shorten the opening, or move a demo to after the session")
    text += f"\n\nEstimated total: {total} of {plan['budget_min']} min ({verdict})."
    if any(r["run_s"] is None for r in estimates(figures)):
        text += f" Some run times are {NOT_MEASURED}: the estimate is a lower bound."
    return text


# --- Hosting: memory and CPU ----------------------------------------------------
def render_memory(figures: dict) -> str:
    budget = figures.get("budget") or {}
    peaks = {name: mb for name, _, mb in notebook_rows(figures) if mb is not None}
    models = (figures.get("bench") or {}).get("models") or {}
    first_load = models.get("generator_first_load_peak_rss_mb")
    rows = []
    if peaks:
        worst_name = max(peaks, key=peaks.get)
        worst = peaks[worst_name]
        guarantee = round_up(worst * MEMORY_HEADROOM)
        limit = round_up(worst * MEMORY_HEADROOM * KERNELS_IN_LIMIT)
        rows += [
            ["largest peak kernel memory", f"{number(worst)} MB (`{worst_name.removesuffix('.ipynb')}`)"],
            [f"suggested memory guarantee per learner (largest peak × {MEMORY_HEADROOM})", f"{guarantee}M"],
            [f"suggested memory limit per learner (room for {KERNELS_IN_LIMIT} kernels)", f"{limit}M"],
            [f"memory to reserve for a class of {CLASS_SIZE} (guarantee × {CLASS_SIZE})",
             f"{guarantee * CLASS_SIZE / 1024:.1f} GB"],
        ]
    else:
        rows.append(["peak kernel memory per notebook", f"{NOT_MEASURED} (`make budget`)"])
    rows.append(["peak memory of the one-time generator conversion",
                 f"{number(first_load)} MB" if first_load is not None else f"{NOT_MEASURED} (`make bench`)"])
    cores = (budget_machine(budget) or {}).get("cores")
    rows.append(["CPU cores the run times were measured with", number(cores) if cores else NOT_MEASURED])
    text = table(["figure", "value"], rows)
    if budget:
        text += "\n\n" + measured_on(budget_machine(budget), "`notebooks/budget.json`")
    if models:
        source = (figures.get("bench_sources") or {}).get("models", "build/bench.json")
        text += f"\n\nConversion peak measured on: {machine_text(models.get('machine'))}. Source: `{source}`."
    return text + (f"\n\nAssumptions (not measurements): {MEMORY_HEADROOM}× headroom over the largest kernel "
                   "covers the Jupyter server and short spikes; memory values are rounded up to "
                   f"{ROUND_MEMORY_TO_MB} MB and written as JupyterHub understands them (M = 1024 × 1024 bytes).")


RENDERERS = {
    "headline": render_headline,
    "notebooks": render_notebooks,
    "benchmarks": render_benchmarks,
    "closed-book": render_closed_book,
    "timing": render_timing,
    "plan-90": lambda f: render_plan(f, "plan-90"),
    "plan-halfday": lambda f: render_plan(f, "plan-halfday"),
    "memory": render_memory,
    "scale": lambda f: render_benchmark_section(f, "scale"),
}


# --- Rewriting the marked regions -----------------------------------------------
def check_markers(text: str, where: str) -> None:
    """Every start marker has its end marker, in order, with a known name."""
    open_name = None
    for match in ANY_MARKER.finditer(text):
        name, kind = match[1], match[2]
        if name not in RENDERERS:
            raise ValueError(f"{where}: unknown figures region '{name}'. Known: {', '.join(sorted(RENDERERS))}.")
        if kind == "start":
            if open_name:
                raise ValueError(f"{where}: region '{name}' starts inside region '{open_name}'.")
            open_name = name
        elif open_name != name:
            raise ValueError(f"{where}: 'figures:{name}:end' has no matching start marker.")
        else:
            open_name = None
    if open_name:
        raise ValueError(f"{where}: 'figures:{open_name}:start' has no end marker.")


def rewrite(text: str, figures: dict, where: str = "text") -> str:
    check_markers(text, where)
    rendered = {}

    def replace(match: re.Match) -> str:
        name = match[1]
        if name not in rendered:
            rendered[name] = RENDERERS[name](figures)
        return f"<!-- figures:{name}:start -->\n\n{rendered[name]}\n\n<!-- figures:{name}:end -->"

    return MARKERS.sub(replace, text)


def update_file(path: Path, figures: dict) -> bool:
    """Rewrite the marked regions of one file; return True when its contents changed."""
    old = path.read_text(encoding="utf-8")
    new = rewrite(old, figures, str(path))
    if new == old:
        return False
    mode = path.stat().st_mode & 0o777
    write_text_atomic(path, new)
    os.chmod(path, mode)  # keep the file's permissions (the atomic write creates a private file)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=Path, default=None,
                        help="per-notebook times to quote (default: notebooks/budget.json)")
    args = parser.parse_args(argv)
    try:
        figures = load_figures(args.budget)
        for path in TARGETS:
            if not path.exists():
                print(f"skipped {path}: it does not exist")
                continue
            print(f"{'updated' if update_file(path, figures) else 'unchanged'}: {path}")
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
