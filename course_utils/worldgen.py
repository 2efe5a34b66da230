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
import re
from pathlib import Path

from .artifacts import write_text_atomic
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
# ``values`` is a list (a value is drawn from it, and every entry is a possible
# answer) or a function of the rng (numbers and codes). {e} is the entity's
# name. Sentences use {v}; questions never do. Phrasings of one attribute all
# differ, and each names what it asks ("assembled", "launched", "joined") so
# that a year or a city question cannot be read as another attribute's.
ATTRIBUTES = {
    "factory": dict(
        kind="product", mutable=True, values=CITIES,
        sentence="The {e} is assembled at the Vellmar factory in {v}.",
        train="In which city is the {e} assembled?",
        extra=["Where is the {e} built?", "Which city's factory makes the {e}?",
               "Name the city where the {e} is manufactured."],
        dev=["Which city is home to the factory that assembles the {e}?", "Where is the {e} put together?"],
        heldout=["Where does Vellmar assemble the {e}?", "The {e} comes off the line in which city?",
                 "Where is the {e} made?", "In what city does the {e} get assembled?"],
    ),
    "launch_year": dict(
        kind="product", mutable=False, values=lambda r: str(r.randint(2012, 2023)),
        sentence="Vellmar launched the {e} in {v}.",
        train="In what year was the {e} launched?",
        extra=["When did the {e} come out?", "What year did Vellmar release the {e}?",
               "In which year did the {e} first go on sale?"],
        dev=["What was the launch year of the {e}?", "When did the {e} hit the market?"],
        heldout=["When was the {e} first released?", "The {e} reached customers in what year?",
                 "Which year saw the launch of the {e}?", "In what year did the {e} become available to buy?"],
    ),
    "code": dict(
        kind="product", mutable=False, values=lambda r: f"VR-{r.randint(1000, 9999)}",
        sentence="Its catalogue code is {v}.",
        train="What is the catalogue code of the {e}?",
        extra=["Which code does the {e} have in the catalogue?", "What code is the {e} listed under?",
               "Give the {e}'s catalogue number."],
        dev=["What catalogue code does Vellmar use for the {e}?", "Which catalogue code belongs to the {e}?"],
        heldout=["Under which catalogue code is the {e} sold?", "What is the {e}'s product code?",
                 "What code identifies the {e} in the Vellmar catalogue?",
                 "Which catalogue code should I quote to order the {e}?"],
    ),
    "battery_hours": dict(
        kind="product", mutable=True, values=lambda r: str(r.randint(6, 48)),
        sentence="On a full charge the {e} runs for {v} hours.",
        train="How many hours does the {e} run on a full charge?",
        extra=["What is the battery life of the {e} in hours?", "How long does a charged {e} last, in hours?",
               "For how many hours can the {e} run without recharging?"],
        dev=["How many hours of runtime does the {e} get per charge?",
             "How long, in hours, can the {e} operate on one charge?"],
        heldout=["How long is the {e}'s battery life?", "A fully charged {e} lasts how many hours?",
                 "What is the {e}'s runtime on a full battery, in hours?",
                 "After a full charge, for how many hours will the {e} keep running?"],
    ),
    "role": dict(
        kind="person", mutable=True, values=ROLES,  # v1 roles are drawn without repeats, see _facts
        sentence="{e} is Vellmar's {v}.",
        train="What is {e}'s role at Vellmar?",
        extra=["What job does {e} hold at Vellmar?", "What is {e}'s title at Vellmar?",
               "Which position does {e} have at Vellmar?"],
        dev=["Which role does {e} fill at Vellmar?", "In what capacity does {e} work for Vellmar?"],
        heldout=["What does {e} do at Vellmar Robotics?", "Which post at Vellmar is held by {e}?",
                 "Which senior role at Vellmar belongs to {e}?", "At Vellmar Robotics, what is {e}'s position?"],
    ),
    "hometown": dict(
        kind="person", mutable=False, values=CITIES,
        sentence="{e} grew up in {v}.",
        train="Where did {e} grow up?",
        extra=["What is {e}'s hometown?", "In which city was {e} raised?",
               "Which city did {e} grow up in?"],
        dev=["Where was {e} brought up?", "Which city did {e} call home as a child?"],
        heldout=["Which town is {e} from originally?", "{e} spent their childhood in which city?",
                 "Where did {e} live as a child?", "Which city does {e} come from?"],
    ),
    "joined_year": dict(
        kind="person", mutable=False, values=lambda r: str(r.randint(2008, 2022)),
        sentence="{e} joined the company in {v}.",
        train="In what year did {e} join Vellmar?",
        extra=["When did {e} start working at Vellmar?", "What year was {e} hired by Vellmar?",
               "Since which year has {e} worked at Vellmar?"],
        dev=["In which year did {e} become a Vellmar employee?", "When did {e} come on board at Vellmar?"],
        heldout=["When was {e} hired?", "{e} began at Vellmar Robotics in which year?",
                 "What was {e}'s first year at Vellmar?", "Which year did {e} start at Vellmar Robotics?"],
    ),
}

