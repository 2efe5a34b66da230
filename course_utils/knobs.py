"""The trained approaches' knobs, chosen on the dev split, and the adapters trained with them (taught in 04 §3, 05 §3).

A candidate setting of a fine-tune or of RAFT is a training run, so trying
three candidates per knob on all the facts would cost longer than the whole
course. The knobs are chosen on a *proxy* instead, as teams do: a fixed
sample of ``TUNE_FACTS`` facts, each candidate adapter trained on those facts
and scored (strict) on their two dev phrasings, which nothing is trained on
and no verdict uses. The search is the same for every approach: each knob in
turn, three candidates, the others held at their best so far
(``coordinate_search``). RAG's knobs cost no training and are chosen on the
whole dev split (its retriever in 01, its k in ``course_utils.tuning``).

The choice is cached: notebooks 05 and 06 read back what notebook 04 chose.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .adapters import closed_book_adapter, sweep_adapter, sweep_subset
from .data import load_documents, load_questions
from .hybrid import RAFT_ONE_EPOCH, raft_adapter
from .models import load_generator
from .training import ADAPTER_FORMAT, DEFAULT_TRAIN
from .workbench import Workbench

TUNE_FACTS = 12  # facts in the proxy; their 2 dev phrasings each score every candidate
# Three candidates per knob, the course's starting value first (a tie keeps the earlier one). The learning rate is
# not searched on the proxy: the full run takes several times more steps per epoch, and a rate that the dozen facts
# favoured (6e-3) diverged there; the course keeps the 3e-3 that trains the full set stably.
FINE_TUNE_KNOBS = {"r": (8, 4, 16), "extra_phrasings": (0, 1, 3)}
RAFT_KNOBS = {"p_oracle": (0.8, 0.6, 1.0), "n_distractors": (2, 1, 3)}  # share of examples with the oracle; distractors


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
    return {"extra_phrasings": choice["extra_phrasings"], "config": replace(DEFAULT_TRAIN, r=choice["r"])}


def raft_kwargs(choice: dict) -> dict:
    return {"p_oracle": choice["p_oracle"], "n_distractors": choice["n_distractors"]}


def _proxy_dev(facts) -> list:
    facts = set(facts)
    return [q for q in load_questions("dev") if q.fact_id in facts]


def _strict(rows) -> float:
    return sum(r["strict"] for r in rows) / len(rows)


def fine_tune_knobs(model=None, tokenizer=None, progress: bool = True) -> Knobs:
    """The fine-tune's rank and extra phrasings, chosen on the proxy (5 small adapters, cached).

    Each candidate trains with the course's stopping rule (until it knows 90% of its training pairs); one that never
    gets there is not eligible, as a baseline must know its training set. Its epochs are then chosen on dev in the
    full run itself (``TrainConfig.dev_epochs``)."""
    if model is None or tokenizer is None:
        model, tokenizer = load_generator()
    facts, proxy, bench = sweep_subset(TUNE_FACTS), replace(DEFAULT_TRAIN, dev_epochs=0), Workbench(model, tokenizer)

    def score(knobs):
        bench.adapters["fine-tune"] = closed_book_adapter(model, tokenizer, "v1", knobs["extra_phrasings"],
                                                          replace(proxy, r=knobs["r"]), progress, fact_ids=facts)
        knows = (bench.adapters["fine-tune"].info["train_accuracy"] or 0) >= proxy.until_accuracy
        return _strict(bench.evaluate("fine-tune", _proxy_dev(facts), progress=False)), knows
    return _search(bench, "fine-tune", FINE_TUNE_KNOBS, score, fine_tune_kwargs, {"facts": facts, "train": asdict(proxy)})


def raft_knobs(model=None, tokenizer=None, progress: bool = True) -> Knobs:
    """RAFT's share of examples with the oracle and its number of distractors, chosen on the proxy (cached).

    Each candidate gets one pass over its examples (``RAFT_ONE_EPOCH``), one example per step (batch 1): about as
    many updates as one pass of the full run (14), at a fraction of its cost. Training every candidate until it
    knows its examples, as the full run then does, would cost several passes each; so RAFT's knobs are compared at
    equal training, not each at its best."""
    if model is None or tokenizer is None:
        model, tokenizer = load_generator()
    facts, proxy, bench = sweep_subset(TUNE_FACTS), replace(RAFT_ONE_EPOCH, batch_size=1), Workbench(model, tokenizer)
    train = [q for q in load_questions("train") if q.fact_id in facts]

    def score(knobs):
        bench.adapters["RAFT"] = raft_adapter(model, tokenizer, **raft_kwargs(knobs), config=proxy, questions=train,
                                              progress=progress)
        return _strict(bench.evaluate("RAFT", _proxy_dev(facts), load_documents("v1"), progress=False)), True
    return _search(bench, "RAFT", RAFT_KNOBS, score, raft_kwargs, {"facts": facts, "train": asdict(proxy)})


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
