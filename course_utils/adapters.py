"""The adapter cache, and the closed-book fine-tune of notebook 04 (taught in 04 §3 and §4).

What later notebooks call:
* ``closed_book_adapter(model, tokenizer, version="v1")``: the closed-book
  fine-tune of notebook 04 (``training.DEFAULT_TRAIN``), cached;
* ``finetuned_model(model, folder)``: the base model with that adapter on;
  ``adapter_on(model, adapter)`` puts one on for a ``with`` block only;
* ``answer_closed_book`` / ``evaluate_closed_book``: answers with the prompt
  the adapters were trained on, and scores per split;
* ``get_or_train_adapter(name, pairs, config, ...)``: any other training set.

Adapters are reused when the data, the base model and the settings are
unchanged, and otherwise trained, saying so, with a progress bar.
"""
from __future__ import annotations

import dataclasses
import json
import random
import re
import shutil
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .artifacts import atomic_folder, fingerprint, is_fresh
from .config import SEED, get_config, whole_number
from .data import EVAL_SPLITS, VERSIONS, dev_questions, eval_questions, load_facts, load_questions
from .evaluation.summaries import split_scores
from .generation import build_prompt, generate_batch
from .lora import (AdapterError, adapter_folder, base_fingerprint, check_adapter_folder, load_adapter, save_adapter,
                   trainable_share)
from .models import load_generator
from .training import ADAPTER_FORMAT, DEFAULT_TRAIN, TrainConfig, check_pairs, qa_pairs, train_adapter


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


def adapter_fingerprint(pairs, config: TrainConfig, base_fp: str, start_from=None, dev_pairs=None) -> str:
    """Changes whenever the training data, the base model, a setting, the starting adapter or the dev pairs change."""
    start = adapter_folder(start_from).name if start_from is not None else None
    return fingerprint(pairs=[list(p) for p in pairs], base=base_fp, config=asdict(config), format=ADAPTER_FORMAT,
                       **({"start_from": start} if start else {}),
                       **({"dev": [list(p) for p in dev_pairs]} if dev_pairs else {}))


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ValueError(f"Adapter name {name!r} is not a simple folder name. Fix: use letters, digits, '-', '_'.")
    return name


def get_or_train_adapter(name: str, pairs, config: TrainConfig = TrainConfig(), model=None, tokenizer=None,
                         progress: bool = True, plot: bool = False, on_epoch_end=None,
                         start_from=None, dev_pairs=None) -> AdapterRun:
    """The adapter for ``pairs`` and ``config``: reused from the cache, or trained now (and cached).

    ``model``: the plain base model to train on; it is returned unchanged (the
    LoRA branches are taken off again). By default a fresh copy is loaded.
    ``start_from``: an adapter (``AdapterRun`` or folder) to continue from; ``dev_pairs``: the dev questions
    that choose the epochs; see ``train_adapter``.
    """
    _check_name(name)
    pairs = check_pairs(pairs)
    if model is None or tokenizer is None:
        model, tokenizer = load_generator()
    stamp = adapter_fingerprint(pairs, config, base_fingerprint(model), start_from, dev_pairs)
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
    if config.dev_epochs:
        length += f", then {config.dev_epochs} more, keeping the epoch that answers {len(dev_pairs)} dev questions best"
    start = f", starting from {adapter_folder(start_from).name}" if start_from else ""
    print(f"training adapter {folder.name}: {len(pairs)} pairs, {length}, "
          f"r={config.r}, targets={config.targets}{start}")
    partial = folder.with_name(f".{folder.name}-partial")  # the checkpoints live here until training ends
    result = train_adapter(model, tokenizer, pairs, config, partial, progress, plot, on_epoch_end, start_from,
                           dev_pairs)
    info = {"history": result.history, "seconds": result.seconds, "tokens": result.tokens,
            "tokens_per_second": result.tokens_per_second, "peak_rss_mb": result.peak_rss_mb,
            "resumed_after_epoch": result.start_epoch, "pairs": len(pairs), "config": asdict(config),
            "epochs_run": result.epochs_run, "train_accuracy": result.train_accuracy,
            "dev_accuracy": result.dev_accuracy, "kept_epoch": result.kept_epoch, "dev_pairs": len(dev_pairs or []),
            "trainable": trainable_share(result.model)[0],
            "start_from": adapter_folder(start_from).name if start_from else None}
    try:
        with atomic_folder(folder, stamp) as tmp:
            save_adapter(result.model, tmp)
            (tmp / "training.json").write_text(json.dumps(info, indent=1))
    finally:
        result.model.unload()  # take the LoRA branches off: the caller's base model is as it was
    shutil.rmtree(partial, ignore_errors=True)
    return AdapterRun(name, folder, False, info)


def closed_book_questions(version: str = "v1", extra_phrasings: int = 0, fact_ids=None) -> list:
    """The training phrasing of every fact, plus ``extra_phrasings`` more of each, answered as of ``version``.

    ``fact_ids`` keeps only those facts (a subset, for cheap sweeps).
    """
    if version not in VERSIONS:
        raise ValueError(f"Unknown version {version!r}. Fix: use one of {VERSIONS}.")
    extra = load_questions("train_extra")
    most = max(Counter(q.fact_id for q in extra).values())
    if not whole_number(extra_phrasings) or not 0 <= extra_phrasings <= most:
        raise ValueError(f"extra_phrasings must be a whole number from 0 to {most} (the data has {most} extra "
                         f"phrasings per fact), got {extra_phrasings!r}.")
    seen: Counter = Counter()
    chosen = list(load_questions("train"))
    for q in extra:  # the first n extra phrasings of each fact, in file order
        seen[q.fact_id] += 1
        if seen[q.fact_id] <= extra_phrasings:
            chosen.append(q)
    if fact_ids is not None:
        chosen = [q for q in chosen if q.fact_id in set(fact_ids)]
    return answered_as_of(chosen, version)