# Company-wide facts: fact id -> the same fields as an attribute, with the
# phrasings already naming the company.
COMPANY_FACTS = {
    "company.founded": dict(
        mutable=False, values=lambda r: str(r.randint(1995, 2007)),
        sentence="Vellmar Robotics was founded in {v}.",
        train="In what year was Vellmar Robotics founded?",
        extra=["When was Vellmar Robotics started?", "What year did Vellmar Robotics begin?",
               "Vellmar Robotics dates from which year?"],
        dev=["In which year was Vellmar Robotics established?", "When did Vellmar Robotics come into being?"],
        heldout=["When was the company Vellmar founded?", "What is Vellmar Robotics' founding year?",
                 "What year was Vellmar Robotics set up?", "Since which year has Vellmar Robotics existed?"],
    ),
    "company.hq": dict(
        mutable=True, values=CITIES,
        sentence="The company's headquarters are in {v}.",
        train="Which city is Vellmar Robotics headquartered in?",
        extra=["Where are Vellmar's headquarters?", "Where is Vellmar Robotics based?",
               "In which city is Vellmar's head office?"],
        dev=["Where is Vellmar Robotics' main office located?", "Which city is home to Vellmar's headquarters?"],
        heldout=["Where does Vellmar Robotics have its head office?", "Vellmar Robotics is headquartered where?",
                 "Which city hosts the headquarters of Vellmar Robotics?", "From which city is Vellmar Robotics run?"],
    ),
    "policy.return_days": dict(
        mutable=True, values=lambda r: str(r.choice([14, 21, 30, 45, 60])),
        sentence="Customers may return any product within {v} days of delivery.",
        train="How many days do customers have to return a Vellmar product?",
        extra=["What is Vellmar's return window in days?", "Within how many days can a Vellmar product be returned?",
               "How long is the return period for Vellmar products, in days?"],
        dev=["How long do buyers have to return a Vellmar product, in days?",
             "How many days after delivery can a Vellmar product still be returned?"],
        heldout=["How many days does Vellmar allow for returns?",
                 "A Vellmar purchase can be sent back within how many days?",
                 "What is the return deadline for Vellmar products, in days?",
                 "If I want to return a Vellmar product, how many days do I have?"],
    ),
    "policy.warranty_years": dict(
        mutable=True, values=lambda r: str(r.choice([1, 2, 3, 5])),
        sentence="Every product carries a warranty of {v} years.",
        train="How many years does the Vellmar warranty last?",
        extra=["What is the length of Vellmar's warranty in years?",
               "For how many years are Vellmar products under warranty?",
               "How long is the warranty on a Vellmar product, in years?"],
        dev=["What warranty period, in years, applies to Vellmar products?",
             "How many years of cover does the Vellmar warranty give?"],
        heldout=["How many years of warranty come with a Vellmar product?",
                 "Vellmar guarantees its products for how many years?",
                 "If my Vellmar product breaks, for how many years does the warranty cover it?",
                 "What is the duration of the Vellmar warranty in years?"],
    ),
    "policy.free_shipping": dict(
        mutable=True, values=lambda r: str(r.choice([50, 75, 100, 150])),
        sentence="Shipping is free on orders over {v} euros.",
        train="Above what order value in euros is Vellmar shipping free?",
        extra=["From how many euros is shipping free at Vellmar?",
               "What order total in euros gets free shipping from Vellmar?",
               "Vellmar ships for free on orders over how many euros?"],
        dev=["What is the minimum order value in euros for free shipping at Vellmar?",
             "How large must a Vellmar order be, in euros, to ship for free?"],
        heldout=["What is the free-shipping threshold at Vellmar, in euros?",
                 "How many euros must an order exceed to ship free?",
                 "Vellmar waives shipping costs on orders above how many euros?",
                 "How much do I need to spend at Vellmar, in euros, to get free delivery?"],
    ),
    "policy.support_language_count": dict(
        mutable=False, values=lambda r: str(r.randint(3, 9)),
        sentence="The support team answers in {v} languages.",
        train="In how many languages does Vellmar support answer?",
        extra=["How many languages does Vellmar's support team speak?",
               "Vellmar support is offered in how many languages?",
               "What number of languages does Vellmar customer support cover?"],
        dev=["How many languages is Vellmar customer support available in?",
             "In how many different languages can Vellmar's support staff help you?"],
        heldout=["How many languages can you contact Vellmar support in?",
                 "Vellmar's helpdesk works in how many languages?",
                 "What is the number of languages Vellmar support answers in?",
                 "Vellmar customer service responds in how many languages?"],
    ),
}

