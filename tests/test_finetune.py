"""Fine-tuning: answer-only labels, the adapter cache (reuse and invalidation), resume, bad inputs.

Training runs on a tiny random Llama with the course's tokenizer (loaded
without the model), 1–2 epochs over a few pairs: seconds, not minutes.
"""
import itertools
from dataclasses import replace

import pytest
import torch

from course_utils import adapters, training
from course_utils.lora import AdapterError
from course_utils.training import (IGNORE, TrainConfig, answer_loss, check_pairs, collate, encode_pair, qa_pairs,
                                   train_adapter)
from course_utils.adapters import closed_book_adapter, closed_book_questions, finetuned_model, get_or_train_adapter
from tiny_models import tiny_llama


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    return tmp_path


TINY = TrainConfig(r=2, alpha=4, epochs=1, batch_size=2, lr=1e-2)


def few_pairs(tokenizer, n=4):
    return qa_pairs(tokenizer, closed_book_questions("v1")[:n])


def test_labels_mask_the_prompt_and_keep_the_answer(tokenizer):
    prompt, answer = few_pairs(tokenizer, 1)[0]
    ids, labels = encode_pair(tokenizer, prompt, answer)
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert labels[:n_prompt] == [IGNORE] * n_prompt
    assert labels[n_prompt:] == ids[n_prompt:] and labels[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids[n_prompt:-1]).strip() == answer


def test_answer_loss_equals_the_full_loss_with_masked_labels(tokenizer):
    model = tiny_llama()
    encoded = [encode_pair(tokenizer, p, a) for p, a in few_pairs(tokenizer, 3)]
    batch = collate(encoded, tokenizer.pad_token_id)
    assert (batch["attention_mask"][:, -1] == 1).all()  # left padding: every row ends with its answer
    with torch.no_grad():
        ours = answer_loss(model, batch)
        positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        reference = model(**batch, position_ids=positions).loss  # transformers' loss over all logits
    assert torch.allclose(ours, reference, atol=1e-5)


def test_empty_or_malformed_training_set_is_refused(tokenizer):
    with pytest.raises(ValueError, match="training set is empty.*Fix"):
        check_pairs([])
    with pytest.raises(ValueError, match="training set is empty"):
        train_adapter(tiny_llama(), tokenizer, [], TINY, progress=False)
    with pytest.raises(ValueError, match="non-empty answer"):
        check_pairs([("prompt", "  ")])
    with pytest.raises(ValueError, match="training set is empty"):
        get_or_train_adapter("x", [], TINY, tiny_llama(), tokenizer)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="learning rate"):
        TrainConfig(lr=0)
    with pytest.raises(ValueError, match="extra_phrasings"):
        closed_book_questions("v1", extra_phrasings=4)
    with pytest.raises(ValueError, match="Unknown version"):
        closed_book_questions("v3")
    assert TrainConfig(targets="q_proj").targets == ("q_proj",)


def test_closed_book_questions_follow_the_version_and_phrasings():
    v1, v2 = closed_book_questions("v1"), closed_book_questions("v2", extra_phrasings=1)
    assert len(v2) == 2 * len(v1) and len({q.fact_id for q in v1}) == len(v1)
    changed = {q.fact_id for q in v1} & {q.fact_id for q in v2 if q.split == "train"}
    answers_v1, answers_v2 = ({q.fact_id: q.answers[0] for q in qs if q.split == "train"} for qs in (v1, v2))
    assert sum(answers_v1[f] != answers_v2[f] for f in changed) > 0  # some facts changed in v2
    assert {q.split for q in v2} == {"train", "train_extra"}


def test_training_changes_only_lora_and_leaves_the_base_as_it_was(tokenizer):
    model = tiny_llama()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = train_adapter(model, tokenizer, few_pairs(tokenizer), TINY, progress=False)
    assert len(result.history) == 2 and result.tokens > 0
    result.model.unload()
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_training_and_answering_work_on_a_bfloat16_model(tokenizer):
    # On a CPU with native bf16 the course loads the generator in bfloat16 (machine.choose_precision); the unit tests
    # otherwise run in float32, so this is what proves that path: the LoRA weights train, answers come back.
    model = tiny_llama().to(torch.bfloat16)
    result = train_adapter(model, tokenizer, few_pairs(tokenizer), replace(TINY, epochs=2), progress=False)
    assert all(torch.isfinite(torch.tensor(loss)) for loss in result.history)
    assert result.history[-1] < result.history[0]  # it learns: the loss falls
    answers = training.pair_accuracy(result.model, tokenizer, few_pairs(tokenizer))
    assert 0 <= answers <= 1
    result.model.unload()


