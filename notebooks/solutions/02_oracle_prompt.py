def oracle_prompt(tokenizer, question, document):
    # The same user turn as build_prompt: the context first, then the instruction and the question.
    user = f"Context:\n{document}\n\nAnswer in a few words, using only the context.\nQuestion: {question}"
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": user},
    ]
    # add_generation_prompt=True ends the prompt with the assistant header, so the model answers next.
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
