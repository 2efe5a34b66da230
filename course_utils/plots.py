"""The course's colours and figures: one colour per approach in every plot, the live loss curve, the comparison's plots.

matplotlib is imported inside each figure: importing this module stays cheap.
"""
from __future__ import annotations

import numpy as np

# One colour per approach, in every plot of the course (taught in 05 §1).
COLOURS = {"closed-book": "#9d9d9d", "RAG": "#4c78a8", "fine-tune": "#f58518", "fine-tune + RAG": "#54a24b",
           "RAFT": "#b279a2"}


class LossPlot:
    """A loss curve that redraws during training in a notebook, every ``every`` steps (redrawing costs time)."""

    def __init__(self, total_steps: int, every: int | None = None, title: str = "training loss"):
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.every = every or max(5, total_steps // 10)  # about ten redraws per run
        self.fig, self.ax = plt.subplots(figsize=(6, 2.8))
        (self.line,) = self.ax.plot([], [], color="tab:blue")
        self.ax.set(xlabel="step", ylabel="loss on answer tokens", title=title, xlim=(0, total_steps))
        self.handle = display(self.fig, display_id=True)
        plt.close(self.fig)  # drawn through the handle only, not a second time at the end of the cell

    def update(self, history: list[float], force: bool = False) -> None:
        if history and (force or len(history) % self.every == 0):
            self.line.set_data(range(1, len(history) + 1), history)
            self.ax.set_ylim(0, max(history) * 1.05)
            self.handle.update(self.fig)


def _colours(names):
    return [COLOURS.get(n, "#777777") for n in names]


def plot_accuracy(comparison, metric: str = "strict"):
    """Grouped bars, one group per answerable split, one bar per approach, with 95% intervals as error bars."""
    import matplotlib.pyplot as plt

    splits = [s for s in comparison.split_table(metric).columns if s != "unanswerable"]
    names = comparison.approaches
    fig, ax = plt.subplots(figsize=(9, 3.6))
    width = 0.8 / len(names)
    for i, (name, colour) in enumerate(zip(names, _colours(names))):
        est = [comparison.estimate(name, s, metric) for s in splits]
        x = np.arange(len(splits)) + (i - (len(names) - 1) / 2) * width
        errors = [[e.value - e.low for e in est], [e.high - e.value for e in est]]
        ax.bar(x, [e.value for e in est], width, yerr=errors, capsize=2, color=colour, label=name)
    n = {s: comparison.estimate(names[0], s, metric).n for s in splits}
    ax.set_xticks(np.arange(len(splits)), [f"{s}\n(n={n[s]})" for s in splits])
    ax.set(ylim=(0, 1.05), ylabel=f"{metric} accuracy", title=f"{metric} accuracy by split, with 95% intervals")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_costs(comparison):
    """Four panels: latency p50/p95 (with its retrieve/prefill/decode split), prompt tokens, training cost,
    and citation accuracy and abstention (taught in 06 §2)."""
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
    made_up = [comparison.score(a, "unanswerable", "confident_wrong") for a in names]
    axes[3].barh(y - width / 2, citation, height=width, color="#4c78a8", label="right, citing the gold document")
    axes[3].barh(y + width / 2, made_up, height=width, color="#e45756", label="made a value up (unanswerable)")
    axes[3].set(yticks=y, yticklabels=[], xlim=(0, 1.05), xlabel="share of questions", title="citations, made-up answers")
    axes[3].invert_yaxis()
    axes[3].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig
