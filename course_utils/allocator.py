"""Hand freed tensor memory back to the system at once (Linux with glibc; elsewhere nothing changes).

glibc gives an allocation larger than its *mmap threshold* a mapping of its
own, which ``free`` returns to the system at once; smaller ones come from the
heap, where freed memory mostly stays with the process. By default the
threshold rises to the size of any mapped block that is freed, up to 32 MB.
After the first large tensor is freed, then, the activations and key-value
caches of every later batch (a few MB each) come from the heap, and a
kernel's resident memory only grows as batches of other shapes leave holes
there. Fixing the threshold keeps such tensors mapped, so a notebook's peak
is what it holds at once, not everything it ever held: in notebook 03 the
kernel's peak fell by about a sixth.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
THRESHOLD_BYTES = 128 * 1024  # glibc's own starting value, kept fixed instead of rising


def keep_large_blocks_mapped() -> bool:
    """Fix glibc's mmap threshold for this process; True if it was set (False where the C library is not glibc)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES))
    except (OSError, AttributeError):  # no C library found, or one without mallopt (macOS, Windows)
        return False
