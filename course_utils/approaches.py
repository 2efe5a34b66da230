"""The five approaches the course compares and the settings that decide their answers.

- **closed-book**: the base model, the question alone;
- **RAG**: the base model with retrieved, numbered sources (``course_utils.rag``);
- **fine-tune**: the LoRA adapter trained on the v1 facts, the question alone;
- **fine-tune + RAG**: that adapter, with retrieved sources;
- **RAFT**: an adapter trained on questions with retrieved sources and distractors.

Taught in 05 §1 and 06 §0; ``course_utils.workbench`` answers with them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .sources import INSTRUCTIONS

DEFAULT_PROMPT = "few words"  # the instruction RAFT is trained with, and the starting point of the prompt choice

TEST_SPLIT = "paraphrase"  # held-out phrasings, never trained or tuned on: what verdicts rest on


@dataclass(frozen=True)
class Approach:
    name: str
    adapter: str | None  # key of the adapter it runs with (see prepare_adapters); None = the base model
    retrieval: bool  # are retrieved sources put into the prompt?
    trained_prompt: bool = False  # was it trained on the prompt itself? Then it keeps that prompt, never a tuned one


APPROACHES = (
    Approach("closed-book", None, False),
    Approach("RAG", None, True),
    Approach("fine-tune", "fine-tune", False),
    Approach("fine-tune + RAG", "fine-tune", True),
    Approach("RAFT", "RAFT", True, trained_prompt=True),
)


BY_NAME = {a.name: a for a in APPROACHES}


def get_approach(name) -> Approach:
    if isinstance(name, Approach):
        return name
    if name not in BY_NAME:
        raise ValueError(f"Unknown approach {name!r}. Fix: use one of {list(BY_NAME)}.")
    return BY_NAME[name]


@dataclass(frozen=True)
class EvalSettings:
    """What decides the answers (all of it goes into the cache fingerprint) and how fast they come.

    The defaults are the untuned starting point; ``course_utils.tuning`` picks each retrieving approach's k, and
    RAG's prompt, on the dev split (notebooks 03 and 05), and the comparison runs with those.
    """
    n: int | None = None  # questions per split: None = the whole split, as every headline figure needs
    retriever: str = "hybrid"
    top_k: int = 3  # chunks in the prompt: RAG's, and any retrieving approach's without its own below
    own_top_k: tuple[tuple[str, int], ...] = ()  # (approach, k) chosen for that approach on the dev split
    prompt: str = DEFAULT_PROMPT  # which of sources.INSTRUCTIONS a retrieving approach reads (chosen on dev for RAG)
    # Caps no answer reaches: answers stop at their first line break, or once they repeat themselves
    # (stopping.StopLoops), so a high cap costs nothing. Any answer a cap does cut is reported ("cut off").
    closed_max_new_tokens: int = 128
    rag_max_new_tokens: int = 128
    latency_queries: int = 12  # questions timed one at a time, per approach, for p50/p95

    def generation(self) -> dict:
        """The settings that change every approach's answers; k goes in per approach (``k_for``)."""
        return {k: v for k, v in asdict(self).items() if k not in ("latency_queries", "top_k", "own_top_k", "prompt")}

    def k_for(self, approach: str) -> int:
        """Chunks in the prompt of ``approach``: its own k if one was chosen for it, else ``top_k``."""
        return dict(self.own_top_k).get(approach, self.top_k)

    def instruction_for(self, approach) -> str:
        """The answer request in ``approach``'s prompt: the chosen one, unless it was trained on its own (RAFT)."""
        if self.prompt not in INSTRUCTIONS:
            raise ValueError(f"Unknown prompt {self.prompt!r}. Fix: use one of {list(INSTRUCTIONS)}.")
        return INSTRUCTIONS[DEFAULT_PROMPT if get_approach(approach).trained_prompt else self.prompt]

    def with_k(self, approach: str, k: int) -> "EvalSettings":
        """These settings with ``approach`` reading ``k`` chunks (RAG's k is ``top_k`` itself)."""
        if approach == "RAG":
            return replace(self, top_k=k)
        return replace(self, own_top_k=tuple(sorted({**dict(self.own_top_k), approach: k}.items())))


DEFAULT_SETTINGS = EvalSettings()


def index_version(split: str) -> str:
    """Which documents retrieval reads for a split: v2 for the facts that changed, v1 otherwise."""
    return "v2" if split == "update" else "v1"
