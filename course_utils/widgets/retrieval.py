"""Retrieval explorer: type a question, pick a retriever and k, see the ranked chunks.

The logic is three pure functions, tested without a browser:
``explore`` (query -> hits), ``highlight`` and ``render_hits`` (hits -> HTML).
``retrieval_explorer`` only wires them to ipywidgets.
"""
from __future__ import annotations

import html
from functools import lru_cache

from ..config import whole_number
from ..retrieval import TOKEN_PATTERN, tokenize


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer, installed with the BM25 retriever

    return Stemmer.Stemmer("english")


def query_terms(query: str) -> set[str]:
    """Stems of the query's content words: what BM25 matches on (stop words dropped)."""
    from bm25s.stopwords import STOPWORDS_EN

    return set(tokenize(query, stopwords=set(STOPWORDS_EN), stem=_stemmer().stemWords))


def highlight(text: str, terms: set[str]) -> str:
    """HTML-escape ``text`` and wrap every word whose stem is in ``terms`` in ``<mark>``."""
    pieces, last = [], 0
    for match in TOKEN_PATTERN.finditer(text):
        word = match.group()
        hit = _stemmer().stemWord(word.lower()) in terms
        pieces.append(html.escape(text[last:match.start()]))
        pieces.append(f"<mark>{html.escape(word)}</mark>" if hit else html.escape(word))
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return "".join(pieces)


def render_hits(query: str, hits) -> str:
    """The ranked hits as an HTML table, query words highlighted."""
    if not hits:
        return "<p><i>No chunks retrieved.</i></p>"
    terms = query_terms(query)
    rows = "".join(
        f"<tr><td>{h.rank}</td><td>{h.score:.4f}</td><td><code>{html.escape(h.doc_id)}</code></td>"
        f"<td style='text-align:left'>{highlight(h.text, terms)}</td></tr>"
        for h in hits
    )
    return ("<table><thead><tr><th>rank</th><th>score</th><th>document</th><th>chunk</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def explore(query: str, kind: str, k: int, retrievers: dict) -> list:
    """The first ``k`` hits of ``retrievers[kind]`` for ``query``."""
    if kind not in retrievers:
        raise ValueError(f"No retriever called {kind!r}. Fix: choose one of {sorted(retrievers)}.")
    top_k = retrievers[kind].top_k
    if not whole_number(k) or not 1 <= k <= top_k:
        raise ValueError(f"k must be between 1 and {top_k} (the retriever's top_k), got {k!r}. "
                         f"Fix: pick k in that range, or build the retriever with a larger top_k.")
    return retrievers[kind].retrieve(query)[:k]


def explorer_html(query: str, kind: str, k: int, retrievers: dict) -> str:
    """What the widget shows: the hits, or the error message when the input is not usable."""
    try:
        return render_hits(query, explore(query, kind, k, retrievers))
    except ValueError as err:
        return f"<p style='color:#b00'>{html.escape(str(err))}</p>"


def retrieval_explorer(retrievers: dict, query: str = "What is the catalogue code of the Quibit X2?"):
    """An ipywidgets box: query text, retriever dropdown, k slider, ranked chunks (taught in 01 §8)."""
    import ipywidgets as w

    box = w.Text(value=query, description="query", continuous_update=False,
                 layout=w.Layout(width="95%"))
    kind = w.Dropdown(options=list(retrievers), value=list(retrievers)[-1], description="retriever")
    k = w.IntSlider(value=3, min=1, max=min(r.top_k for r in retrievers.values()), description="top k")
    out = w.HTML()

    def update(_=None):
        out.value = explorer_html(box.value, kind.value, k.value, retrievers)

    for control in (box, kind, k):
        control.observe(update, names="value")
    update()
    return w.VBox([box, w.HBox([kind, k]), out])
