"""Generate the course's fictional knowledge base: ``python -m course_utils.worldgen``.

Vellmar Robotics does not exist, so no pretrained model can know its facts:
whatever a model answers about it comes from the documents (RAG), from
training (fine-tuning), or is invented. The output is deterministic (fixed
seed, sorted writes) and committed; a test regenerates it and compares.

Each fact is one (entity, attribute, value). Every attribute has:
* a sentence that states it in the documents,
* a training phrasing of the question,
* three extra phrasings, used only by the paraphrase-augmentation experiment,
* two held-out paraphrases, never trained on.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from .config import DATA_DIR, SEED

COMPANY = "Vellmar Robotics"

# Near-duplicate names on purpose: retrieval must tell "Quibit X2" from "Quibit X2 Pro".
PRODUCTS = [
    ("quibit-x2", "Quibit X2", "home robot"),
    ("quibit-x2-pro", "Quibit X2 Pro", "home robot"),
    ("quibit-x3", "Quibit X3", "home robot"),
    ("lumen-hub", "Lumen Hub", "smart-home controller"),
    ("lumen-hub-mini", "Lumen Hub Mini", "smart-home controller"),
    ("corvo-scanner", "Corvo Scanner", "3D scanner"),
    ("corvo-scanner-s", "Corvo Scanner S", "3D scanner"),
    ("tessel-arm", "Tessel Arm", "robotic arm"),
]
PEOPLE = [
    ("dana-okafor", "Dana Okafor"),
    ("dana-okoro", "Dana Okoro"),
    ("ilse-marten", "Ilse Marten"),
    ("ilse-martens", "Ilse Martens"),
    ("ravi-anand", "Ravi Anand"),
    ("tomas-reyes", "Tomas Reyes"),
]

CITIES = ["Lima", "Tallinn", "Porto", "Osaka", "Quito", "Gdansk", "Leeds", "Tucson", "Lyon",
          "Brno", "Cork", "Turku", "Bergen", "Adelaide", "Valencia", "Graz", "Malmo", "Leipzig"]
ROLES = ["chief technology officer", "head of sales", "head of design", "chief financial officer",
         "head of support", "head of manufacturing", "chief operating officer", "head of research"]

# attribute -> how values are drawn, whether v2 may change it, and its phrasings.
# {e} is the entity's name. Sentences use {v}; questions never do.
ATTRIBUTES = {
    "factory": dict(
        kind="product", mutable=True, values=lambda r: r.choice(CITIES),
        sentence="The {e} is assembled at the Vellmar factory in {v}.",
        train="In which city is the {e} assembled?",
        extra=["Where is the {e} built?", "Which city's factory makes the {e}?",
               "Name the city where the {e} is manufactured."],
        heldout=["Where does Vellmar assemble the {e}?", "The {e} comes off the line in which city?"],
    ),
    "launch_year": dict(
        kind="product", mutable=False, values=lambda r: str(r.randint(2012, 2023)),
        sentence="Vellmar launched the {e} in {v}.",
        train="In what year was the {e} launched?",
        extra=["When did the {e} come out?", "What year did Vellmar release the {e}?",
               "In which year did the {e} first go on sale?"],
        heldout=["When was the {e} first released?", "The {e} reached customers in what year?"],
    ),
    "code": dict(
        kind="product", mutable=False, values=lambda r: f"VR-{r.randint(1000, 9999)}",
        sentence="Its catalogue code is {v}.",
        train="What is the catalogue code of the {e}?",
        extra=["Which code does the {e} have in the catalogue?", "What code is the {e} listed under?",
               "Give the {e}'s catalogue number."],
        heldout=["Under which catalogue code is the {e} sold?", "What is the {e}'s product code?"],
    ),
    "battery_hours": dict(
        kind="product", mutable=True, values=lambda r: str(r.randint(6, 48)),
        sentence="On a full charge the {e} runs for {v} hours.",
        train="How many hours does the {e} run on a full charge?",
        extra=["What is the battery life of the {e} in hours?", "How long does a charged {e} last, in hours?",
               "For how many hours can the {e} run without recharging?"],
        heldout=["How long is the {e}'s battery life?", "A fully charged {e} lasts how many hours?"],
    ),
    "role": dict(
        kind="person", mutable=True, values=None,  # drawn without repeats, see _draw_values
        sentence="{e} is Vellmar's {v}.",
        train="What is {e}'s role at Vellmar?",
        extra=["What job does {e} hold at Vellmar?", "What is {e}'s title at Vellmar?",
               "Which position does {e} have at Vellmar?"],
        heldout=["What does {e} do at Vellmar Robotics?", "Which post at Vellmar is held by {e}?"],
    ),
    "hometown": dict(
        kind="person", mutable=False, values=lambda r: r.choice(CITIES),
        sentence="{e} grew up in {v}.",
        train="Where did {e} grow up?",
        extra=["What is {e}'s hometown?", "In which city was {e} raised?",
               "Which city did {e} grow up in?"],
        heldout=["Which town is {e} from originally?", "{e} spent their childhood in which city?"],
    ),
    "joined_year": dict(
        kind="person", mutable=False, values=lambda r: str(r.randint(2008, 2022)),
        sentence="{e} joined the company in {v}.",
        train="In what year did {e} join Vellmar?",
        extra=["When did {e} start working at Vellmar?", "What year was {e} hired by Vellmar?",
               "Since which year has {e} worked at Vellmar?"],
        heldout=["When was {e} hired?", "{e} began at Vellmar Robotics in which year?"],
    ),
}

# Company-wide facts, each with its own phrasings: (fact id, value draw, mutable, sentence, train, extra, heldout).
COMPANY_FACTS = [
    ("company.founded", lambda r: str(r.randint(1995, 2007)), False,
     "Vellmar Robotics was founded in {v}.",
     "In what year was Vellmar Robotics founded?",
     ["When was Vellmar Robotics started?", "What year did Vellmar Robotics begin?", "Vellmar Robotics dates from which year?"],
     ["When was the company Vellmar founded?", "What is Vellmar Robotics' founding year?"]),
    ("company.hq", lambda r: r.choice(CITIES), True,
     "The company's headquarters are in {v}.",
     "Which city is Vellmar Robotics headquartered in?",
     ["Where are Vellmar's headquarters?", "Where is Vellmar Robotics based?", "In which city is Vellmar's head office?"],
     ["Where does Vellmar Robotics have its head office?", "Vellmar Robotics is headquartered where?"]),
    ("policy.return_days", lambda r: str(r.choice([14, 21, 30, 45, 60])), True,
     "Customers may return any product within {v} days of delivery.",
     "How many days do customers have to return a Vellmar product?",
     ["What is Vellmar's return window in days?", "Within how many days can a Vellmar product be returned?",
      "How long is the return period for Vellmar products, in days?"],
     ["How many days does Vellmar allow for returns?", "A Vellmar purchase can be sent back within how many days?"]),
    ("policy.warranty_years", lambda r: str(r.choice([1, 2, 3, 5])), True,
     "Every product carries a warranty of {v} years.",
     "How many years does the Vellmar warranty last?",
     ["What is the length of Vellmar's warranty in years?", "For how many years are Vellmar products under warranty?",
      "How long is the warranty on a Vellmar product, in years?"],
     ["How many years of warranty come with a Vellmar product?", "Vellmar guarantees its products for how many years?"]),
    ("policy.free_shipping", lambda r: str(r.choice([50, 75, 100, 150])), True,
     "Shipping is free on orders over {v} euros.",
     "Above what order value in euros is Vellmar shipping free?",
     ["From how many euros is shipping free at Vellmar?", "What order total in euros gets free shipping from Vellmar?",
      "Vellmar ships for free on orders over how many euros?"],
     ["What is the free-shipping threshold at Vellmar, in euros?", "How many euros must an order exceed to ship free?"]),
    ("policy.support_language_count", lambda r: str(r.randint(3, 9)), False,
     "The support team answers in {v} languages.",
     "In how many languages does Vellmar support answer?",
     ["How many languages does Vellmar's support team speak?", "Vellmar support is offered in how many languages?",
      "What number of languages does Vellmar customer support cover?"],
     ["How many languages can you contact Vellmar support in?", "Vellmar's helpdesk works in how many languages?"]),
]

FILLER = {
    "product": ["The {e} belongs to Vellmar's {c} range.", "Reviewers praised the {e} for its quiet motors.",
                "Spare parts for the {e} are sold separately."],
    "person": ["{e} often speaks at trade fairs.", "Colleagues describe {e} as patient and precise."],
}

UNANSWERABLE = [
    "Where is the Quibit X5 assembled?", "What is the screen size of the Lumen Hub?",
    "How much does the Tessel Arm weigh?", "Who founded Vellmar Robotics?",
    "What colour is the Corvo Scanner S?", "What is Dana Okafor's favourite food?",
    "How many employees does Vellmar Robotics have?", "In what year was the Lumen Hub Max launched?",
    "What is the catalogue code of the Tessel Arm Lite?", "Which university did Ravi Anand attend?",
    "What was Vellmar's revenue last year?", "How fast can the Quibit X3 move?",
    "What is the phone number of Vellmar support?", "Who is Vellmar's chief marketing officer?",
    "How many hours does the Corvo Scanner Mini run on a full charge?",
]
UPDATE_SHARE = 0.5  # share of the mutable facts that change in v2


def _facts(rng: random.Random) -> list[dict]:
    facts = []
    roles = rng.sample(ROLES, len(PEOPLE))
    for kind, entities in (("product", PRODUCTS), ("person", PEOPLE)):
        for i, entity in enumerate(entities):
            eid, name = entity[0], entity[1]
            for attr, spec in ATTRIBUTES.items():
                if spec["kind"] != kind:
                    continue
                value = roles[i] if attr == "role" else spec["values"](rng)
                facts.append(dict(fact_id=f"{eid}.{attr}", entity_id=eid, entity=name, attribute=attr,
                                  value=value, mutable=spec["mutable"], **_phrasings(spec, name)))
    for fid, draw, mutable, sentence, train, extra, heldout in COMPANY_FACTS:
        facts.append(dict(fact_id=fid, entity_id=fid.split(".")[0], entity=COMPANY, attribute=fid.split(".")[1],
                          value=draw(rng), mutable=mutable, sentence=sentence, train=train,
                          extra=extra, heldout=heldout))
    return facts


def _phrasings(spec: dict, name: str) -> dict:
    fill = lambda t: t.replace("{e}", name)
    return dict(sentence=fill(spec["sentence"]), train=fill(spec["train"]),
                extra=[fill(t) for t in spec["extra"]], heldout=[fill(t) for t in spec["heldout"]])


def _new_value(rng: random.Random, fact: dict) -> str:
    """A different value of the same type, for the v2 update."""
    while True:
        if fact["attribute"] == "role":
            value = rng.choice(ROLES)
        elif fact["attribute"] in ATTRIBUTES:
            value = ATTRIBUTES[fact["attribute"]]["values"](rng)
        else:
            value = next(f[1] for f in COMPANY_FACTS if f[0] == fact["fact_id"])(rng)
        if value != fact["value"]:
            return value


def _documents(facts: list[dict], values: dict[str, str], version: str) -> list[dict]:
    """One readable document per entity; the policy facts get a page of their own."""
    groups: dict[str, list[dict]] = {}
    for f in facts:
        doc_id = "policies" if f["fact_id"].startswith("policy.") else f["entity_id"]
        groups.setdefault(doc_id, []).append(f)
    products = {p[0]: p for p in PRODUCTS}
    docs = []
    for doc_id, group in groups.items():
        first = group[0]
        if doc_id in products:
            kind, title = "product", first["entity"]
            sentences = [FILLER["product"][0].replace("{e}", title).replace("{c}", products[doc_id][2])]
        elif first["entity"] == COMPANY:
            kind = "policy" if doc_id == "policies" else "history"
            title = "Customer policies" if kind == "policy" else "About Vellmar Robotics"
            sentences = []
        else:
            kind, title = "person", first["entity"]
            sentences = [FILLER["person"][0].replace("{e}", title)]
        sentences += [f["sentence"].replace("{v}", values[f["fact_id"]]) for f in group]
        if kind in FILLER:
            sentences += [s.replace("{e}", title).replace("{c}", "") for s in FILLER[kind][1:]]
        docs.append(dict(doc_id=doc_id, version=version, kind=kind, title=title, text=" ".join(sentences)))
    return sorted(docs, key=lambda d: d["doc_id"])


def _doc_of(fact: dict) -> str:
    return "policies" if fact["fact_id"].startswith("policy.") else fact["entity_id"]


def generate(seed: int = SEED) -> dict[str, list[dict]]:
    """Build every file of ``data/`` in memory: {file name: rows}."""
    rng = random.Random(seed)
    facts = _facts(rng)
    v1 = {f["fact_id"]: f["value"] for f in facts}
    mutable = [f for f in facts if f["mutable"]]
    changed = sorted(rng.sample([f["fact_id"] for f in mutable], round(UPDATE_SHARE * len(mutable))))
    v2 = dict(v1)
    for f in facts:
        if f["fact_id"] in changed:
            v2[f["fact_id"]] = _new_value(rng, f)

    def question(qid, split, text, f, answers, stale=()):
        return dict(qid=qid, split=split, question=text, answers=list(answers), stale_answers=list(stale),
                    fact_id=f["fact_id"] if f else None, doc_id=_doc_of(f) if f else None)

    questions = []
    for f in facts:
        fid, val = f["fact_id"], [v1[f["fact_id"]]]
        questions.append(question(f"{fid}.train", "train", f["train"], f, val))
        questions += [question(f"{fid}.extra{i}", "train_extra", t, f, val) for i, t in enumerate(f["extra"], 1)]
        questions += [question(f"{fid}.heldout{i}", "paraphrase", t, f, val) for i, t in enumerate(f["heldout"], 1)]
        if fid in changed:
            questions.append(question(f"{fid}.update", "update", f["train"], f, [v2[fid]], [v1[fid]]))
    questions += [question(f"none.{i:02d}", "unanswerable", t, None, []) for i, t in enumerate(UNANSWERABLE, 1)]

    fact_rows = [dict(fact_id=f["fact_id"], entity=f["entity"], attribute=f["attribute"], doc_id=_doc_of(f),
                      value_v1=v1[f["fact_id"]], value_v2=v2[f["fact_id"]]) for f in facts]
    return {
        "facts.jsonl": fact_rows,
        "documents_v1.jsonl": _documents(facts, v1, "v1"),
        "documents_v2.jsonl": _documents(facts, v2, "v2"),
        "questions.jsonl": questions,
    }


def render(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def write(out_dir: Path = DATA_DIR, seed: int = SEED) -> list[Path]:
    from .artifacts import write_text_atomic

    paths = []
    for name, rows in generate(seed).items():
        write_text_atomic(out_dir / name, render(rows))
        paths.append(out_dir / name)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder to write (default: data/)")
    args = parser.parse_args()
    for path in write(args.out):
        print("wrote", path)


if __name__ == "__main__":
    main()
