"""Datasets from the user's files: an image folder, single images, text files, captioned image lists.

Paths must lie inside the allowed input folders. Each file-reading node has a content fingerprint,
so editing the files re-runs it (and everything trained on it), and nothing else does.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from nodeflow import Context, Image, Param, PathNotAllowed, content_hash, files_inside, from_pil, node, resolve_inside
from nodes.data.preview import preview_images, preview_text
from nodes.data.types import ImageDataset, ImageSet, TextCorpus, TextDataset

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
TEXT_EXTENSIONS = (".txt", ".md", ".rst", ".py", ".json", ".csv", ".html")


def _resolve(path: str, ctx: Context, what: str) -> Path:
    if not path:
        raise ValueError(f"no {what} chosen: set the path param")
    return resolve_inside(path, ctx.settings.input_dirs(), must_exist=True)


def _files_in(folder: Path, extensions: tuple[str, ...], ctx: Context, recursive: bool = True) -> list[Path]:
    """The folder's files with these extensions; links leading out of the input folders are left out."""
    return files_inside(folder, ctx.settings.input_dirs(), suffixes=extensions, recursive=recursive)


def _hash_files(paths: Iterable[Path], root: Path) -> str:
    """Names and contents of the files; each file's hash is remembered while it is unchanged."""
    digest = hashlib.blake2b(digest_size=16)
    for path in paths:
        digest.update(str(path.relative_to(root) if root in path.parents else path.name).encode() + b"\0")
        digest.update(bytes.fromhex(content_hash(path)))
    return digest.hexdigest()


def _content_fingerprint(extensions: tuple[str, ...]):
    """A fingerprint of every file a path param names (a file, or a folder's matching files)."""

    def fingerprint(params: dict[str, Any], ctx: Context) -> str:
        try:
            path = _resolve(params["path"], ctx, "file")
        except (PathNotAllowed, FileNotFoundError, ValueError) as exc:
            return f"unavailable: {exc}"  # the node reports the problem when it runs
        if path.is_dir():
            return _hash_files(_files_in(path, extensions, ctx), path)
        files = [path]
        if path.suffix.lower() in (".csv", ".jsonl"):  # a captions list: the images it names count too
            try:
                files += [p for p, _, _ in _read_caption_rows(path) if p.is_file()]
            except ValueError as exc:
                return f"unreadable: {exc}"
        return _hash_files(files, path.parent)

    return fingerprint


def _read_image(path: Path, size: int, channels: int, fit: str) -> np.ndarray:
    try:
        with PILImage.open(path) as opened:
            picture = opened.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path.name} is not an image Pillow can read ({exc})") from None
    if fit == "cover":
        side = min(picture.size)
        left, top = (picture.width - side) // 2, (picture.height - side) // 2
        picture = picture.crop((left, top, left + side, top + side))
    return from_pil(picture.resize((size, size), PILImage.Resampling.LANCZOS), channels)


_IMAGE_PARAMS = dict(
    size=Param(32, min=4, max=1024, description="every image becomes size x size"),
    fit=Param("cover", choices=("cover", "stretch"), description="cover: centre-crop square first"),
    colour=Param(True, description="off: grey"),
)


@node("data.image_folder", category="Data", fingerprint=_content_fingerprint(IMAGE_EXTENSIONS), outputs=("dataset",))
def image_folder(
    ctx: Context,
    *,
    path: str = Param("", kind="file", description="a folder inside an allowed input folder"),
    size: int = _IMAGE_PARAMS["size"],
    fit: str = _IMAGE_PARAMS["fit"],
    colour: bool = _IMAGE_PARAMS["colour"],
) -> ImageDataset:
    """Every image in a folder. Images in sub-folders are labelled with the sub-folder's name."""
    folder = _resolve(path, ctx, "folder")
    if not folder.is_dir():
        raise ValueError(f"{path} is a file; data.image_folder reads a folder of images")
    files = _files_in(folder, IMAGE_EXTENSIONS, ctx)
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {path}")
    channels = 3 if colour else 1
    pixels = []
    for index, file in enumerate(files):
        ctx.progress(index, len(files))
        pixels.append(_read_image(file, size, channels, fit))
    groups = [f.relative_to(folder).parts[0] if len(f.relative_to(folder).parts) > 1 else "" for f in files]
    class_names = sorted(set(groups)) if any(groups) else []
    data = ImageSet(
        pixels=np.stack(pixels),
        labels=np.array([class_names.index(g) for g in groups]) if class_names else None,
        class_names=class_names,
        name=folder.name,
    )
    preview_images(ctx, data)
    return data


