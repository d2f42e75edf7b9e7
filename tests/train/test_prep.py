"""Every preparation node: image transforms, splits, tokenizers, caption embedding, number captions."""

from __future__ import annotations

import numpy as np
import pytest

from nodes.data import image_prep, text_prep
from nodes.data.types import ImageSet, TextCorpus


def _squares() -> ImageSet:
    pixels = np.zeros((4, 3, 8, 8), np.float32)
    pixels[:, :, 2:6, 2:6] = np.linspace(0.2, 0.8, 4)[:, None, None, None]
    return ImageSet(pixels, labels=np.arange(4) % 2, captions=[f"square {i}" for i in range(4)], class_names=["a", "b"])


def test_resize_and_crop_keep_labels_and_captions(quiet):
    data = _squares()
    bigger = image_prep.resize(data, quiet, width=16, height=12, method="nearest")
    assert bigger.pixels.shape == (4, 3, 12, 16)
    assert bigger.captions == data.captions and bigger.labels.tolist() == data.labels.tolist()
    middle = image_prep.crop(data, quiet, width=4, height=4, position="center")
    assert middle.pixels.shape == (4, 3, 4, 4)
    assert np.allclose(middle.pixels[1], 0.4)  # the square's inside, nothing of the border
    with pytest.raises(ValueError, match="larger than the 8x8 images"):
        image_prep.crop(data, quiet, width=9, height=4, position="center")


def test_normalize_makes_grey_full_contrast_and_inverted(quiet):
    data = _squares()
    out = image_prep.normalize(data, quiet, channels="grey", contrast="stretch", invert=True)
    assert out.pixels.shape == (4, 1, 8, 8)
    for image in out.pixels:
        assert image.min() == pytest.approx(0.0) and image.max() == pytest.approx(1.0)
    assert out.pixels[0, 0, 0, 0] == pytest.approx(1.0)  # the black border became white


def test_augment_grows_the_set_reproducibly(digits_data, quiet):
    few = digits_data.subset(np.arange(20))
    first = image_prep.augment(few, quiet, copies=2, shift=1, rotate=10.0, flip=False, seed=3)
    again = image_prep.augment(few, quiet, copies=2, shift=1, rotate=10.0, flip=False, seed=3)
    other = image_prep.augment(few, quiet, copies=2, shift=1, rotate=10.0, flip=False, seed=4)
    assert len(first) == 60 and first.labels.tolist() == few.labels.tolist() * 3
    assert np.array_equal(first.pixels[:20], few.pixels)  # originals kept
    assert np.array_equal(first.pixels, again.pixels)
    assert not np.array_equal(first.pixels, other.pixels)
    assert not np.array_equal(first.pixels[20:40], few.pixels)


def test_split_is_seeded_disjoint_and_complete(digits_data, quiet):
    train, held = image_prep.split(digits_data, quiet, validation=0.1, seed=1)
    assert len(train) + len(held) == len(digits_data) and len(held) == 180
    again_train, _ = image_prep.split(digits_data, quiet, validation=0.1, seed=1)
    assert np.array_equal(train.pixels, again_train.pixels)
    pairs = {tuple(p.ravel()) for p in held.pixels[:20]}
    assert not pairs & {tuple(p.ravel()) for p in train.pixels} or len(pairs) < 20  # duplicates in digits are rare
    with pytest.raises(ValueError, match="leaves nothing to train on"):
        digits_data.subset([0]).split_indices(0.9, 0)


def test_split_text_cuts_at_a_line_end(quiet):
    corpus = TextCorpus("".join(f"line {i}\n" for i in range(100)))
    train, held = text_prep.split_text(corpus, quiet, validation=0.1)
    assert train.text + held.text == corpus.text
    assert train.text.endswith("\n") and 0.05 < len(held.text) / len(corpus.text) < 0.15


def test_char_tokenizer_round_trips_and_reloads_with_transformers(tmp_path, quiet):
    from transformers import AutoTokenizer

    text = "def f(x):\n    return x * 2  # double\n"
    tokenizer = text_prep.char_tokenizer(TextCorpus(text), quiet)
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert len(ids) == len(text)
    assert tokenizer.decode(ids) == text
    assert tokenizer.decode(tokenizer.encode("é", add_special_tokens=False)) == "<unk>"
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded.encode(text, add_special_tokens=False) == ids


def test_bpe_tokenizer_learns_merges_and_encodes_anything(quiet):
    from nodes.data.bundled import pydoc_text

    corpus = pydoc_text(None, topics="lambda,assert,pass,if,while,for")
    tokenizer = text_prep.bpe_tokenizer(corpus, quiet, vocab_size=400)
    assert len(tokenizer) == 400
    sample = "The expression is evaluated; 名前 ✓"
    ids = tokenizer.encode(sample, add_special_tokens=False)
    assert tokenizer.decode(ids) == sample  # byte-level: nothing is unknown
    assert len(tokenizer.encode("expression", add_special_tokens=False)) < len("expression")
    shown = text_prep.tokenize("expression", tokenizer)
    assert shown["count"] == len(shown["ids"]) == len(shown["pieces"])


def test_embed_captions_embeds_each_caption_once(embedder, digits_data, quiet):
    from nodes.data.captions import embed_captions

    few = digits_data.subset(np.arange(200))
    out = embed_captions(few, embedder, quiet)
    assert out.embeddings.shape == (200, 384) and out.embeddings.dtype == np.float32
    same = [i for i, c in enumerate(few.captions) if c == few.captions[0]]
    assert len(same) > 1 and np.allclose(out.embeddings[same[0]], out.embeddings[same[1]])
    assert np.linalg.norm(out.embeddings, axis=1) == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(ValueError, match="has no captions"):
        embed_captions(ImageSet(few.pixels), embedder, quiet)


@pytest.mark.parametrize(
    "text, fallback, caption",
    [
        ("Draw a big bold 7 with balloons.", None, "a handwritten seven"),
        ("Happy 3rd birthday!", None, "a handwritten three"),
        ("A card for someone turning nine.", None, "a handwritten nine"),
        ("Make something festive.", "a birthday card for someone turning seven", "a handwritten seven"),
        ("Twenty seven candles and then a 4", None, "a handwritten four"),
    ],
)
def test_number_caption_finds_the_number_asked_for(text, fallback, caption):
    from nodes.data.captions import number_caption

    assert number_caption(text, fallback, None, template="a handwritten {word}") == caption


def test_number_caption_says_what_is_missing():
    from nodes.data.captions import number_caption

    with pytest.raises(ValueError, match="no number from zero to nine"):
        number_caption("a lovely card", None, None, template="{word}")
