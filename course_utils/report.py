"""The comparison's plots, and the report that notebook 06 leaves behind.

``write_report`` writes ``build/report.html``: one self-contained file (the
plots are embedded as base64 PNG, no other file is needed) with the
comparison table, the claims lab's verdicts and the literature table.
``write_summary`` writes ``build/summary.txt``, the table as text, which
``make course`` prints at the end. Both paths are under the repository root,
whatever the current directory, and both files are written atomically.
"""
from __future__ import annotations

import base64
import html
import io
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .artifacts import write_text_atomic
from .config import REPO_ROOT

BUILD = REPO_ROOT / "build"
REPORT = BUILD / "report.html"
SUMMARY = BUILD / "summary.txt"  # course_utils.run_course prints it at the end of `make course`


# ------------------------------------------------------------------------------- plots

def _colours(names):
    from .comparison import COLOURS
    return [COLOURS.get(n, "#777777") for n in names]


def plot_accuracy(comparison, metrics=("exact_match", "f1", "contains")):
    """Grouped bars: one panel per metric, one group per split, one bar per approach."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.3), sharey=True)
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        table = comparison.split_table(metric)
        table.drop(columns=[c for c in table.columns if c == "unanswerable"]).T.plot.bar(
            ax=ax, rot=0, color=_colours(table.index), width=0.8, legend=False)
        ax.set(title={"exact_match": "exact match", "f1": "token F1", "contains": "contains the answer"}.get(metric, metric),
               ylim=(0, 1.05), xlabel="")
    np.atleast_1d(axes)[0].set_ylabel("share of questions")
    np.atleast_1d(axes)[-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_costs(comparison):
    """Four panels: latency p50/p95 (with its retrieve/prefill/decode split), prompt tokens, training cost,
    and citation accuracy and abstention."""
    import matplotlib.pyplot as plt

    names = comparison.approaches
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.4))
    stats = [comparison.latency_stats(a) for a in names]
    y = np.arange(len(names))
    left = np.zeros(len(names))
    for step, colour in (("retrieve", "#54a24b"), ("prefill", "#4c78a8"), ("decode", "#f58518")):
        values = np.array([s[step] for s in stats])
        axes[0].barh(y, values, left=left, color=colour, label=f"{step} (median)")
        left += values
    axes[0].scatter([s["p95"] for s in stats], y, marker="|", s=300, color="black", label="p95 total", zorder=3)
    axes[0].set(yticks=y, yticklabels=names, xlabel="seconds per query, one at a time", title="latency")
    axes[0].invert_yaxis()
    axes[0].legend(fontsize=7, loc="upper right")
    axes[1].barh(y, [comparison.prompt_tokens(a) for a in names], color=_colours(names))
    axes[1].set(yticks=y, yticklabels=[], xlabel="prompt tokens per query", title="tokens read per query")
    axes[1].invert_yaxis()
    # Training takes minutes and indexing under a second: a log scale shows both, and labels give the numbers.
    for offset, key, colour, label in ((-0.2, "training_seconds", "#f58518", "training"),
                                       (0.2, "index_seconds", "#4c78a8", "indexing")):
        values = [comparison.costs[a][key] for a in names]
        axes[2].barh(y + offset, values, height=0.4, color=colour, label=label)
        for yi, v in zip(y + offset, values):
            if v > 0:
                axes[2].text(v, yi, f" {v:.1f} s", va="center", fontsize=7)
    axes[2].set(yticks=y, yticklabels=[], xscale="log", xlabel="seconds before the first query (log scale)",
                title="up-front cost")
    axes[2].set_xlim(right=axes[2].get_xlim()[1] * 8)  # room for the labels
    axes[2].invert_yaxis()
    axes[2].legend(fontsize=7, loc="lower right")
    width = 0.4
    citation = [np.nan_to_num(comparison.score(a, None, "citation_correct")) for a in names]
    abstain = [comparison.abstention(a) for a in names]
    axes[3].barh(y - width / 2, citation, height=width, color="#4c78a8", label="citation accuracy")
    axes[3].barh(y + width / 2, abstain, height=width, color="#e45756", label="'I don't know' (unanswerable)")
    axes[3].set(yticks=y, yticklabels=[], xlim=(0, 1.05), xlabel="share of questions", title="citations, abstention")
    axes[3].invert_yaxis()
    axes[3].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------- the report

def figure_to_base64(fig, dpi: int = 90) -> str:
    """A matplotlib figure as base64 PNG text, for an <img src="data:image/png;base64,…">."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render_report(table, claims, literature, figures: dict, citations: dict | None = None) -> str:
    """The report's HTML: every table as HTML, every figure inline."""
    e = html.escape
    images = "".join(f"<h3>{e(title)}</h3><img alt='{e(title)}' src='data:image/png;base64,{figure_to_base64(fig)}'>"
                     for title, fig in figures.items())
    refs = "".join(f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in (citations or {}).items())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RAG vs fine-tuning: the measured comparison</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;font-size:13px;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 6px}}
img{{max-width:100%}}</style></head><body>
<h1>RAG vs fine-tuning: the measured comparison</h1>
<p>Every approach answered the same questions, with SmolLM2-135M-Instruct on a CPU. Written {stamp} by notebook 06.</p>
<h2>The comparison</h2>{table.to_html(float_format=lambda x: f"{x:.2f}", na_rep="-")}
{images}
<h2>The claims lab</h2>{claims.to_html(index=False)}
<h2>Our numbers beside the literature</h2>{literature.to_html(index=False)}
<h2>References</h2><ul>{refs}</ul>
</body></html>
"""


def write_report(table, claims, literature, figures: dict, citations: dict | None = None, path: Path = REPORT) -> Path:
    """Write the self-contained HTML report (atomically); returns its path."""
    write_text_atomic(path, render_report(table, claims, literature, figures, citations))
    return Path(path)


def summary_text(comparison, claims) -> str:
    """The comparison table and one line per claim, as plain text."""
    lines = [comparison.summary_text(), "Claims lab:"]
    lines += [f"  {row['verdict'].split()[-1]:<10} {row['claim']}" for _, row in claims.iterrows()]  # no icon: fixed width
    return "\n".join(lines) + f"\n\nFull report: {REPORT.relative_to(REPO_ROOT)}\n"


def write_summary(comparison, claims, path: Path = SUMMARY) -> Path:
    write_text_atomic(path, summary_text(comparison, claims))
    return Path(path)
