"""Benchmark model loading and generation speed; writes build/bench_models.json.

    python scripts/bench_models.py

Each load is timed in a fresh Python process, as a learner's kernel would do
it: the first one converts the bundled GGUF into an empty cache, the later
ones read the safetensors cache. Medians of several runs are reported.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench_models.json"

LOAD = """
import time, resource
start = time.perf_counter()
import torch  # a notebook pays for these imports once, whatever model it loads
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM
imported = time.perf_counter()
from course_utils.models import load_generator
model, tokenizer = load_generator()
print(imported - start, time.perf_counter() - imported, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def timed_load(cache_dir: str) -> tuple[float, float, float]:
    env = dict(os.environ, COURSE_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", LOAD], env=env, capture_output=True, text=True, check=True)
    import_s, load_s, rss_mb = map(float, out.stdout.split()[-3:])
    return import_s, load_s, rss_mb


def generation_speed(n_prompts: int = 16, max_new_tokens: int = 24) -> dict:
    from course_utils.data import load_questions
    from course_utils.generation import build_prompt, generate_batch
    from course_utils.models import load_generator

    model, tokenizer = load_generator()
    prompts = [build_prompt(tokenizer, q.question) for q in load_questions("train")[:n_prompts]]

    def tokens(answers):
        return sum(len(tokenizer(a, add_special_tokens=False).input_ids) for a in answers)

    start = time.perf_counter()
    one_by_one = [generate_batch(model, tokenizer, [p], max_new_tokens, progress=False)[0] for p in prompts]
    single_s = time.perf_counter() - start
    start = time.perf_counter()
    batched = generate_batch(model, tokenizer, prompts, max_new_tokens, batch_size=n_prompts, progress=False)
    batch_s = time.perf_counter() - start
    return {
        "prompts": n_prompts,
        "single_tokens_per_s": round(tokens(one_by_one) / single_s, 1),
        "batch16_tokens_per_s": round(tokens(batched) / batch_s, 1),
        "batched_equals_single": batched == one_by_one,
    }


def main(repeats: int = 3) -> dict:
    from course_utils.machine import describe

    machine = describe()  # measured first, while nothing else of ours runs
    with tempfile.TemporaryDirectory() as empty_cache:
        _, first_s, first_rss = timed_load(empty_cache)
        later = [timed_load(empty_cache) for _ in range(repeats)]
    result = {
        "machine": machine,
        "generator_first_load_s": round(first_s, 2),
        "generator_first_load_peak_rss_mb": round(first_rss),
        "generator_later_load_s_median": round(statistics.median(s for _, s, _ in later), 2),
        "generator_later_load_peak_rss_mb": round(statistics.median(r for _, _, r in later)),
        "import_torch_transformers_s_median": round(statistics.median(i for i, _, _ in later), 2),
        "target_later_load_s": 2.0,
        "generation": generation_speed(),
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
