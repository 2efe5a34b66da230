"""Prompting and generating with the course's chat model.

The chat template turns messages into the exact string the model was trained
on. We always pass our own short system prompt: without one, SmolLM2's
template adds a default one of ~20 tokens, and on 2 cores prompt length is
latency.
"""
from __future__ import annotations

import torch
from tqdm.auto import tqdm

SYSTEM_PROMPT = "You are a helpful assistant."
CLOSED_BOOK_INSTRUCTION = "Answer in a few words."
CONTEXT_INSTRUCTION = "Answer in a few words, using only the context."


def build_prompt(tokenizer, question: str, context: str | None = None, system: str = SYSTEM_PROMPT) -> str:
    """The prompt string for one question, with or without context."""
    if context:
        user = f"Context:\n{context}\n\n{CONTEXT_INSTRUCTION}\nQuestion: {question}"
    else:
        user = f"{CLOSED_BOOK_INSTRUCTION}\nQuestion: {question}"
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


@torch.inference_mode()
def generate_batch(model, tokenizer, prompts: list[str], max_new_tokens: int = 24, batch_size: int = 16,
                   progress: bool = True, **sampling) -> list[str]:
    """Greedy (or sampled, with ``sampling``) answers for many prompts.

    Prompts are padded on the left, with an attention mask, so that every
    row's last real token sits at the same position and the new tokens of all
    rows are generated together.
    """
    assert tokenizer.padding_side == "left", "load the tokenizer with course_utils.models.load_generator"
    answers = []
    batches = range(0, len(prompts), batch_size)
    for start in tqdm(batches, desc="generating", unit="batch", disable=not progress or len(batches) < 2):
        batch = tokenizer(prompts[start:start + batch_size], return_tensors="pt", padding=True,
                          add_special_tokens=False)
        out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=bool(sampling),
                             pad_token_id=tokenizer.pad_token_id, **sampling)
        new_tokens = out[:, batch["input_ids"].shape[1]:]
        answers += [t.strip() for t in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
    return answers


def generate(model, tokenizer, prompt: str, max_new_tokens: int = 24, **sampling) -> str:
    """One answer for one prompt."""
    return generate_batch(model, tokenizer, [prompt], max_new_tokens, progress=False, **sampling)[0]
