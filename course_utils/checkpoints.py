"""Training checkpoints: an interrupted fine-tune resumes where it stopped (taught in 04 §3).

After every epoch, ``training`` saves the adapter's weights, the optimizer's
state and its own progress; a run with the same pairs and settings reads them
back and goes on from the next epoch, so a closed laptop costs one epoch at
most. Weights are safetensors, the rest JSON, and the folder is written
atomically: a checkpoint is complete or absent.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .artifacts import atomic_folder, is_fresh


@dataclass
class Progress:
    """Where a training run stands after an epoch."""
    epoch: int = 0  # epochs done
    history: list[float] = field(default_factory=list)  # the loss of every step so far
    spent: tuple[float, int] = (0.0, 0)  # seconds and tokens so far, so a resumed run reports the whole cost
    dev: dict[int, tuple[float, float]] = field(default_factory=dict)  # candidate epoch -> (train, dev accuracy)
    best: dict | None = None  # the adapter weights of the best candidate so far


def trainable_weights(model) -> dict[str, torch.Tensor]:
    """A copy of the weights training changes (the LoRA matrices)."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def restore_weights(model, weights: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.copy_(weights[name])


def save_checkpoint(folder: Path, model, optimizer, progress: Progress, stamp: str) -> None:
    """The adapter, the optimizer's moments and ``progress``, written atomically under ``folder``."""
    state = optimizer.state_dict()
    moments = {f"{i}.{k}": torch.as_tensor(v).clone() for i, s in state["state"].items() for k, v in s.items()}
    with atomic_folder(folder, stamp) as tmp:
        save_file(trainable_weights(model), tmp / "weights.safetensors")
        save_file(moments, tmp / "optimizer.safetensors")
        if progress.best is not None:
            save_file(progress.best, tmp / "best.safetensors")
        (tmp / "state.json").write_text(json.dumps(
            {"epoch": progress.epoch, "history": progress.history, "param_groups": state["param_groups"],
             "spent": list(progress.spent), "dev": progress.dev}))


def load_checkpoint(folder: Path, model, optimizer, stamp: str) -> Progress | None:
    """Restore the weights and the optimizer's state; the run's ``Progress``, or None without a usable checkpoint."""
    if not is_fresh(folder, stamp):
        return None
    saved = json.loads((folder / "state.json").read_text())
    restore_weights(model, load_file(folder / "weights.safetensors"))
    state: dict[int, dict] = {}
    for key, value in load_file(folder / "optimizer.safetensors").items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    best = load_file(folder / "best.safetensors") if (folder / "best.safetensors").exists() else None
    return Progress(saved["epoch"], saved["history"], tuple(saved.get("spent", (0.0, 0))),
                    {int(e): tuple(a) for e, a in saved.get("dev", {}).items()}, best)
