"""course_utils.generation, its widget and its exercises, on the real (small) generator."""
import runpy

import pytest

from course_utils import generation
from course_utils.data import load_documents, load_questions
from course_utils.evaluation import contains_answer
from course_utils.exercises import generator as exercises
from course_utils.exercises import passed, solution_path
from course_utils.generation import (
    SYSTEM_PROMPT, answer_questions, as_llamaindex_llm, build_prompt, chat_prompt, count_tokens, generate,
    generate_batch, generate_ids, gold_context, length_batches, next_token_probs, prefill_slice, sampling_settings,
    system_turn, timed_generation, tokens_of,
)
from course_utils.widgets.generation import find_context, playground_view, prompt_playground

DOCS = load_documents("v1")
TRAIN = load_questions("train")


def mixed_prompts(tokenizer):
    """Six prompts of very different lengths: closed-book, with a document, and bare chat."""
    return [
        build_prompt(tokenizer, TRAIN[0].question),
        build_prompt(tokenizer, TRAIN[5].question, gold_context(TRAIN[5], DOCS)),
        chat_prompt(tokenizer, "What is the capital of France?"),
        build_prompt(tokenizer, load_questions("unanswerable")[0].question),
        build_prompt(tokenizer, TRAIN[20].question, gold_context(TRAIN[20], DOCS)),
        chat_prompt(tokenizer, "Hi"),
    ]


def test_chat_template_has_our_system_prompt_not_the_default(generator):
    _, tokenizer = generator
    default = system_turn(tokenizer, None)
    prompt = build_prompt(tokenizer, "Where is it?")
    assert SYSTEM_PROMPT in prompt and prompt.startswith(system_turn(tokenizer))
    assert default not in prompt
    assert default in build_prompt(tokenizer, "Where is it?", system=None)
    assert count_tokens(tokenizer, default) > count_tokens(tokenizer, system_turn(tokenizer))
    assert prompt.rstrip().endswith("assistant")  # the model's turn comes next


def test_user_message_puts_the_context_before_the_question(generator):
    _, tokenizer = generator
    q = TRAIN[0]
    context = gold_context(q, DOCS)
    prompt = build_prompt(tokenizer, q.question, context)
    assert prompt.index(context) < prompt.index(q.question)
    assert "Context" not in build_prompt(tokenizer, q.question)


def test_gold_context_is_the_questions_document():
    assert all(any(a in gold_context(q, DOCS) for a in q.answers) for q in TRAIN)
    assert gold_context(load_questions("unanswerable")[0], DOCS) is None


def test_tokens_round_trip(generator):
    _, tokenizer = generator
    prompt = build_prompt(tokenizer, "What is the capital of France?")
    tokens = tokens_of(tokenizer, prompt)
    assert len(tokens) == count_tokens(tokenizer, prompt)
    assert tokenizer.decode([i for i, _ in tokens]) == prompt
    assert tokens[0][1] == "<|im_start|>"  # no extra start-of-text token is added


def test_next_token_probs_are_sorted_probabilities(generator):
    model, tokenizer = generator
    prompt = build_prompt(tokenizer, "What is the capital of France?")
    top = next_token_probs(model, tokenizer, prompt, k=10)
    probs = [p for _, p in top]
    assert len(top) == 10 and all(0 < p <= 1 for p in probs)
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
    # greedy decoding picks the most likely token first
    assert generate(model, tokenizer, prompt, max_new_tokens=1) == top[0][0].strip()
    # a low temperature sharpens the distribution, a high one flattens it
    assert (next_token_probs(model, tokenizer, prompt, 1, temperature=0.5)[0][1] > probs[0]
            > next_token_probs(model, tokenizer, prompt, 1, temperature=2.0)[0][1])


def test_batched_greedy_equals_one_at_a_time(generator):
    model, tokenizer = generator
    prompts = mixed_prompts(tokenizer)
    assert len({count_tokens(tokenizer, p) for p in prompts}) == len(prompts)  # really different lengths
    batched = generate_batch(model, tokenizer, prompts, max_new_tokens=12, batch_size=len(prompts), progress=False)
    single = [generate(model, tokenizer, p, max_new_tokens=12) for p in prompts]
    assert batched == single
    # and in batches of 4, which sorts prompts by length across batches
    assert generate_batch(model, tokenizer, prompts, max_new_tokens=12, batch_size=4, progress=False) == single


def test_length_batches_cap_rows_and_padded_tokens():
    lengths = [100, 10, 50, 10, 300, 12, 11, 49]
    batches = length_batches(lengths, batch_size=3, max_tokens=150)
    rows = [i for _, batch in batches for i in batch]
    assert sorted(rows) == list(range(len(lengths)))  # every prompt once
    assert [lengths[i] for i in rows] == sorted(lengths)  # similar lengths share a batch
    for start, batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 150
        assert rows[start] == batch[0]  # start is the batch's place in length order
    assert [len(b) for _, b in batches] == [3, 3, 1, 1]  # 10,10,11 | 12,49,50 (3 x 50 = 150) | 100 | 300
    assert length_batches([], 4) == []


