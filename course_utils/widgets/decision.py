"""The decision helper (06_compare.ipynb): describe a use case, get an approach and the measurements behind it.

``recommend(use_case, measured)`` is a plain function: it rules out the
approaches that break one of the use case's constraints, saying which and by
how much, then picks the most accurate of the rest. ``measured`` comes from
the comparison (``measured_from``), so every reason quotes a number this
course measured. ``decision_helper`` only lays out the questions.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from ..approaches import TEST_SPLIT, get_approach

CHANGES = ("rarely", "monthly", "weekly or faster")
LABELS = ("none", "a few hundred", "thousands")
TRAINING = ("none", "minutes", "hours")
MIN_CITATION_ACCURACY = 0.5  # "needs citations" rules out an approach whose citations are right less than half the time


@dataclass(frozen=True)
class UseCase:
    changes: str = "monthly"  # how often the facts change: one of CHANGES
    needs_citations: bool = False
    latency_budget_s: float = 1.0  # seconds per answer, on hardware like this course's
    labelled_examples: str = "a few hundred"  # question-answer pairs available for training: one of LABELS
    training_budget: str = "minutes"  # compute available for training: one of TRAINING

    def __post_init__(self):
        for name, allowed in (("changes", CHANGES), ("labelled_examples", LABELS), ("training_budget", TRAINING)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}.")
        if not self.latency_budget_s > 0:
            raise ValueError(f"The latency budget must be a positive number of seconds, got {self.latency_budget_s!r}.")


def measured_from(comparison) -> dict:
    """{approach: {accuracy, update, p50, citation, trained, retrieval, training_s}}: strict scores on test questions."""
    out = {}
    for name in comparison.approaches:
        a = get_approach(name)
        # Held-out test questions only: the trained phrasings would flatter the fine-tune.
        out[name] = {"accuracy": comparison.score(name, TEST_SPLIT), "update": comparison.score(name, "update"),
                     "p50": comparison.latency_stats(name)["p50"], "retrieval": a.retrieval,
                     "citation": comparison.score(name, None, "citation_correct") if a.retrieval else float("nan"),
                     "trained": a.adapter is not None,
                     "training_s": comparison.costs.get(name, {}).get("training_seconds", 0.0),
                     "model": comparison.model_name}
    return out


def objections(use: UseCase, name: str, m: dict, retrain_s: float | None = None) -> list[str]:
    """Why ``name`` does not fit ``use`` (empty when it fits), each reason with its measured number."""
    why = []
    if m["trained"] and use.labelled_examples == "none":
        why.append("it is trained on question-answer pairs, and you have none")
    if m["trained"] and use.training_budget == "none":
        why.append(f"it needs training ({m['training_s']:.0f} s here, on {m.get('model', 'this model')}), "
                   "and you have no training budget")
    if use.needs_citations and not m["retrieval"]:
        why.append("it cannot cite: its answers come from its weights, not from a document")
    elif use.needs_citations and not m["citation"] >= MIN_CITATION_ACCURACY:
        why.append(f"its citations pointed to the right chunk only {m['citation']:.0%} of the time")
    if m["p50"] > use.latency_budget_s:
        why.append(f"its median answer took {m['p50']:.2f} s, over your {use.latency_budget_s:.2f} s budget")
    if use.changes == "weekly or faster" and not m["retrieval"]:
        retrain = f"; retraining took {retrain_s:.0f} s" if retrain_s else ""
        why.append(f"its knowledge is frozen at training: {m['update']:.0%} right on changed facts{retrain}")
    return why


def recommend(use: UseCase, measured: dict, retrain_s: float | None = None) -> dict:
    """The most accurate approach that fits ``use``; the reasons, and what ruled the others out (taught in 06 §6)."""
    # When facts change often, accuracy on changed facts is what counts; otherwise accuracy overall.
    key = "update" if use.changes != "rarely" else "accuracy"
    excluded = {name: objections(use, name, m, retrain_s) for name, m in measured.items()}
    fitting = [name for name in measured if not excluded[name]]
    by_score = sorted(measured, key=lambda n: (-measured[n][key], measured[n]["p50"]))
    if fitting:
        best = min(fitting, key=lambda n: (-measured[n][key], measured[n]["p50"]))
        reasons = [f"{best} fits every constraint and was the most accurate that does: "
                   f"{measured[best][key]:.0%} right on {'changed facts' if key == 'update' else 'answerable questions'}, "
                   f"median {measured[best]['p50']:.2f} s per answer."]
        if by_score[0] != best:
            reasons.append(f"{by_score[0]} scored higher ({measured[by_score[0]][key]:.0%}) but "
                           f"{excluded[by_score[0]][0]}.")
    else:  # nothing fits: the approach that breaks the fewest constraints, and what to relax
        best = min(measured, key=lambda n: (len(excluded[n]), -measured[n][key]))
        reasons = [f"No approach fits every constraint. {best} breaks the fewest: {'; '.join(excluded[best])}. "
                   "Relax that constraint, or measure a larger model."]
    view = {"recommendation": best, "reasons": reasons, "excluded": {n: w for n, w in excluded.items() if w},
            "fits": fitting, "ranked_by": key, "model": measured[best].get("model", "one small model")}
    view["html"] = render_recommendation(view)
    return view


def render_recommendation(view: dict) -> str:
    e = html.escape
    reasons = "".join(f"<li>{e(r)}</li>" for r in view["reasons"])
    ruled_out = "".join(f"<li><b>{e(n)}</b>: {e('; '.join(w))}</li>" for n, w in view["excluded"].items())
    return (f"<h4>Recommended: {e(view['recommendation'])}</h4><ul>{reasons}</ul>"
            + (f"<p>Ruled out:</p><ul>{ruled_out}</ul>" if ruled_out else "<p>Every approach fits.</p>")
            + f"<p style='font-size:smaller'>All numbers were measured in this notebook, with {e(view['model'])} "
              "on this machine: the ranking can change with a larger model.</p>")


def decision_helper(measured: dict, retrain_s: float | None = None):
    """The widget: five questions about your use case, and the recommendation with its evidence (taught in 06 §6)."""
    import ipywidgets as w

    style = {"description_width": "210px"}
    changes = w.Dropdown(options=CHANGES, value="monthly", description="How often do facts change?", style=style)
    labels = w.Dropdown(options=LABELS, value="a few hundred", description="Labelled Q&A pairs?", style=style)
    training = w.Dropdown(options=TRAINING, value="minutes", description="Training budget?", style=style)
    # indent=False: a checkbox's description is cut to the label width otherwise; the text sits beside the box
    cites = w.Checkbox(value=False, description="Answers must cite a source", indent=False)
    latency = w.FloatSlider(value=1.0, min=0.1, max=3.0, step=0.05, description="Latency budget (s)", style=style,
                            continuous_update=False)
    out = w.HTML()

    def update(_=None):
        use = UseCase(changes.value, cites.value, latency.value, labels.value, training.value)
        out.value = recommend(use, measured, retrain_s)["html"]

    for control in (changes, labels, training, cites, latency):
        control.observe(update, names="value")
    update()
    return w.VBox([changes, cites, latency, labels, training, out])
