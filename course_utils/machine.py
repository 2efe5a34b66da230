"""What this machine can do, measured rather than guessed.

Two decisions in the course depend on the hardware, and both are made here:

* the **precision** the generator runs in. bfloat16 halves the memory traffic
  and is much faster on CPUs with native bfloat16 instructions (AVX512-BF16,
  AMX), but on other CPUs torch emulates it and it is many times *slower*
  than float32. It also changes greedy answers: ``scripts/bench_precision.py``
  (``make bench``) counts how often. So the course runs in float32 unless asked
  (``COURSE_PRECISION=bfloat16``), and measures both to say what the request
  would buy here;
* **time budgets that travel**. A time measured on one machine says little
  about another, but "work" (seconds x the matmul rate of the precision the
  course ran in, in GFLOP) is roughly the same everywhere, because the
  course's time is spent in matmuls. Dividing recorded work by this machine's
  rate in its own precision predicts its time.

``describe()`` is the one description of the machine that every script and
benchmark records; it is measured once per process (about a second).
"""
from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path

from .artifacts import write_text_atomic
from .config import get_config

# bfloat16 costs precision, so it must buy a clear speed-up, not measurement noise.
BF16_MIN_SPEEDUP = 1.3
PRECISIONS = ("float32", "bfloat16")
PRECISION_ENV = "COURSE_PRECISION"
PRECISION_FILE = "precision.json"
PRECISION_RULE = 2  # stored with a cached choice: a choice made under an earlier rule is made again

_DESCRIPTION: dict | None = None  # describe()'s result, measured once per process


def _torch_dtype(dtype):
    import torch

    return getattr(torch, dtype) if isinstance(dtype, str) else dtype


def matmul_gflops(dtype, n: int = 1024, seconds: float = 0.3) -> float:
    """Measured GFLOP/s of an n x n matrix product in ``dtype`` ("float32", torch.bfloat16, ...).

    Uses torch's current thread count, as the notebooks do.
    """
    import torch

    dtype = _torch_dtype(dtype)
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    flop = 2 * n**3  # n*n dot products of length n: a multiply and an add each
    start = time.perf_counter()
    out = a @ b  # warm-up: thread pool, kernel selection, the output buffer
    first = time.perf_counter() - start
    if first >= seconds:  # one product already took the whole budget (emulated dtype): it is the measurement
        return flop / first / 1e9
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or count == 0:
        torch.matmul(a, b, out=out)
        count += 1
    return flop * count / elapsed / 1e9


