"""Checks for the exercises of 00_welcome.ipynb."""
from __future__ import annotations

from ..data import load_documents, load_questions
from . import Verdict, exercise_check, verdict


@exercise_check
def check_paraphrase_count(answer) -> Verdict:
    """Exercise 1: how many held-out paraphrase questions does the course have?"""
    expected = len(load_questions("paraphrase"))
    return verdict(answer == expected, f"{expected} paraphrases, four for every fact.",
                   "filter load_questions() by q.split == 'paraphrase' and count them.")


@exercise_check
def check_changed_documents(answer) -> Verdict:
    """Exercise 2: which doc_ids have a different text in v2 than in v1?"""
    v1 = {d.doc_id: d.text for d in load_documents("v1")}
    expected = {d.doc_id for d in load_documents("v2") if d.text != v1[d.doc_id]}
    try:
        got = set(answer)
    except TypeError:
        got = None
    return verdict(got == expected, f"{len(expected)} of {len(v1)} documents changed in the update.",
                   "build {doc_id: text} for v1, then keep the v2 documents whose text differs.")
