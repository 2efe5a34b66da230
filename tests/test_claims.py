"""The claims lab: every verdict follows its numbers, and flips when a number crosses its threshold."""
import math

import pytest

from course_utils import claims as C
from course_utils.claims import NUANCED, REFUTED, SUPPORTED

# Numbers on the "supported" side of every threshold, with room to spare.
BASE = {
    "reindex_seconds": 0.5, "retrain_seconds": 60.0, "update_rag": 0.6, "update_finetune": 0.0,
    "update_finetune_stale": 0.9,
    "train_finetune": 0.9, "train_rag": 0.5, "paraphrase_finetune": 0.7, "paraphrase_rag": 0.3,
    "format_finetune": 0.8, "format_rag": 0.1,
    "p50_finetune": 0.2, "p50_rag": 0.9, "tokens_finetune": 40.0, "tokens_rag": 170.0,
    "prefill_finetune": 0.05, "prefill_rag": 0.2, "decode_finetune": 0.15, "decode_rag": 0.7,
    "citation_rag": 0.9, "cited_rag": 0.95,
    "docs_small": 8, "docs_full": 16, "index_seconds_small": 0.2, "index_seconds_full": 0.4,
    "recall_small": 1.0, "recall_full": 0.95,
    "training_seconds": 60.0, "index_seconds": 0.5, "training_peak_mb": 1700.0,
    "follow_planted": 0.5, "follow_clean": 0.0,
    "base_seen": 0.0, "ft_seen": 0.5, "base_unseen": 0.05, "ft_unseen": 0.08, "ft_unseen_aug": 0.4,
    "extra_phrasings": 3,
    "overall_rag": 0.45, "overall_finetune": 0.2, "overall_finetune_rag": 0.4, "overall_raft": 0.8,
    "abstain_rag": 0.6, "abstain_closed": 0.0, "false_abstain_rag": 0.1,
}
EPS = 1e-3
FUNCTIONS = [fn for fn, _ in C.CLAIMS]


def judge(fn, **changes):
    return fn({**BASE, **changes}).verdict


def test_there_are_at_least_nine_claims_each_with_an_experiment():
    assert len(C.CLAIMS) >= 9
    assert all(experiment.strip() for _, experiment in C.CLAIMS)
    assert len({fn(BASE).claim for fn in FUNCTIONS}) == len(FUNCTIONS)


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_base_numbers_support_every_claim_and_the_sentence_quotes_them(fn):
    v = fn(BASE)
    assert v.verdict == SUPPORTED, v
    assert any(ch.isdigit() for ch in v.sentence) and v.sentence.endswith(".")
    assert v.sentence.count(".") >= 1 and "\n" not in v.sentence


def test_the_sentence_changes_with_the_numbers():
    a = C.finetune_answers_faster(BASE).sentence
    b = C.finetune_answers_faster({**BASE, "p50_rag": 1.7}).sentence
    assert a != b and "1.70" in b


