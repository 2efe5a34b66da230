"""Generate the course's fictional knowledge base: ``python -m course_utils.worldgen``.

Vellmar Robotics does not exist, so no pretrained model can know its facts:
whatever a model answers about it comes from the documents (RAG), from
training (fine-tuning), or is invented. The output is deterministic (fixed
seed, fixed order, sorted writes) and committed; a test regenerates it and
compares.

Each fact is one (entity, attribute, value). Every attribute has:
* a sentence that states it in the documents,
* a training phrasing of the question (split ``train``),
* three extra phrasings, used only by the paraphrase-augmentation experiment
  (``train_extra``),
* two development phrasings, never trained on, for tuning knobs (``dev``),
* four held-out phrasings, never trained or tuned on: the test split
  (``paraphrase``).

About half of the facts that can change get a new value in the v2 documents.
Each changed fact has five ``update`` questions, answered by the v2 value (its
v1 value is kept as ``stale_answers``): the training phrasing (``.update``),
which shows what a fine-tune trained before the change answers when asked
exactly as trained, and the four held-out phrasings (``.update-heldout1``..4),
so that freshness is also scored on wordings never trained on. These are the
only questions whose text occurs in two splits.

Unanswerable questions ask about attributes the world does not have (a
product's price, a person's university) or about products and people that do
not exist. Each generated one is checked against the documents: none may
mention what it asks about. 40 are for testing (``unanswerable``) and 12 for
tuning (``dev_unanswerable``).

``values.json`` lists every value an answer about an attribute could give, so
grading can spot a wrong value named next to the right one.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from . import world
from .artifacts import write_text_atomic
from .config import DATA_DIR, SEED
from .distractors import distractor_documents


N_UNANSWERABLE, N_DEV_UNANSWERABLE = 40, 12


def _draw(spec: dict, rng: random.Random) -> str:
    values = spec["values"]
    return rng.choice(values) if isinstance(values, list) else values(rng)


def _spec(fact: dict) -> dict:
    return world.COMPANY_FACTS.get(fact["fact_id"]) or world.ATTRIBUTES[fact["attribute"]]


def _facts(rng: random.Random) -> list[dict]:
    facts = []
    roles = rng.sample(world.ROLES, len(world.PEOPLE))
    for kind, entities in (("product", world.PRODUCTS), ("person", world.PEOPLE)):
        for i, entity in enumerate(entities):
            eid, name = entity[0], entity[1]
            for attr, spec in world.ATTRIBUTES.items():
                if spec["kind"] != kind:
                    continue
                value = roles[i] if attr == "role" else _draw(spec, rng)
                facts.append(dict(fact_id=f"{eid}.{attr}", entity_id=eid, entity=name, attribute=attr,
                                  value=value, mutable=spec["mutable"], **_phrasings(spec, name)))
    for fid, spec in world.COMPANY_FACTS.items():
        entity_id, attr = fid.split(".")
        facts.append(dict(fact_id=fid, entity_id=entity_id, entity=world.COMPANY, attribute=attr,
                          value=_draw(spec, rng), mutable=spec["mutable"], **_phrasings(spec, world.COMPANY)))
    return facts


def _phrasings(spec: dict, name: str) -> dict:
    def fill(text: str) -> str:
        return text.replace("{e}", name)

    return dict(sentence=fill(spec["sentence"]), train=fill(spec["train"]),
                **{key: [fill(t) for t in spec[key]] for key in ("extra", "dev", "heldout")})


def _new_value(rng: random.Random, fact: dict) -> str:
    """A different value of the same type, for the v2 update."""
    while True:
        value = _draw(_spec(fact), rng)
        if value != fact["value"]:
            return value


def _documents(facts: list[dict], values: dict[str, str], version: str) -> list[dict]:
    """One readable document per entity; the policy facts get a page of their own."""
    groups: dict[str, list[dict]] = {}
    for f in facts:
        doc_id = "policies" if f["fact_id"].startswith("policy.") else f["entity_id"]
        groups.setdefault(doc_id, []).append(f)
    products = {p[0]: p for p in world.PRODUCTS}
    docs = []
    for doc_id, group in groups.items():
        first = group[0]
        if doc_id in products:
            kind, title = "product", first["entity"]
            sentences = [world.FILLER["product"][0].replace("{e}", title).replace("{c}", products[doc_id][2])]
        elif first["entity"] == world.COMPANY:
            kind = "policy" if doc_id == "policies" else "history"
            title = "Customer policies" if kind == "policy" else "About Vellmar Robotics"
            sentences = []
        else:
            kind, title = "person", first["entity"]
            sentences = [world.FILLER["person"][0].replace("{e}", title)]
        sentences += [f["sentence"].replace("{v}", values[f["fact_id"]]) for f in group]
        if kind in world.FILLER:
            sentences += [s.replace("{e}", title).replace("{c}", "") for s in world.FILLER[kind][1:]]
        docs.append(dict(doc_id=doc_id, version=version, kind=kind, title=title, text=" ".join(sentences)))
    return sorted(docs, key=lambda d: d["doc_id"])


def _doc_of(fact: dict) -> str:
    return "policies" if fact["fact_id"].startswith("policy.") else fact["entity_id"]


def _generated_unanswerable() -> tuple[list[tuple[str, tuple[str, ...]]], list[tuple[str, tuple[str, ...]]]]:
    """(test, dev) lists of (question, probes), in a fixed order.

    Every third question of each group goes to dev, so both splits mix gaps
    about products, people and the company with names that do not exist.
    """
    product_attrs = [a for a, s in world.ATTRIBUTES.items() if s["kind"] == "product"]
    person_attrs = [a for a, s in world.ATTRIBUTES.items() if s["kind"] == "person"]
    groups = [
        [(t.replace("{e}", world.PRODUCTS[i % len(world.PRODUCTS)][1]), probes) for i, (t, probes) in enumerate(world.PRODUCT_GAPS)],
        [(t.replace("{e}", world.PEOPLE[i % len(world.PEOPLE)][1]), probes) for i, (t, probes) in enumerate(world.PERSON_GAPS)],
        world.COMPANY_GAPS,
        [(world.ATTRIBUTES[product_attrs[i % len(product_attrs)]]["train"].replace("{e}", name), (name,))
         for i, name in enumerate(world.FAKE_PRODUCTS)],
        [(world.ATTRIBUTES[person_attrs[i % len(person_attrs)]]["train"].replace("{e}", name), (name,))
         for i, name in enumerate(world.FAKE_PEOPLE)],
    ]
    test = [q for group in groups for i, q in enumerate(group) if i % 3 != 2]
    dev = [q for group in groups for i, q in enumerate(group) if i % 3 == 2]
    return test, dev


def _check_unanswerable(items: list[tuple[str, tuple[str, ...]]], docs: list[dict], values: list[str]) -> None:
    """Fail if a document may answer an unanswerable question, or if the question names a value.

    A value in the question would be excluded from grading as a word of the
    question, and would hint at an answer.
    """
    for text, probes in items:
        for probe in probes:
            doc = next((d for d in docs if world.mentions(d["title"] + " " + d["text"], probe)), None)
            if doc:
                raise ValueError(f"Unanswerable question {text!r}: document '{doc['doc_id']}' ({doc['version']}) "
                                 f"mentions '{probe}', so it may answer it. Fix: ask about something else.")
        value = next((v for v in values if world.mentions(text, v)), None)
        if value:
            raise ValueError(f"Unanswerable question {text!r} names the value '{value}'. Fix: reword it.")


def _value_domains(facts: list[dict], v1: dict[str, str], v2: dict[str, str]) -> dict[str, list[str]]:
    """Attribute -> every value an answer could give: the whole list for words (cities, roles),
    the values drawn in v1 or v2 for numbers and codes (sorted as numbers where they are numbers)."""
    domains: dict[str, set[str]] = {}
    for f in facts:
        values = _spec(f)["values"]
        drawn = set(values) if isinstance(values, list) else {v1[f["fact_id"]], v2[f["fact_id"]]}
        domains.setdefault(f["attribute"], set()).update(drawn)
    def numeric(values) -> bool:
        return all(v.isdigit() for v in values)

    return {attr: sorted(vs, key=int if numeric(vs) else None) for attr, vs in sorted(domains.items())}


def generate(seed: int = SEED) -> dict[str, list[dict] | dict[str, list[str]]]:
    """Build every file of ``data/`` in memory: {file name: rows}, or {attribute: values} for values.json."""
    rng = random.Random(seed)
    facts = _facts(rng)
    v1 = {f["fact_id"]: f["value"] for f in facts}
    mutable = [f for f in facts if f["mutable"]]
    changed = sorted(rng.sample([f["fact_id"] for f in mutable], round(world.UPDATE_SHARE * len(mutable))))
    v2 = dict(v1)
    for f in facts:
        if f["fact_id"] in changed:
            v2[f["fact_id"]] = _new_value(rng, f)
    docs = {"v1": _documents(facts, v1, "v1"), "v2": _documents(facts, v2, "v2")}
    domains = _value_domains(facts, v1, v2)

    def question(qid, split, text, f, answers, stale=()):
        return dict(qid=qid, split=split, question=text, answers=list(answers), stale_answers=list(stale),
                    fact_id=f["fact_id"] if f else None, doc_id=_doc_of(f) if f else None)

    questions = []
    for f in facts:
        fid, val = f["fact_id"], [v1[f["fact_id"]]]
        questions.append(question(f"{fid}.train", "train", f["train"], f, val))
        questions += [question(f"{fid}.extra{i}", "train_extra", t, f, val) for i, t in enumerate(f["extra"], 1)]
        questions += [question(f"{fid}.dev{i}", "dev", t, f, val) for i, t in enumerate(f["dev"], 1)]
        questions += [question(f"{fid}.heldout{i}", "paraphrase", t, f, val) for i, t in enumerate(f["heldout"], 1)]
        if fid in changed:
            questions.append(question(f"{fid}.update", "update", f["train"], f, [v2[fid]], [v1[fid]]))
            questions += [question(f"{fid}.update-heldout{i}", "update", t, f, [v2[fid]], [v1[fid]])
                          for i, t in enumerate(f["heldout"], 1)]

    test, dev = _generated_unanswerable()
    every_value = sorted({v for vs in domains.values() for v in vs})
    _check_unanswerable([(t, ()) for t in world.UNANSWERABLE] + test + dev, docs["v1"] + docs["v2"], every_value)
    test = world.UNANSWERABLE + [t for t, _ in test]
    dev = [t for t, _ in dev]
    if (len(test), len(dev)) != (N_UNANSWERABLE, N_DEV_UNANSWERABLE):
        raise ValueError(f"{len(test)} test and {len(dev)} dev unanswerable questions, expected "
                         f"{N_UNANSWERABLE} and {N_DEV_UNANSWERABLE}. Fix: add or remove templates.")
    questions += [question(f"none.{i:02d}", "unanswerable", t, None, []) for i, t in enumerate(test, 1)]
    questions += [question(f"dev-none.{i:02d}", "dev_unanswerable", t, None, []) for i, t in enumerate(dev, 1)]

    # An update question repeats its fact's training or held-out phrasing on purpose; any other
    # repeat would put one question in two splits.
    texts = [q["question"] for q in questions if q["split"] != "update"]
    repeated = sorted({t for t in texts if texts.count(t) > 1})
    if repeated:
        raise ValueError(f"Questions asked twice: {repeated}. Fix: reword them.")

    fact_rows = [dict(fact_id=f["fact_id"], entity=f["entity"], attribute=f["attribute"], doc_id=_doc_of(f),
                      value_v1=v1[f["fact_id"]], value_v2=v2[f["fact_id"]]) for f in facts]
    return {
        "facts.jsonl": fact_rows,
        "documents_v1.jsonl": docs["v1"],
        "documents_v2.jsonl": docs["v2"],
        "questions.jsonl": questions,
        "values.json": domains,
    }



def render(rows: list[dict] | dict) -> str:
    """JSON lines for a list of rows; one indented JSON object otherwise."""
    if isinstance(rows, dict):
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def write(out_dir: Path = DATA_DIR, seed: int = SEED) -> list[Path]:
    paths = []
    for name, rows in generate(seed).items():
        write_text_atomic(out_dir / name, render(rows))
        paths.append(out_dir / name)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder to write (default: data/)")
    parser.add_argument("--distractors", type=int, default=0, metavar="N",
                        help="instead, write N distractor documents to OUT/distractors.jsonl (notebook 07)")
    args = parser.parse_args()
    if args.distractors:  # kept out of data/: the course's own files stay exactly as they are

        path = args.out / "distractors.jsonl"
        write_text_atomic(path, render(distractor_documents(args.distractors)))
        print("wrote", path)
        return
    for path in write(args.out):
        print("wrote", path)


if __name__ == "__main__":
    main()
