"""Fine-tuning the generator with LoRA: training pairs, the loss, the loop and its checkpoints (taught in 04 §3).

A training pair is ``(prompt, answer)``: the exact prompt the model will see
at evaluation time, and the answer it should give. The loss is taken on the
answer tokens only. Any prompt works (closed-book questions here; questions
with retrieved context for RAFT-style training in notebook 05).

Training writes a checkpoint after every epoch, so an interrupted run
resumes. ``course_utils.adapters`` keeps the trained adapters in a cache.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
import torch
from safetensors.torch import load_file
from tqdm.auto import tqdm

from . import generation
from .artifacts import fingerprint
from .checkpoints import Progress, load_checkpoint, restore_weights, save_checkpoint, trainable_weights
from .config import SEED, check_positive_int, set_seed, whole_number
from .evaluation import value_domain
from .lora import (ALL_LINEAR, DEFAULT_TARGETS, AdapterError, adapter_folder, add_lora, check_adapter_folder, check_rank,
                   lora_config)
from .plots import LossPlot
from .sources import knows_target

ADAPTER_FORMAT = 2  # part of every adapter's fingerprint: bump it when training changes meaning
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
    # The check generates every answer (about half an epoch); it waits while the share of answers predicted token by
    # token in the epoch's own passes (free) is more than this below ``until_accuracy``. 1.0: never waits.
    check_within: float = 1.0
    # Once the training set is known, train up to this many epochs more and keep the epoch that answers the dev
    # questions best (each candidate must still know the training set): the epochs are chosen on dev. 0: stop at once.
    dev_epochs: int = 0

    def __post_init__(self):
        check_rank(self.r)
        if self.until_accuracy is not None and not 0 < self.until_accuracy <= 1:
            raise ValueError(f"until_accuracy must be a share in (0, 1], got {self.until_accuracy!r}. Fix: try 0.9.")
        for name in ("epochs", "batch_size", "check_every"):
            check_positive_int(getattr(self, name), name)
        if not whole_number(self.dev_epochs) or self.dev_epochs < 0:
            raise ValueError(f"dev_epochs must be a whole number >= 0, got {self.dev_epochs!r}. Fix: try 2.")
        if not 0 <= self.check_within <= 1:
            raise ValueError(f"check_within must be a share in [0, 1], got {self.check_within!r}. Fix: try 0.3.")
        if not self.lr > 0:
            raise ValueError(f"The learning rate must be positive, got {self.lr!r}. Fix: try lr=3e-3.")
        if isinstance(self.targets, str) and self.targets != ALL_LINEAR:
            object.__setattr__(self, "targets", (self.targets,))  # "q_proj" means ("q_proj",), not 6 letters
        if isinstance(self.targets, list):  # a list cannot be hashed; keep the config frozen
            object.__setattr__(self, "targets", tuple(self.targets))


# The course's fine-tune: r=8 on q/v over the 56 training pairs, until it answers 90% of them strictly right.
# A baseline at its best: an undertrained fine-tune would make "it does not generalise" mean "it was not finished".
# It is checked after every epoch, once the answers it predicts token by token come within 30 points of the target.
# Then the number of epochs is chosen on dev, like RAG's k: three candidates (that epoch and the next two).
DEFAULT_TRAIN = TrainConfig(epochs=30, until_accuracy=0.9, check_every=1, check_within=0.3, dev_epochs=2)

# ------------------------------------------------------------------------------- data

def qa_pairs(tokenizer, questions, prompt=None) -> list[tuple[str, str]]:
    """(prompt, first accepted answer) for answerable questions; the closed-book prompt by default (04 §3)."""
    prompt = prompt or (lambda q: generation.build_prompt(tokenizer, q.question))
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
    """(input ids, labels). The answer ends with end-of-turn, so the model learns to stop (taught in 04 §3)."""
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


def answer_loss(model, batch: dict[str, torch.Tensor], hits: bool = False):
    """Mean cross-entropy of the answer tokens, each predicted from the tokens before it.

    The output layer (49k words × 576) is a fifth of the model's compute, and
    only the answer positions need it: ``logits_to_keep`` computes logits for
    the last ``span + 1`` positions only, which makes a training step ~20% faster.
    ``hits=True`` also returns, per row, whether every answer token was the
    model's top prediction (teacher forced: greedy decoding would write that answer).
    """
    labels, mask = batch["labels"], batch["attention_mask"]
    answer = (labels != IGNORE).any(dim=0).nonzero()
    span = labels.shape[1] - int(answer[0])  # from the earliest answer token in the batch to the end
    positions = (mask.cumsum(-1) - 1).clamp(min=0)  # what generation uses for left-padded rows
    logits = model(input_ids=batch["input_ids"], attention_mask=mask, position_ids=positions,
                   logits_to_keep=span + 1, use_cache=False).logits[:, :-1]  # the logit at t predicts token t + 1
    labels = labels[:, -span:]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1),
                                             ignore_index=IGNORE)
    return (loss, ((logits.detach().argmax(-1) == labels) | (labels == IGNORE)).all(dim=1)) if hits else loss


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
    train_accuracy: float | None = None  # strict accuracy on the training pairs of the weights kept
    dev_accuracy: dict[int, float] | None = None  # epoch -> dev accuracy of each candidate (``dev_epochs``)
    kept_epoch: int | None = None  # the epoch whose weights were kept: the last, or the best candidate on dev

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else float("nan")


def train_adapter(model, tokenizer, pairs, config: TrainConfig = TrainConfig(), checkpoint_dir=None,
                  progress: bool = True, plot: bool = False, on_epoch_end=None, start_from=None,
                  dev_pairs=None) -> TrainResult:
    """Add a fresh LoRA adapter to ``model`` (in place) and train it on ``pairs``; AdamW, constant lr.

    With ``checkpoint_dir``, a checkpoint is written after every epoch and a
    run with the same pairs and config resumes from the last one.
    ``on_epoch_end(epoch)`` is called after each checkpoint.
    ``start_from``: the folder of a trained adapter with the same rank and targets; training
    continues from its weights instead of a fresh start (how a fine-tune is updated when facts change).
    ``dev_pairs``: (prompt, answer) pairs of the dev questions, which choose the epochs when ``config.dev_epochs``.
    """
    pairs = check_pairs(pairs)
    if config.dev_epochs and (config.until_accuracy is None or not dev_pairs):
        raise ValueError("dev_epochs chooses among the epochs after the training set is known on the dev questions. "
                         "Fix: set until_accuracy and pass dev_pairs, or set dev_epochs=0.")
    set_seed(config.seed)  # LoRA's A matrices start random: same seed, same start
    peft_model = add_lora(model, lora_config(config.r, config.alpha, config.targets, config.dropout, model=model))
    try:
        if start_from is not None:
            warm_start(peft_model, start_from)
        return _train(peft_model, tokenizer, pairs, config, checkpoint_dir, progress, plot, on_epoch_end, dev_pairs)
    except BaseException:
        peft_model.unload()  # leave the caller's model as it was (the checkpoint keeps the progress)
        raise


def _train(peft_model, tokenizer, pairs, config, checkpoint_dir, progress, plot, on_epoch_end, dev_pairs
           ) -> TrainResult:
    params = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    encoded = [encode_pair(tokenizer, p, a) for p, a in pairs]
    stamp = fingerprint(pairs=pairs, dev=dev_pairs, config=asdict(config), format=ADAPTER_FORMAT)
    ckpt = Path(checkpoint_dir) / "checkpoint" if checkpoint_dir else None
    state = (load_checkpoint(ckpt, peft_model, optimizer, stamp) if ckpt else None) or Progress()
    start, history = state.epoch, state.history
    if start:
        print(f"resuming from the checkpoint written after epoch {start} of {config.epochs}")
    per_epoch = math.ceil(len(encoded) / config.batch_size)
    curve = LossPlot(config.epochs * per_epoch) if plot else None
    bar = tqdm(total=config.epochs * per_epoch, initial=start * per_epoch, desc="training", unit="step",
               disable=not progress, delay=2)
    process, peak, tokens, clock = psutil.Process(), 0, state.spent[1], time.perf_counter() - state.spent[0]
    peft_model.train()
    accuracy = None
    for epoch in range(start, config.epochs):
        # The order depends on the seed and the epoch only, so a resumed run sees the same batches.
        order = torch.randperm(len(encoded), generator=torch.Generator().manual_seed(config.seed + epoch)).tolist()
        known = 0  # answers predicted token by token this epoch
        for first in range(0, len(order), config.batch_size):
            batch = collate([encoded[i] for i in order[first:first + config.batch_size]], tokenizer.pad_token_id)
            loss, rows_known = answer_loss(peft_model, batch, hits=True)
            known += int(rows_known.sum())
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
        state.epoch, done = epoch + 1, False
        # Every epoch once the choice on dev has begun; before, only when the cheap gate lets the check through.
        if config.until_accuracy is not None and (state.dev or ((epoch + 1) % config.check_every == 0 and known
                                                  / len(encoded) >= config.until_accuracy - config.check_within)):
            accuracy = pair_accuracy(peft_model, tokenizer, pairs)
            bar.set_postfix(epoch=epoch + 1, loss=f"{history[-1]:.3f}", train_accuracy=f"{accuracy:.2f}")
            done = (_dev_candidate(peft_model, tokenizer, dev_pairs, config, state, accuracy) if config.dev_epochs
                    else accuracy >= config.until_accuracy)
            peft_model.train()
        state.spent = (time.perf_counter() - clock, tokens)
        if ckpt:
            save_checkpoint(ckpt, peft_model, optimizer, state, stamp)
        if on_epoch_end:
            on_epoch_end(epoch + 1)
        if done:
            break
    bar.close()
    if curve:
        curve.update(history, force=True)
    kept = state.epoch
    if state.dev:  # the candidate that answered dev best, of those that knew the training set
        kept = min(state.dev, key=lambda e: (-state.dev[e][1], e))  # a tie keeps the earlier epoch: less training
        restore_weights(peft_model, state.best)
        accuracy = state.dev[kept][0]
    return TrainResult(peft_model.eval(), history, time.perf_counter() - clock, tokens, peak / 2**20, start,
                       state.epoch, accuracy, {e: a[1] for e, a in state.dev.items()} or None, kept)


def _dev_candidate(peft_model, tokenizer, dev_pairs, config, state: Progress, train_accuracy: float) -> bool:
    """An epoch that knows the training set is a candidate: score it on dev, and keep its weights if it is the
    best so far. True once ``dev_epochs`` more epochs than the first candidate's have been trained."""
    if train_accuracy >= config.until_accuracy:
        dev_accuracy = pair_accuracy(peft_model, tokenizer, dev_pairs)
        if not state.dev or dev_accuracy > max(a for _, a in state.dev.values()):
            state.best = trainable_weights(peft_model)
        state.dev[state.epoch] = (train_accuracy, dev_accuracy)
    return bool(state.dev) and state.epoch >= min(state.dev) + config.dev_epochs


def warm_start(peft_model, folder) -> None:
    """Copy a saved adapter's weights into ``peft_model``'s fresh adapter (same rank and targets)."""
    from peft import set_peft_model_state_dict

    folder = adapter_folder(folder)
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
    """Strict accuracy of ``model`` on its own training pairs (``knows_target``, every known value counted)."""
    answers = generation.generate_batch(model.eval(), tokenizer, [p for p, _ in pairs], 24, progress=False,
                             one_line=True)
    every_value = value_domain(None)
    return sum(knows_target(a, target, every_value) for a, (_, target) in zip(answers, pairs)) / len(pairs)
