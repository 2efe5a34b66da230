"""The claims lab: popular claims about RAG and fine-tuning, each judged by code from measured numbers.

Every claim is a small pure function ``measures -> Verdict``. ``measures`` is a
flat dict of numbers (``measures_from`` builds it from notebook 06's
comparison and experiments). The thresholds that decide a verdict sit beside
each function as named constants, so a learner can read, and argue with,
exactly what "supported" means. A verdict is:

- **supported**: every test the claim implies passes;
- **refuted**: none passes (or, for a one-number claim, the number is on the wrong side);
- **nuanced**: some do and some do not; the sentence says which.

Each verdict carries one sentence that quotes the numbers, to repeat at work.
The literature section sets the course's numbers beside published ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SUPPORTED, NUANCED, REFUTED = "supported", "nuanced", "refuted"
ICONS = {SUPPORTED: "✅", NUANCED: "⚖️", REFUTED: "❌"}


@dataclass(frozen=True)
class Verdict:
    claim: str
    verdict: str  # SUPPORTED, NUANCED or REFUTED
    sentence: str  # one repeatable sentence that quotes the numbers
    tests: tuple = field(default=())  # (what was tested, passed) pairs


def grade(passed: list[bool]) -> str:
    """All tests pass: supported; none: refuted; some: nuanced."""
    if all(passed):
        return SUPPORTED
    return REFUTED if not any(passed) else NUANCED


def need(m: dict, *keys: str) -> list[float]:
    """The measures a claim needs, or a clear error naming the missing ones."""
    missing = [k for k in keys if k not in m or m[k] is None]
    if missing:
        raise KeyError(f"The claims lab is missing the measure(s) {missing}. Fix: build the measures with "
                       "measures_from(comparison, experiments) after running every experiment of notebook 06.")
    return [float(m[k]) for k in keys]


def pct(x: float) -> str:
    return f"{x:.0%}"


# ------------------------------------------------------------------------------- 1. changing data
RETRAIN_VS_REINDEX_MIN = 10.0  # retraining must take at least 10× as long as re-indexing
UPDATE_ACCURACY_MARGIN = 0.10  # RAG must beat the not-retrained fine-tune on changed facts by 10 points


def rag_handles_changing_data(m: dict) -> Verdict:
    reindex, retrain, rag, ft, stale = need(m, "reindex_seconds", "retrain_seconds", "update_rag",
                                            "update_finetune", "update_finetune_stale")
    ratio = retrain / max(reindex, 1e-9)
    tests = [(f"retraining takes ≥ {RETRAIN_VS_REINDEX_MIN:.0f}× as long as re-indexing", ratio >= RETRAIN_VS_REINDEX_MIN),
             (f"RAG beats the old fine-tune on changed facts by ≥ {pct(UPDATE_ACCURACY_MARGIN)}",
              rag - ft >= UPDATE_ACCURACY_MARGIN)]
    sentence = (f"Re-indexing the changed documents took {reindex:.1f} s against {retrain:.0f} s to retrain "
                f"({ratio:.0f}× longer), and on the changed facts RAG was right {pct(rag)} of the time against "
                f"{pct(ft)} for the fine-tune trained before the change ({pct(stale)} of its answers gave the old value).")
    return Verdict("RAG handles changing data", grade([ok for _, ok in tests]), sentence, tuple(tests))


# ------------------------------------------------------------------------------- 2. specialised accuracy
ACCURACY_MARGIN = 0.10  # "more accurate" means at least 10 points more


def finetune_more_accurate(m: dict) -> Verdict:
    seen_ft, seen_rag, para_ft, para_rag, em_ft, em_rag = need(
        m, "train_finetune", "train_rag", "paraphrase_finetune", "paraphrase_rag", "format_finetune", "format_rag")
    tests = [(f"on the trained phrasings, fine-tune ≥ RAG + {pct(ACCURACY_MARGIN)}", seen_ft - seen_rag >= ACCURACY_MARGIN),
             (f"on held-out paraphrases, fine-tune ≥ RAG + {pct(ACCURACY_MARGIN)}", para_ft - para_rag >= ACCURACY_MARGIN),
             (f"in answer format (exact match), fine-tune ≥ RAG + {pct(ACCURACY_MARGIN)}", em_ft - em_rag >= ACCURACY_MARGIN)]
    sentence = (f"On questions phrased as in training the fine-tune was right {pct(seen_ft)} of the time against "
                f"{pct(seen_rag)} for RAG; on paraphrases {pct(para_ft)} against {pct(para_rag)}; in exact answer "
                f"format {pct(em_ft)} against {pct(em_rag)}.")
    return Verdict("Fine-tuning is more accurate on specialised tasks", grade([ok for _, ok in tests]), sentence,
                   tuple(tests))


# ------------------------------------------------------------------------------- 3. latency
FASTER_RATIO = 1.5  # supported: RAG's median latency is at least 1.5× the fine-tune's
SAME_SPEED_RATIO = 1.1  # refuted: less than 10% apart (or the fine-tune is slower)


def finetune_answers_faster(m: dict) -> Verdict:
    p50_ft, p50_rag, tok_ft, tok_rag, prefill_ft, prefill_rag, decode_ft, decode_rag = need(
        m, "p50_finetune", "p50_rag", "tokens_finetune", "tokens_rag", "prefill_finetune", "prefill_rag",
        "decode_finetune", "decode_rag")
    ratio = p50_rag / max(p50_ft, 1e-9)
    verdict = SUPPORTED if ratio >= FASTER_RATIO else REFUTED if ratio < SAME_SPEED_RATIO else NUANCED
    tests = ((f"RAG's median latency ≥ {FASTER_RATIO}× the fine-tune's", ratio >= FASTER_RATIO),
             (f"the two differ by ≥ {SAME_SPEED_RATIO}×", ratio >= SAME_SPEED_RATIO))
    sentence = (f"A query took {p50_ft:.2f} s (median) on the fine-tune and {p50_rag:.2f} s with RAG ({ratio:.1f}×): "
                f"RAG's prompt held {tok_rag:.0f} tokens against {tok_ft:.0f}, so its prefill took {prefill_rag:.2f} s "
                f"against {prefill_ft:.2f} s, while decoding the answer took {decode_rag:.2f} s against {decode_ft:.2f} s.")
    return Verdict("Fine-tuned models answer faster", verdict, sentence, tests)


# ------------------------------------------------------------------------------- 4. traceability
TRACEABLE_MIN = 0.80  # supported: at least 80% of answers cite a chunk that holds the answer
UNTRACEABLE_MAX = 0.50  # refuted: fewer than half do


def rag_is_traceable(m: dict) -> Verdict:
    accuracy, cited = need(m, "citation_rag", "cited_rag")
    verdict = SUPPORTED if accuracy >= TRACEABLE_MIN else REFUTED if accuracy < UNTRACEABLE_MAX else NUANCED
    tests = ((f"citation accuracy ≥ {pct(TRACEABLE_MIN)}", accuracy >= TRACEABLE_MIN),
             (f"citation accuracy ≥ {pct(UNTRACEABLE_MAX)}", accuracy >= UNTRACEABLE_MAX))
    sentence = (f"RAG cited a source in {pct(cited)} of its answers, and the cited chunk held the right answer in "
                f"{pct(accuracy)} of the answerable questions; a closed-book or fine-tuned model cites nothing.")
    return Verdict("RAG is transparent and traceable", verdict, sentence, tests)


# ------------------------------------------------------------------------------- 5. scaling the knowledge base
MAX_INDEX_SECONDS_PER_DOC = 0.5  # adding a document must cost under half a second of indexing
MAX_RECALL_DROP = 0.10  # retrieval may lose at most 10 points as the base grows


def rag_scales(m: dict) -> Verdict:
    docs_small, docs_full, s_small, s_full, r_small, r_full = need(
        m, "docs_small", "docs_full", "index_seconds_small", "index_seconds_full", "recall_small", "recall_full")
    per_doc = s_full / max(docs_full, 1)
    tests = [(f"indexing costs ≤ {MAX_INDEX_SECONDS_PER_DOC} s per document", per_doc <= MAX_INDEX_SECONDS_PER_DOC),
             (f"recall drops by ≤ {pct(MAX_RECALL_DROP)} as documents are added", r_small - r_full <= MAX_RECALL_DROP)]
    sentence = (f"Indexing {docs_small:.0f} documents took {s_small:.2f} s and {docs_full:.0f} took {s_full:.2f} s "
                f"({per_doc * 1000:.0f} ms per document), and the gold document reached the prompt for {pct(r_small)} "
                f"of the same questions before and {pct(r_full)} after the base grew.")
    return Verdict("RAG scales by growing the knowledge base", grade([ok for _, ok in tests]), sentence, tuple(tests))


# ------------------------------------------------------------------------------- 6. cost profile
UPFRONT_RATIO_MIN = 10.0  # training must cost at least 10× the indexing time
PER_QUERY_TOKEN_RATIO_MIN = 2.0  # RAG's prompts must be at least twice as long


def cost_profile(m: dict) -> Verdict:
    train_s, index_s, tok_rag, tok_ft, peak_mb = need(m, "training_seconds", "index_seconds", "tokens_rag",
                                                      "tokens_finetune", "training_peak_mb")
    upfront, per_query = train_s / max(index_s, 1e-9), tok_rag / max(tok_ft, 1e-9)
    tests = [(f"training costs ≥ {UPFRONT_RATIO_MIN:.0f}× indexing", upfront >= UPFRONT_RATIO_MIN),
             (f"RAG reads ≥ {PER_QUERY_TOKEN_RATIO_MIN:.0f}× the prompt tokens per query",
              per_query >= PER_QUERY_TOKEN_RATIO_MIN)]
    sentence = (f"Up front, training took {train_s:.0f} s and {peak_mb:.0f} MB against {index_s:.1f} s to index "
                f"({upfront:.0f}×); per query, RAG read {tok_rag:.0f} prompt tokens against {tok_ft:.0f} "
                f"({per_query:.1f}×).")
    return Verdict("Fine-tuning costs more up front; RAG costs more per query", grade([ok for _, ok in tests]),
                   sentence, tuple(tests))


# ------------------------------------------------------------------------------- 7. data quality
FOLLOWS_BAD_DATA_MIN = 0.25  # supported: one planted document changes at least a quarter of the answers
FOLLOWS_BAD_DATA_NOISE = 0.05  # refuted: it changes fewer than 5%


def rag_depends_on_data_quality(m: dict) -> Verdict:
    planted, clean = need(m, "follow_planted", "follow_clean")
    effect = planted - clean
    verdict = SUPPORTED if effect >= FOLLOWS_BAD_DATA_MIN else REFUTED if effect < FOLLOWS_BAD_DATA_NOISE else NUANCED
    tests = ((f"the planted copy adds ≥ {pct(FOLLOWS_BAD_DATA_MIN)} outdated answers", effect >= FOLLOWS_BAD_DATA_MIN),
             (f"it adds ≥ {pct(FOLLOWS_BAD_DATA_NOISE)}", effect >= FOLLOWS_BAD_DATA_NOISE))
    sentence = (f"With one outdated copy of a document planted in the index, {pct(planted)} of the answers to its "
                f"questions gave the outdated value, against {pct(clean)} with a clean index.")
    return Verdict("RAG depends on the quality of its data", verdict, sentence, tests)


# ------------------------------------------------------------------------------- 8. labelled data
LABEL_GAIN_MIN = 0.10  # what labelled pairs must add, in points


def finetune_needs_labelled_data(m: dict) -> Verdict:
    base_seen, ft_seen, base_unseen, ft_unseen, ft_aug, extra = need(
        m, "base_seen", "ft_seen", "base_unseen", "ft_unseen", "ft_unseen_aug", "extra_phrasings")
    sweep_base = m.get("ft_unseen_x0", ft_unseen)  # the sweep's own +0 run, on the same facts as ft_unseen_aug
    tests = [(f"training pairs raise accuracy on their own phrasing by ≥ {pct(LABEL_GAIN_MIN)}",
              ft_seen - base_seen >= LABEL_GAIN_MIN),
             (f"without a labelled pair in that phrasing, the gain is < {pct(LABEL_GAIN_MIN)}",
              ft_unseen - base_unseen < LABEL_GAIN_MIN),
             (f"more labelled phrasings per fact raise paraphrase accuracy by ≥ {pct(LABEL_GAIN_MIN)}",
              ft_aug - sweep_base >= LABEL_GAIN_MIN)]
    sentence = (f"Training pairs took the model from {pct(base_seen)} to {pct(ft_seen)} on the phrasings it was "
                f"trained on, but only from {pct(base_unseen)} to {pct(ft_unseen)} on paraphrases; on the same facts, "
                f"{extra:.0f} extra labelled phrasings per fact took paraphrases from {pct(sweep_base)} to {pct(ft_aug)}.")
    return Verdict("Fine-tuning needs labelled data", grade([ok for _, ok in tests]), sentence, tuple(tests))


# ------------------------------------------------------------------------------- 9. hybrids
HYBRID_MARGIN = 0.05  # a hybrid must beat the better parent by 5 points (and is refuted 5 points below)


def hybrids_best_of_both(m: dict) -> Verdict:
    rag, ft, ft_rag, raft = need(m, "overall_rag", "overall_finetune", "overall_finetune_rag", "overall_raft")
    gap = max(ft_rag, raft) - max(rag, ft)
    verdict = SUPPORTED if gap >= HYBRID_MARGIN else REFUTED if gap <= -HYBRID_MARGIN else NUANCED
    tests = ((f"the best hybrid beats the better parent by ≥ {pct(HYBRID_MARGIN)}", gap >= HYBRID_MARGIN),
             (f"the best hybrid is no more than {pct(HYBRID_MARGIN)} below the better parent", gap > -HYBRID_MARGIN))
    sentence = (f"Over every answerable question, fine-tune + RAG was right {pct(ft_rag)} of the time and RAFT "
                f"{pct(raft)}, against {pct(rag)} for RAG and {pct(ft)} for the fine-tune alone.")
    return Verdict("Hybrids combine the best of both", verdict, sentence, tests)


# ------------------------------------------------------------------------------- 10. hallucination
ABSTAIN_GAIN_MIN = 0.25  # RAG must say "I don't know" on 25 points more unanswerable questions than closed-book
FALSE_ABSTAIN_MAX = 0.20  # while refusing at most 20% of the answerable ones


def rag_reduces_hallucination(m: dict) -> Verdict:
    rag, closed, false_rag = need(m, "abstain_rag", "abstain_closed", "false_abstain_rag")
    tests = ((f"RAG abstains on ≥ {pct(ABSTAIN_GAIN_MIN)} more unanswerable questions", rag - closed >= ABSTAIN_GAIN_MIN),
             (f"RAG abstains on ≤ {pct(FALSE_ABSTAIN_MAX)} of answerable questions", false_rag <= FALSE_ABSTAIN_MAX))
    # Refusing answerable questions only matters once RAG refuses at all: without the first test, refuted.
    verdict = REFUTED if not tests[0][1] else SUPPORTED if tests[1][1] else NUANCED
    sentence = (f"On questions no document answers, RAG said it did not know {pct(rag)} of the time against "
                f"{pct(closed)} closed-book, and it wrongly refused {pct(false_rag)} of the answerable ones.")
    return Verdict("RAG stops the model making answers up", verdict, sentence, tests)


# ------------------------------------------------------------------------------- all claims
CLAIMS = (  # (verdict function, the experiment that tests it)
    (rag_handles_changing_data, "facts change (v1 → v2): re-index time vs retrain time; accuracy on changed facts"),
    (finetune_more_accurate, "trained vs paraphrased questions; exact answer format"),
    (finetune_answers_faster, "one query at a time: retrieve / prefill / decode, and prompt length"),
    (rag_is_traceable, "citation accuracy: does the cited chunk contain the answer?"),
    (rag_scales, "index time and retrieval recall as documents are added"),
    (cost_profile, "training time and memory vs prompt tokens per query"),
    (rag_depends_on_data_quality, "one outdated copy of a document planted in the index"),
    (finetune_needs_labelled_data, "accuracy on trained vs held-out phrasings, and with extra phrasings per fact"),
    (hybrids_best_of_both, "fine-tune + RAG and RAFT vs their parents"),
    (rag_reduces_hallucination, "'I don't know' on unanswerable questions"),
)


def judge_all(m: dict):
    """A pandas DataFrame: one row per claim, its verdict, the sentence and the experiment."""
    import pandas as pd

    rows = []
    for fn, experiment in CLAIMS:
        v = fn(m)
        rows.append({"claim": v.claim, "verdict": f"{ICONS[v.verdict]} {v.verdict}", "evidence": v.sentence,
                     "experiment": experiment})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------- measures

def measures_from(comparison, experiments: dict) -> dict:
    """The flat dict the claims read: numbers from the comparison, plus the notebook's extra experiments.

    ``experiments`` holds what the comparison does not measure: reindex_seconds,
    retrain_seconds, docs_small/full, index_seconds_small/full, recall_small/full,
    follow_planted, follow_clean, ft_unseen_aug, extra_phrasings.
    """
    import numpy as np

    c = comparison
    lat = {a: c.latency_stats(a) for a in ("RAG", "fine-tune")}
    ft_update = [r["stale"] for r in c.rows if r["approach"] == "fine-tune" and r["split"] == "update"
                 and r["stale"] is not None]
    answerable = [s for s in ("train", "paraphrase", "update")]

    def overall(a):  # every answerable question counts once
        return float(np.mean([r["contains"] for r in c.rows if r["approach"] == a and r["split"] in answerable]))

    def em(a):
        return float(np.mean([r["exact_match"] for r in c.rows if r["approach"] == a and r["split"] in answerable]))

    m = {
        "update_rag": c.score("RAG", "update"), "update_finetune": c.score("fine-tune", "update"),
        "update_finetune_stale": float(np.mean(ft_update)) if ft_update else float("nan"),
        "train_rag": c.score("RAG", "train"), "train_finetune": c.score("fine-tune", "train"),
        "paraphrase_rag": c.score("RAG", "paraphrase"), "paraphrase_finetune": c.score("fine-tune", "paraphrase"),
        "format_rag": em("RAG"), "format_finetune": em("fine-tune"),
        "p50_rag": lat["RAG"]["p50"], "p50_finetune": lat["fine-tune"]["p50"],
        "prefill_rag": lat["RAG"]["prefill"], "prefill_finetune": lat["fine-tune"]["prefill"],
        "decode_rag": lat["RAG"]["decode"], "decode_finetune": lat["fine-tune"]["decode"],
        "tokens_rag": c.prompt_tokens("RAG"), "tokens_finetune": c.prompt_tokens("fine-tune"),
        "citation_rag": c.score("RAG", None, "citation_correct"), "cited_rag": c.score("RAG", None, "cited"),
        "training_seconds": c.costs["fine-tune"]["training_seconds"],
        "training_peak_mb": c.costs["fine-tune"]["training_peak_mb"],
        "index_seconds": c.costs["RAG"]["index_seconds"],
        "base_seen": c.score("closed-book", "train"), "ft_seen": c.score("fine-tune", "train"),
        "base_unseen": c.score("closed-book", "paraphrase"), "ft_unseen": c.score("fine-tune", "paraphrase"),
        "overall_rag": overall("RAG"), "overall_finetune": overall("fine-tune"),
        "overall_finetune_rag": overall("fine-tune + RAG"), "overall_raft": overall("RAFT"),
        "overall_closed": overall("closed-book"),
        "abstain_rag": c.abstention("RAG"), "abstain_closed": c.abstention("closed-book"),
        "false_abstain_rag": c.abstention("RAG", answerable=True),
    }
    return {**m, **experiments}


# ------------------------------------------------------------------------------- literature
# Published numbers, quoted from the papers (see COURSE_DESIGN.md, section 2).
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
TIE = 0.03  # differences under 3 points (under one question in 24) count as "about equal", theirs and ours


def direction(a: float, b: float, tie: float = TIE) -> str:
    """'>' when a beats b by more than ``tie``, '<' when it trails by more, '≈' otherwise."""
    return ">" if a - b > tie else "<" if b - a > tie else "≈"


def literature_table(ours: dict):
    """Each published comparison beside ours, and whether the direction agrees.

    ``ours``: closed-book, RAG, fine-tune, fine-tune + RAG, RAFT, "fine-tune, paraphrases"
    (accuracy on held-out paraphrases), "matching index", "mismatched index" (update questions).
    All numbers are shares (0 to 1), and the same tie band applies to the papers' and ours.
    """
    import pandas as pd

    checks = [  # (paper, left, right, paper's left value, paper's right value)
        ("Ovadia et al. 2024", "RAG", "closed-book", OVADIA["RAG"], OVADIA["closed-book"]),
        ("Ovadia et al. 2024", "RAG", "fine-tune", OVADIA["RAG"], OVADIA["fine-tune"]),
        ("Ovadia et al. 2024", "fine-tune", "closed-book", OVADIA["fine-tune"], OVADIA["closed-book"]),
        ("Ovadia et al. 2024", "fine-tune, paraphrases", "fine-tune", OVADIA["fine-tune, paraphrases"], OVADIA["fine-tune"]),
        ("Ovadia et al. 2024", "fine-tune + RAG", "RAG", OVADIA["fine-tune + RAG"], OVADIA["RAG"]),
        ("Zhang et al. 2024", "RAFT", "fine-tune + RAG", RAFT_PAPER["RAFT"], RAFT_PAPER["fine-tune + RAG"]),
        ("Zhang et al. 2024", "RAFT", "RAG", RAFT_PAPER["RAFT"], RAFT_PAPER["RAG"]),
        ("Lewis et al. 2020", "matching index", "mismatched index", LEWIS["matching index"][0], LEWIS["mismatched index"][0]),
    ]
    shown = {"matching index vs mismatched index": "0.70 / 0.68 vs 0.12 / 0.04 (2016 / 2018)"}
    rows = []
    for paper, left, right, p_left, p_right in checks:
        theirs = direction(p_left, p_right)
        mine = direction(ours[left], ours[right])
        name = f"{left} vs {right}"
        rows.append({"paper": paper, "comparison": name, "paper's numbers": shown.get(name, f"{p_left:g} vs {p_right:g}"),
                     "their direction": theirs, "ours": f"{ours[left]:.2f} vs {ours[right]:.2f}",
                     "our direction": mine, "agree": mine == theirs})
    return pd.DataFrame(rows)
