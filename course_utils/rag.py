"""The RAG loop: retrieve → prompt → generate → cite.

Notebook 03 builds it step by step; later notebooks import it::

    from course_utils.rag import build_rag

    rag = build_rag(model, tokenizer, load_documents("v1"))   # hybrid retriever, top 3 chunks
    result = rag.ask("Where is the Quibit X2 assembled?")
    result.answer, result.citations, result.timings

The same loop runs three ways, with the same prompt and the same answers:
``ask`` (one question, timed: retrieve / prefill / decode), ``ask_many``
(batched, for evaluation) and ``query_engine()`` (a llama-index
``RetrieverQueryEngine``). The prompt's numbered sources and the answer's
citations are in ``course_utils.sources``.
"""
from __future__ import annotations

import math
import time
import warnings

from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, TextNode

from .config import check_positive_int, whole_number
from .generation import (BATCH_ROWS, SYSTEM_PROMPT, as_llamaindex_llm, count_tokens, eos_and_pad_ids, generate_ids,
                         timed_answer)
from .retrieval import Hit, build_retriever, kept_chunks
from .sources import INSTRUCTION, RagAnswer, build_rag_prompt, format_source, make_answer, qa_template
from .stopping import cut_off

DEFAULT_TOP_K = 3
DEFAULT_MAX_NEW_TOKENS = 20  # an answer and its citation fit; every extra token is decode time
MAX_CONTEXT_TOKENS = 2048  # cap on the model's window: a longer prompt is slow and memory-hungry on a CPU



def check_question(question) -> str:
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"The question is empty ({question!r}). Fix: ask a question as text, "
                         "e.g. rag.ask('Where is the Quibit X2 assembled?').")
    return question.strip()


