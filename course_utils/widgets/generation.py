"""A prompt playground for the generator (02_generator.ipynb).

``playground_view`` does the work and returns plain data plus an HTML
rendering, so it is tested without a browser; ``prompt_playground`` only lays
out the controls and calls it whenever one of them changes.
"""
from __future__ import annotations

import html

from ..config import SEED
from ..data import load_documents, load_questions
from ..generation import SYSTEM_PROMPT, build_prompt, count_tokens, generate, next_token_probs, sampling_settings


def find_context(question: str, documents) -> tuple[str | None, str | None]:
    """(title, text) of the document for ``question``; (None, None) if there is none.

    A knowledge-base question gets its gold document. Any other question gets
    the document whose title it names, the longest title first, so that "Quibit
    X2 Pro" wins over "Quibit X2". (Notebook 01 builds a real retriever.)
    """
    by_id = {d.doc_id: d for d in documents}
    for q in load_questions():
        if q.question.strip().lower() == question.strip().lower() and q.doc_id in by_id:
            return by_id[q.doc_id].title, by_id[q.doc_id].text
    for d in sorted(documents, key=lambda d: -len(d.title)):
        if d.title.lower() in question.lower():
            return d.title, d.text
    return None, None


def playground_view(model, tokenizer, question: str, system: str = SYSTEM_PROMPT, temperature: float = 0.0,
                    max_tokens: int = 24, use_context: bool = False, documents=None, k: int = 8,
                    seed: int = SEED) -> dict:
    """Everything the playground shows for one setting of its controls."""
    title, context = find_context(question, documents or load_documents("v1")) if use_context else (None, None)
    prompt = build_prompt(tokenizer, question, context, system=system or None)
    answer = generate(model, tokenizer, prompt, max_new_tokens=max_tokens, seed=seed,
                      **sampling_settings(temperature, top_p=1.0))
    view = {
        "system": system or "(none given: the template adds its default)", "context_title": title,
        "prompt": prompt, "prompt_tokens": count_tokens(tokenizer, prompt),
        "answer": answer, "top": next_token_probs(model, tokenizer, prompt, k, temperature=temperature or 1.0),
        "decoding": f"sampling, temperature {temperature:g}, seed {seed}" if temperature > 0 else "greedy",
    }
    view["html"] = render_html(view, use_context)
    return view


def render_html(view: dict, use_context: bool) -> str:
    e = html.escape
    if not use_context:
        source = "closed-book (no context)"
    else:
        source = f"context: {e(view['context_title'])}" if view["context_title"] else "no document found"
    bars = "".join(
        f"<tr><td><code>{e(repr(token))}</code></td><td style='width:260px'>"
        f"<div style='background:#4c78a8;height:12px;width:{max(1, round(260 * p))}px'></div></td>"
        f"<td>{p:.1%}</td></tr>"
        for token, p in view["top"]
    )
    return (f"<p><b>Answer</b> ({e(view['decoding'])}; {source}; {view['prompt_tokens']} prompt tokens; "
            f"system prompt: {e(view['system'])}):</p>"
            f"<blockquote>{e(view['answer']) or '<i>(empty)</i>'}</blockquote>"
            f"<p><b>Most likely first tokens of the answer</b></p><table>{bars}</table>"
            f"<details><summary>the exact prompt</summary><pre>{e(view['prompt'])}</pre></details>")


def prompt_playground(model, tokenizer):
    """The widget: question, system prompt, temperature, max tokens, with/without context (taught in 02 §6)."""
    import ipywidgets as w

    documents = load_documents("v1")
    questions = [q.question for q in load_questions() if q.split in ("train", "unanswerable")]
    style = {"description_width": "110px"}
    controls = {
        "question": w.Combobox(value=questions[0], options=questions, ensure_option=False, continuous_update=False,
                               description="question", layout=w.Layout(width="95%"), style=style),
        "system": w.Text(value=SYSTEM_PROMPT, description="system prompt", continuous_update=False,
                         layout=w.Layout(width="95%"), style=style),
        "temperature": w.FloatSlider(value=0.0, min=0.0, max=2.0, step=0.1, description="temperature",
                                     continuous_update=False, style=style),
        "max_tokens": w.IntSlider(value=24, min=1, max=64, description="max tokens",
                                  continuous_update=False, style=style),
        "use_context": w.Checkbox(value=False, description="with retrieved context", style=style),
    }
    out = w.HTML()

    def refresh(_=None):
        values = {name: c.value for name, c in controls.items()}
        out.value = "<i>generating…</i>"
        out.value = playground_view(model, tokenizer, documents=documents, **values)["html"]

    for control in controls.values():
        control.observe(refresh, names="value")
    refresh()
    return w.VBox([*controls.values(), out])
