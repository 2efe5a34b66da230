"""The RAG inspector (03_rag_loop.ipynb): one question, every step of the loop on screen.

``inspect_question`` runs the pipeline and returns plain data plus HTML, so it
is tested without a browser; ``rag_inspector`` only lays out a question box and
a top-k slider around it.
"""
from __future__ import annotations

import html
import warnings

from .retrieval import highlight, query_terms

STEP_COLOURS = {"retrieve": "#54a24b", "prefill": "#4c78a8", "decode": "#f58518"}


def inspect_question(rag, question: str, top_k: int | None = None) -> dict:
    """Ask ``rag`` one question; return the result (or the error) and its HTML rendering."""
    pipeline = rag if top_k in (None, rag.top_k) else rag.with_options(top_k=top_k)
    view = {"question": question, "result": None, "error": None, "warnings": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            view["result"] = pipeline.ask(question)
        except ValueError as err:  # bad input: show the message, keep the widget alive
            view["error"] = str(err)
    view["warnings"] = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    view["html"] = render_view(view)
    return view


def render_answer(result) -> str:
    """The answer, then one expandable block per citation with the chunk it points to."""
    e = html.escape
    parts = [f"<p><b>Answer:</b> {e(result.raw) or '<i>(empty)</i>'}</p>"]
    for n in result.citations:
        hit = result.hits[n - 1]
        parts.append(f"<details><summary>[{n}] {e(hit.title)} <code>{e(hit.chunk_id)}</code></summary>"
                     f"<blockquote>{e(hit.text)}</blockquote></details>")
    if result.invalid_citations:
        parts.append(f"<p style='color:#b00'>Cites sources that do not exist: {result.invalid_citations} "
                     f"(there are {len(result.hits)}).</p>")
    if not result.citations:
        parts.append("<p style='color:#b00'>No citation: nothing in the answer says where it comes from.</p>")
    return "".join(parts)


def render_sources(question: str, result) -> str:
    """The retrieved chunks in prompt order; query words highlighted, cited rows shaded."""
    terms = query_terms(question)
    rows = "".join(
        f"<tr style='background:{'#fff3bf' if n in result.citations else 'transparent'}'>"
        f"<td>[{n}]</td><td><code>{html.escape(h.doc_id)}</code></td>"
        f"<td style='text-align:left'>{highlight(h.text, terms)}</td></tr>"
        for n, h in enumerate(result.hits, 1))
    return ("<p><b>Retrieved sources</b> (cited ones shaded, question words marked)</p>"
            f"<table><thead><tr><th>source</th><th>document</th><th>chunk</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def render_timings(timings: dict) -> str:
    """A stacked bar of where the seconds went, and the numbers."""
    total = sum(timings[step] for step in STEP_COLOURS) or 1.0
    bar = "".join(f"<div title='{step}' style='background:{colour};height:14px;"
                  f"width:{max(1, round(300 * timings[step] / total))}px'></div>"
                  for step, colour in STEP_COLOURS.items())
    legend = " · ".join(f"<span style='color:{c}'>■</span> {s} {timings[s]:.2f} s" for s, c in STEP_COLOURS.items())
    return (f"<p><b>Time</b>: {timings['total']:.2f} s in all, {timings['prompt_tokens']} prompt tokens</p>"
            f"<div style='display:flex'>{bar}</div><p>{legend}</p>")


def render_view(view: dict) -> str:
    e = html.escape
    notes = "".join(f"<p style='color:#a60'>Warning: {e(w)}</p>" for w in view["warnings"])
    if view["error"]:
        return notes + f"<p style='color:#b00'>{e(view['error'])}</p>"
    result = view["result"]
    return (notes + render_answer(result) + render_sources(result.question, result) + render_timings(result.timings)
            + f"<details><summary>the exact prompt sent to the model</summary><pre>{e(result.prompt)}</pre></details>")


def rag_inspector(rag, question: str = "In which city is the Quibit X2 Pro assembled?"):
    """The widget: a question box and a top-k slider; the answer, sources, timings and prompt (taught in 03 §7)."""
    import ipywidgets as w

    box = w.Text(value=question, description="question", continuous_update=False, layout=w.Layout(width="95%"))
    k = w.IntSlider(value=rag.top_k, min=1, max=rag.retriever.top_k, description="top k", continuous_update=False)
    out = w.HTML()

    def update(_=None):
        out.value = "<i>retrieving and generating…</i>"
        out.value = inspect_question(rag, box.value, k.value)["html"]

    for control in (box, k):
        control.observe(update, names="value")
    update()
    return w.VBox([box, k, out])
