"""The one helper every output node calls to deliver a file.

    name -> path inside the output folder -> temporary file -> write -> watermark (pixels, before
    writing) -> provenance -> C2PA credentials -> rename into place -> preview

An output node only says how to write its content::

    @node("image.save", output=True, outputs=("path",))
    def save_image(image: Image, ctx: Context, *, filename: str = Param("image.png"),
                   overwrite: bool = overwrite_param(), credentials: bool = credentials_param(),
                   watermark: str = watermark_param()) -> File:
        return deliver(ctx, filename, lambda out: out.content.save(out.path), content=image,
                       kind="image", suffixes=(".png", ".jpg"), overwrite=overwrite,
                       credentials=credentials, watermark=watermark)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nodeflow.files import atomic_path, claim_name, name_claimed, output_path, release_name
from nodeflow.nodetypes.params import Param

from .formats import embed_provenance, format_for
from .record import build_record

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from nodeflow.nodetypes.context import Context

__all__ = ["WATERMARKS", "Delivery", "credentials_param", "deliver", "overwrite_param", "watermark_param"]

WATERMARKS = ("none", "dwtdct", "rivagan", "dwtdctsvd")
# RivaGAN is the method whose mark survives JPEG at quality 75, resizing to half and a 5% crop (DWT-DCT
# survives none of the three); see bench/delivery_credentials.py for the measurements behind the choice
DEFAULT_WATERMARK = "rivagan"


@dataclass
class Delivery:
    """What a node's ``write`` receives: where to write, what, and the record that will go in."""

    path: Path  # the temporary file to write (renamed to ``target`` when all went well)
    target: Path  # where the file ends up
    content: Any  # what the node passed, watermarked when asked
    record: dict[str, Any]


def overwrite_param() -> Param:
    return Param(False, description="replace a file of the same name (off: add a number instead)")


def credentials_param() -> Param:
    return Param(
        False,
        description="attach signed C2PA content credentials (made by a generative model, with which "
        "models, inputs and guards) where the format allows: PNG, JPEG, WebP, GIF, WAV, FLAC, MP4",
    )


def watermark_param(default: str = DEFAULT_WATERMARK) -> Param:
    return Param(
        default,
        choices=WATERMARKS,
        description="an invisible watermark in the pixels (images of 256x256 and up): rivagan survives JPEG, "
        "resizing and cropping (about a second per image); dwtdct is faster but survives none of them",
    )


def deliver(
    ctx: Context,
    filename: str,
    write: Callable[[Delivery], None],
    *,
    kind: str,
    suffixes: tuple[str, ...],
    content: Any = None,
    overwrite: bool = False,
    credentials: bool = False,
    watermark: str = "none",
    preview: Any = None,
) -> Path:
    """Write a file into the output folder with its provenance (and credentials, and watermark), whole
    or not at all; shows ``preview`` (default: the file; text, or a function returning it once the file is
    written) on the node and returns the final path."""
    # 1. Where: inside the output folder whatever the name says, numbered unless overwriting
    target = _claim(ctx.output_dir, filename, suffixes, overwrite)
    try:
        return _deliver(ctx, target, write, kind, content, credentials, watermark, preview)
    finally:
        if not overwrite:
            _release(target)


# Choosing a free name and renaming the written file into place are far apart (encoding, provenance,
# signing): without a claim, two deliveries running side by side (sweep items, parallel branches,
# another process on the same output folder) saw the same name free and the second file replaced the
# first. Claims of this process are kept here; a hidden marker file tells other processes.
_claims_lock = threading.Lock()
_claimed: set[Path] = set()


class _Taken:
    """The names no delivery may choose now: claimed here, or by a live writer in another process."""

    def __contains__(self, path: object) -> bool:
        return path in _claimed or (isinstance(path, Path) and name_claimed(path))


def _claim(output_dir: Path, filename: str, suffixes: tuple[str, ...], overwrite: bool) -> Path:
    if overwrite:
        return output_path(output_dir, filename, suffixes, overwrite=True)
    with _claims_lock:
        for _ in range(1000):
            target = output_path(output_dir, filename, suffixes, overwrite=False, taken=_Taken())
            if claim_name(target):  # else another process marked it a moment ago: choose again
                _claimed.add(target)
                return target
    raise FileExistsError(f"could not claim a free name like {filename!r} in the output folder")


def _release(target: Path) -> None:
    with _claims_lock:
        release_name(target)
        _claimed.discard(target)


def _deliver(ctx: Context, target: Path, write: Callable[[Delivery], None], kind: str, content: Any,
             credentials: bool, watermark: str, preview: Any) -> Path:
    fmt = format_for(target)
    record = build_record(ctx, target, kind=kind)

    # 2. The watermark goes into the pixels before they are encoded
    if watermark not in (None, "", "none"):
        if fmt is None or not fmt.watermark:
            raise ValueError(f"a watermark goes into still images (PNG, JPEG, WebP), not {target.suffix} files")
        from .watermark import embed_readable, too_small

        if too_small(content):  # the default asks for one on every image: small ones go unmarked, saying so
            record["watermark"] = {"method": "none", "skipped": "the picture is under 256x256"}
        else:  # embedded, read back, and another method tried when it cannot be (flat pictures)
            content, record["watermark"] = embed_readable(content, watermark)
    if credentials and (fmt is None or not fmt.credentials):
        raise ValueError(f"C2PA credentials cannot be attached to {target.suffix} files; use another format")

    # 3. Write, embed the record, sign: all on a temporary file that replaces the target at the end
    with atomic_path(target) as tmp:
        write(Delivery(tmp, target, content, record))
        embed_provenance(tmp, record, final=target)
        if credentials:
            from .credentials import sign_file

            sign_file(tmp, fmt.mime, record, ctx.settings)  # type: ignore[union-attr]

    # 4. Show it on the node
    if preview is None:
        ctx.preview(target, kind=kind if kind in ("image", "audio", "video") else None)
    else:  # text, or a function giving it once written
        ctx.preview(preview() if callable(preview) else preview)
    return target
