"""Dedup filters over every item of a sweep (a list input), each a node with counts for the run and the card.

Each filter reads the items in order and keeps the first of each group of duplicates, so the result does
not depend on which item finished first. It returns one JSON value::

    {"keep": [true, false, ...],                      # one per item, in item order
     "duplicate_of": [null, 1, ...],                  # per item: the earlier item a dropped one repeats
     "stages": [{"stage": "exact", "kept": 9, "dropped": 1, "why": {"exact duplicate": 1},
                 "dropped_items": {"000004": "a copy of 000001"}}]}

Link ``result`` to the next filter's ``after`` (items it dropped stay dropped), to ``dataset.write``'s
``filter`` (dropped items are not written) and to ``dataset.finish``'s ``reports`` (the card counts them).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from nodeflow import JSON, Context, Embedder, Image, Param, node

__all__ = ["dedup_exact", "dedup_text", "dedup_images", "dedup_semantic"]


def _previous(after: Any, count: int) -> tuple[list[bool], list[int | None], list[dict[str, Any]]]:
    if after is None:
        return [True] * count, [None] * count, []
    keep = list(after.get("keep") or [])
    if len(keep) != count:
        raise ValueError(f"after: the earlier filter judged {len(keep)} items, this one has {count}; "
                         "both must read the same sweep")
    return keep, list(after.get("duplicate_of") or [None] * count), list(after.get("stages") or [])


def _filter(items: list[Any], after: Any, stage: str, reason: str, ctx: Context,
            duplicate_of: Callable[[int, Any], int | None], relation: str) -> dict[str, Any]:
    """Walk the items in order; ``duplicate_of(i, item)`` names an earlier kept item it repeats (or None)
    and remembers it when it is new. ``relation`` says how ("a copy of")."""
    keep, of, stages = _previous(after, len(items))
    dropped: dict[str, str] = {}
    for index, item in enumerate(items):
        if not keep[index]:
            continue
        earlier = duplicate_of(index, item)
        if earlier is not None:
            keep[index] = False
            of[index] = earlier
            dropped[f"{index:06d}"] = f"{relation} {earlier:06d}"
        ctx.progress(index + 1, len(items))
    kept = sum(keep)
    report = {"stage": stage, "kept": kept, "dropped": len(dropped),
              "why": {reason: len(dropped)} if dropped else {}, "dropped_items": dropped}
    ctx.log(f"{stage}: kept {kept}, dropped {len(dropped)} ({reason})")
    return {"keep": keep, "duplicate_of": of, "stages": stages + [report]}


def _content_bytes(item: Any) -> bytes:
    if isinstance(item, str):
        return item.encode("utf-8")
    if hasattr(item, "tobytes") and hasattr(item, "mode"):  # a PIL image
        return f"{item.mode}{item.size}".encode() + item.tobytes()
    return json.dumps(item, sort_keys=True, default=str).encode()


@node("dataset.dedup_exact", category="Dataset", outputs=("result",), title="Drop exact duplicates")
def dedup_exact(items: list[Any], ctx: Context, after: JSON | None = None) -> JSON:
    """Drop items whose content (text, image pixels or values) is exactly that of an earlier item."""
    seen: dict[str, int] = {}

    def duplicate_of(index: int, item: Any) -> int | None:
        digest = hashlib.sha256(_content_bytes(item)).hexdigest()
        if digest in seen:
            return seen[digest]
        seen[digest] = index
        return None

    return _filter(items, after, "exact", "exact duplicate", ctx, duplicate_of, "a copy of")


def _shingles(text: str, size: int) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    if len(words) < size:
        return {" ".join(words)}
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


@node("dataset.dedup_text", category="Dataset", outputs=("result",), title="Drop near-duplicate texts")
def dedup_text(
    items: list[str],
    ctx: Context,
    after: JSON | None = None,
    *,
    threshold: float = Param(0.7, min=0.1, max=1.0, description="Jaccard similarity of word shingles that counts as a duplicate"),
    shingle: int = Param(3, min=1, max=10, description="words per shingle"),
    permutations: int = Param(128, min=16, max=512, description="MinHash permutations (more: closer estimates, slower)"),
) -> JSON:
    """Drop texts that nearly repeat an earlier one (MinHash-LSH over word shingles, with datasketch)."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=permutations)

    def duplicate_of(index: int, text: str) -> int | None:
        signature = MinHash(num_perm=permutations, seed=1)
        for piece in _shingles(text, shingle):
            signature.update(piece.encode("utf-8"))
        found = lsh.query(signature)
        if found:
            return min(int(key) for key in found)
        lsh.insert(str(index), signature)
        return None

    return _filter(items, after, "near-duplicate text", "near duplicate", ctx, duplicate_of,
                   f"shares most {shingle}-word runs with")


@node("dataset.dedup_images", category="Dataset", outputs=("result",), title="Drop near-duplicate images")
def dedup_images(
    items: list[Image],
    ctx: Context,
    after: JSON | None = None,
    *,
    distance: int = Param(4, min=0, max=32, description="most differing bits of the perceptual hashes that count as a duplicate"),
    hash_size: int = Param(8, min=4, max=16, description="the perceptual hash is hash_size² bits"),
) -> JSON:
    """Drop images that look like an earlier one (perceptual hash with imagehash; survives resizing and
    small edits)."""
    import imagehash

    # Two hashes at most `distance` bits apart agree exactly on at least one of `distance + 1` slices of
    # their bits (pigeonhole), so each new image is compared only with kept ones sharing a slice
    slices = distance + 1
    bits = hash_size * hash_size
    bounds = [(bits * i // slices, bits * (i + 1) // slices) for i in range(slices)]
    buckets: list[dict[int, list[int]]] = [{} for _ in bounds]
    kept: dict[int, Any] = {}

    def duplicate_of(index: int, image: Any) -> int | None:
        signature = imagehash.phash(image, hash_size=hash_size)
        flat = signature.hash.flatten()
        keys = [int("".join("1" if b else "0" for b in flat[lo:hi]) or "0", 2) for lo, hi in bounds]
        candidates = sorted({k for part, key in enumerate(keys) for k in buckets[part].get(key, ())})
        for earlier in candidates:
            if signature - kept[earlier] <= distance:
                return earlier
        kept[index] = signature
        for part, key in enumerate(keys):
            buckets[part].setdefault(key, []).append(index)
        return None

    return _filter(items, after, "near-duplicate image", "looks alike", ctx, duplicate_of, "looks like")


@node("dataset.dedup_semantic", category="Dataset", outputs=("result",), title="Drop texts that say the same")
def dedup_semantic(
    items: list[str],
    embedder: Embedder,
    ctx: Context,
    after: JSON | None = None,
    *,
    threshold: float = Param(0.9, min=0.5, max=1.0, description="cosine similarity of sentence embeddings that counts as a duplicate"),
) -> JSON:
    """Drop texts whose meaning repeats an earlier one: cosine similarity of sentence embeddings (link
    embed.load's MiniLM, which ships with nodeflow) at or above the threshold."""
    import numpy as np

    vectors = embedder.encode(list(items))
    kept_rows: list[int] = []

    def duplicate_of(index: int, _text: str) -> int | None:
        if kept_rows:
            scores = vectors[kept_rows] @ vectors[index]
            best = int(np.argmax(scores))
            if float(scores[best]) >= threshold:
                return kept_rows[best]
        kept_rows.append(index)
        return None

    return _filter(items, after, "semantic", "same meaning", ctx, duplicate_of, "means the same as")
