"""Captions: embedding them with a sentence model, and turning free text into a digit caption."""

from __future__ import annotations

import re

from nodeflow import Context, Embedder, Param, check_template, fill_template, node
from nodes.data.bundled import NUMBER_WORDS
from nodes.data.types import ImageDataset

__all__ = ["find_number"]


@node("data.embed_captions", category="Data / Prepare", outputs=("dataset",))
def embed_captions(dataset: ImageDataset, embedder: Embedder, ctx: Context) -> ImageDataset:
    """Embed every caption with a sentence model (MiniLM), for caption-conditioned training."""
    from dataclasses import replace

    embeddings = dataset.caption_embeddings(embedder)
    ctx.log(f"{len(set(dataset.captions))} distinct captions embedded to {embeddings.shape[1]} numbers each")
    return replace(dataset, embeddings=embeddings)


_ORDINALS = ("zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_WORDS = {w: i for i, w in enumerate(NUMBER_WORDS)} | {w: i for i, w in enumerate(_ORDINALS)}
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
          "ninety", "hundred", "tenth", "twelfth", "twentieth")
_TOKEN = re.compile(r"[a-z]+|\d+", re.IGNORECASE)


def find_number(text: str) -> int | None:
    """The first number from 0 to 9 in ``text``, in digits ("7", "7th") or words ("seven", "seventh").

    Larger numbers ("17", "seventeen") are skipped rather than misread as a digit.
    """
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    for index, token in enumerate(tokens):
        if token.isdigit():
            if len(token) == 1:
                return int(token)
            continue
        if token in _WORDS:
            before = tokens[index - 1] if index else ""
            if before in _TEENS:  # "twenty seven" is not a seven
                continue
            if token == "one" and index + 1 < len(tokens) and tokens[index + 1] not in _TEENS:
                # "someone", "no one", "one of": the word one is mostly not a number; keep looking
                later = find_number(" ".join(tokens[index + 1 :]))
                if later is not None:
                    return later
            return _WORDS[token]
    return None


@node("data.number_caption", category="Data / Text", outputs=("caption",))
def number_caption(
    text: str,
    fallback: str | None = None,
    ctx: Context = None,
    *,
    template: str = Param("a handwritten {word}", validate=check_template, description="{word} is the number word, {digit} the digit"),
) -> str:
    """Find the number (0-9) a text asks for and write it as a caption the digit model was trained on.

    The number is looked for in ``text`` first (say, an instruction an LLM wrote), then in
    ``fallback`` (say, the user's idea it was written from).
    """
    for source in (text, fallback):
        if source:
            number = find_number(source)
            if number is not None:
                caption = fill_template(template, {"word": NUMBER_WORDS[number], "digit": number})
                if ctx is not None:
                    ctx.log(caption)
                return caption
    raise ValueError(
        "no number from zero to nine in the text" + (" or the fallback" if fallback else "")
        + f": {text[:80]!r}; ask for a number such as 'seven' or '7'"
    )