def closed_book_dev(version: str = "v1", fact_ids=None) -> list:
    """The answerable dev questions (``data.dev_questions``, RAG's tuning questions), answered as of ``version``."""
    return answered_as_of([q for q in dev_questions() if q.answers and (fact_ids is None or q.fact_id in set(fact_ids))],
                          version)


def answered_as_of(questions, version: str) -> list:
    """``questions`` with their fact's value as of ``version`` as the one accepted answer."""
    value = {f.fact_id: getattr(f, f"value_{version}") for f in load_facts()}
    return [dataclasses.replace(q, answers=[value[q.fact_id]]) for q in questions]


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
    new facts, until it knows them, rather than starting from nothing (taught in 04 §3).
    """
    questions = closed_book_questions(version, extra_phrasings, fact_ids)
    if model is None or tokenizer is None:
        model, tokenizer = load_generator()
    dev_pairs = qa_pairs(tokenizer, closed_book_dev(version, fact_ids)) if config.dev_epochs else None
    start_from = None if version == "v1" else closed_book_adapter(model, tokenizer, "v1", extra_phrasings, config,
                                                                   progress, fact_ids=fact_ids)
    name = f"closed-book-{version}-x{extra_phrasings}" + (f"-{len(set(fact_ids))}facts" if fact_ids else "")
    return get_or_train_adapter(name, qa_pairs(tokenizer, questions), config, model, tokenizer,
                                progress, plot, on_epoch_end, start_from, dev_pairs)


# The paraphrase sweep of notebook 04, also read by notebook 06: a few facts, so that three adapters stay cheap.
SWEEP_FACTS, SWEEP_EPOCHS = 6, 4


SWEEP_TRAIN = TrainConfig(epochs=SWEEP_EPOCHS, batch_size=2)  # few pairs: smaller batches


def sweep_subset(n: int = SWEEP_FACTS) -> list[str]:
    """A fixed random sample of ``n`` fact ids (seeded), the facts the sweep trains on (taught in 04 §6)."""
    facts = sorted({q.fact_id for q in closed_book_questions("v1")})
    return sorted(random.Random(SEED).sample(facts, n))


def sweep_adapter(model=None, tokenizer=None, extra_phrasings: int = 0, n_facts: int = SWEEP_FACTS,
                  config: TrainConfig = SWEEP_TRAIN, progress: bool = True) -> AdapterRun:
    """One point of the paraphrase sweep: the closed-book adapter on ``sweep_subset(n_facts)`` (taught in 04 §6)."""
    return closed_book_adapter(model, tokenizer, extra_phrasings=extra_phrasings, config=config,
                               fact_ids=sweep_subset(n_facts), progress=progress)


def finetuned_model(model, folder):
    """``model`` with the adapter saved in ``folder`` (or an ``AdapterRun``), ready for course_utils.generation.

    This changes ``model`` in place: peft puts LoRA branches into its layers
    and returns a ``PeftModel`` around it. To answer with the base model for a
    while, use ``with ft.disable_adapter(): ...``; to get the plain base model
    back for good, ``model = ft.unload()`` (no weights are changed, so it is
    exactly the base again). ``ft.merge_and_unload()`` instead folds the
    update into the weights: faster, but the base is then gone (taught in 04 §4).
    """
    return load_adapter(model, adapter_folder(folder))


@contextmanager
def adapter_on(model, adapter):
    """``model`` with ``adapter`` (an ``AdapterRun`` or folder) on it, taken off again afterwards; None = base."""
    if adapter is None:
        yield model
        return
    adapted = load_adapter(model, adapter_folder(adapter))
    try:
        yield adapted
    finally:
        adapted.unload()


def answer_closed_book(model, tokenizer, questions, max_new_tokens: int = 16, progress: bool = True) -> list[str]:
    """Greedy closed-book answers, with the very prompt the adapters were trained on (``qa_pairs``; 04 §5)."""
    prompts = [build_prompt(tokenizer, q.question) for q in questions]
    return generate_batch(model, tokenizer, prompts, max_new_tokens, progress=progress)


def evaluate_closed_book(model, tokenizer, splits=None, progress: bool = True):
    """(a DataFrame of split_scores per split, {split: answers}) on the shared evaluation samples (taught in 04 §4)."""
    import pandas as pd

    sets = {s: eval_questions(s) for s in (splits or EVAL_SPLITS)}
    flat = [q for qs in sets.values() for q in qs]
    answers = answer_closed_book(model, tokenizer, flat, progress=progress)  # one batched pass over every split
    by_split, start = {}, 0
    for split, qs in sets.items():
        by_split[split], start = answers[start:start + len(qs)], start + len(qs)
    table = pd.DataFrame({s: split_scores(by_split[s], qs) for s, qs in sets.items()}).T
    return table, by_split
