"""Fine-tuning the generator with LoRA: training pairs, the loop, checkpoints, the adapter cache.

A training pair is ``(prompt, answer)``: the exact prompt the model will see
at evaluation time, and the answer it should give. The loss is taken on the
answer tokens only. Any prompt works (closed-book questions here; questions
with retrieved context for RAFT-style training in notebook 05).

What later notebooks call:
* ``closed_book_adapter(model, tokenizer, version="v1")``: the closed-book
  fine-tune of notebook 04 (``DEFAULT_TRAIN``), cached;
* ``finetuned_model(model, folder)``: the base model with that adapter on;
* ``answer_closed_book`` / ``evaluate_closed_book``: answers with the prompt
  the adapters were trained on, and scores per split;
* ``get_or_train_adapter(name, pairs, config, ...)``: any other training set.

Adapters are reused when the data, the base model and the settings are
unchanged, and otherwise trained, saying so, with a progress bar. Training
writes a checkpoint after every epoch, so an interrupted run resumes.
"""
from __future__ import annotations

import json
import math
import re
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from .artifacts import atomic_folder, fingerprint, is_fresh
from .config import SEED, get_config, set_seed
from .lora import (ALL_LINEAR, DEFAULT_TARGETS, AdapterError, add_lora, base_fingerprint, check_adapter_folder,
                   check_rank, lora_config, save_adapter, trainable_share)

