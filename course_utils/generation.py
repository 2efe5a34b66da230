"""Prompting and generating with the course's chat model.

The chat template turns messages into the exact string the model was trained
on. We always pass our own short system prompt: without one, SmolLM2's
template adds a default one of ~20 tokens, and on 2 cores prompt length is
latency.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from .stopping import StopLoops

SYSTEM_PROMPT = "You are a helpful assistant."
CLOSED_BOOK_INSTRUCTION = "Answer in a few words."
CONTEXT_INSTRUCTION = "Answer in a few words, using only the context."


def user_message(question: str, context: str | None = None) -> str:
    """The text of the user turn: an instruction and the question, after the context if any."""
    if context:
        return f"Context:\n{context}\n\n{CONTEXT_INSTRUCTION}\nQuestion: {question}"
    return f"{CLOSED_BOOK_INSTRUCTION}\nQuestion: {question}"


def chat_prompt(tokenizer, user: str, system: str | None = SYSTEM_PROMPT) -> str:
    """Wrap one user turn in the chat template. ``system=None`` leaves the system turn to the template."""
    messages = [] if system is None else [{"role": "system", "content": system}]
    messages.append({"role": "user", "content": user})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def build_prompt(tokenizer, question: str, context: str | None = None, system: str | None = SYSTEM_PROMPT) -> str:
    """The prompt string for one question, with or without context (taught in 02 §1)."""
    return chat_prompt(tokenizer, user_message(question, context), system)


def gold_context(question, documents) -> str | None:
    """The text of a question's gold document (the "oracle" context); None if it has none (taught in 02 §3)."""
    by_id = {d.doc_id: d.text for d in documents}
    return by_id.get(question.doc_id)


# --- tokens -----------------------------------------------------------------------------------

def tokens_of(tokenizer, text: str) -> list[tuple[int, str]]:
    """(token id, token string) for every token the model sees for ``text`` (taught in 02 §1)."""
    # The chat template already wrote the special tokens into the text: add none.
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return list(zip(ids, tokenizer.convert_ids_to_tokens(ids)))


def count_tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def system_turn(tokenizer, system: str | None = SYSTEM_PROMPT, user_marker: str = "<|im_start|>user") -> str:
    """The text the template puts before the user turn: the system turn (its default when ``system=None``)."""
    prompt = chat_prompt(tokenizer, "?", system)
    if user_marker not in prompt:
        raise ValueError(f"This chat template has no '{user_marker}'. Fix: pass the marker that starts "
                         "its user turn as user_marker=...")
    return prompt[:prompt.index(user_marker)]


# --- decoding ---------------------------------------------------------------------------------

def sampling_settings(temperature: float = 0.0, top_p: float = 1.0) -> dict:
    """generate() keyword arguments: {} (greedy) for temperature 0, else plain temperature/top-p sampling."""
    if temperature <= 0:
        return {}
    # top_k=0 switches off transformers' default top-50 cut, so only temperature and top_p act.
    return {"temperature": float(temperature), "top_p": float(top_p), "top_k": 0}


@torch.inference_mode()
def next_token_probs(model, tokenizer, prompt: str, k: int = 10, temperature: float = 1.0) -> list[tuple[str, float]]:
    """The ``k`` most likely next tokens after ``prompt`` and their probabilities, most likely first."""
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    logits = model(**inputs).logits[0, -1].float()
    probs = torch.softmax(logits / max(temperature, 1e-6), dim=-1)
    top = torch.topk(probs, k)
    return [(tokenizer.decode([int(i)]), float(p)) for p, i in zip(top.values, top.indices)]


def _eos_ids(model, tokenizer) -> set[int]:
    eos = model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos]) if eos is not None else set()
    return ids | {tokenizer.eos_token_id}


def eos_and_pad_ids(model, tokenizer) -> set[int]:
    """Tokens that end a row of a batch: end of turn, or the padding that follows a row stopped early."""
    return _eos_ids(model, tokenizer) | ({tokenizer.pad_token_id} - {None})


# Prompt tokens per batch, padding included. A prefill of ~4,000 tokens already runs the matmuls near their peak
# rate on a CPU, and the keys and values of a batch this size stay near 0.2 GB (~46 kB per token).
BATCH_TOKENS = 4096
BATCH_ROWS = 64  # the most rows per batch; short prompts fill it, long ones stop at BATCH_TOKENS
# Prompt tokens per prefill forward. A batch's keys and values must be kept while it decodes, but the activations of
# a forward over all of its prompt tokens at once need not be: reading the prompts in slices of ~1,000 tokens runs
# as fast (the matmuls still have ~1,000 rows) and leaves out ~150-250 MB of a batch's peak memory. Each slice
# attends to the keys and values of the slices before it, so the answers are the same (tested).
PREFILL_TOKENS = 1024


