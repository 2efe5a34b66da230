"""Hybrids of RAG and fine-tuning: RAG over a fine-tuned model, and RAFT-style training.

Two ways to combine the two approaches (notebook 05):

* **Fine-tune + RAG.** Take the closed-book fine-tune of notebook 04 and put
  it behind the RAG loop of notebook 03: same index, same prompt, only the
  reader changes. Ovadia et al. (2024) found this did not beat RAG alone.
* **RAFT** (Zhang et al., 2024, "RAFT: Adapting Language Model to Domain
  Specific RAG"). Train the reader on the RAG prompt itself: every example
  holds a question, the chunk that answers it (the *oracle*) and *distractor*
  chunks, and its answer cites the oracle. In a share ``1 - P`` of the
  examples the oracle is left out, so the model must also remember the fact.
  At test time a RAFT model is plain RAG with the RAFT adapter::

      from course_utils.hybrid import hybrid_pipeline, raft_adapter

      run = raft_adapter(model, tokenizer)              # cached, or trained now
      raft = hybrid_pipeline(build_rag(model, tokenizer, docs), run)
      raft.ask("Where is the Quibit X2 assembled?")

Training examples use exactly ``course_utils.sources.build_rag_prompt``, so what
the model learns is what it reads at test time.
"""
from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import dataclass, replace
from numbers import Real

from .adapters import AdapterRun, adapter_on, get_or_train_adapter
from .config import SEED, whole_number
from .data import load_documents, load_questions
from .evaluation import RIGHT, contains_answer, grade_question
from .generation import generate_batch
from .lora import adapter_folder, load_adapter
from .models import load_generator
from .rag import RagPipeline
from .sources import build_rag_prompt, make_answer
from .retrieval import Hit, bm25_scores, chunk_documents, tokenize
from .training import TrainConfig

DEFAULT_P_ORACLE = 0.8  # Zhang et al. found the best P between 40% and 100%, depending on the dataset
DEFAULT_N_DISTRACTORS = 2  # oracle + 2 distractors = 3 sources, the top_k of the course's RAG
HARD_POOL = 6  # distractors are drawn from the chunks that look most like the question
# One pass over the examples. A RAFT prompt is ~5x longer than a closed-book one, so one pass over the 56 training
# questions costs as much as several closed-book epochs: 05's "I don't know" experiment continues from the RAFT
# adapter for one pass.
RAFT_ONE_EPOCH = TrainConfig(r=8, alpha=16, lr=3e-3, epochs=1, batch_size=4)
# The RAFT adapter itself is a fine-tune, held to the same rule: it trains until it answers 90% of its own examples
# right, citation included (the answer is checked every epoch once the cheap gate lets it through).
RAFT_TRAIN = replace(RAFT_ONE_EPOCH, epochs=10, until_accuracy=0.9, check_every=1, check_within=0.3)


# ------------------------------------------------------------------------------- the pieces of an example

def knowledge_chunks(documents) -> list[Hit]:
    """Every chunk of ``documents``, cut as the RAG index cuts them, as ``Hit`` s (rank and score 0)."""
    return [Hit(0, n.metadata["doc_id"], n.metadata["title"], n.get_content(), 0.0, n.node_id)
            for n in chunk_documents(documents)]


def oracle_chunk(question, chunks) -> Hit:
    """The chunk of the question's gold document that states its answer (taught in 05 §2)."""
    if not question.answers:
        raise ValueError(f"Question {question.qid!r} has no answer, so it has no oracle chunk. "
                         "Fix: train RAFT on answerable questions only, e.g. load_questions('train').")
    for chunk in chunks:
        if chunk.doc_id == question.doc_id and contains_answer(chunk.text, question.answers):
            return chunk
    raise ValueError(f"No chunk of document {question.doc_id!r} contains the answer of {question.qid!r} "
                     f"({question.answers[0]!r}). Fix: pass the documents the questions were written for "
                     "(load_documents('v1') for the training split).")


def rank_chunks(question: str, chunks) -> list[Hit]:
    """``chunks`` ordered by BM25 score against the question, best first (ties keep their order)."""
    corpus = [tokenize(f"{c.title} {c.text}") for c in chunks]
    scores = bm25_scores(tokenize(question), corpus)
    order = sorted(range(len(chunks)), key=lambda i: -scores[i])
    return [chunks[i] for i in order]


