"""A tiny random Llama with the course's vocabulary, for tests that train or load adapters in a second."""


def tiny_llama(seed: int = 0, tied: bool = True):
    """Two layers, hidden size 32; ``tied``: the output head shares the embedding, as SmolLM2's does."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(vocab_size=49152, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2,
                                        tie_word_embeddings=tied)).eval()
