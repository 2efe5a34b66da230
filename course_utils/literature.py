"""Our numbers beside the literature's (taught in 06 §4): does each published comparison point the same way here?"""
from __future__ import annotations

from .approaches import TEST_SPLIT
from .claims import estimate
from .evaluation.intervals import Estimate

# Published numbers, quoted from the papers (full references in CITATIONS below).
OVADIA = {  # Ovadia et al., "Fine-Tuning or Retrieval? Comparing Knowledge Injection in LLMs", EMNLP 2024:
    # current-events questions, Mistral-7B, accuracy
    "closed-book": 0.48, "RAG": 0.88, "fine-tune": 0.50, "fine-tune, paraphrases": 0.59, "fine-tune + RAG": 0.81}


RAFT_PAPER = {  # Zhang et al., "RAFT: Adapting Language Model to Domain Specific RAG", 2024:
    # Gorilla HuggingFace API questions, LLaMA2-7B: 26.43%, 42.59%, 74.00%, written as shares like the others
    "RAG": 0.2643, "fine-tune + RAG": 0.4259, "RAFT": 0.7400}


LEWIS = {  # Lewis et al., "Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks", NeurIPS 2020:
    # world leaders, 2016 / 2018 questions, share correct with the matching and the mismatched index
    "matching index": (0.70, 0.68), "mismatched index": (0.12, 0.04)}


CITATIONS = {
    "Ovadia et al. 2024": "O. Ovadia, M. Brief, M. Mishaeli, O. Elisha. Fine-Tuning or Retrieval? Comparing Knowledge "
                          "Injection in LLMs. EMNLP 2024. arXiv:2312.05934.",
    "Zhang et al. 2024": "T. Zhang, S. G. Patil, N. Jain, S. Shen, M. Zaharia, I. Stoica, J. E. Gonzalez. RAFT: Adapting "
                         "Language Model to Domain Specific RAG. 2024. arXiv:2403.10131.",
    "Lewis et al. 2020": "P. Lewis et al. Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks. "
                         "NeurIPS 2020. arXiv:2005.11401.",
}


LITERATURE = [  # (paper, left, right, paper's left value, paper's right value)
    ("Ovadia et al. 2024", "RAG", "closed-book", OVADIA["RAG"], OVADIA["closed-book"]),
    ("Ovadia et al. 2024", "RAG", "fine-tune", OVADIA["RAG"], OVADIA["fine-tune"]),
    ("Ovadia et al. 2024", "fine-tune", "closed-book", OVADIA["fine-tune"], OVADIA["closed-book"]),
    # Like for like: the same facts, trained with and without extra phrasings (notebook 04's sweep).
    ("Ovadia et al. 2024", "fine-tune, paraphrases", "fine-tune", OVADIA["fine-tune, paraphrases"], OVADIA["fine-tune"]),
    ("Ovadia et al. 2024", "fine-tune + RAG", "RAG", OVADIA["fine-tune + RAG"], OVADIA["RAG"]),
    ("Zhang et al. 2024", "RAFT", "fine-tune + RAG", RAFT_PAPER["RAFT"], RAFT_PAPER["fine-tune + RAG"]),
    ("Zhang et al. 2024", "RAFT", "RAG", RAFT_PAPER["RAFT"], RAFT_PAPER["RAG"]),
    ("Lewis et al. 2020", "matching index", "mismatched index", LEWIS["matching index"][0], LEWIS["mismatched index"][0]),
]


def direction(difference) -> str:
    """'>' when the whole interval of left minus right is above 0, '<' when below, '≈' when it holds 0.

    A paper's single number is its own interval: its direction is its sign.
    """
    d = estimate(difference)
    return ">" if d.low > 0 else "<" if d.high < 0 else "≈"


def literature_differences(comparison, measures: dict) -> dict[str, Estimate]:
    """Our left-minus-right estimate for every comparison in ``LITERATURE``, on the test split (taught in 06 §4).

    Two rows are not comparison approaches: "fine-tune, paraphrases vs fine-tune" is the paraphrase
    sweep (``measures["ft_aug_gain"]``, the same facts trained with and without extra phrasings), and
    "matching index vs mismatched index" is the index swap (``measures["index_swap_gain"]``).
    """
    special = {("fine-tune, paraphrases", "fine-tune"): "ft_aug_gain",
               ("matching index", "mismatched index"): "index_swap_gain"}
    return {f"{left} vs {right}": (measures[special[(left, right)]] if (left, right) in special
                                   else comparison.difference(left, right, TEST_SPLIT))
            for _, left, right, _, _ in LITERATURE}


def literature_table(ours: dict[str, Estimate]):
    """Each published comparison beside ours, and whether the direction agrees (taught in 06 §4).

    ``ours``: {"left vs right": Estimate of left minus right} (``literature_differences``).
    Our "≈" band is our 95% interval: a difference whose interval holds 0 is no direction at all.
    """
    import pandas as pd

    shown = {"matching index vs mismatched index": "0.70 / 0.68 vs 0.12 / 0.04 (2016 / 2018)"}
    rows = []
    for paper, left, right, p_left, p_right in LITERATURE:
        name = f"{left} vs {right}"
        theirs, mine = direction(estimate(p_left - p_right)), direction(ours[name])
        rows.append({"paper": paper, "comparison": name, "paper's numbers": shown.get(name, f"{p_left:g} vs {p_right:g}"),
                     "their direction": theirs, "ours (left minus right)": ours[name].text(signed=True),
                     "our direction": mine, "agree": mine == theirs})
    return pd.DataFrame(rows)
