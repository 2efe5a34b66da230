"""Free heap pages go back to the system between batches (course_utils.allocator)."""
import subprocess
import sys

import pytest

from course_utils import allocator, generation

# Holes in the heap, as batches of different shapes leave them: 4 MB blocks (on the heap once a freed 16 MB block has
# raised glibc's mmap threshold), each followed by a 1 MB block that stays, so freeing the large ones leaves holes
# that cannot be cut off the heap's top. Prints the resident MB after the holes are made and after release_free_memory().
HOLES = """
import ctypes, psutil
from course_utils.allocator import _libc, release_free_memory
libc = _libc()
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.free(libc.malloc(16 << 20))
big, spacers = [], []
for _ in range(64):
    big.append(libc.malloc(4 << 20)); ctypes.memset(big[-1], 1, 4 << 20)
    spacers.append(libc.malloc(1 << 20))
for block in big:
    libc.free(block)
rss = lambda: psutil.Process().memory_info().rss / 2**20
before = rss(); released = release_free_memory(); after = rss()
print(before, after, released)
"""


@pytest.mark.skipif(allocator._libc() is None, reason="no glibc here: release_free_memory() does nothing, by design")
def test_released_pages_leave_the_process():
    out = subprocess.run([sys.executable, "-c", HOLES], capture_output=True, text=True, check=True).stdout.split()
    before, after, released = float(out[0]), float(out[1]), out[2]
    assert released == "True"
    assert before - after > 128, f"{before:.0f} MB before, {after:.0f} MB after"  # 256 MB of holes were freed


def test_every_generation_batch_releases_what_it_freed(monkeypatch, tokenizer):
    from tiny_models import tiny_llama  # two layers: real batches, in milliseconds

    calls = []
    monkeypatch.setattr(generation, "release_free_memory", lambda: calls.append(1) or True)
    prompts = ["a b c", "a b c d e f g h i j k l", "a"] * 3
    generation.generate_ids(tiny_llama(), tokenizer, prompts, max_new_tokens=2, batch_size=3, progress=False)
    lengths = [len(ids) for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"]]
    assert len(calls) == len(generation.length_batches(lengths, 3)) > 1
