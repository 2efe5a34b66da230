# Uses the notebook's `tokenizer`.
from course_utils.data import load_documents, load_questions
from course_utils.generation import build_prompt, count_tokens, gold_context

first = load_questions("train")[0]
closed_book = build_prompt(tokenizer, first.question)
with_document = build_prompt(tokenizer, first.question, gold_context(first, load_documents("v1")))
n_context_tokens = count_tokens(tokenizer, with_document) - count_tokens(tokenizer, closed_book)