def test_prefill_slices_hold_about_prefill_tokens_and_never_split_a_short_batch():
    assert prefill_slice(64, 42, tokens=1024) == 16  # 64 closed-book prompts: three slices of 16 positions
    assert prefill_slice(30, 134, tokens=1024) == 34  # 30 prompts with a document
    assert prefill_slice(2, 40, tokens=1024) is None  # 80 tokens: one forward
    assert prefill_slice(512, 100, tokens=1024) == 16  # never thinner than 16 positions


def test_prefill_in_slices_gives_the_same_answers(generator, monkeypatch):
    model, tokenizer = generator
    prompts = mixed_prompts(tokenizer)
    widths = []
    monkeypatch.setattr(generation, "prefill_slice", lambda rows, width: widths.append(width) or 5)
    sliced = generate_ids(model, tokenizer, prompts, max_new_tokens=12, progress=False)
    monkeypatch.setattr(generation, "prefill_slice", lambda rows, width: None)
    whole = generate_ids(model, tokenizer, prompts, max_new_tokens=12, progress=False)
    assert max(widths) > 5  # the prompts were really read in several slices
    assert sliced == whole


def test_right_padding_is_refused_with_a_fix(generator):
    import copy

    model, tokenizer = generator
    right = copy.copy(tokenizer)
    right.padding_side = "right"
    with pytest.raises(ValueError, match="padding_side"):
        generate_batch(model, right, ["a", "b c"], max_new_tokens=2)
    assert tokenizer.padding_side == "left"


def test_generate_ids_stop_at_the_end_of_turn(generator):
    model, tokenizer = generator
    ids = generate_ids(model, tokenizer, mixed_prompts(tokenizer)[:3], max_new_tokens=16, progress=False)
    for row in ids:
        assert 0 < len(row) <= 16
        assert tokenizer.eos_token_id not in row[:-1]  # nothing kept after the end of the answer


def test_sampling_is_seeded(generator):
    model, tokenizer = generator
    prompt = chat_prompt(tokenizer, "Name a colour.")
    assert sampling_settings(0.0) == {}
    hot = sampling_settings(1.5)
    first = generate(model, tokenizer, prompt, max_new_tokens=8, seed=1, **hot)
    assert first == generate(model, tokenizer, prompt, max_new_tokens=8, seed=1, **hot)
    others = {generate(model, tokenizer, prompt, max_new_tokens=8, seed=s, **hot) for s in (2, 3, 4)}
    assert len(others | {first}) > 1  # different seeds, different samples


def test_timed_generation_counts_real_tokens(generator):
    model, tokenizer = generator
    prompts = mixed_prompts(tokenizer)[:3]
    run = timed_generation(model, tokenizer, prompts, batch_size=3, max_new_tokens=10)
    assert run.answers == generate_batch(model, tokenizer, prompts, max_new_tokens=10, progress=False)
    assert 0 < run.new_tokens <= 3 * 10 and run.tokens_per_second > 0


def test_oracle_context_helps(generator):
    model, tokenizer = generator
    sample = TRAIN[::7]
    closed = answer_questions(model, tokenizer, sample, progress=False)
    oracle = answer_questions(model, tokenizer, sample, DOCS, progress=False)
    assert closed[0] == generate(model, tokenizer, build_prompt(tokenizer, sample[0].question))

    def hits(answers):
        return sum(contains_answer(a, q.answers) for a, q in zip(answers, sample))
    assert hits(oracle) > hits(closed)


def test_llamaindex_llm_matches_generate(generator):
    # conftest's guard fails this test if llama-index opens any non-loopback connection
    from llama_index.core import PromptTemplate
    from llama_index.core.llms import ChatMessage

    model, tokenizer = generator
    llm = as_llamaindex_llm(model, tokenizer, max_new_tokens=16)
    text = "What is the capital of France?"
    # llama-index builds exactly our prompts, system prompt included...
    assert llm.completion_to_prompt(text) == chat_prompt(tokenizer, text)
    assert llm.messages_to_prompt([ChatMessage(role="user", content=text)]) == chat_prompt(tokenizer, text)
    # ...and decodes them greedily, as generate() does
    expected = generate(model, tokenizer, chat_prompt(tokenizer, text), max_new_tokens=16)
    assert llm.complete(text).text.strip() == expected
    assert llm.chat([ChatMessage(role="user", content=text)]).message.content.strip() == expected
    assert llm.predict(PromptTemplate("{q}"), q=text).strip() == expected
    question = TRAIN[3]
    oracle = build_prompt(tokenizer, question.question, gold_context(question, DOCS))
    assert llm.complete(oracle, formatted=True).text.strip() == generate(model, tokenizer, oracle, 16)


def test_find_context():
    q = TRAIN[4]
    assert find_context(q.question, DOCS)[1] == gold_context(q, DOCS)
    assert find_context("Who makes the quibit x2 pro?", DOCS)[0] == "Quibit X2 Pro"  # the longest title wins
    assert find_context("What is the weather like?", DOCS) == (None, None)


