"""LoRA by hand and with peft: the identity at the start, parameter counts, adapters on disk, bad inputs.

A tiny randomly initialised Llama stands in for the course model, so these
tests take seconds; the notebook runs the same code on SmolLM2.
"""
import json
import runpy

import pytest
import torch
from torch import nn

from course_utils.exercises import lora as lora_exercises
from course_utils.exercises import passed, solution_path
from course_utils.training import TrainConfig
from course_utils.lora import (ALL_LINEAR, AdapterError, LoRALinear, add_lora, base_fingerprint, check_adapter_folder,
                               folder_size, linear_names, load_adapter, lora_config, lora_param_count, save_adapter,
                               trainable_share)


def tiny_llama(seed=0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)
    return LlamaForCausalLM(config).eval()


def test_lora_linear_starts_as_the_identity_update_and_trains_only_a_and_b():
    base = nn.Linear(12, 5)
    layer = LoRALinear(base, r=3, alpha=6)
    x = torch.randn(4, 12)
    assert torch.equal(layer(x), base(x))
    layer(x).sum().backward()
    assert layer.A.grad is not None and layer.B.grad is not None and base.weight.grad is None
    with torch.no_grad():
        layer.B.normal_()
    assert not torch.allclose(layer(x), base(x))  # the check above could fail: a non-zero update shows


def test_lora_linear_follows_a_bfloat16_base_layer():
    # Where the course runs in bfloat16 (a CPU with native bf16), A and B must match W: a float32 update would turn
    # the layer's output into float32, and the next bfloat16 layer would refuse it.
    base = nn.Linear(12, 5).to(torch.bfloat16)
    layer = LoRALinear(base, r=3)
    x = torch.randn(4, 12, dtype=torch.bfloat16)
    assert layer.A.dtype == layer.B.dtype == torch.bfloat16
    assert layer(x).dtype == torch.bfloat16 and torch.equal(layer(x), base(x))
    nn.Linear(5, 2).to(torch.bfloat16)(layer(x))  # the next layer accepts the output


def test_lora_parameter_count_is_r_times_in_plus_out():
    layer = LoRALinear(nn.Linear(12, 5), r=3)
    trained = sum(p.numel() for p in layer.parameters() if p.requires_grad)
    assert trained == lora_param_count(12, 5, 3) == 3 * (12 + 5)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "8"])
def test_rank_must_be_positive_whole_number(bad):
    with pytest.raises(ValueError, match="rank r must be a positive whole number"):
        LoRALinear(nn.Linear(4, 4), r=bad)
    with pytest.raises(ValueError, match="rank"):
        lora_config(r=bad)
    with pytest.raises(ValueError, match="rank"):
        TrainConfig(r=bad)


def test_unknown_target_module_names_the_valid_ones():
    model = tiny_llama()
    with pytest.raises(ValueError, match=r"Unknown LoRA target.*'query'.*q_proj.*Fix"):
        lora_config(targets=("q_proj", "query"), model=model)
    assert {"q_proj", "v_proj", "down_proj"} <= set(linear_names(model))


def test_trainable_share_q_v_vs_all_linear():
    model = tiny_llama()
    _, total = trainable_share(model)
    shares = {}
    for targets in (("q_proj", "v_proj"), ALL_LINEAR):
        peft_model = add_lora(model, lora_config(r=4, targets=targets, model=model))
        shares[targets] = trainable_share(peft_model)[0]
        model = peft_model.unload()
    attention = model.model.layers[0].self_attn
    expected_qv = 2 * (lora_param_count(32, attention.q_proj.out_features, 4)
                       + lora_param_count(32, attention.v_proj.out_features, 4))
    assert shares[("q_proj", "v_proj")] == expected_qv
    assert shares[("q_proj", "v_proj")] < shares[ALL_LINEAR] < total
    assert trainable_share(model)[1] == total  # unload left the plain model: no LoRA numbers remain
    assert not any("lora" in name for name, _ in model.named_parameters())


