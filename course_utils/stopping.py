"""When an answer ends: at the end of its first line, once it only repeats itself, or at the token cap.

Answers are read as one line, so a row stops at its first line break (a stop
string in ``generation.generate_ids``). A row that never ends its line either
says something new all the way to the cap, and is *cut off* (a measurement
fault, reported in the "cut off" column of notebook 06), or repeats itself,
and is stopped here.
"""
from __future__ import annotations

import torch

# A row that says the same few tokens over and over ("a high-end, high-end, high-end, ...", as SmolLM2 does when it
# has no answer) never reaches the end of its line: it would run to any cap and add nothing. It stops once its
# last LOOP_WINDOW tokens repeat one run of at most LOOP_PERIOD tokens. An answer that ends within LOOP_WINDOW
# tokens is never checked, so no such answer changes.
LOOP_WINDOW = 32
LOOP_PERIOD = 16


def repeats_itself(ids: list[int], window: int = LOOP_WINDOW, longest: int = LOOP_PERIOD) -> bool:
    """Are the last ``window`` tokens one run of at most ``longest`` tokens, repeated?"""
    tail = list(ids[-window:])
    return len(tail) == window and any(tail[:-p] == tail[p:] for p in range(1, longest + 1))


class StopLoops:
    """A stopping criterion for ``model.generate``: a row stops as soon as its new tokens ``repeats_itself``."""

    def __init__(self, prompt_width: int):
        self.prompt_width = prompt_width

    def __call__(self, input_ids, scores, **kwargs):
        tails = input_ids[:, self.prompt_width:][:, -LOOP_WINDOW:].tolist()  # a few dozen rows: cheap per step
        return torch.tensor([repeats_itself(tail) for tail in tails], dtype=torch.bool, device=input_ids.device)


def cut_off(tokenizer, ids: list[int], max_new_tokens: int, stop: set[int]) -> bool:
    """Did the token cap cut this answer short: at the cap, before an end-of-turn token or the end of its line,
    and still saying something new (a row that repeats itself is stopped for that, not cut)?"""
    if len(ids) < max_new_tokens or (ids and ids[-1] in stop) or repeats_itself(ids):
        return False
    return "\n" not in tokenizer.decode(ids, skip_special_tokens=True).strip(" ")
