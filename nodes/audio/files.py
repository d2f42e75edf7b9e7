"""Loading sound files from the allowed input folders."""

from __future__ import annotations

from nodeflow import Context, Param, input_file_fingerprint, node, resolve_inside
from nodes.audio.clip import Audio
from nodes.audio.io import preview_audio, read_audio

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".opus", ".mp3")


@node("audio.load", category="Audio", fingerprint=input_file_fingerprint("path"))
def load_audio(
    ctx: Context,
    *,
    path: str = Param(
        "", kind="file", extensions=AUDIO_EXTENSIONS, description="inside an allowed input folder"
    ),
) -> Audio:
    """Load a WAV, FLAC or OGG file from an allowed input folder."""
    if not path:
        raise ValueError("no file chosen: set the path param")
    clip = read_audio(resolve_inside(path, ctx.settings.input_dirs(), must_exist=True))
    preview_audio(ctx, clip)
    return clip