FORMAT = 2  # part of every adapter's fingerprint: bump it when training changes meaning
IGNORE = -100  # the label PyTorch's cross-entropy skips: prompt tokens and padding


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what an adapter learns; all of it goes into the cache fingerprint."""
    r: int = 8
    alpha: float = 16
    targets: tuple[str, ...] | str = DEFAULT_TARGETS
    dropout: float = 0.0
    lr: float = 3e-3
    epochs: int = 6
    batch_size: int = 4  # small batches: more updates per epoch, and less memory for activations
    seed: int = SEED
    # Train until the adapter knows its training set: stop once strict accuracy on the training pairs reaches
    # this share (checked every ``check_every`` epochs); ``epochs`` is then the most it may take. None: fixed epochs.
    until_accuracy: float | None = None
    check_every: int = 2

    def __post_init__(self):
        check_rank(self.r)
        if self.until_accuracy is not None and not 0 < self.until_accuracy <= 1:
            raise ValueError(f"until_accuracy must be a share in (0, 1], got {self.until_accuracy!r}. Fix: try 0.9.")
        for name in ("epochs", "batch_size", "check_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}.")
        if not self.lr > 0:
            raise ValueError(f"The learning rate must be positive, got {self.lr!r}. Fix: try lr=3e-3.")
        if isinstance(self.targets, str) and self.targets != ALL_LINEAR:
            object.__setattr__(self, "targets", (self.targets,))  # "q_proj" means ("q_proj",), not 6 letters
        if isinstance(self.targets, list):  # a list cannot be hashed; keep the config frozen
            object.__setattr__(self, "targets", tuple(self.targets))


# The course's fine-tune: r=8 on q/v over the 56 training pairs, until it answers 90% of them strictly right.
# A baseline at its best: an undertrained fine-tune would make "it does not generalise" mean "it was not finished".
DEFAULT_TRAIN = TrainConfig(epochs=30, until_accuracy=0.9)

# ------------------------------------------------------------------------------- data

def qa_pairs(tokenizer, questions, prompt=None) -> list[tuple[str, str]]:
    """(prompt, first accepted answer) for answerable questions; the closed-book prompt by default."""
    from .generation import build_prompt

    prompt = prompt or (lambda q: build_prompt(tokenizer, q.question))
    return [(prompt(q), q.answers[0]) for q in questions if q.answers]


def check_pairs(pairs) -> list[tuple[str, str]]:
    pairs = [tuple(p) for p in pairs]
    if not pairs:
        raise ValueError("The training set is empty. Fix: pass at least one (prompt, answer) pair, e.g. "
                         "qa_pairs(tokenizer, load_questions('train')).")
    for i, pair in enumerate(pairs):
        if len(pair) != 2 or not all(isinstance(s, str) for s in pair) or not pair[1].strip():
            raise ValueError(f"Training pair {i} is {pair!r}. Fix: every pair must be (prompt, answer), "
                             "two strings, with a non-empty answer.")
    return pairs


def answer_labels(prompt_ids: list[int], answer_ids: list[int]) -> list[int]:
    """Labels for prompt + answer: the prompt is masked out, so only the answer is learned."""
    return [IGNORE] * len(prompt_ids) + list(answer_ids)


def encode_pair(tokenizer, prompt: str, answer: str) -> tuple[list[int], list[int]]:
    """(input ids, labels). The answer ends with end-of-turn, so the model learns to stop."""
    # Tokenised apart, as at generation time: the answer's tokens follow the prompt's.
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return prompt_ids + answer_ids, answer_labels(prompt_ids, answer_ids)


def collate(encoded, pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch on the left, as generation does: padding gets attention 0 and label IGNORE.

    Left padding puts every answer at the end of its row, so the logits we need
    are the last few positions of every row (see ``answer_loss``).
    """
    width = max(len(ids) for ids, _ in encoded)
    rows = [([pad_id] * (width - len(ids)) + ids, [IGNORE] * (width - len(ids)) + labels,
             [0] * (width - len(ids)) + [1] * len(ids)) for ids, labels in encoded]
    ids, labels, mask = (torch.tensor(column) for column in zip(*rows))
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def answer_loss(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy of the answer tokens, each predicted from the tokens before it.

    The output layer (49k words × 576) is a fifth of the model's compute, and
    only the answer positions need it: ``logits_to_keep`` computes logits for
    the last ``span + 1`` positions only, which makes a training step ~20% faster.
    """
    labels, mask = batch["labels"], batch["attention_mask"]
    answer = (labels != IGNORE).any(dim=0).nonzero()
    span = labels.shape[1] - int(answer[0])  # from the earliest answer token in the batch to the end
    positions = (mask.cumsum(-1) - 1).clamp(min=0)  # what generation uses for left-padded rows
    logits = model(input_ids=batch["input_ids"], attention_mask=mask, position_ids=positions,
                   logits_to_keep=span + 1, use_cache=False).logits[:, :-1]  # the logit at t predicts token t + 1
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                             labels[:, -span:].reshape(-1), ignore_index=IGNORE)


# ------------------------------------------------------------------------------- live loss curve

class LossPlot:
    """A loss curve that redraws during training in a notebook, every ``every`` steps (redrawing costs time)."""

    def __init__(self, total_steps: int, every: int | None = None, title: str = "training loss"):
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.every = every or max(5, total_steps // 10)  # about ten redraws per run
        self.fig, self.ax = plt.subplots(figsize=(6, 2.8))
        (self.line,) = self.ax.plot([], [], color="tab:blue")
        self.ax.set(xlabel="step", ylabel="loss on answer tokens", title=title, xlim=(0, total_steps))
        self.handle = display(self.fig, display_id=True)
        plt.close(self.fig)  # drawn through the handle only, not a second time at the end of the cell

    def update(self, history: list[float], force: bool = False) -> None:
        if history and (force or len(history) % self.every == 0):
            self.line.set_data(range(1, len(history) + 1), history)
            self.ax.set_ylim(0, max(history) * 1.05)
            self.handle.update(self.fig)


# ------------------------------------------------------------------------------- checkpoints

def save_checkpoint(folder: Path, model, optimizer, epoch: int, history: list[float], stamp: str,
                    spent: tuple[float, int] = (0.0, 0)) -> None:
    """Adapter weights and optimizer state as safetensors, the rest as JSON; written atomically.

    ``spent``: (seconds, tokens) of training so far, so that a resumed run reports the whole cost.
    """
    weights = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    state = optimizer.state_dict()
    moments = {f"{i}.{k}": torch.as_tensor(v).clone() for i, s in state["state"].items() for k, v in s.items()}
    with atomic_folder(folder, stamp) as tmp:
        save_file(weights, tmp / "weights.safetensors")
        save_file(moments, tmp / "optimizer.safetensors")
        (tmp / "state.json").write_text(json.dumps(
            {"epoch": epoch, "history": history, "param_groups": state["param_groups"], "spent": list(spent)}))


def load_checkpoint(folder: Path, model, optimizer, stamp: str) -> tuple[int, list[float], tuple[float, int]] | None:
    """Restore weights and optimizer state.

    Returns (epochs done, loss history, (seconds, tokens) spent so far), or None if there is no usable checkpoint.
    """
    if not is_fresh(folder, stamp):
        return None
    saved = json.loads((folder / "state.json").read_text())
    weights = load_file(folder / "weights.safetensors")
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.copy_(weights[name])
    state: dict[int, dict] = {}
    for key, value in load_file(folder / "optimizer.safetensors").items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    return saved["epoch"], saved["history"], tuple(saved.get("spent", (0.0, 0)))


# ------------------------------------------------------------------------------- training

@dataclass
class TrainResult:
    model: object  # the peft model, in eval mode
    history: list[float]  # loss of every step, resumed steps included
    seconds: float  # wall time of the whole training, resumed epochs included
    tokens: int  # real (non-padding) tokens processed, resumed epochs included
    peak_rss_mb: float  # the process's resident memory, highest value seen while training
    start_epoch: int  # 0, or the epoch a checkpoint let training resume after
    epochs_run: int = 0  # epochs trained in all, resumed ones included
    train_accuracy: float | None = None  # strict accuracy on the training pairs at the last check

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else float("nan")


def train_adapter(model, tokenizer, pairs, config: TrainConfig = TrainConfig(), checkpoint_dir=None,
                  progress: bool = True, plot: bool = False, on_epoch_end=None, start_from=None) -> TrainResult:
    """Add a fresh LoRA adapter to ``model`` (in place) and train it on ``pairs``; AdamW, constant lr.

    With ``checkpoint_dir``, a checkpoint is written after every epoch and a
    run with the same pairs and config resumes from the last one.
    ``on_epoch_end(epoch)`` is called after each checkpoint.
    ``start_from``: the folder of a trained adapter with the same rank and targets; training
    continues from its weights instead of a fresh start (how a fine-tune is updated when facts change).
    """
    pairs = check_pairs(pairs)
    set_seed(config.seed)  # LoRA's A matrices start random: same seed, same start
    peft_model = add_lora(model, lora_config(config.r, config.alpha, config.targets, config.dropout, model=model))
    try:
        if start_from is not None:
            warm_start(peft_model, start_from)
        return _train(peft_model, tokenizer, pairs, config, checkpoint_dir, progress, plot, on_epoch_end)
    except BaseException:
        peft_model.unload()  # leave the caller's model as it was (the checkpoint keeps the progress)
        raise


def _train(peft_model, tokenizer, pairs, config, checkpoint_dir, progress, plot, on_epoch_end) -> TrainResult:
    params = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    encoded = [encode_pair(tokenizer, p, a) for p, a in pairs]
    stamp = fingerprint(pairs=pairs, config=asdict(config), format=FORMAT)
    ckpt = Path(checkpoint_dir) / "checkpoint" if checkpoint_dir else None
    start, history, (spent_s, spent_tokens) = ((load_checkpoint(ckpt, peft_model, optimizer, stamp) if ckpt else None)
                                               or (0, [], (0.0, 0)))
    if start:
        print(f"resuming from the checkpoint written after epoch {start} of {config.epochs}")
    per_epoch = math.ceil(len(encoded) / config.batch_size)
    curve = LossPlot(config.epochs * per_epoch) if plot else None
    bar = tqdm(total=config.epochs * per_epoch, initial=start * per_epoch, desc="training", unit="step",
               disable=not progress, delay=2)
    process, peak, tokens, clock = psutil.Process(), 0, spent_tokens, time.perf_counter() - spent_s
    peft_model.train()
    epochs_run, accuracy = start, None
    for epoch in range(start, config.epochs):
        # The order depends on the seed and the epoch only, so a resumed run sees the same batches.
        order = torch.randperm(len(encoded), generator=torch.Generator().manual_seed(config.seed + epoch)).tolist()
        for first in range(0, len(order), config.batch_size):
            batch = collate([encoded[i] for i in order[first:first + config.batch_size]], tokenizer.pad_token_id)
            loss = answer_loss(peft_model, batch)
            peak = max(peak, process.memory_info().rss)  # activations are alive now, before backward frees them
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            history.append(loss.item())
            tokens += int(batch["attention_mask"].sum())
            bar.update()
            bar.set_postfix(epoch=epoch + 1, loss=f"{history[-1]:.3f}")
            if curve:
                curve.update(history)
        epochs_run = epoch + 1
        if ckpt:
            save_checkpoint(ckpt, peft_model, optimizer, epoch + 1, history, stamp,
                            (time.perf_counter() - clock, tokens))
        if on_epoch_end:
            on_epoch_end(epoch + 1)
        if config.until_accuracy is not None and (epoch + 1) % config.check_every == 0:
            accuracy = pair_accuracy(peft_model, tokenizer, pairs)
            peft_model.train()
            bar.set_postfix(epoch=epoch + 1, loss=f"{history[-1]:.3f}", train_accuracy=f"{accuracy:.2f}")
            if accuracy >= config.until_accuracy:
                break
    bar.close()
    if curve:
        curve.update(history, force=True)
    return TrainResult(peft_model.eval(), history, time.perf_counter() - clock, tokens, peak / 2**20, start,
                       epochs_run, accuracy)


def warm_start(peft_model, folder) -> None:
    """Copy a saved adapter's weights into ``peft_model``'s fresh adapter (same rank and targets)."""
    from peft import set_peft_model_state_dict

    folder = Path(getattr(folder, "folder", folder))
    check_adapter_folder(folder, peft_model.get_base_model())
    fix = "Fix: start from an adapter trained with the same rank and target modules."
    try:
        result = set_peft_model_state_dict(peft_model, load_file(folder / "adapter_model.safetensors"))
    except RuntimeError as err:  # torch refuses weights of another shape (another rank)
        raise AdapterError(f"The adapter in {folder} does not fit this one: {str(err).splitlines()[0]} {fix}") from None
    missing = [k for k in result.missing_keys if "lora_" in k]
    if missing or result.unexpected_keys:
        raise AdapterError(f"The adapter in {folder} does not fit this one ({len(missing)} weights missing, "
                           f"{len(result.unexpected_keys)} unexpected). {fix}")


def pair_accuracy(model, tokenizer, pairs) -> float:
    """Strict accuracy of ``model`` on its own training pairs (``evaluation.grade``, every known value counted)."""
    from .evaluation import RIGHT, grade, value_domain
    from .generation import generate_batch

    answers = generate_batch(model.eval(), tokenizer, [p for p, _ in pairs], 24, progress=False,
                             one_line=True)
    every_value = value_domain(None)
    return sum(grade(a, [gold], every_value) == RIGHT for a, (_, gold) in zip(answers, pairs)) / len(pairs)


# ------------------------------------------------------------------------------- the adapter cache

@dataclass
class AdapterRun:
    """A trained adapter on disk, and how its training went."""
    name: str
    folder: Path
    reused: bool
    info: dict = field(repr=False)

    @property
    def history(self) -> list[float]:
        return self.info["history"]

    @property
    def seconds(self) -> float:
        return self.info["seconds"]


def adapters_dir() -> Path:
    return get_config().cache_dir / "adapters"


def adapter_fingerprint(pairs, config: TrainConfig, base_fp: str, start_from=None) -> str:
    """Changes whenever the training data, the base model, a setting or the starting adapter changes."""
    start = Path(getattr(start_from, "folder", start_from)).name if start_from is not None else None
    return fingerprint(pairs=[list(p) for p in pairs], base=base_fp, config=asdict(config), format=FORMAT,
                       **({"start_from": start} if start else {}))


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ValueError(f"Adapter name {name!r} is not a simple folder name. Fix: use letters, digits, '-', '_'.")
    return name


def get_or_train_adapter(name: str, pairs, config: TrainConfig = TrainConfig(), model=None, tokenizer=None,
                         progress: bool = True, plot: bool = False, on_epoch_end=None,
                         start_from=None) -> AdapterRun:
    """The adapter for ``pairs`` and ``config``: reused from the cache, or trained now (and cached).

    ``model``: the plain base model to train on; it is returned unchanged (the
    LoRA branches are taken off again). By default a fresh copy is loaded.
    ``start_from``: an adapter (``AdapterRun`` or folder) to continue from; see ``train_adapter``.
    """
    _check_name(name)
    pairs = check_pairs(pairs)
    if model is None or tokenizer is None:
        from .models import load_generator

        model, tokenizer = load_generator()
    stamp = adapter_fingerprint(pairs, config, base_fingerprint(model), start_from)
    folder = adapters_dir() / f"{name}-{stamp}"
    if is_fresh(folder, stamp):
        try:
            check_adapter_folder(folder, model)
            info = json.loads((folder / "training.json").read_text())
            print(f"reusing cached adapter {folder.name} (same data, base model and settings)")
            return AdapterRun(name, folder, True, info)
        except (AdapterError, OSError, ValueError) as err:
            print(f"the cached adapter {folder.name} is unusable ({err.__class__.__name__}); training it again")
    length = (f"until {config.until_accuracy:.0%} of them are right (at most {config.epochs} epochs)"
              if config.until_accuracy is not None else f"{config.epochs} epochs")
    start = f", starting from {Path(getattr(start_from, 'folder', start_from)).name}" if start_from else ""
    print(f"training adapter {folder.name}: {len(pairs)} pairs, {length}, "
          f"r={config.r}, targets={config.targets}{start}")
    partial = folder.with_name(f".{folder.name}-partial")  # the checkpoints live here until training ends
    result = train_adapter(model, tokenizer, pairs, config, partial, progress, plot, on_epoch_end, start_from)
    info = {"history": result.history, "seconds": result.seconds, "tokens": result.tokens,
            "tokens_per_second": result.tokens_per_second, "peak_rss_mb": result.peak_rss_mb,
            "resumed_after_epoch": result.start_epoch, "pairs": len(pairs), "config": asdict(config),
            "epochs_run": result.epochs_run, "train_accuracy": result.train_accuracy,
            "trainable": trainable_share(result.model)[0],
            "start_from": Path(getattr(start_from, "folder", start_from)).name if start_from else None}
    try:
        with atomic_folder(folder, stamp) as tmp:
            save_adapter(result.model, tmp)
            (tmp / "training.json").write_text(json.dumps(info, indent=1))
    finally:
        result.model.unload()  # take the LoRA branches off: the caller's base model is as it was
    shutil.rmtree(partial, ignore_errors=True)
    return AdapterRun(name, folder, False, info)


# ------------------------------------------------------------------------------- closed-book fine-tuning

def closed_book_questions(version: str = "v1", extra_phrasings: int = 0, fact_ids=None) -> list:
    """The training phrasing of every fact, plus ``extra_phrasings`` more of each, answered as of ``version``.

    ``fact_ids`` keeps only those facts (a subset, for cheap sweeps).
    """
    import dataclasses

    from .data import VERSIONS, load_facts, load_questions

    if version not in VERSIONS:
        raise ValueError(f"Unknown version {version!r}. Fix: use one of {VERSIONS}.")
    extra = load_questions("train_extra")
    most = max(Counter(q.fact_id for q in extra).values())
    if isinstance(extra_phrasings, bool) or not isinstance(extra_phrasings, int) or not 0 <= extra_phrasings <= most:
        raise ValueError(f"extra_phrasings must be a whole number from 0 to {most} (the data has {most} extra "
                         f"phrasings per fact), got {extra_phrasings!r}.")
    value = {f.fact_id: getattr(f, f"value_{version}") for f in load_facts()}
    seen: Counter = Counter()
    chosen = list(load_questions("train"))
    for q in extra:  # the first n extra phrasings of each fact, in file order
        seen[q.fact_id] += 1
        if seen[q.fact_id] <= extra_phrasings:
            chosen.append(q)
    if fact_ids is not None:
        chosen = [q for q in chosen if q.fact_id in set(fact_ids)]
    return [dataclasses.replace(q, answers=[value[q.fact_id]]) for q in chosen]


def closed_book_adapter(model=None, tokenizer=None, version: str = "v1", extra_phrasings: int = 0,
                        config: TrainConfig = DEFAULT_TRAIN, progress: bool = True, plot: bool = False,
                        fact_ids=None, on_epoch_end=None) -> AdapterRun:
    """The closed-book fine-tune on the facts as of ``version`` (cached; trained now, with progress, if missing).

    It learns the training phrasing of every fact, plus ``extra_phrasings``
    (0 to 3) more phrasings of each, with the closed-book prompt of
    ``answer_closed_book``. ``model`` is the plain base model (loaded if
    None); it is left unchanged. Use ``finetuned_model(model, run.folder)``
    to answer with the adapter.

    A later version is an update, as a team would make it when facts change:
    training continues from the v1 adapter (trained first if missing) on the
    new facts, until it knows them, rather than starting from nothing.
    """
    questions = closed_book_questions(version, extra_phrasings, fact_ids)
    if model is None or tokenizer is None:
        from .models import load_generator

        model, tokenizer = load_generator()
    start_from = None if version == "v1" else closed_book_adapter(model, tokenizer, "v1", extra_phrasings, config,
                                                                   progress, fact_ids=fact_ids)
    name = f"closed-book-{version}-x{extra_phrasings}" + (f"-{len(set(fact_ids))}facts" if fact_ids else "")
    return get_or_train_adapter(name, qa_pairs(tokenizer, questions), config, model, tokenizer,
                                progress, plot, on_epoch_end, start_from)


# The paraphrase sweep of notebook 04, also read by notebook 06: a few facts, so that three adapters stay cheap.
SWEEP_FACTS, SWEEP_EPOCHS = 6, 4
SWEEP_TRAIN = TrainConfig(epochs=SWEEP_EPOCHS, batch_size=2)  # few pairs: smaller batches


def sweep_subset(n: int = SWEEP_FACTS) -> list[str]:
    """A fixed random sample of ``n`` fact ids (seeded), the facts the sweep trains on."""
    import random

    facts = sorted({q.fact_id for q in closed_book_questions("v1")})
    return sorted(random.Random(SEED).sample(facts, n))


def sweep_adapter(model=None, tokenizer=None, extra_phrasings: int = 0, n_facts: int = SWEEP_FACTS,
                  config: TrainConfig = SWEEP_TRAIN, progress: bool = True) -> AdapterRun:
    """One point of the paraphrase sweep: the closed-book adapter on ``sweep_subset(n_facts)``."""
    return closed_book_adapter(model, tokenizer, extra_phrasings=extra_phrasings, config=config,
                               fact_ids=sweep_subset(n_facts), progress=progress)


def finetuned_model(model, folder):
    """``model`` with the adapter saved in ``folder`` (or an ``AdapterRun``), ready for course_utils.generation.

    This changes ``model`` in place: peft puts LoRA branches into its layers
    and returns a ``PeftModel`` around it. To answer with the base model for a
    while, use ``with ft.disable_adapter(): ...``; to get the plain base model
    back for good, ``model = ft.unload()`` (no weights are changed, so it is
    exactly the base again). ``ft.merge_and_unload()`` instead folds the
    update into the weights: faster, but the base is then gone.
    """
    from .lora import load_adapter

    return load_adapter(model, getattr(folder, "folder", folder))


def answer_closed_book(model, tokenizer, questions, max_new_tokens: int = 16, progress: bool = True) -> list[str]:
    """Greedy closed-book answers, with the very prompt the adapters were trained on (``qa_pairs``)."""
    from .generation import build_prompt, generate_batch

    prompts = [build_prompt(tokenizer, q.question) for q in questions]
    return generate_batch(model, tokenizer, prompts, max_new_tokens, progress=progress)


def split_scores(answers, questions) -> dict:
    """Scores of answers to one split: exact match, F1, contains, abstention, and stale answers (update split)."""
    from statistics import mean

    from .evaluation import abstained, contains_answer, score_answers

    row = score_answers(answers, questions)
    row["n"] = len(questions)  # every question of the split; the scores above count the answerable ones
    row["abstains"] = mean(abstained(a) for a in answers) if answers else float("nan")
    stale = [(a, q.stale_answers) for a, q in zip(answers, questions) if q.stale_answers]
    row["stale"] = mean(contains_answer(a, s) for a, s in stale) if stale else float("nan")
    return row


def evaluate_closed_book(model, tokenizer, splits=None, progress: bool = True):
    """(a DataFrame of split_scores per split, {split: answers}) on the shared evaluation samples."""
    import pandas as pd

    from .data import EVAL_SPLITS, eval_questions

    sets = {s: eval_questions(s) for s in (splits or EVAL_SPLITS)}
    flat = [q for qs in sets.values() for q in qs]
    answers = answer_closed_book(model, tokenizer, flat, progress=progress)  # one batched pass over every split
    by_split, start = {}, 0
    for split, qs in sets.items():
        by_split[split], start = answers[start:start + len(qs)], start + len(qs)
    table = pd.DataFrame({s: split_scores(by_split[s], qs) for s, qs in sets.items()}).T
    return table, by_split
