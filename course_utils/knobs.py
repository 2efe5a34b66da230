"""The trained approaches' knobs, chosen on the dev split, and the adapters trained with them (taught in 04 §3, 05 §3).

A candidate setting of a fine-tune or of RAFT is a training run, so trying
three candidates per knob on all the facts would cost longer than the whole
course. The knobs are chosen on a *proxy* instead, as teams do: a fixed
sample of facts (``proxy_facts``), each candidate adapter trained on those facts
and scored (strict) on their two dev phrasings, which nothing is trained on
and no verdict uses. The search is the same for every approach: each knob in
turn, three candidates, the others held at their best so far
(``coordinate_search``), and each candidate trained as the full run is, until
it knows its training set. RAG's knobs cost no training and are chosen on the
whole dev split (its retriever in 01, its k and prompt in ``course_utils.tuning``).

The choice is cached: notebooks 05 and 06 read back what notebook 04 chose.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .adapters import closed_book_adapter, closed_book_questions, sweep_adapter, sweep_subset
from .data import load_documents, load_questions
from .hybrid import RAFT_TRAIN, raft_adapter
from .models import load_generator
from .training import ADAPTER_FORMAT, DEFAULT_TRAIN
from .workbench import Workbench

# The proxy trains one pair per step (batch 1) on a quarter of the facts: as many steps per epoch as the full run's
# batches of four over all of them (14 at 56 facts). A learning rate acts step by step, so a proxy with fewer steps
# per epoch favours a rate that diverges at full size (it did: 6e-3, on 12 facts in batches of four).
PROXY_BATCH = 1
MIN_TUNE_FACTS = 4  # a reduced course (COURSE_FACTS) still gets a proxy with a few dev questions


def proxy_facts() -> list[str]:
    """The facts every candidate trains on: a fixed sample, ``DEFAULT_TRAIN.batch_size`` times fewer than the course's."""
    n_facts = len({q.fact_id for q in closed_book_questions("v1")})
    return sweep_subset(max(MIN_TUNE_FACTS, n_facts * PROXY_BATCH // DEFAULT_TRAIN.batch_size))


# Three candidates per knob, the course's starting value first (a tie keeps the earlier one). Both trained approaches
# get the same effort: three knobs, the learning rate first, then the knobs only that approach has.
LEARNING_RATES = (3e-3, 1.5e-3, 6e-3)
FINE_TUNE_KNOBS = {"lr": LEARNING_RATES, "r": (8, 4, 16), "extra_phrasings": (0, 1, 3)}
RAFT_KNOBS = {"lr": LEARNING_RATES, "p_oracle": (0.8, 0.6, 1.0),  # share of examples with the oracle
              "n_distractors": (2, 1, 3)}


def coordinate_search(knobs: dict, score) -> tuple[dict, list[dict]]:
    """One pass over ``knobs`` ({name: candidates}): each knob in turn takes its best candidate, with the others at
    their best so far. ``score(setting)`` returns (dev score, eligible); an eligible candidate beats any other, and a
    tie keeps the earlier candidate. Returns (choice, one row per candidate)."""
    choice, rows, scored = {name: values[0] for name, values in knobs.items()}, [], {}
    for name, values in knobs.items():
        for value in values:
            trial = {**choice, name: value}
            key = tuple(trial.items())
            if key not in scored:  # the current choice comes round once per knob: score it once
                scored[key] = tuple(score(trial))
            dev, eligible = scored[key]
            rows.append({"knob": name, "value": value, "strict (dev)": dev, "eligible": eligible,
                         "setting": dict(trial)})
        choice[name] = max(values, key=lambda v: scored[tuple({**choice, name: v}.items())][::-1])  # first of equals
        for row in rows[-len(values):]:
            row["kept"] = row["value"] == choice[name]
    return choice, rows


@dataclass
class Knobs:
    """What the search chose for one approach, the table of candidates, and the training arguments it implies."""
    approach: str
    choice: dict
    rows: list
    kwargs: dict  # passed on to closed_book_adapter or raft_adapter

    def table(self):
        import pandas as pd
        # As text before pandas sees the column: 2, not 2.0, beside a share such as 0.8
        frame = pd.DataFrame([{**row, "value": str(row["value"])} for row in self.rows]).drop(columns="setting")
        return frame.set_index(["knob", "value"])


def fine_tune_kwargs(choice: dict) -> dict:
    return {"extra_phrasings": choice["extra_phrasings"],
            "config": replace(DEFAULT_TRAIN, r=choice["r"], lr=choice["lr"])}


def raft_kwargs(choice: dict) -> dict:
    return {"p_oracle": choice["p_oracle"], "n_distractors": choice["n_distractors"],
            "config": replace(RAFT_TRAIN, lr=choice["lr"])}


def _proxy(kwargs: dict) -> dict:
    """``kwargs`` for the proxy run: the full run's training, one pair per step, its epochs not chosen on dev."""
    return {**kwargs, "config": replace(kwargs["config"], batch_size=PROXY_BATCH, dev_epochs=0)}


def _knows(run, config) -> bool:
    """Whether the candidate reached the stopping rule's share of its own training pairs: a baseline must."""
    return (run.info["train_accuracy"] or 0) >= config.until_accuracy


def _proxy_dev(facts) -> list:
    facts = set(facts)
    return [q for q in load_questions("dev") if q.fact_id in facts]


def _strict(rows) -> float:
    return sum(r["strict"] for r in rows) / len(rows)


def fine_tune_knobs(model=None, tokenizer=None, progress: bool = True) -> Knobs:
    """The fine-tune's learning rate, rank and extra phrasings, chosen on the proxy (7 small adapters, cached).

    Each candidate trains with the course's stopping rule (until it knows 90% of its training pairs); one that never
    gets there is not eligible, as a baseline must know its training set. Its epochs are then chosen on dev in the
    full run itself (``TrainConfig.dev_epochs``)."""
    if model is None or tokenizer is None:
        model, tokenizer = load_generator()
    facts, bench = proxy_facts(), Workbench(model, tokenizer)

    def score(knobs):
        kwargs = _proxy(fine_tune_kwargs(knobs))
        bench.adapters["fine-tune"] = closed_book_adapter(model, tokenizer, "v1", kwargs["extra_phrasings"],
                                                          kwargs["config"], progress, fact_ids=facts)
        return (_strict(bench.evaluate("fine-tune", _proxy_dev(facts), progress=False)),
                _knows(bench.adapters["fine-tune"], kwargs["config"]))
    return _search(bench, "fine-tune", FINE_TUNE_KNOBS, score, fine_tune_kwargs,
                   {"facts": facts, "train": asdict(DEFAULT_TRAIN), "batch": PROXY_BATCH})


def raft_knobs(model=None, tokenizer=None, progress: bool = True) -> Knobs:
    """RAFT's learning rate, share of examples with the oracle and number of distractors, chosen on the proxy.

    The same search and the same rule as the fine-tune's: each candidate trains on the proxy facts' training
    questions until it answers 90% of its examples right, citation included, or is not eligible. Cached."""
    if model is None or tokenizer is None:
        model, tokenizer = load_generator()
    facts, bench = proxy_facts(), Workbench(model, tokenizer)
    train = [q for q in load_questions("train") if q.fact_id in facts]

    def score(knobs):
        kwargs = _proxy(raft_kwargs(knobs))
        bench.adapters["RAFT"] = raft_adapter(model, tokenizer, **kwargs, questions=train, progress=progress)
        return (_strict(bench.evaluate("RAFT", _proxy_dev(facts), load_documents("v1"), progress=False)),
                _knows(bench.adapters["RAFT"], kwargs["config"]))
    return _search(bench, "RAFT", RAFT_KNOBS, score, raft_kwargs,
                   {"facts": facts, "train": asdict(RAFT_TRAIN), "batch": PROXY_BATCH})


def _search(bench, approach, knobs, score, to_kwargs, parts) -> Knobs:
    """``coordinate_search`` run once, then read back from the results cache (the choice and every row)."""
    found = bench.remember(f"knobs-{approach}", {"knobs": knobs, "adapter_format": ADAPTER_FORMAT, **parts},
                           lambda: dict(zip(("choice", "rows"), coordinate_search(knobs, score))))
    return Knobs(approach, found["choice"], found["rows"], to_kwargs(found["choice"]))


# Each adapter an approach or an experiment may need: (model, tokenizer, progress) -> AdapterRun, trained with the
# knobs chosen above, and reused from the cache when notebooks 04 and 05 trained it.
ADAPTER_RECIPES = {
    "fine-tune": lambda m, t, p: closed_book_adapter(m, t, "v1", progress=p, **fine_tune_knobs(m, t, p).kwargs),
    "RAFT": lambda m, t, p: raft_adapter(m, t, progress=p, **raft_knobs(m, t, p).kwargs),
    # retrained on the v2 facts, continuing from the v1 adapter, with the same knobs
    "fine-tune v2": lambda m, t, p: closed_book_adapter(m, t, "v2", progress=p, **fine_tune_knobs(m, t, p).kwargs),
    # The paraphrase sweep of notebook 04 (a few facts, cheap): the same facts with 0 and with 3 extra phrasings.
    "sweep +0 phrasings": lambda m, t, p: sweep_adapter(m, t, extra_phrasings=0, progress=p),
    "sweep +3 phrasings": lambda m, t, p: sweep_adapter(m, t, extra_phrasings=3, progress=p),
}


def prepare_adapters(model, tokenizer, names=("fine-tune", "RAFT"), progress: bool = True) -> dict:
    """{name: AdapterRun}: each adapter reused from the cache when notebooks 04/05 trained it, else trained now."""
    runs = {}
    for name in names:
        if name not in ADAPTER_RECIPES:
            raise ValueError(f"Unknown adapter {name!r}. Fix: use one of {list(ADAPTER_RECIPES)}.")
        print(f"[{name}] ", end="", flush=True)  # the recipe says whether it reuses or trains
        runs[name] = ADAPTER_RECIPES[name](model, tokenizer, progress)
    return runs
