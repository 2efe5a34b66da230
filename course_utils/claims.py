"""The claims lab: popular claims about RAG and fine-tuning, each judged by code from measured numbers.

Every claim is a small pure function ``measures -> Verdict``. ``measures`` is a
flat dict (``experiments.measures_from`` builds it from notebook 06's comparison
and experiments). Accuracy figures in it are ``evaluation.intervals.Estimate``
objects: a value with its 95% interval and its n, from the held-out test questions.
Timings measured once are plain numbers. The thresholds that decide a verdict
sit beside each function as named constants, so a learner can read, and argue
with, exactly what "supported" means.

Each test of a claim compares a measure with its threshold and passes, fails,
or is **undecided** when the measure's interval crosses the threshold. Then:

- **supported**: every test passes;
- **refuted**: every test fails;
- **nuanced**: some pass and some fail, whatever the undecided ones would do;
- **inconclusive**: otherwise: the data cannot yet tell, and the sentence says which interval is too wide.

Each verdict carries one sentence that names the experiment, the model, n and
the intervals, to repeat at work. Taught in 06 §3; ``course_utils.literature``
sets the course's numbers beside published ones.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .evaluation.intervals import Estimate

SUPPORTED, NUANCED, REFUTED, INCONCLUSIVE = "supported", "nuanced", "refuted", "inconclusive"
MARKS = {SUPPORTED: "[+]", NUANCED: "[~]", REFUTED: "[-]", INCONCLUSIVE: "[?]"}  # plain text: renders everywhere


@dataclass(frozen=True)
class Verdict:
    claim: str
    verdict: str  # SUPPORTED, NUANCED, REFUTED or INCONCLUSIVE
    sentence: str  # one repeatable sentence that quotes the numbers, with n and intervals
    tests: tuple = field(default=())  # (what was tested, True / False / None for undecided) pairs


def grade(passed: list) -> str:
    """Each test True, False or None (its interval crosses the threshold); see the module docstring."""
    decided = [p for p in passed if p is not None]
    if True in decided and False in decided:
        return NUANCED
    if len(decided) < len(passed):
        return INCONCLUSIVE
    return SUPPORTED if all(decided) else REFUTED


def estimate(x) -> Estimate:
    """A measure as an Estimate: a plain number (a timing measured once) is its own interval."""
    return x if isinstance(x, Estimate) else Estimate(float(x), float(x), float(x), 1, 1)


def need(m: dict, *keys: str) -> list[Estimate]:
    """The measures a claim needs, or a clear error naming the missing or unmeasured ones."""
    missing = [k for k in keys if k not in m or m[k] is None]
    if missing:
        raise KeyError(f"The claims lab is missing the measure(s) {missing}. Fix: build the measures with "
                       "measures_from(comparison, experiments) after running every experiment of notebook 06.")
    values = [estimate(m[k]) for k in keys]
    bad = [k for k, v in zip(keys, values) if any(math.isnan(x) for x in (v.value, v.low, v.high))]
    if bad:
        raise ValueError(f"The measure(s) {bad} are NaN: nothing was measured for them. Fix: check that their "
                         "experiment ran on at least one question (a NaN would quietly decide the verdict).")
    return values


def below(x: Estimate, threshold: float):
    """True when the whole interval is below ``threshold``, False when none of it is, None when it crosses."""
    passed = x.at_least(threshold)
    return None if passed is None else not passed


def pct(x: float) -> str:
    return f"{x:.0%}"


def show(x: Estimate, signed: bool = False) -> str:
    """'43% [37% to 49%, n=224]' ('+5 points [...]' when signed), or the bare value of a number measured once."""
    if x.n > 1:
        return x.text(signed=signed)
    return f"{x.value * 100:+.0f} points" if signed else f"{x.value:.0%}"


def model_name(m: dict) -> str:
    return str(m.get("model", "the course's model"))


def judged(claim: str, tests: list, sentence: str) -> Verdict:
    return Verdict(claim, grade([ok for _, ok in tests]), sentence, tuple(tests))


# ------------------------------------------------------------------------------- 1. changing data
RETRAIN_VS_REINDEX_MIN = 10.0  # retraining must take at least 10× as long as re-indexing
UPDATE_ACCURACY_MARGIN = 0.10  # RAG must beat the not-retrained fine-tune on changed facts by 10 points


def rag_handles_changing_data(m: dict) -> Verdict:
    reindex, retrain, gain, rag, stale = need(m, "reindex_seconds", "retrain_seconds", "update_rag_minus_finetune",
                                              "update_rag", "update_finetune_stale")
    ratio = retrain.value / max(reindex.value, 1e-9)
    tests = [(f"retraining takes ≥ {RETRAIN_VS_REINDEX_MIN:.0f}× as long as re-indexing",
              ratio >= RETRAIN_VS_REINDEX_MIN),
             (f"RAG beats the old fine-tune on changed facts by ≥ {pct(UPDATE_ACCURACY_MARGIN)}",
              gain.at_least(UPDATE_ACCURACY_MARGIN))]
    sentence = (f"With {model_name(m)}, re-indexing the changed documents took {reindex.value:.1f} s against "
                f"{retrain.value:.0f} s to retrain ({ratio:.0f}× longer, one timing each); on the changed facts RAG was "
                f"right {show(rag)} of the time, {show(gain, True)} above the fine-tune trained before the change, "
                f"which gave the old value in {show(stale)} of its answers.")
    return judged("RAG handles changing data", tests, sentence)


# ------------------------------------------------------------------------------- 2. specialised accuracy
ACCURACY_MARGIN = 0.10  # "more accurate" means at least 10 points more


def finetune_more_accurate(m: dict) -> Verdict:
    seen, para, fmt = need(m, "train_finetune_minus_rag", "paraphrase_finetune_minus_rag", "format_finetune_minus_rag")
    tests = [(f"on the trained phrasings, fine-tune ≥ RAG + {pct(ACCURACY_MARGIN)}", seen.at_least(ACCURACY_MARGIN)),
             (f"on held-out test paraphrases, fine-tune ≥ RAG + {pct(ACCURACY_MARGIN)}", para.at_least(ACCURACY_MARGIN)),
             (f"in exact answer format on the test paraphrases, fine-tune ≥ RAG + {pct(ACCURACY_MARGIN)}",
              fmt.at_least(ACCURACY_MARGIN))]
    sentence = (f"With {model_name(m)}, the fine-tune minus RAG, in strict accuracy: {show(seen, True)} on the "
                f"phrasings it was trained on, {show(para, True)} on held-out test paraphrases, and "
                f"{show(fmt, True)} in exact match on those paraphrases.")
    return judged("Fine-tuning is more accurate on specialised tasks", tests, sentence)


# ------------------------------------------------------------------------------- 3. latency
FASTER_RATIO = 1.5  # supported: RAG's median latency is at least 1.5× the fine-tune's
SAME_SPEED_RATIO = 1.1  # refuted: less than 10% apart (or the fine-tune is slower)


def finetune_answers_faster(m: dict) -> Verdict:
    ratio, tok_ft, tok_rag, prefill_ft, prefill_rag, decode_ft, decode_rag = need(
        m, "p50_ratio_rag_over_finetune", "tokens_finetune", "tokens_rag", "prefill_finetune", "prefill_rag",
        "decode_finetune", "decode_rag")
    tests = [(f"RAG's median latency ≥ {FASTER_RATIO}× the fine-tune's", ratio.at_least(FASTER_RATIO)),
             (f"the two differ by ≥ {SAME_SPEED_RATIO}×", ratio.at_least(SAME_SPEED_RATIO))]
    interval = f" [{ratio.low:.2f}× to {ratio.high:.2f}×, n={ratio.n} queries]" if ratio.n > 1 else ""
    sentence = (f"Asked one at a time with {model_name(m)}, RAG's median latency was {ratio.value:.2f}×{interval} the "
                f"fine-tune's: its prompt held {tok_rag.value:.0f} tokens against {tok_ft.value:.0f}, so prefill took "
                f"{prefill_rag.value:.2f} s against {prefill_ft.value:.2f} s, while decoding took {decode_rag.value:.2f} s "
                f"against {decode_ft.value:.2f} s (medians).")
    return judged("Fine-tuned models answer faster", tests, sentence)


# ------------------------------------------------------------------------------- 4. traceability
TRACEABLE_MIN = 0.80  # supported: at least 80% of answers are right and cite the gold document
UNTRACEABLE_MAX = 0.50  # refuted: fewer than half do


def rag_is_traceable(m: dict) -> Verdict:
    logged, cites, cites_raft = need(m, "sources_logged_rag", "citation_rag", "citation_raft")
    tests = [("the system logs the retrieved sources of every answer", logged.value >= 1.0),
             (f"the model's own citations are right ≥ {pct(TRACEABLE_MIN)}", cites.at_least(TRACEABLE_MIN)),
             (f"the model's own citations are right ≥ {pct(UNTRACEABLE_MAX)}", cites.at_least(UNTRACEABLE_MAX))]
    sentence = (f"The RAG system logged the retrieved sources for {pct(logged.value)} of its answers, whatever the "
                f"model wrote; {model_name(m)} itself gave a right answer citing the gold document {show(cites)} "
                f"of the time, and {show(cites_raft)} once trained to (RAFT); a closed-book or fine-tuned model "
                f"has nothing to cite.")
    return judged("RAG is transparent and traceable", tests, sentence)


# ------------------------------------------------------------------------------- 5. scaling the knowledge base
MIN_CHUNKS_TO_TEST_SCALE = 10_000  # a smaller index says nothing about scale: the verdict stays inconclusive
MAX_INDEX_SECONDS_PER_DOC = 0.5  # adding a document must cost under half a second of indexing
MAX_RECALL_DROP = 0.10  # retrieval may lose at most 10 points as the base grows


def rag_scales(m: dict) -> Verdict:
    chunks, docs_full, s_full, drop, r_small, r_full = need(
        m, "chunks_full", "docs_full", "index_seconds_full", "recall_drop", "recall_small", "recall_full")
    per_doc = s_full.value / max(docs_full.value, 1)
    big_enough = chunks.value >= MIN_CHUNKS_TO_TEST_SCALE
    tests = [(f"indexing costs ≤ {MAX_INDEX_SECONDS_PER_DOC} s per document",
              per_doc <= MAX_INDEX_SECONDS_PER_DOC if big_enough else None),
             (f"recall drops by ≤ {pct(MAX_RECALL_DROP)} as documents are added",
              below(drop, MAX_RECALL_DROP + 1e-12) if big_enough else None)]
    scope = ("" if big_enough else f" An index of {chunks.value:.0f} chunks is far below the "
             f"{MIN_CHUNKS_TO_TEST_SCALE:,} needed to test scale, so this experiment cannot decide the claim.")
    sentence = (f"Growing the index to {chunks.value:,.0f} chunks ({docs_full.value:,.0f} documents, most of them "
                f"generated distractors: the corpus of notebook 07's curve) cost {s_full.value:.1f} s of indexing "
                f"({per_doc * 1000:.0f} ms per document), and the gold document reached the prompt for "
                f"{show(r_small)} of the same questions before and {show(r_full)} after (a drop of {show(drop, True)}).{scope}")
    return judged("RAG scales by growing the knowledge base", tests, sentence)


# ------------------------------------------------------------------------------- 6. cost profile
UPFRONT_RATIO_MIN = 10.0  # training must cost at least 10× the indexing time
PER_QUERY_TOKEN_RATIO_MIN = 2.0  # RAG's prompts must be at least twice as long


def cost_profile(m: dict) -> Verdict:
    train_s, index_s, tok_rag, tok_ft, peak_mb = need(m, "training_seconds", "index_seconds", "tokens_rag",
                                                      "tokens_finetune", "training_peak_mb")
    upfront, per_query = train_s.value / max(index_s.value, 1e-9), tok_rag.value / max(tok_ft.value, 1e-9)
    tests = [(f"training costs ≥ {UPFRONT_RATIO_MIN:.0f}× indexing", upfront >= UPFRONT_RATIO_MIN),
             (f"RAG reads ≥ {PER_QUERY_TOKEN_RATIO_MIN:.0f}× the prompt tokens per query",
              per_query >= PER_QUERY_TOKEN_RATIO_MIN)]
    sentence = (f"Up front, training {model_name(m)}'s adapter took {train_s.value:.0f} s and {peak_mb.value:.0f} MB "
                f"against {index_s.value:.1f} s to index ({upfront:.0f}×, one timing each); per query, RAG read "
                f"{tok_rag.value:.0f} prompt tokens against {tok_ft.value:.0f} ({per_query:.1f}×).")
    return judged("Fine-tuning costs more up front; RAG costs more per query", tests, sentence)


# ------------------------------------------------------------------------------- 7. data quality
FOLLOWS_BAD_DATA_MIN = 0.25  # supported: one planted document changes at least a quarter of the answers
FOLLOWS_BAD_DATA_NOISE = 0.05  # refuted: it changes fewer than 5%


def rag_depends_on_data_quality(m: dict) -> Verdict:
    effect, planted, clean = need(m, "follow_effect", "follow_planted", "follow_clean")
    tests = [(f"the planted copy adds ≥ {pct(FOLLOWS_BAD_DATA_MIN)} outdated answers", effect.at_least(FOLLOWS_BAD_DATA_MIN)),
             (f"it adds ≥ {pct(FOLLOWS_BAD_DATA_NOISE)}", effect.at_least(FOLLOWS_BAD_DATA_NOISE))]
    sentence = (f"With one outdated copy of a document planted in the index, {show(planted)} of RAG's answers to its "
                f"questions gave the outdated value, against {show(clean)} with a clean index "
                f"({show(effect, True)}, {model_name(m)}).")
    return judged("RAG depends on the quality of its data", tests, sentence)


# ------------------------------------------------------------------------------- 8. labelled data
LABEL_GAIN_MIN = 0.10  # what labelled pairs must add, in points


def finetune_needs_labelled_data(m: dict) -> Verdict:
    seen_gain, unseen_gain, aug_gain, extra, taught = need(m, "ft_seen_gain", "ft_unseen_gain", "ft_aug_gain",
                                                           "extra_phrasings", "ft_phrasings")
    tests = [(f"training pairs raise accuracy on their own phrasing by ≥ {pct(LABEL_GAIN_MIN)}",
              seen_gain.at_least(LABEL_GAIN_MIN)),
             (f"without a labelled pair in that phrasing, the gain is < {pct(LABEL_GAIN_MIN)}",
              below(unseen_gain, LABEL_GAIN_MIN)),
             (f"more labelled phrasings per fact raise paraphrase accuracy by ≥ {pct(LABEL_GAIN_MIN)}",
              aug_gain.at_least(LABEL_GAIN_MIN))]
    sentence = (f"Fine-tuning {model_name(m)} on {taught.value:.0f} labelled phrasing(s) per fact changed strict "
                f"accuracy by {show(seen_gain, True)} on the training phrasing and by {show(unseen_gain, True)} on "
                f"held-out test paraphrases; on a few facts, {extra.value:.0f} extra labelled phrasings per fact changed "
                f"paraphrase accuracy by {show(aug_gain, True)}.")
    return judged("Fine-tuning needs labelled data", tests, sentence)


# ------------------------------------------------------------------------------- 9. hybrids
HYBRID_MARGIN = 0.05  # a hybrid must beat the better parent by 5 points


def hybrids_best_of_both(m: dict) -> Verdict:
    ft_rag, raft = need(m, "finetune_rag_minus_best_parent", "raft_minus_best_parent")
    parent = m.get("best_parent", "the better of RAG and the fine-tune")
    tests = [(f"fine-tune + RAG beats {parent} by ≥ {pct(HYBRID_MARGIN)}", ft_rag.at_least(HYBRID_MARGIN)),
             (f"RAFT beats {parent} by ≥ {pct(HYBRID_MARGIN)}", raft.at_least(HYBRID_MARGIN))]
    sentence = (f"On the held-out test paraphrases with {model_name(m)}, fine-tune + RAG scored {show(ft_rag, True)} "
                f"against {parent}, the better parent, and RAFT {show(raft, True)}.")
    return judged("Hybrids combine the best of both", tests, sentence)


# ------------------------------------------------------------------------------- 10. hallucination
MADE_UP_DROP_MIN = 0.10  # RAG must make up a value on at least 10 points fewer questions than closed-book


def rag_reduces_hallucination(m: dict) -> Verdict:
    unanswerable, answerable, made_up, abstain = need(m, "made_up_drop_unanswerable", "wrong_drop_answerable",
                                                      "made_up_rag", "abstain_rag")
    tests = [(f"on unanswerable questions RAG makes up a value ≥ {pct(MADE_UP_DROP_MIN)} less often than closed-book",
              unanswerable.at_least(MADE_UP_DROP_MIN)),
             (f"on answerable test questions RAG is confidently wrong ≥ {pct(MADE_UP_DROP_MIN)} less often",
              answerable.at_least(MADE_UP_DROP_MIN))]
    sentence = (f"With {model_name(m)}, RAG cut confidently wrong answers by {show(answerable, True)} on "
                f"answerable test questions and made-up values by {show(unanswerable, True)} on unanswerable ones, "
                f"where it still gave a value {show(made_up)} of the time and said it did not know {show(abstain)}.")
    return judged("RAG stops the model making answers up", tests, sentence)


# ------------------------------------------------------------------------------- all claims
CLAIMS = (  # (verdict function, the experiment that tests it)
    (rag_handles_changing_data, "facts change (v1 → v2): re-index time vs retrain time; accuracy on changed facts"),
    (finetune_more_accurate, "trained phrasings vs held-out test paraphrases; exact answer format"),
    (finetune_answers_faster, "one query at a time: retrieve / prefill / decode, and prompt length"),
    (rag_is_traceable, "retrieved sources logged vs the model's own citation of the gold document"),
    (rag_scales, "index time and retrieval recall as documents are added"),
    (cost_profile, "training time and memory vs prompt tokens per query"),
    (rag_depends_on_data_quality, "one outdated copy of a document planted in the index"),
    (finetune_needs_labelled_data, "accuracy on trained vs held-out phrasings, and with extra phrasings per fact"),
    (hybrids_best_of_both, "fine-tune + RAG and RAFT vs the better of their parents, on the test split"),
    (rag_reduces_hallucination, "confidently wrong and made-up answers, closed-book vs RAG"),
)


def judge_all(m: dict):
    """A pandas DataFrame: one row per claim, its verdict, the sentence and the experiment (taught in 06 §3)."""
    import pandas as pd

    rows = []
    for fn, experiment in CLAIMS:
        v = fn(m)
        rows.append({"claim": v.claim, "verdict": f"{MARKS[v.verdict]} {v.verdict}", "evidence": v.sentence,
                     "experiment": experiment})
    return pd.DataFrame(rows)