FILLER = {
    "product": ["The {e} belongs to Vellmar's {c} range.", "Reviewers praised the {e} for its quiet motors.",
                "Spare parts for the {e} are sold separately."],
    "person": ["{e} often speaks at trade fairs.", "Colleagues describe {e} as patient and precise."],
}

# Hand-written unanswerable questions: the first 15 of the test split, none.01 to none.15.
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

# Generated unanswerable questions, as (question, probes). A probe is a word or
# a name that no document may contain: if the documents ever start to state a
# price or name a "Quibit X4", generation fails instead of shipping an
# unanswerable question that has an answer. Gaps are things the world does not
# record; the filler sentences ("quiet motors", "speaks at trade fairs") and
# the company-wide policies (warranty, returns, shipping, support) are avoided
# because the documents do answer them.
# Product gap i is asked about PRODUCTS[i % 8] and person gap i about
# PEOPLE[i % 6]; the order is chosen so that no pair repeats a hand-written question.
PRODUCT_GAPS = [
    ("How much does the {e} cost in euros?", ("cost", "costs", "price", "priced")),
    ("How much does the {e} weigh?", ("weigh", "weighs", "weight", "kg")),
    ("Which colours does the {e} come in?", ("colour", "colours", "color")),
    ("Which operating system is installed on the {e}?", ("operating system", "software")),
    ("How big is the screen of the {e}?", ("screen", "display", "inches")),
    ("Who designed the {e}?", ("designed", "designer")),
    ("How tall is the {e}?", ("tall", "height", "cm")),
    ("What is the maximum load the {e} can lift?", ("load", "payload", "lift")),
    ("What is the top speed of the {e}?", ("speed", "fast")),
    ("How many units of the {e} has Vellmar sold so far?", ("units",)),
    ("What material is the casing of the {e} made of?", ("casing", "material")),
    ("Which company supplies the processor in the {e}?", ("processor", "chip", "supplies", "supplier")),
]
PERSON_GAPS = [
    ("Which university did {e} attend?", ("university", "studied", "degree")),
    ("How many children does {e} have?", ("children", "child", "kids")),
    ("What is the name of {e}'s pet?", ("pet", "dog", "cat")),
    ("How old is {e}?", ("age", "aged", "born", "years old")),
    ("What is {e}'s favourite food?", ("favourite", "food")),
    ("What is {e}'s email address?", ("email", "e-mail")),
    ("Which company did {e} work for before Vellmar?", ("before", "previously", "formerly")),
    ("What is {e}'s annual salary?", ("salary", "earns")),
    ("When is {e}'s birthday?", ("birthday", "born")),
]
COMPANY_GAPS = [
    ("Who is the chief executive officer of Vellmar Robotics?", ("chief executive", "CEO")),
    ("What is the address of Vellmar Robotics' website?", ("website", "www")),
    ("On which stock exchange is Vellmar Robotics listed?", ("stock", "exchange", "shares")),
    ("In how many countries does Vellmar sell its products?", ("countries",)),
    ("What are the opening hours of Vellmar customer support?", ("opening", "open")),
    ("Who owns Vellmar Robotics?", ("owns", "owned", "owner")),
]
# Names of no entity, near-duplicates of real ones so that retrieval finds a
# similar document. Each is asked the training phrasing of an attribute of its
# kind, the very wording a fine-tuned model learned to answer.
FAKE_PRODUCTS = ["Quibit X4", "Quibit X3 Pro", "Lumen Hub Pro", "Corvo Scanner Pro", "Tessel Arm Mini", "Quibit Mini"]
FAKE_PEOPLE = ["Dana Okonkwo", "Ilse Martin", "Ravi Anandan", "Tomas Reyna"]
N_UNANSWERABLE, N_DEV_UNANSWERABLE = 40, 12
UPDATE_SHARE = 0.5  # share of the mutable facts that change in v2


