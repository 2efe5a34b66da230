"""The fictional world of the course: Vellmar Robotics, its products and people, and every phrasing of every question.

``course_utils.worldgen`` turns it into the files in ``data/`` (see there for
the splits); nothing here draws a value. Every list and phrasing is written
out, so that a learner can read what the questions will ask.
"""
from __future__ import annotations

import re

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


UPDATE_SHARE = 0.5  # share of the mutable facts that change in v2


def mentions(text: str, word: str) -> bool:
    """``word`` appears in ``text`` as a whole word or phrase, ignoring case ("age" is not in "range")."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None
