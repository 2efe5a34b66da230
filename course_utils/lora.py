"""LoRA adapters: by hand on one layer, then with peft on the whole model.

LoRA (Hu et al., 2021) freezes a weight matrix W and learns a low-rank update:
``y = W x + (alpha / r) · B A x``, with A of shape (r, in) and B of shape
(out, r). B starts at zero, so training starts from the unchanged model.

Adapters are saved as safetensors with a record of the base model they belong
to; loading checks that record, so an adapter is never silently put on the
wrong model. Nothing here unpickles a file or runs remote code.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn

from .config import check_positive_int

DEFAULT_TARGETS = ("q_proj", "v_proj")  # Hu et al.: the query and value projections are usually enough
ALL_LINEAR = "all-linear"  # peft's shorthand: every linear layer except the output head
ADAPTER_WEIGHTS, ADAPTER_CONFIG, BASE_RECORD = "adapter_model.safetensors", "adapter_config.json", "base.json"


class AdapterError(ValueError):
    """An adapter folder that cannot be used: missing, damaged, or made for another base model (taught in 04 §7)."""


def check_rank(r) -> int:
    return check_positive_int(r, "LoRA rank r", "Fix: use r=8 (or 2, 4, 16).")


# ------------------------------------------------------------------------------- by hand

class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update ``(alpha/r) · B A`` (taught in 04 §1)."""

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16):
        super().__init__()
        self.base = base.requires_grad_(False)
        dtype = base.weight.dtype  # A and B match W (bfloat16 where the course runs in it), so x @ A.T works
        self.A = nn.Parameter(torch.randn(check_rank(r), base.in_features, dtype=dtype) / r ** 0.5)
        self.B = nn.Parameter(torch.zeros(base.out_features, r, dtype=dtype))  # zero: the update starts as nothing
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.A.T @ self.B.T) * self.scale


def lora_param_count(in_features: int, out_features: int, r: int) -> int:
    """Trainable numbers LoRA adds to one (in → out) linear layer: A is r×in, B is out×r."""
    return check_rank(r) * (in_features + out_features)


# ------------------------------------------------------------------------------- peft

def linear_names(model) -> list[str]:
    """The short names of the model's linear layers (q_proj, …), the valid LoRA targets."""
    return sorted({name.rsplit(".", 1)[-1] for name, m in model.named_modules() if isinstance(m, nn.Linear)})


def lora_config(r: int = 8, alpha: float = 16, targets=DEFAULT_TARGETS, dropout: float = 0.0, model=None):
    """A peft ``LoraConfig`` for a causal LM; with ``model``, unknown targets fail here, clearly (taught in 04 §2)."""
    from peft import LoraConfig

    check_rank(r)
    if isinstance(targets, str) and targets != ALL_LINEAR:
        targets = (targets,)  # "q_proj" means one module, not the letters q, _, p…
    if model is not None and targets != ALL_LINEAR:
        unknown = sorted(set(targets) - set(linear_names(model)))
        if unknown:
            raise ValueError(f"Unknown LoRA target module(s) {unknown}: this model's linear layers are "
                             f"{linear_names(model)}. Fix: pick from those, or use targets='{ALL_LINEAR}'.")
    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, task_type="CAUSAL_LM",
                      target_modules=targets if targets == ALL_LINEAR else list(targets))


def add_lora(model, config):
    """Wrap a plain base model with a fresh LoRA adapter (in place: the base's layers gain LoRA branches)."""
    from peft import PeftModel, get_peft_model

    if isinstance(model, PeftModel):
        raise ValueError("This model already carries an adapter. Fix: pass the plain base model, e.g. "
                         "`base = peft_model.unload()`, or load a fresh one with load_generator().")
    return get_peft_model(model, config)


def trainable_share(model) -> tuple[int, int]:
    """(trainable parameters, all parameters); tied weights are counted once (taught in 04 §2)."""
    unique = {id(p): p for p in model.parameters()}.values()
    return sum(p.numel() for p in unique if p.requires_grad), sum(p.numel() for p in unique)