def memory_bandwidth_gbs(mb: int = 64, repeats: int = 5) -> float:
    """Measured copy bandwidth in GB/s: bytes read + bytes written per second, best of ``repeats``."""
    import torch

    # Larger than the last-level cache a core can use (tens of MB), so the copy goes through main memory;
    # no larger, since the two buffers add to the notebook's peak memory (a Binder has 2 GB in all).
    source = torch.ones(mb * 2**20 // 4, dtype=torch.float32)  # ones(): the pages are really allocated
    target = torch.empty_like(source)
    target.copy_(source)  # warm-up: fault in the target's pages
    best = math.inf
    for _ in range(repeats):  # best of a few: other programs only ever slow a copy down
        start = time.perf_counter()
        target.copy_(source)
        best = min(best, time.perf_counter() - start)
    return 2 * source.nbytes / best / 1e9


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux, or no /proc: say "unknown" rather than fail
        return ""


def native_bf16() -> bool:
    """True when the CPU advertises bfloat16 instructions (avx512_bf16 or amx_bf16)."""
    for line in _cpuinfo().splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def _cpu_name() -> str:
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def describe() -> dict:
    """The machine: cores, CPU, torch threads, native bf16, fp32/bf16 GFLOP/s and copy bandwidth (taught in 00 §2)."""
    global _DESCRIPTION
    if _DESCRIPTION is None:
        import torch

        native = native_bf16()
        _DESCRIPTION = {
            "cores": os.cpu_count(),
            "cpu": _cpu_name(),
            "torch_threads": torch.get_num_threads(),
            "native_bf16": native,
            "fp32_gflops": round(matmul_gflops("float32"), 2),
            # Emulated bfloat16 runs at the same slow rate at any size; a 256 x 256 product
            # measures it in a tenth of a second instead of several seconds.
            "bf16_gflops": round(matmul_gflops("bfloat16", n=1024 if native else 256), 2),
            "bandwidth_gbs": round(memory_bandwidth_gbs(), 2),
        }
    return dict(_DESCRIPTION)


def in_words(description: dict) -> str:
    """A ``describe()`` result as one line of text, its figures as recorded (quoted in the docs and notebooks)."""
    d, parts = description, []
    if d.get("cores") is not None:
        parts.append(f"{d['cores']} cores")
    if d.get("cpu"):
        parts.append(str(d["cpu"]))
    if d.get("torch_threads") is not None:
        parts.append(f"{d['torch_threads']} torch threads")
    if d.get("fp32_gflops") is not None:
        parts.append(f"{d['fp32_gflops']:g} GFLOP/s float32")
    if d.get("bf16_gflops") is not None:
        native = {True: " (native)", False: " (emulated)"}.get(d.get("native_bf16"), "")
        parts.append(f"{d['bf16_gflops']:g} GFLOP/s bfloat16{native}")
    if d.get("bandwidth_gbs") is not None:
        parts.append(f"{d['bandwidth_gbs']:g} GB/s memory copy")
    return ", ".join(parts) or "machine not recorded"


def _identity() -> dict:
    """What says that a cached choice was made on this machine (cheap: nothing measured)."""
    return {"cpu": _cpu_name(), "cores": os.cpu_count(), "native_bf16": native_bf16()}


def _measure_precision() -> dict:
    machine = describe()
    fp32, bf16 = machine["fp32_gflops"], machine["bf16_gflops"]
    speedup = bf16 / fp32
    numbers = f"bfloat16 matmuls ran at {bf16:.1f} GFLOP/s, float32 at {fp32:.1f} ({speedup:.2f}x)"
    # The measurement only explains the choice: the course runs in float32 unless asked (choose_precision).
    if not machine["native_bf16"]:
        reason = f"float32: this CPU has no native bfloat16 instructions (avx512_bf16/amx_bf16), and {numbers}."
    elif speedup >= BF16_MIN_SPEEDUP:
        # Faster, but not free: bfloat16 changes some greedy answers (bench_precision counts them against its target),
        # and speed must not move a result. So it is the learner's call, made knowingly.
        reason = (f"float32: {numbers}, so bfloat16 would be faster here, but it changes some answers (`make bench` "
                  f"counts them); set {PRECISION_ENV}=bfloat16 to trade that for speed.")
    else:
        reason = f"float32: {numbers}, less than the {BF16_MIN_SPEEDUP}x that would pay for bfloat16's lost precision."
    return {"dtype": "float32", "fp32_gflops": fp32, "bf16_gflops": bf16, "speedup": round(speedup, 3), "reason": reason}


def _read_cached(path: Path) -> dict | None:
    try:
        cached = json.loads(path.read_text())
        if (cached["dtype"] in PRECISIONS and cached["machine"] == _identity() and cached.get("rule") == PRECISION_RULE
                and all(isinstance(cached[k], (int, float)) for k in ("fp32_gflops", "bf16_gflops", "speedup"))
                and isinstance(cached["reason"], str)):
            return {k: cached[k] for k in ("dtype", "fp32_gflops", "bf16_gflops", "speedup", "reason")}
    except (OSError, ValueError, KeyError, TypeError):  # missing or damaged: measure again
        pass
    return None


def choose_precision(cache_dir=None) -> dict:
    """The generator's dtype on this machine, and why: {"dtype", "fp32_gflops", "bf16_gflops", "speedup", "reason"}.

    Measured once per machine and kept in ``<cache dir>/precision.json``;
    ``COURSE_PRECISION=float32|bfloat16`` overrides it.
    """
    forced = os.environ.get(PRECISION_ENV, "").strip().lower()
    if forced:
        if forced not in PRECISIONS:
            raise ValueError(f"{PRECISION_ENV}={forced!r} is not a precision the course knows. "
                             f"Fix: set it to one of {', '.join(PRECISIONS)}, or unset it to let the "
                             "course measure which is faster.")
        return {"dtype": forced, "fp32_gflops": None, "bf16_gflops": None, "speedup": None,
                "reason": f"{forced}: set by {PRECISION_ENV}."}

    path = Path(cache_dir or get_config().cache_dir) / PRECISION_FILE
    cached = _read_cached(path)
    if cached:
        return cached
    choice = _measure_precision()
    try:  # the machine identity travels with the choice: a cache copied to another machine is re-measured
        write_text_atomic(path, json.dumps({**choice, "machine": _identity(), "rule": PRECISION_RULE}, indent=2) + "\n")
    except OSError:  # a read-only cache (e.g. a shared classroom copy): the choice still holds for this run
        pass
    return choice


def working_gflops(rates: dict, dtype: str) -> float | None:
    """The matmul GFLOP/s of ``dtype`` in ``rates`` (a ``describe()`` or ``choose_precision()`` result): the rate
    the course's work is counted in, since its matmuls run in that precision (None where it was not measured)."""
    return rates.get("bf16_gflops" if dtype == "bfloat16" else "fp32_gflops")


def predict_seconds(reference_seconds: float, reference_gflops: float, gflops: float | None = None) -> float:
    """This machine's time for a job that took ``reference_seconds`` on a machine doing ``reference_gflops``.

    The work (seconds x GFLOP/s) stays the same; only the rate changes.
    ``gflops`` defaults to this machine's measured float32 rate.
    """
    gflops = describe()["fp32_gflops"] if gflops is None else gflops
    if not (gflops > 0 and reference_gflops > 0):
        raise ValueError(f"GFLOP/s must be positive (got {reference_gflops} and {gflops}). "
                         "Fix: pass the rates describe() measured.")
    return reference_seconds * reference_gflops / gflops
