"""A learner reads only what the course means to show: no library warnings, no bars for short work,
no bare True/False under an exercise, no kernel warning when the course runs headless.

``run_course.noise`` is the ruler. A small notebook, executed here the way ``make course`` executes
the course, walks the paths that used to be noisy and must measure zero.
``python -m course_utils.run_course --noise`` applies the same ruler to a full run in build/notebooks/.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys

import nbformat
import pytest

from course_utils.run_course import noise, run_notebook

# --------------------------------------------------------------------------- the ruler on known outputs


def _bar(widgets: dict, name: str, text: str) -> dict:
    """A tqdm bar as nbclient saves it: an HBox of (label, progress, text), plus the output that shows it."""
    widgets[f"{name}-label"] = {"model_name": "HTMLModel", "state": {"value": text.split(" ", 1)[0]}}
    widgets[f"{name}-progress"] = {"model_name": "FloatProgressModel", "state": {"value": 1.0, "max": 1.0}}
    widgets[f"{name}-text"] = {"model_name": "HTMLModel", "state": {"value": text.split(" ", 1)[1]}}
    widgets[name] = {"model_name": "HBoxModel",
                     "state": {"children": [f"IPY_MODEL_{name}-{part}" for part in ("label", "progress", "text")]}}
    return {"output_type": "display_data", "metadata": {},
            "data": {"application/vnd.jupyter.widget-view+json": {"model_id": name, "version_major": 2}}}


def _notebook(outputs_per_cell: list[list[dict]], widgets: dict | None = None) -> dict:
    cells = [{"cell_type": "code", "id": f"c{i}", "source": "", "outputs": outputs, "metadata": {},
              "execution_count": i} for i, outputs in enumerate(outputs_per_cell)]
    state = {"application/vnd.jupyter.widget-state+json": {"state": widgets or {}}}
    return {"cells": cells, "metadata": {"widgets": state}, "nbformat": 4, "nbformat_minor": 5}


def _stream(name: str, text: str) -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def _result(text: str) -> dict:
    return {"output_type": "execute_result", "data": {"text/plain": text}, "metadata": {}, "execution_count": 1}


def test_noise_finds_each_kind_of_stray_output():
    widgets = {}
    nb = _notebook([
        [_stream("stderr", "/venv/lib/transformers/modeling_utils.py:3312: FutureWarning: deprecated\n"),
         _stream("stdout", "Metadata length (5) is close to chunk size (32). Resulting chunks are less than 50.\n")],
        [_bar(widgets, "load", "Loading weights: &nbsp;272/272 [00:00&lt;00:00, 3434.75it/s]")],
        [_stream("stdout", "❌ Not yet. Hint: count them.\n"), _result("False")],
        [_stream("stdout", "UserWarning: something library-ish\n")],
        [{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": []}],
    ], widgets)
    found = noise(nb)
    assert [line.split(": ", 1)[1].split(":")[0] for line in found] == [
        "stderr", "library chatter", "a progress bar for under 1 s of work", "a bare False under the cell",
        "a warning", "an error"], found
    assert found[0].startswith("cell 1 (id c0): ")


def test_noise_keeps_what_the_course_means_to_show():
    widgets = {}
    nb = _notebook([
        [_bar(widgets, "gen", "generating: 4/4 [00:17<00:00, 4.32s/batch]")],  # long work: the bar is useful
        [_bar(widgets, "train", "training: 280/420 [1:06:04<02:25, 1.04s/step, loss=0.176]")],
        [_stream("stdout", "✅ Correct: 224 paraphrases.\nthe warning: the question was too long\n")],
        [_result("0.75"), _result("'True or False'")],
        [{"output_type": "display_data", "data": {"text/plain": "a plot"}, "metadata": {}}],
    ], widgets)
    assert noise(nb) == []


def test_the_noise_command_reads_executed_copies(tmp_path, monkeypatch, capsys):
    from course_utils import run_course

    monkeypatch.setattr(run_course, "BUILD", tmp_path)
    assert run_course.main(["--noise"]) == 2  # nothing executed yet
    assert "make course" in capsys.readouterr().out
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00_a.ipynb").write_text(json.dumps(_notebook([[_result("True")]])))
    (tmp_path / "notebooks" / "01_b.ipynb").write_text(json.dumps(_notebook([[_stream("stdout", "ok\n")]])))
    assert run_course.main(["--noise"]) == 1
    out = capsys.readouterr().out
    assert "00_a.ipynb: 1 noise" in out and "01_b.ipynb: no noise" in out and "noise in all: 1" in out


# --------------------------------------------------------------------------- a notebook through the noisy paths

QUIET_CELLS = {
    # The embedder loads through transformers: its "Loading weights" bar took well under a second.
    "load": "import course_utils\nfrom course_utils.models import load_embedder\n\nembedder = load_embedder()",
    # peft wraps a model in every LoRA run and adapter load, and reads a property transformers deprecated.
    "lora": ("from transformers import LlamaConfig, LlamaForCausalLM\n"
             "from course_utils.lora import add_lora, lora_config\n\n"
             "tiny = LlamaForCausalLM(LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32,\n"
             "                                    num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2))\n"
             "peft_model = add_lora(tiny, lora_config(r=2, targets=('q_proj', 'v_proj'), model=tiny))"),
    # Small chunks leave the title most of the chunk size, which llama-index's splitter comments on.
    "chunks": ("from course_utils.data import load_documents\n"
               "from course_utils.retrieval import QuietSentenceSplitter, chunk_documents\n\n"
               "nodes = chunk_documents(load_documents('v1'), chunk_size=32)\n"
               "QuietSentenceSplitter(chunk_size=32, chunk_overlap=0).get_nodes_from_documents([nodes[0]])\n"
               "len(nodes)"),
    # Exercise cells end with the check, as in the notebooks: right, then wrong.
    "right": ("from course_utils.data import load_questions\n"
              "from course_utils.exercises.welcome import check_paraphrase_count\n\n"
              "check_paraphrase_count(len(load_questions('paraphrase')))"),
    "wrong": "check_paraphrase_count(0)",
}


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory):
    """The notebook above, executed like `make course` executes the course: (executed notebook, kernel stderr)."""
    folder = tmp_path_factory.mktemp("quiet")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source, id=name)
                                         for name, source in QUIET_CELLS.items()])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "quiet.ipynb")
    with _stderr_into(folder / "kernel-stderr.txt") as kernel_stderr:
        run_notebook(folder / "quiet.ipynb", folder / "executed", timeout=300)
    return nbformat.read(folder / "executed" / "quiet.ipynb", as_version=4), kernel_stderr.read_text()


@contextlib.contextmanager
def _stderr_into(path):
    """File descriptor 2 goes to ``path`` meanwhile: the kernel inherits it and writes its start-up warnings there."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "w") as file:
        os.dup2(file.fileno(), 2)
        try:
            yield path
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _cell(nb, name):
    return next(cell for cell in nb.cells if cell.id == name)


