"""The claims lab: every verdict follows its numbers, flips at its threshold, and waits when its interval crosses it."""
import math

import pytest

from course_utils import claims as C
from course_utils import literature
from course_utils.claims import INCONCLUSIVE, NUANCED, REFUTED, SUPPORTED
from course_utils.evaluation.intervals import Estimate

# Numbers on the "supported" side of every threshold, with room to spare. A plain number is its own interval.
BASE = {
    "model": "TinyModel",
    "reindex_seconds": 0.5, "retrain_seconds": 60.0, "update_rag_minus_finetune": 0.6, "update_rag": 0.6,
    "update_finetune_stale": 0.9,
    "train_finetune_minus_rag": 0.4, "paraphrase_finetune_minus_rag": 0.4, "format_finetune_minus_rag": 0.7,
    "p50_ratio_rag_over_finetune": 4.5, "tokens_finetune": 40.0, "tokens_rag": 170.0,
    "prefill_finetune": 0.05, "prefill_rag": 0.2, "decode_finetune": 0.15, "decode_rag": 0.7,
    "sources_logged_rag": 1.0, "citation_rag": 0.9, "citation_raft": 0.9,
    "chunks_full": 20_000, "docs_full": 16_000, "index_seconds_full": 400.0, "recall_drop": 0.05,
    "recall_small": 1.0, "recall_full": 0.95,
    "training_seconds": 60.0, "index_seconds": 0.5, "training_peak_mb": 1700.0,
    "follow_effect": 0.5, "follow_planted": 0.5, "follow_clean": 0.0,
    "ft_seen_gain": 0.5, "ft_unseen_gain": 0.03, "ft_aug_gain": 0.32, "extra_phrasings": 3, "ft_phrasings": 4,
    "best_parent": "RAG", "finetune_rag_minus_best_parent": 0.2, "raft_minus_best_parent": 0.35,
    "made_up_drop_unanswerable": 0.6, "wrong_drop_answerable": 0.4, "made_up_rag": 0.3, "abstain_rag": 0.6,
}
EPS = 1e-3
FUNCTIONS = [fn for fn, _ in C.CLAIMS]


def judge(fn, **changes):
    return fn({**BASE, **changes}).verdict


