"""Typed loaders for the knowledge base in ``data/``.

Every row is checked as it is read, so a malformed file fails with the file,
the line and the field at fault, instead of a KeyError three notebooks later.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from .config import DATA_DIR, SEED, get_config, whole_number

SPLITS = ("train", "train_extra", "dev", "paraphrase", "update", "unanswerable", "dev_unanswerable")
VERSIONS = ("v1", "v2")


class DataError(ValueError):
    """A data file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class Document:
    doc_id: str
    version: str
    kind: str
    title: str
    text: str


@dataclass(frozen=True)
class Question:
    qid: str
    split: str
    question: str
    answers: list[str]
    stale_answers: list[str]  # the v1 answer of an update question
    fact_id: str | None  # None for unanswerable questions
    doc_id: str | None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class Fact:
    fact_id: str
    entity: str
    attribute: str
    doc_id: str
    value_v1: str
    value_v2: str


_TYPES = {"str": str, "str | None": (str, type(None)), "list[str]": list}


LINE_FIX = "Fix: correct that line, or regenerate data/ with `python -m course_utils.worldgen`."


def read_jsonl(path: str | Path, cls):
    """Read ``path`` as JSON lines, one ``cls`` per line, checking every field."""
    path = Path(path)
    where = f"{path}"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{where} is missing. Fix: run `python -m course_utils.worldgen` to regenerate data/.") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{where} is not UTF-8 text (byte {err.start}). Fix: regenerate it with "
                        "`python -m course_utils.worldgen`, or save it as UTF-8.") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{where}, line {number}: not valid JSON ({err.msg}). "
                            "Fix: correct the line, or regenerate data/.") from None
        if not isinstance(raw, dict):
            raise DataError(f"{where}, line {number}: expected a JSON object, got {type(raw).__name__}. {LINE_FIX}")
        for f in fields(cls):
            if f.name not in raw:
                raise DataError(f"{where}, line {number}: field '{f.name}' is missing. {LINE_FIX}")
            if not isinstance(raw[f.name], _TYPES[f.type]):
                raise DataError(f"{where}, line {number}: field '{f.name}' should be {f.type}, "
                                f"got {type(raw[f.name]).__name__}. {LINE_FIX}")
        rows.append(cls(**{f.name: raw[f.name] for f in fields(cls)}))
    return rows


def _unique(rows, key: str, path: Path):
    seen = set()
    for row in rows:
        value = getattr(row, key)
        if value in seen:
            raise DataError(f"{path}: duplicate {key} '{value}'. Fix: every {key} must be unique.")
        seen.add(value)
    return rows


def load_documents(version: str = "v1", data_dir: str | Path = DATA_DIR) -> list[Document]:
    """The knowledge base as it stands at ``version`` ('v1' or 'v2'; taught in 00 §3)."""
    if version not in VERSIONS:
        raise DataError(f"Unknown version '{version}'. Fix: use one of {VERSIONS}.")
    path = Path(data_dir) / f"documents_{version}.jsonl"
    return _unique(read_jsonl(path, Document), "doc_id", path)


def load_questions(split: str | None = None, data_dir: str | Path = DATA_DIR) -> list[Question]:
    """All questions, or those of one split (see ``SPLITS``; taught in 00 §3)."""
    if split is not None and split not in SPLITS:
        raise DataError(f"Unknown split '{split}'. Fix: use one of {SPLITS}.")
    path = Path(data_dir) / "questions.jsonl"
    questions = _unique(read_jsonl(path, Question), "qid", path)
    for q in questions:
        if q.split not in SPLITS:
            raise DataError(f"{path}: question '{q.qid}' has unknown split '{q.split}'. "
                            f"Fix: use one of {SPLITS}, or regenerate data/ with `python -m course_utils.worldgen`.")
    return _of_kept_facts([q for q in questions if split is None or q.split == split], data_dir)


def load_facts(data_dir: str | Path = DATA_DIR) -> list[Fact]:
    """Every fact, or the evenly spread subset that ``COURSE_FACTS`` asks for (see ``config.FACTS_ENV``)."""
    return _spread(_all_facts(data_dir), get_config().facts)


