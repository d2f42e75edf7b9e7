"""LLM pack: load causal language models (bundled SmolLM2, local folders, GGUF files, hub ids) and
generate text with them, streamed token by token. transformers and torch are imported on use."""

from . import adapters, generation, loading, types  # noqa: F401  (importing registers the types and nodes)