@node("data.add_image", category="Data", outputs=("dataset",))
def add_image(
    image: Image,
    dataset: ImageDataset | None = None,
    ctx: Context = None,
    *,
    caption: str = Param("", description="optional caption for this image"),
    size: int = _IMAGE_PARAMS["size"],
    colour: bool = _IMAGE_PARAMS["colour"],
) -> ImageDataset:
    """Make a one-image dataset, or add the image to a linked dataset (chain these for a few images).

    Joining a dataset, the image takes that dataset's size and colour, and size/colour are ignored.
    """
    if dataset is not None:
        channels, (height, width) = dataset.channels, dataset.size
    else:
        channels, height, width = (3 if colour else 1), size, size
    pixels = from_pil(image.convert("RGB").resize((width, height), PILImage.Resampling.LANCZOS), channels)[None]
    if dataset is None:
        data = ImageSet(pixels=pixels, captions=[caption] if caption else None, name="images")
    else:
        if (dataset.captions is None) != (not caption) and len(dataset):
            raise ValueError("either every image has a caption or none has: set caption on all or none")
        data = ImageSet(
            pixels=np.concatenate([dataset.pixels, pixels]),
            captions=None if dataset.captions is None else [*dataset.captions, caption],
            name=dataset.name,
        )
    preview_images(ctx, data)
    return data


def _read_caption_rows(path: Path) -> list[tuple[Path, str, str | None]]:
    """(image path, caption, label or None) rows from a CSV with a header, or from JSON lines."""
    rows: list[dict[str, Any]] = []
    if path.suffix.lower() == ".jsonl":
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path.name} line {number}: not JSON ({exc})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path.name} line {number}: expected an object like {{\"image\": ..., \"caption\": ...}}")
            rows.append(row)
    else:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    out = []
    for number, row in enumerate(rows, 1):
        image = row.get("image") or row.get("file") or row.get("path")
        caption = row.get("caption") or row.get("text")
        if not image or caption is None:
            raise ValueError(f"{path.name} row {number}: needs an 'image' and a 'caption' column")
        label = row.get("label")
        out.append((path.parent / str(image), str(caption), None if label in (None, "") else str(label)))
    if not out:
        raise ValueError(f"{path.name} has no rows")
    return out


@node("data.captioned_images", category="Data", fingerprint=_content_fingerprint(IMAGE_EXTENSIONS), outputs=("dataset",))
def captioned_images(
    ctx: Context,
    *,
    path: str = Param(
        "", kind="file", extensions=(".csv", ".jsonl"),
        description="CSV with image,caption[,label] columns, or JSON lines with those keys",
    ),
    size: int = _IMAGE_PARAMS["size"],
    fit: str = _IMAGE_PARAMS["fit"],
    colour: bool = _IMAGE_PARAMS["colour"],
) -> ImageDataset:
    """Images with captions listed in a CSV or JSON-lines file; image paths are relative to that file."""
    listing = _resolve(path, ctx, "captions file")
    if listing.suffix.lower() not in (".csv", ".jsonl"):
        raise ValueError(f"{path}: expected a .csv or .jsonl file")
    rows = _read_caption_rows(listing)
    roots = ctx.settings.input_dirs()
    pixels = []
    for index, (image_path, _, _) in enumerate(rows):
        ctx.progress(index, len(rows))
        resolved = resolve_inside(image_path, roots, must_exist=True)
        pixels.append(_read_image(resolved, size, 3 if colour else 1, fit))
    labels = [label for _, _, label in rows]
    class_names = sorted({label for label in labels if label is not None})
    if class_names and None in labels:
        raise ValueError(f"{path}: some rows have a label and some do not")
    data = ImageSet(
        pixels=np.stack(pixels),
        captions=[caption for _, caption, _ in rows],
        labels=np.array([class_names.index(label) for label in labels]) if class_names else None,
        class_names=class_names,
        name=listing.stem,
    )
    preview_images(ctx, data)
    return data


@node("data.text_file", category="Data", fingerprint=_content_fingerprint(TEXT_EXTENSIONS), outputs=("corpus",))
def text_file(
    ctx: Context,
    *,
    path: str = Param("", kind="file", description="a text file, or a folder of .txt/.md/.py/... files"),
) -> TextDataset:
    """A text corpus from one file or every text file in a folder (joined with blank lines)."""
    source = _resolve(path, ctx, "text file")
    files = _files_in(source, TEXT_EXTENSIONS, ctx) if source.is_dir() else [source]
    if not files:
        raise ValueError(f"no text files ({', '.join(TEXT_EXTENSIONS)}) in {path}")
    parts = []
    for file in files:
        try:
            parts.append(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise ValueError(f"{file.name} is not UTF-8 text") from None
    corpus = TextCorpus("\n\n".join(parts), name=source.name)
    if not corpus.text.strip():
        raise ValueError(f"{path} holds no text")
    preview_text(ctx, corpus)
    return corpus