def pick_distractors(question, oracle: Hit, chunks, n: int, rng: random.Random) -> list[Hit]:
    """``n`` chunks other than the oracle, drawn from those that look most like the question (taught in 05 §2).

    Zhang et al. draw distractors at random; a retriever, though, hands the
    reader look-alikes (the Quibit X2 *Pro* next to the Quibit X2), so we draw
    from the lexically closest chunks: those are the ones a reader must learn to skip.
    """
    candidates = [c for c in rank_chunks(question.question, chunks) if c.chunk_id != oracle.chunk_id]
    if n > len(candidates):
        raise ValueError(f"n_distractors={n}, but there are only {len(candidates)} other chunks. "
                         f"Fix: use n_distractors <= {len(candidates)}.")
    return rng.sample(candidates[:max(HARD_POOL, n)], n)


def cite(answer: str, number: int | None) -> str:
    """The target answer: 'Porto [2]' when source 2 is the oracle, plain 'Porto' when it is absent."""
    # Without the oracle there is nothing true to cite: the model answers from memory, uncited.
    return answer if number is None else f"{answer} [{number}]"


# ------------------------------------------------------------------------------- RAFT examples

@dataclass(frozen=True)
class RaftExample:
    question: object  # a course_utils.data.Question
    hits: tuple[Hit, ...]  # the sources, in prompt order: source n is hits[n - 1]
    oracle: int | None  # the oracle's source number, or None when it was left out
    prompt: str
    answer: str


def check_raft_settings(p_oracle, n_distractors) -> None:
    if isinstance(p_oracle, bool) or not isinstance(p_oracle, Real) or not 0 <= p_oracle <= 1:
        raise ValueError(f"p_oracle is the share of examples that keep the oracle chunk, a number from 0 to 1; "
                         f"got {p_oracle!r}. Fix: use e.g. p_oracle=0.8 (80%).")
    if not whole_number(n_distractors) or n_distractors < 0:
        raise ValueError(f"n_distractors must be a whole number >= 0, got {n_distractors!r}. "
                         f"Fix: use e.g. n_distractors={DEFAULT_N_DISTRACTORS}.")
    if n_distractors == 0 and p_oracle < 1:
        raise ValueError("With n_distractors=0, the examples without the oracle would have no source at all. "
                         "Fix: use n_distractors >= 1, or p_oracle=1.")


def raft_examples(tokenizer, questions, documents, p_oracle: float = DEFAULT_P_ORACLE,
                  n_distractors: int = DEFAULT_N_DISTRACTORS, seed: int = SEED) -> list[RaftExample]:
    """One RAFT example per question; ``round(p_oracle * len(questions))`` of them keep the oracle (taught in 05 §2).

    Which examples keep it, which distractors they get and where the oracle
    sits among the sources are drawn from ``seed``: same inputs, same examples.
    """
    check_raft_settings(p_oracle, n_distractors)
    questions = list(questions)
    if not questions:
        raise ValueError("No questions to build RAFT examples from. Fix: pass e.g. load_questions('train').")
    chunks = knowledge_chunks(documents)
    rng = random.Random(f"{seed}-raft")
    keep = set(rng.sample(range(len(questions)), round(p_oracle * len(questions))))
    examples = []
    for i, q in enumerate(questions):
        oracle = oracle_chunk(q, chunks)
        sources = pick_distractors(q, oracle, chunks, n_distractors, rng) + ([oracle] if i in keep else [])
        rng.shuffle(sources)  # the oracle anywhere: the model must read, not count
        hits = tuple(Hit(n, h.doc_id, h.title, h.text, 0.0, h.chunk_id) for n, h in enumerate(sources, 1))
        number = next((h.rank for h in hits if h.chunk_id == oracle.chunk_id), None)
        examples.append(RaftExample(q, hits, number, build_rag_prompt(tokenizer, q.question, hits),
                                    cite(q.answers[0], number)))
    return examples


def raft_pairs(tokenizer, questions, documents, p_oracle: float = DEFAULT_P_ORACLE,
               n_distractors: int = DEFAULT_N_DISTRACTORS, seed: int = SEED) -> list[tuple[str, str]]:
    """RAFT training pairs ``(RAG prompt, cited answer)`` for ``get_or_train_adapter`` (taught in 05 §2)."""
    return [(e.prompt, e.answer) for e in raft_examples(tokenizer, questions, documents, p_oracle, n_distractors, seed)]