# (claim, the change that just passes one test, the change that just fails it, verdict once it fails)
r, ri = BASE["reindex_seconds"], BASE["index_seconds"]
FLIPS = [
    (C.rag_handles_changing_data, {"retrain_seconds": r * C.RETRAIN_VS_REINDEX_MIN + EPS},
     {"retrain_seconds": r * C.RETRAIN_VS_REINDEX_MIN - EPS}, NUANCED),
    (C.rag_handles_changing_data, {"update_finetune": BASE["update_rag"] - C.UPDATE_ACCURACY_MARGIN - EPS},
     {"update_finetune": BASE["update_rag"] - C.UPDATE_ACCURACY_MARGIN + EPS}, NUANCED),
    (C.finetune_more_accurate, {"train_rag": BASE["train_finetune"] - C.ACCURACY_MARGIN - EPS},
     {"train_rag": BASE["train_finetune"] - C.ACCURACY_MARGIN + EPS}, NUANCED),
    (C.finetune_more_accurate, {"paraphrase_rag": BASE["paraphrase_finetune"] - C.ACCURACY_MARGIN - EPS},
     {"paraphrase_rag": BASE["paraphrase_finetune"] - C.ACCURACY_MARGIN + EPS}, NUANCED),
    (C.finetune_more_accurate, {"format_rag": BASE["format_finetune"] - C.ACCURACY_MARGIN - EPS},
     {"format_rag": BASE["format_finetune"] - C.ACCURACY_MARGIN + EPS}, NUANCED),
    (C.finetune_answers_faster, {"p50_rag": 0.2 * C.FASTER_RATIO + EPS}, {"p50_rag": 0.2 * C.FASTER_RATIO - EPS}, NUANCED),
    (C.rag_is_traceable, {"citation_rag": C.TRACEABLE_MIN}, {"citation_rag": C.TRACEABLE_MIN - EPS}, NUANCED),
    (C.rag_scales, {"index_seconds_full": 16 * C.MAX_INDEX_SECONDS_PER_DOC - EPS},
     {"index_seconds_full": 16 * C.MAX_INDEX_SECONDS_PER_DOC + EPS}, NUANCED),
    (C.rag_scales, {"recall_full": 1.0 - C.MAX_RECALL_DROP + EPS}, {"recall_full": 1.0 - C.MAX_RECALL_DROP - EPS}, NUANCED),
    (C.cost_profile, {"training_seconds": ri * C.UPFRONT_RATIO_MIN + EPS},
     {"training_seconds": ri * C.UPFRONT_RATIO_MIN - EPS}, NUANCED),
    (C.cost_profile, {"tokens_rag": 40 * C.PER_QUERY_TOKEN_RATIO_MIN + EPS},
     {"tokens_rag": 40 * C.PER_QUERY_TOKEN_RATIO_MIN - EPS}, NUANCED),
    (C.rag_depends_on_data_quality, {"follow_planted": C.FOLLOWS_BAD_DATA_MIN + EPS},
     {"follow_planted": C.FOLLOWS_BAD_DATA_MIN - EPS}, NUANCED),
    (C.finetune_needs_labelled_data, {"ft_seen": C.LABEL_GAIN_MIN + EPS}, {"ft_seen": C.LABEL_GAIN_MIN - EPS}, NUANCED),
    (C.finetune_needs_labelled_data, {"ft_unseen": 0.05 + C.LABEL_GAIN_MIN - EPS, "ft_unseen_aug": 0.9},
     {"ft_unseen": 0.05 + C.LABEL_GAIN_MIN + EPS, "ft_unseen_aug": 0.9}, NUANCED),
    (C.finetune_needs_labelled_data, {"ft_unseen_aug": 0.08 + C.LABEL_GAIN_MIN + EPS},
     {"ft_unseen_aug": 0.08 + C.LABEL_GAIN_MIN - EPS}, NUANCED),
    (C.hybrids_best_of_both, {"overall_raft": 0.45 + C.HYBRID_MARGIN + EPS},
     {"overall_raft": 0.45 + C.HYBRID_MARGIN - EPS}, NUANCED),
    (C.rag_reduces_hallucination, {"abstain_rag": C.ABSTAIN_GAIN_MIN + EPS}, {"abstain_rag": C.ABSTAIN_GAIN_MIN - EPS},
     REFUTED),  # never refusing answerable questions is no merit when RAG never refuses at all
    (C.rag_reduces_hallucination, {"false_abstain_rag": C.FALSE_ABSTAIN_MAX},
     {"false_abstain_rag": C.FALSE_ABSTAIN_MAX + EPS}, NUANCED),
]


@pytest.mark.parametrize("fn, passing, failing, after", FLIPS, ids=[f"{f.__name__}-{i}" for i, (f, *_) in enumerate(FLIPS)])
def test_a_verdict_flips_when_its_number_crosses_the_threshold(fn, passing, failing, after):
    assert judge(fn, **passing) == SUPPORTED
    assert judge(fn, **failing) == after


# One-number claims: a lower band (refuted) as well as the upper one.
LOWER = [
    (C.finetune_answers_faster, {"p50_rag": 0.2 * C.SAME_SPEED_RATIO + EPS}, {"p50_rag": 0.2 * C.SAME_SPEED_RATIO - EPS}),
    (C.rag_is_traceable, {"citation_rag": C.UNTRACEABLE_MAX}, {"citation_rag": C.UNTRACEABLE_MAX - EPS}),
    (C.rag_depends_on_data_quality, {"follow_planted": C.FOLLOWS_BAD_DATA_NOISE + EPS},
     {"follow_planted": C.FOLLOWS_BAD_DATA_NOISE - EPS}),
    (C.hybrids_best_of_both, {"overall_raft": 0.45 - C.HYBRID_MARGIN + EPS, "overall_finetune_rag": 0.0},
     {"overall_raft": 0.45 - C.HYBRID_MARGIN - EPS, "overall_finetune_rag": 0.0}),
]