def test_training_can_continue_from_a_saved_adapter(tokenizer, cache):
    from safetensors.torch import load_file

    model, pairs = tiny_llama(), few_pairs(tokenizer)
    first = get_or_train_adapter("tiny", pairs, TINY, model, tokenizer, progress=False)
    saved = load_file(first.folder / "adapter_model.safetensors")
    # with a learning rate too small to move them, the weights it starts from are the saved ones, not fresh ones
    still = TrainConfig(r=2, alpha=4, epochs=1, batch_size=2, lr=1e-12)
    warm = train_adapter(model, tokenizer, pairs, still, progress=False, start_from=first)
    weights = {k: v for k, v in warm.model.state_dict().items() if "lora_" in k}
    assert len(weights) == len(saved) > 0
    assert all(torch.allclose(v, saved[k.replace(".default", "")], atol=1e-6) for k, v in weights.items())
    warm.model.unload()
    cold = train_adapter(model, tokenizer, pairs, still, progress=False)
    assert not all(torch.allclose(v, saved[k.replace(".default", "")], atol=1e-6)
                   for k, v in cold.model.state_dict().items() if "lora_" in k)
    cold.model.unload()
    # continuing is part of the cache key, and an adapter of another shape is refused with a fix
    cont = get_or_train_adapter("tiny", pairs, TINY, model, tokenizer, progress=False, start_from=first)
    assert cont.folder != first.folder and cont.info["start_from"] == first.folder.name
    with pytest.raises(AdapterError, match="same rank"):
        train_adapter(model, tokenizer, pairs, TrainConfig(r=4, alpha=4, epochs=1, batch_size=2), progress=False,
                      start_from=first)
    assert not hasattr(model, "peft_config")


def test_cache_reuses_same_settings_and_retrains_changed_ones(tokenizer, cache, capsys):
    model, pairs = tiny_llama(), few_pairs(tokenizer)
    first = get_or_train_adapter("tiny", pairs, TINY, model, tokenizer, progress=False)
    again = get_or_train_adapter("tiny", pairs, TINY, model, tokenizer, progress=False)
    changed = get_or_train_adapter("tiny", pairs, TrainConfig(r=2, alpha=4, epochs=1, batch_size=2, lr=5e-3),
                                   model, tokenizer, progress=False)
    other_data = get_or_train_adapter("tiny", pairs[:3], TINY, model, tokenizer, progress=False)
    assert (first.reused, again.reused, changed.reused, other_data.reused) == (False, True, False, False)
    assert first.folder == again.folder
    assert len({first.folder, changed.folder, other_data.folder}) == 3
    out = capsys.readouterr().out
    assert "reusing cached adapter" in out and out.count("training adapter") == 3
    assert not hasattr(model, "peft_config")  # the caller's model is plain again


def test_damaged_cache_entry_is_retrained(tokenizer, cache, capsys):
    model, pairs = tiny_llama(), few_pairs(tokenizer)
    first = get_or_train_adapter("tiny", pairs, TINY, model, tokenizer, progress=False)
    (first.folder / "adapter_model.safetensors").write_bytes(b"")
    again = get_or_train_adapter("tiny", pairs, TINY, model, tokenizer, progress=False)
    assert not again.reused and "unusable" in capsys.readouterr().out
    finetuned_model(model, again).unload()  # the retrained adapter loads


class Interrupt(Exception):
    pass


def test_interrupted_training_resumes_from_the_epoch_checkpoint(tokenizer, cache, tmp_path, monkeypatch):
    model, pairs = tiny_llama(), few_pairs(tokenizer)
    config = TrainConfig(r=2, alpha=4, epochs=3, batch_size=2, lr=1e-2)

    def stop_after_first(epoch):
        if epoch == 1:
            raise Interrupt

    with pytest.raises(Interrupt):
        get_or_train_adapter("resume", pairs, config, model, tokenizer, progress=False, on_epoch_end=stop_after_first)
    assert not hasattr(model, "peft_config")  # the interrupted run left the base model plain
    resumed = get_or_train_adapter("resume", pairs, config, model, tokenizer, progress=False)
    assert resumed.info["resumed_after_epoch"] == 1 and not resumed.reused

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "uninterrupted"))
    straight = get_or_train_adapter("resume", pairs, config, model, tokenizer, progress=False)
    assert straight.info["resumed_after_epoch"] == 0
    assert resumed.history == pytest.approx(straight.history, rel=1e-4)  # the same run, in two pieces