def around(value, half_width=0.05, n=224):
    return Estimate(value, value - half_width, value + half_width, n, n // 4)


def test_there_are_at_least_nine_claims_each_with_an_experiment():
    assert len(C.CLAIMS) >= 9
    assert all(experiment.strip() for _, experiment in C.CLAIMS)
    assert len({fn(BASE).claim for fn in FUNCTIONS}) == len(FUNCTIONS)


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_base_numbers_support_every_claim_and_the_sentence_quotes_them(fn):
    v = fn(BASE)
    assert v.verdict == SUPPORTED, v
    assert any(ch.isdigit() for ch in v.sentence) and v.sentence.endswith(".")
    assert "\n" not in v.sentence


@pytest.mark.parametrize("fn", [f for f in FUNCTIONS if f is not C.rag_scales], ids=lambda f: f.__name__)
def test_sentences_name_the_model(fn):
    assert "TinyModel" in fn(BASE).sentence


def test_sentences_carry_n_and_the_interval():
    m = {**BASE, "paraphrase_finetune_minus_rag": Estimate(0.4, 0.3, 0.5, 224, 56)}
    sentence = C.finetune_more_accurate(m).sentence
    assert "+40 points [+30 to +50, n=224]" in sentence


# (claim, the change that just passes one test, the change that just fails it, verdict once it fails)
FLIPS = [
    (C.rag_handles_changing_data, {"retrain_seconds": 0.5 * C.RETRAIN_VS_REINDEX_MIN + EPS},
     {"retrain_seconds": 0.5 * C.RETRAIN_VS_REINDEX_MIN - EPS}, NUANCED),
    (C.rag_handles_changing_data, {"update_rag_minus_finetune": C.UPDATE_ACCURACY_MARGIN + EPS},
     {"update_rag_minus_finetune": C.UPDATE_ACCURACY_MARGIN - EPS}, NUANCED),
    (C.finetune_more_accurate, {"train_finetune_minus_rag": C.ACCURACY_MARGIN + EPS},
     {"train_finetune_minus_rag": C.ACCURACY_MARGIN - EPS}, NUANCED),
    (C.finetune_more_accurate, {"paraphrase_finetune_minus_rag": C.ACCURACY_MARGIN + EPS},
     {"paraphrase_finetune_minus_rag": C.ACCURACY_MARGIN - EPS}, NUANCED),
    (C.finetune_more_accurate, {"format_finetune_minus_rag": C.ACCURACY_MARGIN + EPS},
     {"format_finetune_minus_rag": C.ACCURACY_MARGIN - EPS}, NUANCED),
    (C.finetune_answers_faster, {"p50_ratio_rag_over_finetune": C.FASTER_RATIO + EPS},
     {"p50_ratio_rag_over_finetune": C.FASTER_RATIO - EPS}, NUANCED),
    (C.rag_is_traceable, {"citation_rag": C.TRACEABLE_MIN}, {"citation_rag": C.TRACEABLE_MIN - EPS}, NUANCED),
    (C.rag_scales, {"index_seconds_full": 16_000 * C.MAX_INDEX_SECONDS_PER_DOC - 1},
     {"index_seconds_full": 16_000 * C.MAX_INDEX_SECONDS_PER_DOC + 1}, NUANCED),
    (C.rag_scales, {"recall_drop": C.MAX_RECALL_DROP - EPS}, {"recall_drop": C.MAX_RECALL_DROP + EPS}, NUANCED),
    (C.cost_profile, {"training_seconds": 0.5 * C.UPFRONT_RATIO_MIN + EPS},
     {"training_seconds": 0.5 * C.UPFRONT_RATIO_MIN - EPS}, NUANCED),
    (C.cost_profile, {"tokens_rag": 40 * C.PER_QUERY_TOKEN_RATIO_MIN + EPS},
     {"tokens_rag": 40 * C.PER_QUERY_TOKEN_RATIO_MIN - EPS}, NUANCED),
    (C.rag_depends_on_data_quality, {"follow_effect": C.FOLLOWS_BAD_DATA_MIN + EPS},
     {"follow_effect": C.FOLLOWS_BAD_DATA_MIN - EPS}, NUANCED),
    (C.finetune_needs_labelled_data, {"ft_seen_gain": C.LABEL_GAIN_MIN + EPS}, {"ft_seen_gain": C.LABEL_GAIN_MIN - EPS},
     NUANCED),
    (C.finetune_needs_labelled_data, {"ft_unseen_gain": C.LABEL_GAIN_MIN - EPS},
     {"ft_unseen_gain": C.LABEL_GAIN_MIN + EPS}, NUANCED),
    (C.finetune_needs_labelled_data, {"ft_aug_gain": C.LABEL_GAIN_MIN + EPS}, {"ft_aug_gain": C.LABEL_GAIN_MIN - EPS},
     NUANCED),
    (C.hybrids_best_of_both, {"raft_minus_best_parent": C.HYBRID_MARGIN + EPS},
     {"raft_minus_best_parent": C.HYBRID_MARGIN - EPS}, NUANCED),
    (C.hybrids_best_of_both, {"finetune_rag_minus_best_parent": C.HYBRID_MARGIN + EPS},
     {"finetune_rag_minus_best_parent": C.HYBRID_MARGIN - EPS}, NUANCED),
    (C.rag_reduces_hallucination, {"made_up_drop_unanswerable": C.MADE_UP_DROP_MIN + EPS},
     {"made_up_drop_unanswerable": C.MADE_UP_DROP_MIN - EPS}, NUANCED),
    (C.rag_reduces_hallucination, {"wrong_drop_answerable": C.MADE_UP_DROP_MIN + EPS},
     {"wrong_drop_answerable": C.MADE_UP_DROP_MIN - EPS}, NUANCED),
]


@pytest.mark.parametrize("fn, passing, failing, after", FLIPS, ids=[f"{f.__name__}-{i}" for i, (f, *_) in enumerate(FLIPS)])
def test_a_verdict_flips_when_its_number_crosses_the_threshold(fn, passing, failing, after):
    assert judge(fn, **passing) == SUPPORTED
    assert judge(fn, **failing) == after


@pytest.mark.parametrize("fn, passing, failing, after", FLIPS, ids=[f"{f.__name__}-{i}" for i, (f, *_) in enumerate(FLIPS)])
def test_a_verdict_is_inconclusive_when_the_interval_crosses_the_threshold(fn, passing, failing, after):
    """The same measure, now with an interval that holds the threshold: no verdict can be claimed."""
    key = next(iter(passing))
    if key in ("retrain_seconds", "training_seconds", "tokens_rag", "index_seconds_full"):
        pytest.skip("a timing or a token count measured once has no interval")
    middle = (passing[key] + failing[key]) / 2
    assert judge(fn, **{key: around(middle)}) == INCONCLUSIVE
    # ... and decided again once the interval clears the threshold on either side
    assert judge(fn, **{key: around(passing[key] + math.copysign(0.1, passing[key] - failing[key]), 0.01)}) == SUPPORTED


LOWER = [  # one-number claims: a lower band (refuted) as well as the upper one
    (C.finetune_answers_faster, {"p50_ratio_rag_over_finetune": C.SAME_SPEED_RATIO + EPS},
     {"p50_ratio_rag_over_finetune": C.SAME_SPEED_RATIO - EPS}),
    (C.rag_depends_on_data_quality, {"follow_effect": C.FOLLOWS_BAD_DATA_NOISE + EPS},
     {"follow_effect": C.FOLLOWS_BAD_DATA_NOISE - EPS}),
]


@pytest.mark.parametrize("fn, nuanced, refuted", LOWER, ids=[f.__name__ for f, *_ in LOWER])
def test_one_number_claims_are_refuted_below_their_lower_threshold(fn, nuanced, refuted):
    assert judge(fn, **nuanced) == NUANCED
    assert judge(fn, **refuted) == REFUTED


REFUTING = {  # every test of a multi-test claim failing at once
    C.rag_handles_changing_data: {"retrain_seconds": 1.0, "update_rag_minus_finetune": 0.0},
    C.finetune_more_accurate: {"train_finetune_minus_rag": 0.0, "paraphrase_finetune_minus_rag": -0.2,
                               "format_finetune_minus_rag": 0.0},
    C.rag_scales: {"index_seconds_full": 1e5, "recall_drop": 0.5},
    C.cost_profile: {"training_seconds": 1.0, "tokens_rag": 41.0},
    C.finetune_needs_labelled_data: {"ft_seen_gain": 0.0, "ft_unseen_gain": 0.5, "ft_aug_gain": 0.0},
    C.hybrids_best_of_both: {"finetune_rag_minus_best_parent": -0.13, "raft_minus_best_parent": 0.0},
    C.rag_reduces_hallucination: {"made_up_drop_unanswerable": 0.0, "wrong_drop_answerable": -0.1},
    C.rag_is_traceable: {"sources_logged_rag": 0.5, "citation_rag": 0.1},
}


@pytest.mark.parametrize("fn", list(REFUTING), ids=lambda f: f.__name__)
def test_multi_test_claims_are_refuted_when_every_test_fails(fn):
    assert judge(fn, **REFUTING[fn]) == REFUTED


def test_traceability_separates_what_is_logged_from_what_the_model_cites():
    v = C.rag_is_traceable({**BASE, "citation_rag": 0.1})
    assert v.verdict == NUANCED  # sources are logged even when the model cites badly
    assert "logged the retrieved sources for 100%" in v.sentence


def test_scale_cannot_be_decided_on_a_small_index():
    small = {**BASE, "chunks_full": 50, "docs_full": 16, "index_seconds_full": 0.4}
    v = C.rag_scales(small)
    assert v.verdict == INCONCLUSIVE and "cannot decide" in v.sentence
    assert judge(C.rag_scales, chunks_full=C.MIN_CHUNKS_TO_TEST_SCALE) == SUPPORTED


def test_grade():
    assert C.grade([True, True]) == SUPPORTED
    assert C.grade([True, False]) == NUANCED
    assert C.grade([False, False]) == REFUTED
    assert C.grade([True, None]) == INCONCLUSIVE and C.grade([False, None]) == INCONCLUSIVE
    assert C.grade([True, False, None]) == NUANCED  # mixed whatever the undecided test does


def test_a_missing_measure_is_named_with_the_fix():
    partial = {k: v for k, v in BASE.items() if k != "retrain_seconds"}
    with pytest.raises(KeyError, match="retrain_seconds.*Fix"):
        C.rag_handles_changing_data(partial)


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_nan_is_rejected_with_a_clear_error(fn):
    numeric = [k for k, v in BASE.items() if isinstance(v, (int, float)) and k in _needed(fn)]
    for key in numeric:
        with pytest.raises(ValueError, match=f"{key}.*NaN.*Fix"):
            fn({**BASE, key: float("nan")})
    with pytest.raises(ValueError, match="NaN"):
        fn({**BASE, numeric[0]: Estimate(0.5, float("nan"), 0.6, 10, 10)})


def _needed(fn):
    """The keys a claim reads: those whose removal raises the missing-measure error."""
    out = []
    for key in BASE:
        try:
            fn({k: v for k, v in BASE.items() if k != key})
        except KeyError:
            out.append(key)
    return out


def test_judge_all_gives_one_row_per_claim():
    table = C.judge_all(BASE)
    assert len(table) == len(C.CLAIMS)
    assert table["verdict"].str.contains(SUPPORTED).all()
    worse = C.judge_all({**BASE, "p50_ratio_rag_over_finetune": 1.0})
    assert (worse["verdict"] != table["verdict"]).sum() == 1


OURS = {  # our left-minus-right differences, with intervals, agreeing with every paper
    "RAG vs closed-book": around(0.35), "RAG vs fine-tune": around(0.3), "fine-tune vs closed-book": around(0.04, 0.01),
    "fine-tune, paraphrases vs fine-tune": around(0.3), "fine-tune + RAG vs RAG": around(-0.1, 0.02),
    "RAFT vs fine-tune + RAG": around(0.3), "RAFT vs RAG": around(0.3),
    "matching index vs mismatched index": around(0.5),
}


def test_literature_directions_are_computed_from_the_intervals():
    table = literature.literature_table(OURS)
    assert table["agree"].all()
    flipped = literature.literature_table({**OURS, "RAFT vs RAG": around(-0.3)})
    changed = table["agree"] != flipped["agree"]
    assert set(flipped[changed]["comparison"]) == {"RAFT vs RAG"}
    # A difference whose interval holds zero has no direction: "≈", which disagrees with any paper's sign.
    tied = literature.literature_table({**OURS, "RAG vs closed-book": around(0.02, 0.05)}).set_index("comparison")
    assert tied.loc["RAG vs closed-book", "our direction"] == "≈"
    assert not tied.loc["RAG vs closed-book", "agree"]


def test_literature_compares_like_with_like():
    rows = {(left, right) for _, left, right, _, _ in literature.LITERATURE}
    # the paraphrase-augmented fine-tune is set against the fine-tune on the same facts (the sweep), nothing else
    assert ("fine-tune, paraphrases", "fine-tune") in rows
    assert not any("paraphrases" in left and right != "fine-tune" for left, right in rows)

    class FakeComparison:
        def difference(self, a, b, split):
            assert split == "paraphrase"  # the test split
            return around(0.1)

    measures = {"ft_aug_gain": around(0.25), "index_swap_gain": around(0.45)}
    ours = literature.literature_differences(FakeComparison(), measures)
    assert ours["fine-tune, paraphrases vs fine-tune"] is measures["ft_aug_gain"]
    assert ours["matching index vs mismatched index"] is measures["index_swap_gain"]
    assert ours["RAG vs closed-book"].value == pytest.approx(0.1)


def test_direction_uses_the_interval():
    assert literature.direction(Estimate(0.05, -0.01, 0.1, 50, 50)) == "≈"
    assert literature.direction(Estimate(0.05, 0.01, 0.1, 50, 50)) == ">"
    assert literature.direction(Estimate(-0.05, -0.1, -0.01, 50, 50)) == "<"
    assert literature.direction(0.02) == ">"  # a paper's single number: its sign


def test_paper_numbers_are_the_published_ones():
    assert literature.OVADIA == {"closed-book": 0.48, "RAG": 0.88, "fine-tune": 0.50, "fine-tune, paraphrases": 0.59,
                        "fine-tune + RAG": 0.81}
    assert literature.LEWIS["matching index"] == (0.70, 0.68) and literature.LEWIS["mismatched index"] == (0.12, 0.04)
    assert set(literature.CITATIONS) == {"Ovadia et al. 2024", "Zhang et al. 2024", "Lewis et al. 2020"}
    assert not math.isnan(literature.RAFT_PAPER["RAFT"])
