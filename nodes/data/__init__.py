"""Data pack: datasets in (bundled sets, image folders, single images, text, captioned lists),
preparation (resize, crop, normalize, augment, split), tokenizers and caption embeddings."""

from . import bundled, captions, examples, files, image_prep, instructions, preview, text_prep  # noqa: F401  (registers nodes)