def _draw(spec: dict, rng: random.Random) -> str:
    values = spec["values"]
    return rng.choice(values) if isinstance(values, list) else values(rng)


def _spec(fact: dict) -> dict:
    return COMPANY_FACTS.get(fact["fact_id"]) or ATTRIBUTES[fact["attribute"]]


def _facts(rng: random.Random) -> list[dict]:
    facts = []
    roles = rng.sample(ROLES, len(PEOPLE))
    for kind, entities in (("product", PRODUCTS), ("person", PEOPLE)):
        for i, entity in enumerate(entities):
            eid, name = entity[0], entity[1]
            for attr, spec in ATTRIBUTES.items():
                if spec["kind"] != kind:
                    continue
                value = roles[i] if attr == "role" else _draw(spec, rng)
                facts.append(dict(fact_id=f"{eid}.{attr}", entity_id=eid, entity=name, attribute=attr,
                                  value=value, mutable=spec["mutable"], **_phrasings(spec, name)))
    for fid, spec in COMPANY_FACTS.items():
        entity_id, attr = fid.split(".")
        facts.append(dict(fact_id=fid, entity_id=entity_id, entity=COMPANY, attribute=attr,
                          value=_draw(spec, rng), mutable=spec["mutable"], **_phrasings(spec, COMPANY)))
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


def _generated_unanswerable() -> tuple[list[tuple[str, tuple[str, ...]]], list[tuple[str, tuple[str, ...]]]]:
    """(test, dev) lists of (question, probes), in a fixed order.

    Every third question of each group goes to dev, so both splits mix gaps
    about products, people and the company with names that do not exist.
    """
    product_attrs = [a for a, s in ATTRIBUTES.items() if s["kind"] == "product"]
    person_attrs = [a for a, s in ATTRIBUTES.items() if s["kind"] == "person"]
    groups = [
        [(t.replace("{e}", PRODUCTS[i % len(PRODUCTS)][1]), probes) for i, (t, probes) in enumerate(PRODUCT_GAPS)],
        [(t.replace("{e}", PEOPLE[i % len(PEOPLE)][1]), probes) for i, (t, probes) in enumerate(PERSON_GAPS)],
        COMPANY_GAPS,
        [(ATTRIBUTES[product_attrs[i % len(product_attrs)]]["train"].replace("{e}", name), (name,))
         for i, name in enumerate(FAKE_PRODUCTS)],
        [(ATTRIBUTES[person_attrs[i % len(person_attrs)]]["train"].replace("{e}", name), (name,))
         for i, name in enumerate(FAKE_PEOPLE)],
    ]
    test = [q for group in groups for i, q in enumerate(group) if i % 3 != 2]
    dev = [q for group in groups for i, q in enumerate(group) if i % 3 == 2]
    return test, dev