def length_batches(lengths: list[int], batch_size: int, max_tokens: int = BATCH_TOKENS) -> list[tuple[int, list[int]]]:
    """Prompt indices grouped into batches: similar lengths together, at most ``batch_size`` rows and
    ``max_tokens`` padded prompt tokens each (a longer prompt still gets a batch of its own).

    Returns ``(position of the batch's first prompt in length order, indices)`` pairs.
    """
    order, batches, start = sorted(range(len(lengths)), key=lambda i: lengths[i]), [], 0
    while start < len(order):
        end = start + 1
        # Sorted by length, so the newest row is the longest: the batch is (rows) x (its length) tokens.
        while end < len(order) and end - start < batch_size and (end + 1 - start) * lengths[order[end]] <= max_tokens:
            end += 1
        batches.append((start, order[start:end]))
        start = end
    return batches


def prefill_slice(rows: int, width: int, tokens: int = PREFILL_TOKENS) -> int | None:
    """Positions per prefill forward for a batch of ``rows`` prompts ``width`` tokens wide (None: all at once)."""
    size = max(16, tokens // rows)  # no thinner than 16 positions: each slice is one more pass over the weights
    return size if size < width else None


@torch.inference_mode()
def generate_ids(model, tokenizer, prompts: list[str], max_new_tokens: int = 24, batch_size: int = BATCH_ROWS,
                 progress: bool = True, seed: int | None = None, one_line: bool = False,
                 **sampling) -> list[list[int]]:
    """The new token ids of every prompt, cut after the first end-of-turn token.

    Prompts are padded on the left, with an attention mask, so that every
    row's last real token sits at the same position and the new tokens of all
    rows are generated together. Prompts of similar length share a batch, so
    that little time goes into padding; the answers come back in input order.
    A batch reads its prompts in slices (``prefill_slice``), to bound its memory.
    ``one_line``: a row stops at its first line break, or once it repeats itself
    (``StopLoops``); for answers read as one line, every token after that
    would be decode time spent for nothing.
    """
    from transformers import StoppingCriteriaList

    if one_line:
        sampling = {**sampling, "stop_strings": ["\n"], "tokenizer": tokenizer}
    if tokenizer.padding_side != "left":  # right padding would put pads between a prompt and its answer
        raise ValueError("Batched generation needs tokenizer.padding_side == 'left'. Fix: load the model with "
                         "course_utils.models.load_generator(), or set tokenizer.padding_side = 'left'.")
    lengths = [len(ids) for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"]] if prompts else []
    stop, result = eos_and_pad_ids(model, tokenizer), [None] * len(prompts)
    batches = length_batches(lengths, batch_size)
    for start, rows in tqdm(batches, desc="generating", unit="batch", disable=not progress or len(batches) < 2, delay=2):
        batch = tokenizer([prompts[i] for i in rows], return_tensors="pt", padding=True, add_special_tokens=False)
        if seed is not None:  # sampling draws from torch's generator: seed it for repeatable samples
            torch.manual_seed(seed + start)
        loops = StoppingCriteriaList([StopLoops(batch["input_ids"].shape[1])] if one_line else [])
        out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample="temperature" in sampling,
                             pad_token_id=tokenizer.pad_token_id, **sampling, stopping_criteria=loops,
                             prefill_chunk_size=prefill_slice(*batch["input_ids"].shape))
        for i, new in zip(rows, out[:, batch["input_ids"].shape[1]:].tolist()):
            end = next((n + 1 for n, t in enumerate(new) if t in stop), len(new))
            result[i] = new[:end]  # rows that finished early were padded: drop that
    return result


def generate_batch(model, tokenizer, prompts: list[str], max_new_tokens: int = 24, batch_size: int = BATCH_ROWS,
                   progress: bool = True, seed: int | None = None, one_line: bool = False, **sampling) -> list[str]:
    """Greedy (or sampled, with ``sampling``) answers for many prompts; see ``generate_ids`` (taught in 02 §4)."""
    ids = generate_ids(model, tokenizer, prompts, max_new_tokens, batch_size, progress, seed, one_line, **sampling)
    return [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]


def generate(model, tokenizer, prompt: str, max_new_tokens: int = 24, seed: int | None = None, **sampling) -> str:
    """One answer for one prompt."""
    return generate_batch(model, tokenizer, [prompt], max_new_tokens, progress=False, seed=seed, **sampling)[0]


@dataclass
class TimedRun:
    answers: list[str]
    seconds: float
    new_tokens: int  # tokens actually generated: up to each answer's end, padding excluded

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds


def timed_generation(model, tokenizer, prompts: list[str], batch_size: int, max_new_tokens: int = 24) -> TimedRun:
    """Greedy answers for ``prompts``, ``batch_size`` at a time, with the wall time and tokens generated."""
    start = time.perf_counter()
    ids = generate_ids(model, tokenizer, prompts, max_new_tokens, batch_size, progress=False)
    seconds = time.perf_counter() - start
    answers = [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]
    return TimedRun(answers, seconds, sum(len(i) for i in ids))


def answer_questions(model, tokenizer, questions, documents=None, max_new_tokens: int = 24,
                     system: str | None = SYSTEM_PROMPT, batch_size: int = BATCH_ROWS,
                     progress: bool = True) -> list[str]:
    """Greedy answers: closed-book, or, given ``documents``, with each question's gold document as context.

    Batches are capped by rows and by prompt tokens (``length_batches``): every row keeps ~46 kB of keys
    and values per token, so long prompts with a document get fewer rows (taught in 02 §3).
    """
    prompts = [build_prompt(tokenizer, q.question, gold_context(q, documents) if documents else None, system)
               for q in questions]
    return generate_batch(model, tokenizer, prompts, max_new_tokens, batch_size, progress)


# --- llama-index ------------------------------------------------------------------------------

def as_llamaindex_llm(model, tokenizer, max_new_tokens: int = 24, system: str = SYSTEM_PROMPT):
    """Our loaded model as a llama-index LLM, with greedy decoding and our chat template (taught in 02 §5).

    Every prompt llama-index builds goes through the same chat template and
    system prompt as ``chat_prompt``, so its answers equal ``generate``'s.
    The model and tokenizer are passed in: nothing is loaded or downloaded.
    """
    from llama_index.llms.huggingface import HuggingFaceLLM

    def messages_to_prompt(messages) -> str:
        turns = [{"role": m.role.value, "content": m.content or ""} for m in messages]
        if not turns or turns[0]["role"] != "system":
            turns.insert(0, {"role": "system", "content": system})
        return tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)

    return HuggingFaceLLM(
        model=model, tokenizer=tokenizer, max_new_tokens=max_new_tokens,
        context_window=min(4096, model.config.max_position_embeddings),
        messages_to_prompt=messages_to_prompt,
        completion_to_prompt=lambda completion: chat_prompt(tokenizer, completion, system),
        # HuggingFaceLLM tokenizes with the tokenizer's defaults; for SmolLM2 that adds no extra token.
        generate_kwargs={"do_sample": False, "pad_token_id": tokenizer.pad_token_id},
        model_name=getattr(model, "name_or_path", "local"), tokenizer_name=getattr(tokenizer, "name_or_path", "local"),
        device_map="cpu",
    )