def test_a_resumed_run_reports_the_cost_of_both_pieces(tokenizer, cache, monkeypatch):
    import json

    model, pairs = tiny_llama(), few_pairs(tokenizer)
    config = TrainConfig(r=2, alpha=4, epochs=3, batch_size=2, lr=1e-2)
    clock = itertools.count(0, 10)  # every reading of the clock is 10 s after the last
    monkeypatch.setattr(training.time, "perf_counter", lambda: float(next(clock)))

    def stop_after_first(epoch):
        raise Interrupt

    with pytest.raises(Interrupt):
        get_or_train_adapter("cost", pairs, config, model, tokenizer, progress=False, on_epoch_end=stop_after_first)
    [state] = cache.glob("adapters/.cost-*-partial/checkpoint/state.json")
    spent_seconds, spent_tokens = json.loads(state.read_text())["spent"]
    assert spent_seconds > 0 and spent_tokens > 0
    resumed = get_or_train_adapter("cost", pairs, config, model, tokenizer, progress=False)
    assert resumed.info["seconds"] > spent_seconds  # the first piece is counted, not only the epochs after it
    monkeypatch.setenv("COURSE_CACHE_DIR", str(cache / "straight"))
    straight = get_or_train_adapter("cost", pairs, config, model, tokenizer, progress=False)
    assert resumed.info["tokens"] == straight.info["tokens"]  # every token of the run, in either case


def test_training_stops_once_the_adapter_knows_its_training_set(tokenizer, monkeypatch):
    model, pairs = tiny_llama(), few_pairs(tokenizer)
    checks = iter([0.5, 0.75, 0.95, 1.0])
    monkeypatch.setattr(training, "pair_accuracy", lambda *args: next(checks))
    config = TrainConfig(r=2, alpha=4, epochs=10, batch_size=2, lr=1e-2, until_accuracy=0.9, check_every=1)
    result = train_adapter(model, tokenizer, pairs, config, progress=False)
    assert (result.epochs_run, result.train_accuracy) == (3, 0.95)
    assert len(result.history) == 3 * 2  # 4 pairs in batches of 2: two steps per epoch, three epochs
    result.model.unload()
    fixed = train_adapter(model, tokenizer, pairs, TrainConfig(r=2, alpha=4, epochs=2, batch_size=2), progress=False)
    assert (fixed.epochs_run, fixed.train_accuracy) == (2, None)  # no target: every epoch, no check
    fixed.model.unload()
    with pytest.raises(ValueError, match="until_accuracy"):
        TrainConfig(until_accuracy=1.5)


def test_the_epochs_are_chosen_on_dev_among_those_that_know_the_training_set(tokenizer, monkeypatch):
    model, pairs = tiny_llama(), few_pairs(tokenizer)
    dev = pairs[:2]  # two pairs: the fake below tells them from the four training pairs by their number
    train_checks, dev_checks = iter([0.5, 0.95, 0.95, 0.8]), iter([0.5, 0.75])
    monkeypatch.setattr(training, "pair_accuracy",
                        lambda m, t, ps: next(dev_checks) if len(ps) == len(dev) else next(train_checks))
    lora_of = {}

    def snapshot(epoch):  # the adapter's weights after each epoch, to check which ones were kept
        lora_of[epoch] = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}

    config = TrainConfig(r=2, alpha=4, epochs=10, batch_size=2, lr=1e-2, until_accuracy=0.9, check_every=1,
                         dev_epochs=2)
    result = train_adapter(model, tokenizer, pairs, config, progress=False, on_epoch_end=snapshot, dev_pairs=dev)
    # Known at epoch 2: candidates 2, 3 and 4; epoch 4 no longer knows the training set, so it cannot be kept.
    assert (result.epochs_run, result.kept_epoch, result.dev_accuracy) == (4, 3, {2: 0.5, 3: 0.75})
    assert result.train_accuracy == 0.95
    kept = {n.removeprefix("base_model.model."): p for n, p in result.model.named_parameters() if "lora_" in n}
    assert all(torch.equal(kept[n], lora_of[3][n]) for n in kept)
    assert not all(torch.equal(kept[n], lora_of[4][n]) for n in kept)
    result.model.unload()
    with pytest.raises(ValueError, match="dev_pairs"):
        train_adapter(model, tokenizer, pairs, config, progress=False)
    with pytest.raises(ValueError, match="dev_epochs"):
        TrainConfig(dev_epochs=-1)


