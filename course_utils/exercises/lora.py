"""Checks for the exercises of 04_lora_finetune.ipynb.

A learner's answer that is missing, of the wrong type, or that raises counts
as "not yet", never as a crash.
"""
from __future__ import annotations

import torch
from torch import nn

from ..adapters import (SWEEP_FACTS, SWEEP_TRAIN, answer_closed_book, closed_book_questions, finetuned_model,
                        sweep_subset)
from ..data import load_questions
from ..evaluation import contains_answer
from ..lora import AdapterError, LoRALinear, lora_param_count
from ..training import qa_pairs
from . import Verdict, exercise_check, verdict
from ._experiment import run_config, trained_on


def lora_params_of(model, r: int, targets=("q_proj", "v_proj")) -> int:
    """Trainable numbers that LoRA of rank ``r`` adds on every ``targets`` layer of ``model``."""
    return sum(lora_param_count(m.in_features, m.out_features, r) for name, m in model.named_modules()
               if isinstance(m, nn.Linear) and name.rsplit(".", 1)[-1] in targets)


@exercise_check
def check_lora_params(answer, model, r: int = 4) -> Verdict:
    """Exercise 1: the LoRA parameters of rank ``r`` on q_proj and v_proj of every layer."""
    expected = lora_params_of(model, r)
    ok = isinstance(answer, int) and not isinstance(answer, bool) and answer == expected
    return verdict(ok, f"{expected:,} trainable numbers, {expected / 1e6:.2f} M.",
                   "each adapted layer adds r × (in_features + out_features). q_proj maps 576 → 576 and v_proj "
                   "576 → 192 here (look at model.model.layers[0].self_attn); multiply by the number of layers.")


def _probe_layer(seed: int = 0) -> LoRALinear:
    """A small LoRALinear whose update is not zero, as after some training."""
    gen = torch.Generator().manual_seed(seed)
    layer = LoRALinear(nn.Linear(6, 4), r=2, alpha=4)
    with torch.no_grad():
        layer.A.copy_(torch.randn(layer.A.shape, generator=gen))
        layer.B.copy_(torch.randn(layer.B.shape, generator=gen))
    return layer


@exercise_check
def check_merge(fn) -> Verdict:
    """Exercise 2: ``fn(layer)`` returns the merged weight, so that one plain matmul replaces both paths."""
    layer = _probe_layer()
    x = torch.randn(3, 6, generator=torch.Generator().manual_seed(1))
    try:
        weight = fn(layer)
        if not isinstance(weight, torch.Tensor) or weight.shape != layer.base.weight.shape:
            return verdict(False, "", f"return a tensor of shape {tuple(layer.base.weight.shape)} (out × in), "
                                      f"like layer.base.weight; got {type(weight).__name__}.")
        merged = nn.Linear(6, 4)
        with torch.no_grad():
            merged.weight.copy_(weight)
            merged.bias.copy_(layer.base.bias)
            ok = torch.allclose(merged(x), layer(x), atol=1e-5)
    except Exception as err:  # the learner's code failing is an answer, not a crash
        return verdict(False, "", f"your function raised {type(err).__name__}: {err}")
    return verdict(ok, "W + (alpha/r)·B·A gives the same outputs with a single matmul: merging costs no latency.",
                   "the update is layer.scale * layer.B @ layer.A (shape out × in, like the weight); "
                   "add it to layer.base.weight.")


# ------------------------------------------------------------------------------- experiment: train longer

HOW_EPOCHS = ("longer_run = closed_book_adapter(model, tokenizer, config=dataclasses.replace(SWEEP_TRAIN, "
              "epochs=...), fact_ids=subset), then seen, held_out_score = score_adapter(longer_run)")


def sweep_questions() -> tuple[list, list]:
    """(training phrasings, held-out test paraphrases) of the sweep's facts, as section 6 of notebook 04 asks them."""
    subset = sweep_subset(SWEEP_FACTS)
    seen = [q for q in closed_book_questions("v1") if q.fact_id in subset]
    held_out = [q for q in load_questions("paraphrase") if q.fact_id in subset]
    return seen, held_out


def contains_shares(model, tokenizer, folder, seen, held_out) -> tuple[float, float]:
    """(training phrasings, held-out) shares of answers that contain the answer, with the adapter in ``folder``."""
    from statistics import mean

    tuned = finetuned_model(model, folder)
    try:  # one batch over both lists, as score_adapter asks them: the same batch gives the same answers
        answers = answer_closed_book(tuned, tokenizer, seen + held_out, progress=False)
    finally:
        tuned.unload()  # the caller's model is the plain base model again
    right = [contains_answer(a, q.answers) for a, q in zip(answers, seen + held_out)]
    return mean(right[:len(seen)]), mean(right[len(seen):])


@exercise_check
def check_experiment_epochs(longer_run, held_out_score, model, tokenizer) -> Verdict:
    """Experiment: the paraphrase sweep's adapter trained for more epochs; how many held-out paraphrases it answers."""
    import dataclasses

    config = run_config(longer_run)
    if config is None:
        return verdict(False, "", "longer_run should be the AdapterRun that closed_book_adapter returns. "
                                  f"Fix: {HOW_EPOCHS}.")
    if config.epochs <= SWEEP_TRAIN.epochs:
        return verdict(False, "", f"this adapter trained for {config.epochs} epochs; the sweep's took "
                                  f"{SWEEP_TRAIN.epochs}. Train for more. Fix: {HOW_EPOCHS}.")
    if dataclasses.replace(config, epochs=SWEEP_TRAIN.epochs) != SWEEP_TRAIN:
        return verdict(False, "", "this adapter changes more than the epochs, so a change in its scores could come "
                                  "from any of its settings. Start from SWEEP_TRAIN and change only epochs. "
                                  f"Fix: {HOW_EPOCHS}.")
    pairs = qa_pairs(tokenizer, closed_book_questions("v1", 0, sweep_subset()))
    if not trained_on(longer_run, pairs, model):
        return verdict(False, "", "this adapter was not trained on the sweep's facts alone, with no extra phrasings, "
                                  f"over this base model. Fix: {HOW_EPOCHS}.")
    try:
        claimed = float(held_out_score)
    except (TypeError, ValueError):
        return verdict(False, "", f"held_out_score should be a share between 0 and 1, got {held_out_score!r}. "
                                  f"Fix: {HOW_EPOCHS}.")
    seen, held_out = sweep_questions()
    try:
        seen_share, held_share = contains_shares(model, tokenizer, longer_run.folder, seen, held_out)
    except (AdapterError, ValueError) as err:
        return verdict(False, "", f"the adapter could not be put on `model` ({err}). Pass the plain base model.")
    if abs(claimed - held_share) > 1e-9:
        return verdict(False, "", "your figure is not the share of held-out paraphrases this adapter answers (the "
                                  "second number score_adapter returns; a share, not a percentage). "
                                  f"Fix: {HOW_EPOCHS}.")
    return verdict(True, f"after {config.epochs} epochs instead of {SWEEP_TRAIN.epochs}, the adapter answers "
                         f"{held_share:.0%} of the {len(held_out)} held-out paraphrases and {seen_share:.0%} of its "
                         f"{len(seen)} training phrasings. Set them beside the sweep's row with no extra phrasings "
                         "(section 6): did longer training carry over to new wordings, or only deepen the old ones?",
                   "")