def folder_size(folder) -> int:
    """Bytes on disk of every file in ``folder``."""
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


# ------------------------------------------------------------------------------- base identity

def base_fingerprint(model) -> str:
    """Identify a base model by its architecture and the bytes of its first embedding rows.

    Cheap (no full-weight hash), and enough to tell two checkpoints apart even
    when they share an architecture (e.g. a base and an instruct model).
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    cfg = base.config
    digest = hashlib.sha256(base.get_input_embeddings().weight[:16].detach().float().numpy().tobytes())
    shape = (cfg.model_type, cfg.hidden_size, cfg.num_hidden_layers, cfg.vocab_size)
    # The dtype too, so answers and adapters of a float32 and a bfloat16 run never mix. float32 adds
    # nothing, so the fingerprints (and caches) made before the dtype counted stay valid.
    dtype = base.get_input_embeddings().weight.dtype
    kind = "" if dtype == torch.float32 else str(dtype)
    return hashlib.sha256(f"{shape}{digest.hexdigest()}{kind}".encode()).hexdigest()[:16]


def save_adapter(peft_model, folder) -> Path:
    """Write the adapter (safetensors + config) and a record of its base model into ``folder`` (taught in 04 §2)."""
    folder = Path(folder)
    # save_embedding_layers=False: we never train the embeddings, and "auto" may look the base up online.
    peft_model.save_pretrained(folder, safe_serialization=True, save_embedding_layers=False)
    base = peft_model.get_base_model()
    record = {"base_fingerprint": base_fingerprint(base), "base_name": getattr(base, "name_or_path", "")}
    (folder / BASE_RECORD).write_text(json.dumps(record, indent=2))
    return folder


def check_adapter_folder(folder, model) -> dict:
    """Raise AdapterError naming the problem and the fix, unless ``folder`` holds an adapter for ``model``."""
    from safetensors import SafetensorError, safe_open

    folder, fix = Path(folder), "Fix: delete that folder and train the adapter again (get_or_train_adapter does both)."
    if not folder.is_dir():
        raise AdapterError(f"No adapter folder at {folder}. Fix: check the path, or train one with get_or_train_adapter.")
    try:
        config = json.loads((folder / ADAPTER_CONFIG).read_text())
        record = json.loads((folder / BASE_RECORD).read_text())
        with safe_open(folder / ADAPTER_WEIGHTS, framework="pt") as weights:
            if not list(weights.keys()):
                raise ValueError("no tensors")
    except (OSError, ValueError, TypeError, SafetensorError) as err:  # missing file, bad JSON, bad tensors
        raise AdapterError(f"The adapter in {folder} is damaged or incomplete ({type(err).__name__}: {err}). "
                           f"{fix}") from None
    expected = base_fingerprint(model)
    if record.get("base_fingerprint") != expected:
        raise AdapterError(
            f"The adapter in {folder} was trained on another base model "
            f"({config.get('base_model_name_or_path') or record.get('base_name')!r}, fingerprint "
            f"{record.get('base_fingerprint')}), not on the model you passed (fingerprint {expected}). "
            "Fix: load its base model (COURSE_GENERATOR), or train an adapter for this one.")
    return config


def load_adapter(model, folder):
    """Put the adapter saved in ``folder`` on a plain base model; returns the peft model, in eval mode."""
    from peft import PeftModel

    if isinstance(model, PeftModel):
        raise ValueError("This model already carries an adapter. Fix: take it off first with "
                         "`base = peft_model.unload()`, then load the next one onto `base`.")
    check_adapter_folder(folder, model)
    # peft reads adapter_model.safetensors (checked above), never a pickle.
    return PeftModel.from_pretrained(model, str(folder)).eval()


def adapter_folder(adapter):
    """An adapter's folder, as a ``Path``: given the folder itself, or anything with a ``folder`` (an ``AdapterRun``)."""
    return Path(getattr(adapter, "folder", adapter))
