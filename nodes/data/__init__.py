"""Data pack: datasets in (bundled sets, image folders, single images, text, captioned lists),
preparation (resize, crop, normalize, augment, split), tokenizers and caption embeddings."""

from . import bundled, captions, files, image_prep, preview, text_prep  # noqa: F401  (registers nodes)
