"""Preparing text: a train/validation split and tokenizers trained with the `tokenizers` library.

Tokenizers are transformers ``PreTrainedTokenizerFast`` objects, so a language model trained on them
saves as one folder that ``AutoTokenizer`` and ``AutoModelForCausalLM`` load.
"""

from __future__ import annotations

from typing import NamedTuple

from nodeflow import Context, Param, node
from nodes.data.types import TextCorpus, TextDataset, Tokenizer

END_OF_TEXT = "<|endoftext|>"
UNKNOWN = "<unk>"


class TextSplit(NamedTuple):
    train: TextDataset
    validation: TextDataset


@node("data.split_text", category="Data / Prepare")
def split_text(
    corpus: TextDataset,
    ctx: Context,
    *,
    validation: float = Param(0.1, min=0.0, max=0.9, step=0.01, description="share held out, from the end"),
) -> TextSplit:
    """Hold out the last part of the text for validation (a contiguous cut, so no passage leaks)."""
    cut = int(len(corpus.text) * (1 - validation))
    newline = corpus.text.rfind("\n", 0, cut)  # cut at a line end when one is near
    if newline > cut - 2000 and newline > 0:
        cut = newline + 1
    train, held = corpus.text[:cut], corpus.text[cut:]
    if not train:
        raise ValueError("the validation share leaves no text to train on")
    ctx.log(f"{len(train):,} characters for training, {len(held):,} for validation")
    return TextSplit(TextCorpus(train, corpus.name), TextCorpus(held, f"{corpus.name} (validation)"))


def _wrap(tokenizer, *, unk: str | None):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token=END_OF_TEXT, bos_token=END_OF_TEXT, unk_token=unk
    )


def char_tokenizer_for(text: str):
    """A character-level tokenizer: one token per character seen in ``text``, plus end and unknown."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models

    alphabet = sorted(set(text))
    vocab = {END_OF_TEXT: 0, UNKNOWN: 1, **{ch: i + 2 for i, ch in enumerate(alphabet)}}
    # BPE without merges is exactly character-level; Fuse joins characters back without spaces
    tokenizer = HFTokenizer(models.BPE(vocab=vocab, merges=[], unk_token=UNKNOWN, ignore_merges=True))
    tokenizer.decoder = decoders.Fuse()
    tokenizer.add_special_tokens([END_OF_TEXT])
    return _wrap(tokenizer, unk=UNKNOWN)


def bpe_tokenizer_for(text: str, vocab_size: int):
    """A byte-level BPE tokenizer (GPT-2 style) trained on ``text``."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers, trainers

    tokenizer = HFTokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[END_OF_TEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(text.splitlines(keepends=True), trainer=trainer)
    return _wrap(tokenizer, unk=None)


@node("data.char_tokenizer", category="Data / Text")
def char_tokenizer(corpus: TextDataset, ctx: Context) -> Tokenizer:
    """A character-level tokenizer built from the characters in the corpus."""
    tokenizer = char_tokenizer_for(corpus.text)
    ctx.log(f"{len(tokenizer)} tokens (characters seen in {corpus.name})")
    return tokenizer


@node("data.bpe_tokenizer", category="Data / Text")
def bpe_tokenizer(
    corpus: TextDataset,
    ctx: Context,
    *,
    vocab_size: int = Param(1000, min=260, max=65536, description="including the 256 byte tokens"),
) -> Tokenizer:
    """A byte-level BPE tokenizer trained on the corpus (any text encodes; nothing is unknown)."""
    tokenizer = bpe_tokenizer_for(corpus.text, vocab_size)
    sample = corpus.text[:200]
    pieces = tokenizer.convert_ids_to_tokens(tokenizer.encode(sample)[:24])
    ctx.log(f"{len(tokenizer)} tokens; '{sample[:40]}' -> {pieces}")
    return tokenizer


@node("data.tokenize", category="Data / Text", outputs=("tokens",))
def tokenize(text: str, tokenizer: Tokenizer) -> dict:
    """Show how a tokenizer splits a text: the token ids and pieces, as JSON."""
    ids = tokenizer.encode(text)
    return {"ids": ids, "pieces": tokenizer.convert_ids_to_tokens(ids), "count": len(ids)}