class _Clock:
    """A stopping criterion that never stops: it records when each new token is ready."""

    def __init__(self):
        self.stamps = []

    def __call__(self, input_ids, scores, **kwargs):
        self.stamps.append(time.perf_counter())
        return torch.zeros(input_ids.shape[0], dtype=torch.bool)


@torch.inference_mode()
def timed_answer(model, tokenizer, prompt: str, max_new_tokens: int) -> tuple[str, float, float]:
    """Greedy answer for one prompt, and its (prefill, decode) seconds.

    Prefill reads the whole prompt and yields the first token; decode writes
    the rest, one token per step, up to the end of the first line (the answer),
    with the same stop rules as the batched answers (``generate_ids``, one line).
    """
    from transformers import StoppingCriteriaList

    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    clock, start = _Clock(), time.perf_counter()
    stops = StoppingCriteriaList([clock, StopLoops(inputs["input_ids"].shape[1])])
    out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id,
                         stopping_criteria=stops, stop_strings=["\n"], tokenizer=tokenizer)
    end = time.perf_counter()
    new, stop = out[0, inputs["input_ids"].shape[1]:].tolist(), eos_and_pad_ids(model, tokenizer)
    new = new[:next((i + 1 for i, t in enumerate(new) if t in stop), len(new))]
    first = clock.stamps[0] if clock.stamps else end
    return tokenizer.decode(new, skip_special_tokens=True).strip(), first - start, end - first