def _all_facts(data_dir) -> list[Fact]:
    path = Path(data_dir) / "facts.jsonl"
    return _unique(read_jsonl(path, Fact), "fact_id", path)


def _spread(rows: list, n: int | None) -> list:
    """``n`` rows taken at even steps from ``rows`` (all of them if n is None or not smaller)."""
    if n is None or n >= len(rows):
        return rows
    return [rows[round(i * len(rows) / n)] for i in range(n)]


def _of_kept_facts(questions: list[Question], data_dir) -> list[Question]:
    """The questions about kept facts, and of the unanswerable ones the same share, split by split."""
    n_facts = get_config().facts
    if n_facts is None:
        return questions
    facts = _all_facts(data_dir)  # read once: the subset and the share both come from it
    kept = {f.fact_id for f in _spread(facts, n_facts)}
    answerable = [q for q in questions if q.fact_id in kept]
    unanswerable = []
    for split in dict.fromkeys(q.split for q in questions if q.fact_id is None):
        of_split = [q for q in questions if q.fact_id is None and q.split == split]
        unanswerable += _spread(of_split, max(1, round(len(of_split) * n_facts / len(facts))))
    chosen = {q.qid for q in answerable + unanswerable}
    return [q for q in questions if q.qid in chosen]  # in file order, as without a subset


def load_value_domains(data_dir: str | Path = DATA_DIR) -> dict[str, list[str]]:
    """Attribute -> every value an answer about it could give (``values.json``): all cities, all roles,
    and the numbers and codes the data uses."""
    path = Path(data_dir) / "values.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path} is missing. Fix: run `python -m course_utils.worldgen` to regenerate data/.") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text (byte {err.start}). Fix: regenerate it with "
                        "`python -m course_utils.worldgen`.") from None
    except json.JSONDecodeError as err:
        raise DataError(f"{path}, line {err.lineno}: not valid JSON ({err.msg}). "
                        "Fix: regenerate it with `python -m course_utils.worldgen`.") from None
    if not isinstance(raw, dict):
        raise DataError(f"{path}: expected a JSON object of attribute -> list of values, got {type(raw).__name__}. "
                        "Fix: regenerate it with `python -m course_utils.worldgen`.")
    for attribute, values in raw.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise DataError(f"{path}: '{attribute}' should be a list of strings, got {json.dumps(values)[:80]}. "
                            "Fix: regenerate it with `python -m course_utils.worldgen`.")
    return raw


EVAL_SPLITS = ("train", "paraphrase", "update", "unanswerable")  # what every approach is scored on
DEV_SPLITS = ("dev", "dev_unanswerable")  # knobs are tuned on these, never on the test splits


def dev_questions() -> list:
    """The questions knobs are tuned on: the first dev phrasing of every fact, and every dev unanswerable question.

    One phrasing per fact halves the cost of a sweep, which every retrieving approach pays three times; the
    fine-tune chooses its epochs on the same questions (taught in 03, "choosing k").
    """
    seen, chosen = set(), []
    for q in (q for split in DEV_SPLITS for q in load_questions(split)):
        if q.fact_id is None or q.fact_id not in seen:
            chosen.append(q)
            seen.add(q.fact_id)
    return chosen


def eval_questions(split: str, n: int | None = 24, data_dir: str | Path = DATA_DIR) -> list[Question]:
    """A fixed random sample of ``n`` questions of one split (all of them if the split is smaller or n is None).

    Each split has its own seeded generator, so notebooks 03 to 06 score the
    same questions whatever order they draw the splits in: results cached by
    one notebook are reused by the next (taught in 03 §3).
    """
    import random

    questions = load_questions(split, data_dir)
    if n is None or n >= len(questions):
        return questions
    if not whole_number(n) or n <= 0:
        raise ValueError(f"n must be a positive whole number or None, got {n!r}.")
    return random.Random(f"{SEED}-{split}").sample(questions, n)