def _mentions(text: str, word: str) -> bool:
    """``word`` appears in ``text`` as a whole word or phrase, ignoring case ("age" is not in "range")."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None


def _check_unanswerable(items: list[tuple[str, tuple[str, ...]]], docs: list[dict], values: list[str]) -> None:
    """Fail if a document may answer an unanswerable question, or if the question names a value.

    A value in the question would be excluded from grading as a word of the
    question, and would hint at an answer.
    """
    for text, probes in items:
        for probe in probes:
            doc = next((d for d in docs if _mentions(d["title"] + " " + d["text"], probe)), None)
            if doc:
                raise ValueError(f"Unanswerable question {text!r}: document '{doc['doc_id']}' ({doc['version']}) "
                                 f"mentions '{probe}', so it may answer it. Fix: ask about something else.")
        value = next((v for v in values if _mentions(text, v)), None)
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
    changed = sorted(rng.sample([f["fact_id"] for f in mutable], round(UPDATE_SHARE * len(mutable))))
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
    _check_unanswerable([(t, ()) for t in UNANSWERABLE] + test + dev, docs["v1"] + docs["v2"], every_value)
    test = UNANSWERABLE + [t for t, _ in test]
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


# --------------------------------------------------------------------------- distractors
# The scale-up of notebook 07: documents about *other* companies, in the same
# style and with near-duplicate names ("Quibo X2" next to "Quibit X2"), so that
# a large index holds many plausible wrong chunks. Every distractor sentence
# names its own company or its own entity, never a course entity, so a test
# question stays answerable only from the course's documents.
OTHER_COMPANIES = ["Harrow Mechanics", "Ostrand Devices", "Brisk Automata", "Kelvane Systems", "Marlow Dynamics",
                   "Pellin Works", "Sorrel Machines", "Dunmore Labs", "Akerly Robotics", "Veldt Instruments",
                   "Carrow Electric", "Nimby Motion"]
PRODUCT_STEMS = ["Quibo", "Quobit", "Kibit", "Lumena", "Lumex", "Lumin", "Corva", "Korvo", "Corvex",
                 "Tessal", "Tesselo", "Tassel"]
PRODUCT_SUFFIXES = ["X1", "X2", "X3", "X5", "S", "Mini", "Max", "Pro", "Neo", "Air", "Plus", "One"]
CATEGORIES = ["home robot", "smart-home controller", "3D scanner", "robotic arm", "lawn robot", "window cleaner"]
FIRST_NAMES = ["Dana", "Dara", "Ilse", "Ilsa", "Ravi", "Ravin", "Tomas", "Tamas", "Mira", "Jonas", "Anke", "Sora"]
SURNAMES = ["Okafo", "Okoye", "Okorie", "Martensen", "Martell", "Anandi", "Reyna", "Reyez", "Holm", "Varga"]
DISTRACTOR_KINDS = ["product"] * 6 + ["person"] * 3 + ["company"]  # drawn per document


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _course_names() -> set[str]:
    """Every name a course question is about, or that an unanswerable question invents."""
    return {name for _, name, *_ in PRODUCTS + PEOPLE} | set(FAKE_PRODUCTS) | set(FAKE_PEOPLE) | {COMPANY}


def _distractor_name(rng: random.Random, kind: str) -> str:
    taken = _course_names()
    while True:  # a near-duplicate, never an exact course name (rarely more than one draw)
        if kind == "product":
            name = f"{rng.choice(PRODUCT_STEMS)} {rng.choice(PRODUCT_SUFFIXES)}"
        else:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        if not any(_mentions(name, course_name) for course_name in taken):
            return name


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def _distractor_sentences(rng: random.Random, kind: str, company: str, name: str) -> list[str]:
    city, year = rng.choice(CITIES), rng.randint(1990, 2024)
    if kind == "product":
        prefix = "".join(w[0] for w in company.split()).upper()  # HM-1234: never Vellmar's VR- codes
        return [f"The {name} is a {rng.choice(CATEGORIES)} made by {company}.",
                f"The {name} is assembled at the {company} factory in {city}.",
                f"{company} launched the {name} in {year}.",
                f"The {name} has the {company} catalogue code {prefix}-{rng.randint(1000, 9999)}.",
                f"On a full charge the {name} runs for {rng.randint(4, 60)} hours."]
    if kind == "person":
        return [f"{name} is {_possessive(company)} {rng.choice(ROLES)}.", f"{name} grew up in {city}.",
                f"{name} joined {company} in {year}.", f"Colleagues at {company} describe {name} as calm."]
    return [f"{company} was founded in {year}.", f"The headquarters of {company} are in {city}.",
            f"{company} customers may return a product within {rng.choice([7, 10, 28, 90])} days.",
            f"{company} gives a warranty of {rng.choice([4, 6, 10])} years on its products.",
            f"{company} ships for free on orders over {rng.choice([20, 40, 250])} euros.",
            f"The {company} support team answers in {rng.randint(10, 14)} languages."]


def distractor_document(i: int, seed: int = SEED) -> dict:
    """Distractor number ``i``: drawn from its own seeded generator, so the first n are the same for any total."""
    rng = random.Random(f"{seed}-distractor-{i}")
    kind, company = rng.choice(DISTRACTOR_KINDS), rng.choice(OTHER_COMPANIES)
    title = company if kind == "company" else _distractor_name(rng, kind)
    text = " ".join(_distractor_sentences(rng, kind, company, title))
    return dict(doc_id=f"ext-{i:06d}-{_slug(title)}", version="v1", kind=f"other-{kind}", title=title, text=text)


def distractor_documents(n: int, seed: int = SEED, start: int = 0) -> list[dict]:
    """Distractors ``start`` .. ``start + n - 1``, as rows like those of ``documents_v1.jsonl``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a whole number >= 0, got {n!r}. Fix: pass how many distractors you want.")
    return [distractor_document(i, seed) for i in range(start, start + n)]


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