def raft_adapter(model=None, tokenizer=None, p_oracle: float = DEFAULT_P_ORACLE,
                 n_distractors: int = DEFAULT_N_DISTRACTORS, config: TrainConfig = RAFT_TRAIN,
                 questions=None, documents=None, progress: bool = True, plot: bool = False) -> AdapterRun:
    """The RAFT adapter: trained on the training split over the v1 documents, or reused from the cache."""
    check_raft_settings(p_oracle, n_distractors)  # before loading anything
    if model is None or tokenizer is None:
        model, tokenizer = load_generator()
    questions = load_questions("train") if questions is None else questions
    documents = load_documents("v1") if documents is None else documents
    pairs = raft_pairs(tokenizer, questions, documents, p_oracle, n_distractors)
    with recomputed_activations(model):
        return get_or_train_adapter("raft", pairs, config, model, tokenizer, progress=progress, plot=plot)


@contextmanager
def recomputed_activations(model):
    """Gradient checkpointing while training: activations are recomputed in the backward pass, not kept.

    A RAFT batch is long (sources in every prompt); keeping every layer's
    activations would take the notebook past 2 GB. Recomputing costs about a
    third more time and gives the same gradients. Generation is unaffected.
    """
    # transformers 5 renamed gradient checkpointing to activation checkpointing; accept both names.
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        disable = model.activation_checkpointing_disable
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        disable = model.gradient_checkpointing_disable
    try:
        yield model
    finally:
        disable()


# ------------------------------------------------------------------------------- RAG with an adapter


def hybrid_pipeline(rag: RagPipeline, adapter) -> RagPipeline:
    """RAG with a LoRA adapter on its generator: the same index, prompt and settings; only the reader changes.

    ``adapter``: an ``AdapterRun`` (from ``raft_adapter`` or the fine-tune of
    notebook 04) or its folder. The adapter is put on ``rag``'s model *in
    place*: until ``remove_adapter`` takes it off, ``rag`` reads with it too (taught in 05 §1).
    """
    adapted = load_adapter(rag.model, adapter_folder(adapter))
    return RagPipeline(adapted, rag.tokenizer, rag.retriever, top_k=rag.top_k, max_new_tokens=rag.max_new_tokens,
                       instruction=rag.instruction, system=rag.system, hit_filter=rag.hit_filter,
                       context_window=rag.context_window, on_overflow=rag.on_overflow)


def remove_adapter(pipeline_or_model):
    """Take a LoRA adapter off again; returns the plain base model (unchanged if it had none; taught in 05 §1)."""
    from peft import PeftModel

    model = pipeline_or_model.model if isinstance(pipeline_or_model, RagPipeline) else pipeline_or_model
    return model.unload() if isinstance(model, PeftModel) else model


# ------------------------------------------------------------------------------- answering given sources

def answer_examples(model, tokenizer, examples, max_new_tokens: int = 20, progress: bool = True):
    """Answer prompts built with fixed sources (e.g. oracle + k distractors); ``RagAnswer`` s, scorable."""
    raws = generate_batch(model, tokenizer, [e.prompt for e in examples], max_new_tokens, progress=progress)
    return [make_answer(e.question.question, raw, e.hits, e.prompt) for e, raw in zip(examples, raws)]


# ------------------------------------------------------------------------------- robustness


def robustness_sweep(model, tokenizer, readers: dict, questions, documents, distractors=(0, 2, 4),
                     seed: int = SEED, progress: bool = True):
    """Share of right answers when the oracle chunk comes with k distractors, per reader and k (taught in 05 §4).

    ``readers``: {name: adapter} (an ``AdapterRun``, a folder, or None for the
    base model). Every reader gets the very same prompts: the oracle plus k
    look-alike chunks, shuffled. Answers are graded strictly (``evaluation.grade_question``).
    Returns a DataFrame, one row per k; ``frame.attrs["right"][reader][k]`` holds the 0/1
    of every question and ``frame.attrs["facts"]`` their facts, for paired intervals.
    """
    import pandas as pd

    sets = {k: raft_examples(tokenizer, questions, documents, p_oracle=1.0, n_distractors=k, seed=seed)
            for k in distractors}
    right: dict[str, dict[int, list[float]]] = {}
    for name, adapter in readers.items():
        with adapter_on(model, adapter) as reader:
            for k, examples in sets.items():
                answers = answer_examples(reader, tokenizer, examples, progress=progress)
                right.setdefault(name, {})[k] = [float(grade_question(a.answer, e.question) == RIGHT)
                                                 for a, e in zip(answers, examples)]
    frame = pd.DataFrame({name: {k: sum(v) / len(v) for k, v in by_k.items()} for name, by_k in right.items()})
    frame.index.name = "distractors"
    frame.attrs["right"] = right
    frame.attrs["facts"] = [e.question.fact_id for e in next(iter(sets.values()))]
    return frame
