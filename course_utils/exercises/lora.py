"""Checks for the exercises of 04_lora_finetune.ipynb.

A learner's answer that is missing, of the wrong type, or that raises counts
as "not yet", never as a crash.
"""
from __future__ import annotations

import torch
from torch import nn

from ..lora import LoRALinear, lora_param_count
from . import Verdict, exercise_check, verdict


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