def test_add_lora_refuses_a_model_that_already_has_one():
    peft_model = add_lora(tiny_llama(), lora_config(r=2))
    with pytest.raises(ValueError, match="already carries an adapter.*Fix"):
        add_lora(peft_model, lora_config(r=2))


def _saved_adapter(tmp_path, model):
    peft_model = add_lora(model, lora_config(r=2, model=model))
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_()  # as if trained: the adapter changes the outputs
    folder = save_adapter(peft_model, tmp_path / "adapter")
    return peft_model.unload(), folder


def test_adapter_round_trip_and_size(tmp_path):
    model, folder = _saved_adapter(tmp_path, tiny_llama())
    assert (folder / "adapter_model.safetensors").exists() and not list(folder.glob("*.bin"))
    assert 0 < folder_size(folder) < 1_000_000
    record = json.loads((folder / "base.json").read_text())
    assert record["base_fingerprint"] == base_fingerprint(model)
    loaded = load_adapter(model, folder)
    ids = torch.tensor([[1, 5, 9, 3]])
    with torch.no_grad(), loaded.disable_adapter():
        plain = loaded(input_ids=ids).logits
    with torch.no_grad():
        adapted = loaded(input_ids=ids).logits
    assert not torch.allclose(plain, adapted)


def test_merged_model_equals_adapter(tmp_path):
    model, folder = _saved_adapter(tmp_path, tiny_llama())
    loaded = load_adapter(model, folder)
    ids = torch.tensor([[1, 5, 9, 3, 7], [2, 2, 8, 4, 6]])
    with torch.no_grad():
        adapted = loaded(input_ids=ids).logits
        merged = loaded.merge_and_unload()
        assert not hasattr(merged, "peft_config")
        assert torch.allclose(merged(input_ids=ids).logits, adapted, atol=1e-5)


def test_corrupt_adapter_folder_is_refused_with_a_fix(tmp_path):
    model, folder = _saved_adapter(tmp_path, tiny_llama())
    (folder / "adapter_model.safetensors").write_bytes(b"garbage")
    with pytest.raises(AdapterError, match="damaged or incomplete.*Fix"):
        check_adapter_folder(folder, model)
    (folder / "adapter_model.safetensors").unlink()
    with pytest.raises(AdapterError, match="damaged or incomplete"):
        load_adapter(model, folder)
    with pytest.raises(AdapterError, match="No adapter folder.*Fix"):
        load_adapter(model, tmp_path / "nowhere")


def test_adapter_of_another_base_model_is_refused(tmp_path):
    _, folder = _saved_adapter(tmp_path, tiny_llama(seed=0))
    other = tiny_llama(seed=1)  # same architecture, other weights
    with pytest.raises(AdapterError, match="another base model.*Fix"):
        load_adapter(other, folder)


# --- exercises of 04 ------------------------------------------------------------------------

def test_lora_params_check_accepts_the_solution_and_rejects_wrong_answers(capsys):
    model = tiny_llama()
    solved = runpy.run_path(str(solution_path("04_lora_params")),
                            init_globals={"model": model, "check_lora_params": lora_exercises.check_lora_params})
    assert passed(lora_exercises.check_lora_params, solved["lora_params"], model)
    assert not passed(lora_exercises.check_lora_params, solved["lora_params"] + 1, model)
    assert not passed(lora_exercises.check_lora_params, float(solved["lora_params"]), model)
    assert not passed(lora_exercises.check_lora_params, None, model)
    assert "Hint" in capsys.readouterr().out


def test_merge_check_accepts_the_solution_and_rejects_wrong_answers():
    solved = runpy.run_path(str(solution_path("04_merge")), init_globals={"check_merge": lora_exercises.check_merge})
    assert passed(lora_exercises.check_merge, solved["my_merge"])
    assert not passed(lora_exercises.check_merge, lambda layer: layer.base.weight)  # forgot the update
    # forgot the scale
    assert not passed(lora_exercises.check_merge, lambda layer: layer.base.weight + layer.B @ layer.A)
    assert not passed(lora_exercises.check_merge, lambda layer: None)
    assert not passed(lora_exercises.check_merge, lambda layer: 1 / 0)
