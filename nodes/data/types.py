"""The values the data pack passes along: image datasets, text corpora and tokenizers.

Their port types are shared with the train pack, so they live in the engine's public API
(``nodeflow.ports.data``); this module names them for the pack's own files.
"""

from nodeflow import ImageDataset, ImageSet, TextCorpus, TextDataset, Tokenizer

__all__ = ["ImageSet", "TextCorpus", "ImageDataset", "TextDataset", "Tokenizer"]