def test_playground_view(generator):
    model, tokenizer = generator
    q = TRAIN[1]
    closed = playground_view(model, tokenizer, q.question, max_tokens=8)
    with_doc = playground_view(model, tokenizer, q.question, max_tokens=8, use_context=True, documents=DOCS)
    assert "Context" not in closed["prompt"] and gold_context(q, DOCS) in with_doc["prompt"]
    assert with_doc["prompt_tokens"] > closed["prompt_tokens"]
    assert closed["answer"] == generate(model, tokenizer, closed["prompt"], max_new_tokens=8)
    assert len(closed["top"]) == 8 and closed["decoding"] == "greedy"
    assert "&lt;|im_start|&gt;" in closed["html"]  # the prompt is shown escaped
    hot = playground_view(model, tokenizer, q.question, temperature=1.2, max_tokens=8, seed=5)
    assert hot == playground_view(model, tokenizer, q.question, temperature=1.2, max_tokens=8, seed=5)
    terse = playground_view(model, tokenizer, "Hi", system="Answer briefly.", max_tokens=2)
    assert "Answer briefly." in terse["prompt"] and "Answer briefly." in terse["html"]
    assert system_turn(tokenizer, None) in playground_view(model, tokenizer, "Hi", system="", max_tokens=2)["prompt"]


def test_playground_widget_updates(generator):
    model, tokenizer = generator
    box = prompt_playground(model, tokenizer)
    *controls, out = box.children
    before = out.value
    next(c for c in controls if c.description == "with retrieved context").value = True
    assert out.value != before and "context:" in out.value


@pytest.mark.parametrize("name, check, wrong", [
    ("02_oracle_prompt", "check_oracle_prompt", lambda tokenizer, question, document: question),
    ("02_token_f1", "check_token_f1", lambda prediction, gold: float(prediction == gold)),
    ("02_context_tokens", "check_context_tokens", 0),
])
def test_exercise_checks(generator, name, check, wrong, capsys):
    _, tokenizer = generator
    solved = runpy.run_path(str(solution_path(name)), init_globals={"tokenizer": tokenizer})
    answer = {"02_oracle_prompt": "oracle_prompt", "02_token_f1": "my_token_f1",
              "02_context_tokens": "n_context_tokens"}[name]
    needs_tokenizer = check != "check_token_f1"
    run = getattr(exercises, check)

    def call(value):
        return passed(run, value, tokenizer) if needs_tokenizer else passed(run, value)

    assert call(solved[answer])
    assert not call(wrong)
    assert "Hint" in capsys.readouterr().out


def test_exercise_checks_survive_unsolved_and_broken_code(generator):
    _, tokenizer = generator
    assert not passed(exercises.check_oracle_prompt, lambda tokenizer, question, document: "", tokenizer)
    assert not passed(exercises.check_oracle_prompt, lambda *args: 1 / 0, tokenizer)
    assert not passed(exercises.check_token_f1, lambda prediction, gold: 0.0)
    assert not passed(exercises.check_token_f1, lambda prediction, gold: None)
    assert not passed(exercises.check_context_tokens, None, tokenizer)


def test_repeats_itself_needs_a_full_window_of_one_repeated_run():
    from course_utils.stopping import LOOP_PERIOD, LOOP_WINDOW, repeats_itself

    run = list(range(LOOP_PERIOD))  # the longest run that counts, twice over fills the window
    assert repeats_itself([7, 8] + run * (LOOP_WINDOW // LOOP_PERIOD))
    assert repeats_itself([0] * LOOP_WINDOW)
    assert not repeats_itself([0] * (LOOP_WINDOW - 1))  # shorter answers are never checked
    assert not repeats_itself(list(range(LOOP_WINDOW)))
    longer = list(range(LOOP_PERIOD + 1))  # a run too long to be called a loop
    assert not repeats_itself((longer * 3)[:LOOP_WINDOW])


def test_an_answer_that_repeats_itself_stops_early_and_is_not_counted_as_cut(generator):
    from course_utils.generation import build_prompt, eos_and_pad_ids
    from course_utils.stopping import LOOP_WINDOW, cut_off, repeats_itself

    model, tokenizer = generator
    # Closed-book, SmolLM2 answers this with "a high-end, high-end, high-end, ..." and never ends the line
    prompts = [build_prompt(tokenizer, "What is the Quibit X2 Pro's product code?"),
               build_prompt(tokenizer, "In which city is the Quibit X2 Pro assembled?")]
    cap = 3 * LOOP_WINDOW
    looped, short = generate_ids(model, tokenizer, prompts, max_new_tokens=cap, progress=False, one_line=True)
    plain = generate_ids(model, tokenizer, prompts[:1], max_new_tokens=cap, progress=False)[0]
    assert repeats_itself(looped) and len(looped) < cap and len(plain) == cap  # stopped, where it would run on
    assert plain[:len(looped)] == looped  # the same tokens up to the stop
    assert not cut_off(tokenizer, plain, cap, eos_and_pad_ids(model, tokenizer))  # at the cap, but a loop: not cut
    assert len(short) < LOOP_WINDOW  # an answer that ends within the window never meets the rule
    assert short == generate_ids(model, tokenizer, prompts[1:], max_new_tokens=cap, progress=False, one_line=True)[0]
