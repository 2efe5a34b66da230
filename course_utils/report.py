"""The report that notebook 06 leaves behind (taught in 06 §7); its plots are in ``course_utils.plots``.

``write_report`` writes ``build/report.html``: one self-contained file (the
plots are embedded as base64 PNG, no other file is needed) with the
comparison table, the claims lab's verdicts and the literature table. It fits
a 1280-pixel-wide page: the comparison's two dozen columns are shown as a few
narrower tables, one per topic (``table_by_topic``).
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

from .artifacts import write_text_atomic
from .config import REPO_ROOT

BUILD = REPO_ROOT / "build"
REPORT = BUILD / "report.html"
SUMMARY = BUILD / "summary.txt"  # course_utils.run_course prints it at the end of `make course`


# ------------------------------------------------------------------------------- the report

# The comparison table's columns, grouped by topic: one table of two dozen columns runs off a laptop's page,
# a few tables of four to nine columns do not. A column matches a topic when its name starts with one of the
# topic's prefixes; the first matching topic takes it.
TABLE_TOPICS = {
    "Accuracy: strictly right, and citations": ("strict ", "citation accuracy"),
    "Errors: wrong, made-up, abstained and cut-off answers": ("confidently wrong", "abstains", "makes up", "cut off"),
    "Looser scores: contains the answer, exact match, token F1": ("contains ", "EM ", "F1 "),
    "Speed and cost": ("p50", "p95", "prompt tokens", "index s", "training"),
}
OTHER_TOPIC = "Other measures"  # columns no topic names: shown, never dropped

REPORT_CSS = """
body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em;max-width:100%}
td,th{border:1px solid #ccc;padding:3px 6px;overflow-wrap:break-word}
th{vertical-align:bottom}
pre{white-space:pre-wrap}
img{max-width:100%;height:auto}
"""  # wrap long lines and words instead of widening the page; break-word still keeps "supported" whole


def table_by_topic(table, topics: dict = TABLE_TOPICS) -> list[tuple[str, object]]:
    """``table``'s columns split into (topic, narrower table) pairs, in ``topics``' order; every column kept once."""
    taken, parts = set(), []
    for topic, prefixes in topics.items():
        columns = [c for c in table.columns if c not in taken and str(c).startswith(prefixes)]
        taken.update(columns)
        if columns:
            parts.append((topic, table[columns]))
    rest = [c for c in table.columns if c not in taken]
    if rest:
        parts.append((OTHER_TOPIC, table[rest]))
    return parts


def _comparison_html(table) -> str:
    e = html.escape
    return "".join(f"<h3>{e(topic)}</h3>" + part.to_html(float_format=lambda x: f"{x:.2f}", na_rep="-")
                   for topic, part in table_by_topic(table))


def figure_to_base64(fig, dpi: int = 90) -> str:
    """A matplotlib figure as base64 PNG text, for an <img src="data:image/png;base64,…">."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render_report(table, claims, literature, figures: dict, citations: dict | None = None, headline: str = "",
                  model: str = "the course's model") -> str:
    """The report's HTML: the headline figures with n and intervals, every table as HTML, every figure inline.

    The claims' verdict marks are plain text (``claims.MARKS``): emoji show as empty boxes where the
    browser has no emoji font, as in Debian's Chromium.
    """
    e = html.escape
    images = "".join(f"<h3>{e(title)}</h3><img alt='{e(title)}' src='data:image/png;base64,{figure_to_base64(fig)}'>"
                     for title, fig in figures.items())
    refs = "".join(f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in (citations or {}).items())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>RAG vs fine-tuning: the measured comparison</title><style>{REPORT_CSS}</style></head><body>
<h1>RAG vs fine-tuning: the measured comparison</h1>
<p>Every approach answered the same questions, with {e(model)} on a CPU. Written {stamp} by notebook 06.</p>
<h2>Headline figures</h2><pre>{e(headline)}</pre>
<h2>The comparison</h2>{_comparison_html(table)}
{images}
<h2>The claims lab</h2>{claims.to_html(index=False)}
<h2>Our numbers beside the literature</h2>{literature.to_html(index=False)}
<h2>References</h2><ul>{refs}</ul>
</body></html>
"""


def write_report(table, claims, literature, figures: dict, citations: dict | None = None, path: Path = REPORT,
                 comparison=None) -> Path:
    """Write the self-contained HTML report (atomically); returns its path (taught in 06 §7).

    With ``comparison``, the report opens with its headline figures (n and 95% intervals) and names its model.
    """
    extra = {"headline": comparison.summary_text(), "model": comparison.model_name} if comparison else {}
    write_text_atomic(path, render_report(table, claims, literature, figures, citations, **extra))
    return Path(path)


def summary_file_text(comparison, claims) -> str:
    """The headline figures and every verdict with its sentence (n and intervals included), as plain text."""
    lines = [comparison.summary_text(), "Claims lab (verdicts from the test split; see the sentence for n and intervals):"]
    for _, row in claims.iterrows():
        lines += [f"  {row['verdict'].split()[-1]:<12} {row['claim']}", f"{'':15}{row['evidence']}"]
    return "\n".join(lines) + f"\n\nFull report: {REPORT.relative_to(REPO_ROOT)}\n"


def write_summary(comparison, claims, path: Path = SUMMARY) -> Path:
    write_text_atomic(path, summary_file_text(comparison, claims))
    return Path(path)
