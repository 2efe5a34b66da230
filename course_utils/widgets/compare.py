"""The comparison widget (06_compare.ipynb): one question, every approach's answer side by side.

``compare_question`` returns plain data plus HTML, so it is tested without a
browser; ``comparison_explorer`` only lays out the controls around it. A
question from the evaluation sample shows the answers the comparison already
computed; a typed question is answered now by every approach.
"""
from __future__ import annotations

import html
import time
from types import SimpleNamespace

from ..data import load_documents
from ..evaluation import ABSTAINED, RIGHT, grade, value_domain

MARKS = {True: "right", False: "wrong", None: "no gold"}  # words: some browsers draw emoji as empty boxes


def find_question(comparison, question: str) -> list[dict]:
    """The comparison's rows for ``question`` (a qid or the exact question text), one per approach."""
    text = question.strip()
    return [r for r in comparison.rows if r["qid"] == text or r["question"].strip().lower() == text.lower()]


def is_correct(answer: str, gold: list[str] | None, answerable: bool | None) -> bool | None:
    """Strictly right for an answerable question, no value at all for an unanswerable one; None when unknown."""
    if answerable is None:
        return None
    outcome = grade(answer, gold if answerable else [], value_domain(None))  # every known value counts
    return outcome == (RIGHT if answerable else ABSTAINED)


def _cached_view(comparison, rows: list[dict]) -> dict:
    first = rows[0]
    answerable = first["exact_match"] is not None
    gold = first.get("answers") or []
    view_rows = []
    for r in rows:
        p50 = comparison.latency_stats(r["approach"])["p50"]
        view_rows.append({"approach": r["approach"], "answer": r["answer"], "correct": (r["outcome"] == (RIGHT if answerable else ABSTAINED)) if "outcome" in r
                          else is_correct(r["answer"], gold, answerable),
                          "hits": r.get("hits", []), "seconds": p50, "timing": "median of the timed queries",
                          "prompt_tokens": r.get("prompt_tokens")})
    return {"question": first["question"], "split": first["split"], "gold": first["gold"], "source": "cached",
            "rows": view_rows}


def _live_view(comparison, question: str) -> dict:
    bench = comparison.bench
    if bench is None:
        raise ValueError("This comparison has no model attached, so it cannot answer new questions. "
                         "Fix: run it with run_comparison(model, tokenizer), which keeps the model.")
    docs, asked, view_rows = load_documents("v2"), SimpleNamespace(question=question), []
    for name in comparison.approaches:
        start = time.perf_counter()
        result = bench.answer(name, [asked], docs, progress=False)[0]
        view_rows.append({"approach": name, "answer": result.raw, "correct": None,
                          "hits": [{"doc_id": h.doc_id, "title": h.title, "text": h.text} for h in result.hits],
                          "seconds": time.perf_counter() - start, "timing": "this question, answered now",
                          "prompt_tokens": result.timings.get("prompt_tokens")})
    return {"question": question, "split": "typed", "gold": "unknown", "source": "live", "rows": view_rows}


def compare_question(comparison, question: str) -> dict:
    """Every approach's answer to ``question``, with correctness marks, sources and timings, and its HTML."""
    if not isinstance(question, str) or not question.strip():
        view = {"question": question, "error": "Type a question, or pick one from the list.", "rows": []}
    else:
        rows = find_question(comparison, question)
        try:
            view = _cached_view(comparison, rows) if rows else _live_view(comparison, question.strip())
            view["error"] = None
        except ValueError as err:  # e.g. a question too long for the context window: show it, keep the widget
            view = {"question": question, "error": str(err), "rows": []}
    view["html"] = render_comparison(view)
    return view


def render_sources(hits) -> str:
    if not hits:
        return "<i>no sources: the answer comes from the model's weights</i>"
    items = "".join(f"<li><code>{html.escape(h['doc_id'])}</code> {html.escape(h['text'])}</li>" for h in hits)
    return f"<details><summary>{len(hits)} sources</summary><ol>{items}</ol></details>"


def render_comparison(view: dict) -> str:
    e = html.escape
    if view.get("error"):
        return f"<p style='color:#b00'>{e(view['error'])}</p>"
    head = (f"<p><b>{e(view['question'])}</b><br>split: {e(view['split'])} · gold answer: {e(view['gold'])} · "
            f"{'answers computed by the comparison' if view['source'] == 'cached' else 'answered just now'}</p>")
    rows = "".join(
        f"<tr><td><b>{e(r['approach'])}</b></td><td>{MARKS[r['correct']]}</td>"
        f"<td style='text-align:left'>{e(r['answer']) or '<i>(empty)</i>'}</td>"
        f"<td title='{e(r['timing'])}'>{r['seconds']:.2f} s</td><td>{r['prompt_tokens'] or '-'}</td>"
        f"<td style='text-align:left'>{render_sources(r['hits'])}</td></tr>" for r in view["rows"])
    return (head + "<table><thead><tr><th>approach</th><th></th><th>answer</th><th>time</th><th>prompt tokens</th>"
            f"<th>retrieved</th></tr></thead><tbody>{rows}</tbody></table>"
            "<p style='font-size:smaller'>right: strictly right (or no value given when no document answers) · "
            "wrong · no gold: no gold answer to check against. Times of questions from the list are the approach's median.</p>")


def comparison_explorer(comparison, split: str = "paraphrase"):
    """The widget: pick a split and a question, or type one; every approach's answer side by side (taught in 06 §5)."""
    import ipywidgets as w

    splits = list(dict.fromkeys(r["split"] for r in comparison.rows))
    first = comparison.approaches[0]
    questions_of = {s: [r["question"] for r in comparison.rows if r["split"] == s and r["approach"] == first]
                    for s in splits}
    split_box = w.Dropdown(options=splits, value=split if split in splits else splits[0], description="split")
    question_box = w.Dropdown(options=questions_of[split_box.value], description="question",
                              layout=w.Layout(width="95%"))
    typed = w.Text(placeholder="…or type a question and press Enter", description="your own",
                   continuous_update=False, layout=w.Layout(width="95%"))
    out = w.HTML()

    def show(question):
        out.value = "<i>answering…</i>"
        out.value = compare_question(comparison, question)["html"]

    def on_split(change):
        question_box.options = questions_of[change["new"]]

    split_box.observe(on_split, names="value")
    question_box.observe(lambda change: show(change["new"]) if change["new"] else None, names="value")
    typed.observe(lambda change: show(change["new"]), names="value")
    show(question_box.value)
    return w.VBox([split_box, question_box, typed, out])