def test_the_noisy_paths_are_quiet(quiet_run):
    executed, _ = quiet_run
    assert noise(executed) == []
    outputs = _cell(executed, "chunks").outputs  # the chunks were made; only the value shows
    assert [(o.output_type, o.data["text/plain"]) for o in outputs] == [("execute_result", "70")], outputs


def test_an_exercise_cell_ends_with_one_status_line(quiet_run):
    executed, _ = quiet_run
    for name, mark in (("right", "✅ Correct: "), ("wrong", "❌ Not yet. Hint: ")):
        outputs = _cell(executed, name).outputs
        assert [o.output_type for o in outputs] == ["stream"], outputs  # no Out[…]: True/False
        assert outputs[0].text.startswith(mark) and outputs[0].text.count("\n") == 1, outputs[0].text


def test_the_kernel_starts_without_a_warning(quiet_run):
    _, kernel_stderr = quiet_run
    assert "WARNING" not in kernel_stderr and "without encryption" not in kernel_stderr, kernel_stderr


# --------------------------------------------------------------------------- checked in-process


def test_the_loading_bar_switch_is_restored_after_loading():
    from transformers.utils import logging as hf_logging

    from course_utils.models import _no_loading_bar

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.enable_progress_bar()  # as in a fresh kernel
    try:
        with _no_loading_bar():
            assert not hf_logging.is_progress_bar_enabled()
        assert hf_logging.is_progress_bar_enabled()  # `make prefetch` keeps its download bars
    finally:
        if not was_enabled:
            hf_logging.disable_progress_bar()


def test_only_the_one_deprecation_is_hidden():
    import warnings

    from course_utils.quiet import GRADIENT_CHECKPOINTING_NOTICE, hide_library_warnings

    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        hide_library_warnings()
        warnings.warn_explicit(f"{GRADIENT_CHECKPOINTING_NOTICE} and will be removed in v6.", FutureWarning,
                               "modeling_utils.py", 1, module="transformers.modeling_utils")
        warnings.warn_explicit(f"{GRADIENT_CHECKPOINTING_NOTICE} and will be removed in v6.", FutureWarning,
                               "other.py", 1, module="another_library")
        warnings.warn_explicit("`something_else` is deprecated", FutureWarning,
                               "modeling_utils.py", 1, module="transformers.modeling_utils")
    assert [w.filename for w in shown] == ["other.py", "modeling_utils.py"]


def test_a_training_step_with_recomputed_activations_logs_nothing(monkeypatch):
    import torch
    import transformers.utils.generic as generic
    from transformers import LlamaConfig, LlamaForCausalLM

    from course_utils.training import IGNORE, answer_loss
    from course_utils.hybrid import recomputed_activations

    logged = []  # transformers logs this once per process: record the call itself
    monkeypatch.setattr(generic.logger, "warning_once", lambda message, *args, **kwargs: logged.append(message))
    tiny = LlamaForCausalLM(LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                        num_attention_heads=2, num_key_value_heads=2)).train()
    batch = {"input_ids": torch.tensor([[1, 2, 3, 4, 5]]), "attention_mask": torch.ones(1, 5, dtype=torch.long),
             "labels": torch.tensor([[IGNORE, IGNORE, IGNORE, 4, 5]])}
    with recomputed_activations(tiny):
        answer_loss(tiny, batch).backward()
    assert logged == []