def test_the_costly_check_waits_until_the_answers_are_nearly_known(tokenizer, monkeypatch):
    model, pairs = tiny_llama(), few_pairs(tokenizer)  # an untrained tiny model predicts none of the answers
    calls = []
    monkeypatch.setattr(training, "pair_accuracy", lambda *args: calls.append(1) or 1.0)
    gated = TrainConfig(r=2, alpha=4, epochs=3, batch_size=2, until_accuracy=0.9, check_every=1, check_within=0.3)
    result = train_adapter(model, tokenizer, pairs, gated, progress=False)
    assert (calls, result.epochs_run, result.train_accuracy) == ([], 3, None)  # never within 30 points: no check
    result.model.unload()
    ungated = TrainConfig(r=2, alpha=4, epochs=3, batch_size=2, until_accuracy=0.9, check_every=1)
    result = train_adapter(model, tokenizer, pairs, ungated, progress=False)
    assert (len(calls), result.epochs_run) == (1, 1)  # checked after the first epoch, and stopped there
    result.model.unload()
    with pytest.raises(ValueError, match="check_within"):
        TrainConfig(check_within=2)


def test_answer_hits_are_rows_whose_every_answer_token_is_the_top_prediction(tokenizer):
    model, pairs = tiny_llama(), few_pairs(tokenizer)
    batch = collate([encode_pair(tokenizer, p, a) for p, a in pairs], tokenizer.pad_token_id)
    loss, hits = answer_loss(model, batch, hits=True)
    assert torch.equal(loss, answer_loss(model, batch)) and hits.shape == (len(pairs),)
    # Replace each answer by what the model predicts at teacher-forced positions: then every row is a hit.
    with torch.no_grad():
        positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        top = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                    position_ids=positions).logits.argmax(-1)
    answer = batch["labels"] != IGNORE
    forced = dict(batch, labels=torch.where(answer, torch.roll(top, 1, dims=1), batch["labels"]))
    assert answer_loss(model, forced, hits=True)[1].all()


def test_pair_accuracy_grades_strictly(tokenizer, monkeypatch):
    pairs = [("p1", "Porto"), ("p2", "2013"), ("p3", "Lima")]
    monkeypatch.setattr("course_utils.generation.generate_batch",
                        lambda *args, **kwargs: ["Porto", "2013 or 2014", "I don't know"])
    assert training.pair_accuracy(tiny_llama(), tokenizer, pairs) == pytest.approx(1 / 3)


def test_closed_book_adapter_and_finetuned_model(tokenizer, cache):
    model = tiny_llama()
    facts = [q.fact_id for q in closed_book_questions("v1")[:2]]
    run = closed_book_adapter(model, tokenizer, version="v2", extra_phrasings=1, config=TINY, progress=False,
                              fact_ids=facts)
    assert run.info["pairs"] == 4 and "closed-book-v2-x1" in run.folder.name
    # the v2 adapter is an update: it continued from the v1 adapter on the same facts, trained on the way
    v1 = closed_book_adapter(model, tokenizer, version="v1", extra_phrasings=1, config=TINY, progress=False,
                             fact_ids=facts)
    assert v1.reused and run.info["start_from"] == v1.folder.name and v1.info["start_from"] is None
    ft = finetuned_model(model, run.folder)
    answers = adapters.answer_closed_book(ft, tokenizer, closed_book_questions("v1")[:2], max_new_tokens=3,
                                          progress=False)
    assert len(answers) == 2 and all(isinstance(a, str) for a in answers)
    assert ft.unload() is model
    with pytest.raises(ValueError, match="extra_phrasings"):
        closed_book_adapter(model, tokenizer, extra_phrasings=-1, config=TINY)


def test_a_checkpoint_keeps_the_dev_candidates_and_the_best_weights(tmp_path):
    from course_utils.checkpoints import Progress, load_checkpoint, save_checkpoint, trainable_weights

    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    best = {n: torch.full_like(p, 7.0) for n, p in model.named_parameters()}
    saved = Progress(4, [1.0, 0.5], (12.5, 300), {3: (0.95, 0.75), 4: (0.92, 0.5)}, best)
    save_checkpoint(tmp_path / "ckpt", model, optimizer, saved, "stamp")
    fresh = torch.nn.Linear(3, 2)
    loaded = load_checkpoint(tmp_path / "ckpt", fresh, torch.optim.AdamW(fresh.parameters(), lr=0.1), "stamp")
    assert (loaded.epoch, loaded.history, loaded.spent, loaded.dev) == (4, [1.0, 0.5], (12.5, 300), saved.dev)
    assert all(torch.equal(loaded.best[n], best[n]) for n in best)
    assert all(torch.equal(p, trainable_weights(model)[n]) for n, p in fresh.named_parameters())
    assert load_checkpoint(tmp_path / "ckpt", fresh, optimizer, "another stamp") is None
