"""Distractor documents for the scale-up of notebook 07 (taught in 07 §1).

Documents about *other* companies, in the same style and with near-duplicate
names ("Quibo X2" next to "Quibit X2"), so that a large index holds many
plausible wrong chunks. Every distractor sentence names its own company or its
own entity, never a course entity, so a test question stays answerable only
from the course's documents.
"""
from __future__ import annotations

import random
import re

from .config import SEED, whole_number
from .world import CITIES, COMPANY, FAKE_PEOPLE, FAKE_PRODUCTS, PEOPLE, PRODUCTS, ROLES, mentions

DISTRACTOR_PREFIX = "ext-"  # every distractor's doc_id starts with it; no course document's does

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
        if not any(mentions(name, course_name) for course_name in taken):
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
    return dict(doc_id=f"{DISTRACTOR_PREFIX}{i:06d}-{_slug(title)}", version="v1", kind=f"other-{kind}", title=title, text=text)


def distractor_documents(n: int, seed: int = SEED, start: int = 0) -> list[dict]:
    """Distractors ``start`` .. ``start + n - 1``, as rows like those of ``documents_v1.jsonl`` (taught in 07 §1)."""
    if not whole_number(n) or n < 0:
        raise ValueError(f"n must be a whole number >= 0, got {n!r}. Fix: pass how many distractors you want.")
    return [distractor_document(i, seed) for i in range(start, start + n)]
