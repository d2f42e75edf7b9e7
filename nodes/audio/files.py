"""Loading sound files from the allowed input folders."""

from __future__ import annotations

from typing import Any

from nodeflow import Context, Param, node
from nodeflow.files import PathNotAllowed, resolve_inside
from nodeflow.provenance import content_hash

from .clip import Audio
from .io import preview_audio, read_audio

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")


def _load_fingerprint(params: dict[str, Any], ctx: Context) -> str:
    """The file's content hash, so replacing the file on disk re-runs the node."""
    try:
        path = resolve_inside(params["path"], ctx.settings.input_dirs(), must_exist=True)
    except (PathNotAllowed, FileNotFoundError) as exc:
        return f"unavailable: {exc}"  # the node reports the problem when it runs
    return content_hash(path)


@node("audio.load", category="Audio", fingerprint=_load_fingerprint)
def load_audio(
    ctx: Context,
    *,
    path: str = Param("", kind="file", extensions=AUDIO_EXTENSIONS, description="inside an allowed input folder"),
) -> Audio:
    """Load a WAV, FLAC or OGG file from an allowed input folder."""
    if not path:
        raise ValueError("no file chosen: set the path param")
    clip = read_audio(resolve_inside(path, ctx.settings.input_dirs(), must_exist=True))
    preview_audio(ctx, clip)
    return clip


