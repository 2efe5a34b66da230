"""Freed tensor memory goes back to the system: glibc's mmap threshold stays fixed once course_utils is imported."""
import subprocess
import sys

import pytest

# In a fresh interpreter: free a 16 MB block (which, by default, raises glibc's threshold to 16 MB), then take an
# 8 MB one and report how much the heap grew. With the threshold fixed, the 8 MB block is mapped on its own instead.
PROBE = """
import ctypes, sys
import numpy as np
if sys.argv[1] == "course":
    import course_utils
libc = ctypes.CDLL("libc.so.6")
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                                                "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
block = np.ones(2 << 20); del block
heap = libc.mallinfo2().arena
block = np.ones(1 << 20)
print((libc.mallinfo2().arena - heap) / 2**20)
"""


def heap_growth_mb(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def test_after_importing_course_utils_large_blocks_stay_off_the_heap():
    from course_utils.allocator import keep_large_blocks_mapped

    if not keep_large_blocks_mapped():
        pytest.skip("this C library is not glibc: the setting does not exist here")
    assert heap_growth_mb("plain") >= 7  # glibc's default: the 8 MB block lands on the heap (the check can fail)
    assert heap_growth_mb("course") < 1  # with course_utils imported it is mapped, and returned when freed