def keep_last_tokens(tokenizer, text: str, n: int) -> str:
    """The last ``n`` tokens of ``text``: a long question usually ends with what it asks."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return tokenizer.decode(ids[-n:]).strip() if n > 0 else ""


def answers_for(model, tokenizer, asked, max_new_tokens: int, batch_size: int = BATCH_ROWS, progress: bool = True):
    """RagAnswers for (question, hits, prompt) triples, generated in batches, one line each.

    Each answer records whether the token cap cut it off (``timings["cut_off"]``):
    a cut answer is a measurement fault, not a model's mistake.
    """
    ids = generate_ids(model, tokenizer, [p for _, _, p in asked], max_new_tokens, batch_size, progress,
                       one_line=True)
    stop = eos_and_pad_ids(model, tokenizer)
    return [make_answer(q, tokenizer.decode(new, skip_special_tokens=True).strip(), hits, p,
                        {"cut_off": cut_off(tokenizer, new, max_new_tokens, stop)})
            for (q, hits, p), new in zip(asked, ids)]


class RagPipeline:
    """Retrieve → prompt → generate → cite, around a course retriever and the generator.

    ``top_k``: how many chunks go into the prompt (at most the retriever's own top_k).
    ``hit_filter``: an optional ``Hit -> bool``; chunks it rejects never reach the prompt.
    ``on_overflow``: a question too long for the context window is cut to its last
    tokens with a warning (``"truncate"``) or refused (``"error"``); the sources are
    never cut, since they are the evidence.
    """

    def __init__(self, model, tokenizer, retriever, top_k: int = DEFAULT_TOP_K,
                 max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, instruction: str = INSTRUCTION,
                 system: str = SYSTEM_PROMPT, hit_filter=None, context_window: int | None = None,
                 on_overflow: str = "truncate"):
        if not whole_number(top_k) or not 1 <= top_k <= retriever.top_k:
            raise ValueError(f"top_k must be a whole number from 1 to {retriever.top_k} (the retriever's top_k), "
                             f"got {top_k!r}. Fix: pass top_k=3, or build the retriever with a larger top_k.")
        if on_overflow not in ("truncate", "error"):
            raise ValueError(f"on_overflow must be 'truncate' or 'error', got {on_overflow!r}.")
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be a whole number >= 1, got {max_new_tokens!r}.")
        self.model, self.tokenizer, self.retriever = model, tokenizer, retriever
        self.top_k, self.max_new_tokens, self.instruction, self.system = top_k, max_new_tokens, instruction, system
        self.hit_filter, self.on_overflow = hit_filter, on_overflow
        self.context_window = context_window or min(model.config.max_position_embeddings, MAX_CONTEXT_TOKENS)

    def __repr__(self) -> str:
        return f"RagPipeline(retriever={self.retriever.kind!r}, top_k={self.top_k}, max_new_tokens={self.max_new_tokens})"

    def with_options(self, **changes) -> RagPipeline:
        """A copy with some settings changed, e.g. ``rag.with_options(top_k=1)``; the index is shared."""
        settings = {k: getattr(self, k) for k in ("top_k", "max_new_tokens", "instruction", "system",
                                                   "hit_filter", "context_window", "on_overflow")}
        return RagPipeline(self.model, self.tokenizer, self.retriever, **{**settings, **changes})

    # -- steps
    def _select(self, hits) -> list[Hit]:
        kept = [h for h in hits if self.hit_filter is None or self.hit_filter(h)]
        return kept[: self.top_k]

    def retrieve(self, question: str) -> list[Hit]:
        return self._select(self.retriever.retrieve(check_question(question)))

    def prompt(self, question: str, hits) -> str:
        return build_rag_prompt(self.tokenizer, question, hits, self.instruction, self.system)

    def _fit(self, question: str, hits=None):
        """(question, hits, prompt), the question cut to its end if the prompt would overflow."""
        hits = self.retrieve(question) if hits is None else hits
        original = question
        for _ in range(5):  # retrieving with the shorter question can change the sources' length
            prompt = self.prompt(question, hits)
            excess = count_tokens(self.tokenizer, prompt) + self.max_new_tokens - self.context_window
            if excess <= 0:
                if question != original:
                    warnings.warn(f"The question was {count_tokens(self.tokenizer, original)} tokens long, too long "
                                  f"for the {self.context_window}-token context window with its sources: only its "
                                  f"last {count_tokens(self.tokenizer, question)} tokens were used. Fix: ask a "
                                  "shorter question, or pass on_overflow='error' to refuse instead.", stacklevel=3)
                return question, hits, prompt
            if self.on_overflow == "error":
                raise ValueError(f"The prompt would be {excess} tokens longer than the {self.context_window}-token "
                                 "context window. Fix: ask a shorter question, or use on_overflow='truncate'.")
            # The question appears twice in the prompt: cut each copy by half the excess.
            keep = count_tokens(self.tokenizer, question) - math.ceil(excess / 2) - 1
            question = keep_last_tokens(self.tokenizer, question, keep)
            if not question:
                raise ValueError(f"The sources alone fill the {self.context_window}-token context window. "
                                 "Fix: use a smaller top_k or a larger context_window.")
            hits = self.retrieve(question)
        raise ValueError("Could not fit the question into the context window. Fix: ask a shorter question.")

    # -- the loop, three ways
    def ask(self, question: str) -> RagAnswer:
        """One question, timed step by step (seconds): retrieve, prefill, decode, total."""
        question = check_question(question)
        start = time.perf_counter()
        hits = self.retrieve(question)
        retrieve_s = time.perf_counter() - start
        question, hits, prompt = self._fit(question, hits)
        raw, prefill_s, decode_s = timed_answer(self.model, self.tokenizer, prompt, self.max_new_tokens)
        timings = {"retrieve": retrieve_s, "prefill": prefill_s, "decode": decode_s,
                   "total": time.perf_counter() - start, "prompt_tokens": count_tokens(self.tokenizer, prompt)}
        return make_answer(question, raw, hits, prompt, timings)

    def ask_many(self, questions: list[str], batch_size: int = BATCH_ROWS, progress: bool = True) -> list[RagAnswer]:
        """Many questions at once: one embedding batch, then batched greedy generation."""
        questions = [check_question(q) for q in questions]
        fetched = self.retriever.retrieve_many(questions) if questions else []
        fitted = [self._fit(q, self._select(h)) for q, h in zip(questions, fetched)]
        return answers_for(self.model, self.tokenizer, fitted, self.max_new_tokens, batch_size, progress)

    def query_engine(self):
        """The same loop as a llama-index ``RetrieverQueryEngine`` (same retriever, prompt and model)."""
        from llama_index.core import PromptTemplate
        from llama_index.core.query_engine import RetrieverQueryEngine

        llm = as_llamaindex_llm(self.model, self.tokenizer, max_new_tokens=self.max_new_tokens, system=self.system)
        return RetrieverQueryEngine.from_args(
            self.retriever.llama_retriever, llm=llm,
            node_postprocessors=[NumberedSources(top_k=self.top_k, hit_filter=self.hit_filter)],
            # "compact" (the default) joins the chunks with a blank line and, as long as they fit, calls
            # the LLM once. ("simple_summarize" would too, but llama-index-core 0.14 pastes the Python
            # list of chunks into the prompt, brackets and all: run-llama/llama_index PR #22392.)
            response_mode="compact", text_qa_template=PromptTemplate(qa_template(self.instruction)))

    def ask_llamaindex(self, question: str, engine=None) -> RagAnswer:
        """``ask`` through the llama-index query engine (untimed)."""
        question, _, prompt = self._fit(check_question(question))
        response = (engine or self.query_engine()).query(question)
        hits = [node_to_hit(n, rank) for rank, n in enumerate(response.source_nodes, 1)]
        return make_answer(question, str(response.response), hits, prompt)


def node_to_hit(scored, rank: int) -> Hit:
    node = scored.node
    text = node.metadata.get("chunk_text", node.get_content())
    return Hit(rank, node.metadata["doc_id"], node.metadata["title"], text, float(scored.score or 0.0),
               node.metadata.get("chunk_id", node.node_id))


class NumberedSources(BaseNodePostprocessor):
    """A llama-index node postprocessor: keeps the best ``top_k`` chunks, numbered as ``format_source`` does."""

    top_k: int = DEFAULT_TOP_K
    hit_filter: object = None

    @classmethod
    def class_name(cls) -> str:
        return "NumberedSources"

    def _postprocess_nodes(self, nodes, query_bundle=None):
        hits = [node_to_hit(n, rank) for rank, n in enumerate(nodes, 1)]
        kept = [(n, h) for n, h in zip(nodes, hits) if self.hit_filter is None or self.hit_filter(h)]
        numbered = []
        for number, (scored, hit) in enumerate(kept[: self.top_k], 1):
            meta = {"doc_id": hit.doc_id, "title": hit.title, "chunk_text": hit.text, "chunk_id": hit.chunk_id}
            # All metadata is hidden from the LLM: the node's text is already the numbered source line.
            node = TextNode(text=format_source(number, hit.title, hit.text), id_=scored.node.node_id,
                            metadata=meta, excluded_llm_metadata_keys=list(meta),
                            excluded_embed_metadata_keys=list(meta))
            numbered.append(NodeWithScore(node=node, score=scored.score))
        return numbered


def build_rag(model, tokenizer, documents, retriever: str = "hybrid", top_k: int = DEFAULT_TOP_K,
              embedder=None, **options) -> RagPipeline:
    """Index ``documents`` with a ``'bm25'``, ``'dense'`` or ``'hybrid'`` retriever and wrap it in a pipeline.

    The retriever keeps ``kept_chunks(top_k)`` chunks, so ``with_options(top_k=...)``
    can try several k on one index (taught in 03 §1).
    """
    check_positive_int(top_k, "top_k", "Fix: pass top_k=1 or more (3 is the course's default).")  # before indexing
    index = build_retriever(retriever, documents, top_k=kept_chunks(top_k), embedder=embedder)
    return RagPipeline(model, tokenizer, index, top_k=top_k, **options)