@pytest.mark.parametrize("fn, nuanced, refuted", LOWER, ids=[f.__name__ for f, *_ in LOWER])
def test_one_number_claims_are_refuted_below_their_lower_threshold(fn, nuanced, refuted):
    assert judge(fn, **nuanced) == NUANCED
    assert judge(fn, **refuted) == REFUTED


REFUTING = {  # every test of a multi-test claim failing at once
    C.rag_handles_changing_data: {"retrain_seconds": 1.0, "update_finetune": 0.6},
    C.finetune_more_accurate: {"train_rag": 0.9, "paraphrase_rag": 0.7, "format_rag": 0.8},
    C.rag_scales: {"index_seconds_full": 100.0, "recall_full": 0.5},
    C.cost_profile: {"training_seconds": 1.0, "tokens_rag": 41.0},
    C.finetune_needs_labelled_data: {"ft_seen": 0.0, "ft_unseen": 0.5, "ft_unseen_aug": 0.5},
    C.rag_reduces_hallucination: {"abstain_rag": 0.0, "false_abstain_rag": 0.9},
}


@pytest.mark.parametrize("fn", list(REFUTING), ids=lambda f: f.__name__)
def test_multi_test_claims_are_refuted_when_every_test_fails(fn):
    assert judge(fn, **REFUTING[fn]) == REFUTED


def test_grade():
    assert C.grade([True, True]) == SUPPORTED
    assert C.grade([True, False]) == NUANCED
    assert C.grade([False, False]) == REFUTED


def test_a_missing_measure_is_named_with_the_fix():
    partial = {k: v for k, v in BASE.items() if k != "retrain_seconds"}
    with pytest.raises(KeyError, match="retrain_seconds.*Fix"):
        C.rag_handles_changing_data(partial)


def test_judge_all_gives_one_row_per_claim():
    table = C.judge_all(BASE)
    assert len(table) == len(C.CLAIMS)
    assert table["verdict"].str.contains(SUPPORTED).all()
    worse = C.judge_all({**BASE, "p50_rag": 0.2})
    assert (worse["verdict"] != table["verdict"]).sum() == 1


OURS = {"closed-book": 0.05, "RAG": 0.4, "fine-tune": 0.06, "fine-tune, paraphrases": 0.3, "fine-tune + RAG": 0.35,
        "RAFT": 0.7, "matching index": 0.6, "mismatched index": 0.1}


def test_literature_directions_are_computed_from_the_numbers():
    table = C.literature_table(OURS)
    assert table["agree"].all()
    # Reverse one of our comparisons: exactly that row stops agreeing.
    flipped = C.literature_table({**OURS, "RAFT": 0.2})
    changed = table["agree"] != flipped["agree"]
    assert set(flipped[changed]["comparison"]) == {"RAFT vs fine-tune + RAG", "RAFT vs RAG"}
    # Ovadia et al.'s fine-tune is 2 points above their base: "about equal", for them as for us.
    row = table.set_index("comparison").loc["fine-tune vs closed-book"]
    assert row["their direction"] == "≈" and row["agree"]
    assert not C.literature_table({**OURS, "fine-tune": 0.3}).set_index("comparison").loc["fine-tune vs closed-book", "agree"]


def test_direction_has_a_tie_band():
    assert C.direction(0.5, 0.5 + C.TIE / 2) == "≈"
    assert C.direction(0.5 + 2 * C.TIE, 0.5) == ">"
    assert C.direction(0.5, 0.5 + 2 * C.TIE) == "<"


def test_paper_numbers_are_the_published_ones():
    assert C.OVADIA == {"closed-book": 0.48, "RAG": 0.88, "fine-tune": 0.50, "fine-tune, paraphrases": 0.59,
                        "fine-tune + RAG": 0.81}
    assert C.LEWIS["matching index"] == (0.70, 0.68) and C.LEWIS["mismatched index"] == (0.12, 0.04)
    assert set(C.CITATIONS) == {"Ovadia et al. 2024", "Zhang et al. 2024", "Lewis et al. 2020"}
    assert not math.isnan(C.RAFT_PAPER["RAFT"])
