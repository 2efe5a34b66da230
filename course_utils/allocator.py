"""Hand the heap's free pages back to the system between batches (Linux with glibc; elsewhere nothing changes).

glibc keeps memory that a program frees on its heap, for the next
allocation. A notebook generates in batches of different shapes, and each
batch's activations and key-value cache (a few MB per tensor) are freed
into that heap, where they leave holes that later batches only partly
reuse: resident memory grows with everything the kernel ever held, not with
what it holds at once. ``malloc_trim`` returns every free page of the heap
to the system. It is called between batches and between epochs, never
inside a training step: a page handed back is a page fault when it is used
again, which a step that reallocates the same buffers would pay every time.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _libc():
    """glibc, or None where the C library has no malloc_trim (macOS, Windows, musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_free_memory() -> bool:
    """Return the heap's free pages to the system; True if any were returned (False where glibc is absent)."""
    libc = _libc()
    return bool(libc and libc.malloc_trim(0))
