"""Output nodes: deliver sound, video, text and JSON into the output folder, with provenance.

Images are delivered by ``image.save`` in the image pack, which follows the same rules.

Every file appears whole or not at all (written to a temporary name, then renamed), carries how it
was made (see nodeflow.provenance), and stays inside the output folder whatever its name says.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nodeflow import JSON, Audio, Context, File, Param, Video, node
from nodeflow.files import atomic_path, output_path
from nodeflow.provenance import build_provenance, dumps_record, embed_provenance, ffmpeg_metadata_args
from nodes.audio.io import SUBTYPES, write_audio
from nodes.video.codec import remux_mp4


_NAME = "inside the output folder; sub-folders allowed"


def _overwrite() -> Param:
    return Param(False, description="replace a file of the same name (off: add a number instead)")


_MAX_TAG = 100_000  # bigger records go to a sidecar: a command-line argument has a size limit


@node("output.audio", category="Output", output=True, outputs=("path",))
def save_audio(
    audio: Audio,
    ctx: Context,
    *,
    filename: str = Param("sound.wav", description=f"{_NAME}; .wav, .flac or .ogg"),
    overwrite: bool = _overwrite(),
    sample_format: str = Param(
        "16-bit", choices=tuple(SUBTYPES["WAV"]), description="WAV and FLAC (FLAC stores float as 24-bit)"
    ),
) -> File:
    """Save sound as WAV, FLAC (provenance inside) or OGG Vorbis (provenance in a .provenance.json beside it)."""
    target = output_path(ctx.output_dir, filename, (".wav", ".flac", ".ogg"), overwrite=overwrite)
    with atomic_path(target) as tmp:
        write_audio(audio, tmp, sample_format=sample_format)
        embed_provenance(tmp, build_provenance(ctx, target, kind="audio"), final=target)
    ctx.preview(target, kind="audio")
    return target


@node("output.video", category="Output", output=True, outputs=("path",))
def save_video(
    video: Video,
    ctx: Context,
    *,
    filename: str = Param("video.mp4", description=f"{_NAME}; .mp4 or .gif, as the video is"),
    overwrite: bool = _overwrite(),
) -> File:
    """Save a video (not re-encoded). MP4 carries its provenance in its comment tag, GIF in a comment block."""
    source = Path(video)
    kind = source.suffix.lower()
    target = output_path(ctx.output_dir, filename, (kind,), overwrite=overwrite) if kind in (".mp4", ".gif") else None
    if target is None:
        raise ValueError(f"cannot save a {kind} video: output.video writes .mp4 and .gif")
    record = build_provenance(ctx, target, kind="video")
    with atomic_path(target) as tmp:
        if kind == ".mp4":
            tag = ffmpeg_metadata_args(record) if len(dumps_record(record)) < _MAX_TAG else []
            remux_mp4(source, tmp, metadata=tag)
        else:
            shutil.copyfile(source, tmp)
        embed_provenance(tmp, record, final=target)
    ctx.preview(target, kind="video")
    return target


@node("output.text", category="Output", output=True, outputs=("path",))
def save_text(
    text: str,
    ctx: Context,
    *,
    filename: str = Param("text.txt", description=f"{_NAME}; .txt or .md"),
    overwrite: bool = _overwrite(),
) -> File:
    """Save text (UTF-8), with its provenance in a .provenance.json beside it."""
    target = output_path(ctx.output_dir, filename, (".txt", ".md"), overwrite=overwrite)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
        embed_provenance(tmp, build_provenance(ctx, target, kind="text"), final=target)
    ctx.preview(text)
    return target


@node("output.json", category="Output", output=True, outputs=("path",))
def save_json(
    data: JSON | None = None,
    ctx: Context = None,
    *,
    value: dict = Param(None, kind="json", description="written when data is not linked"),
    filename: str = Param("data.json", description=f"{_NAME}; .json"),
    overwrite: bool = _overwrite(),
) -> File:
    """Save structured data as indented JSON, with its provenance in a .provenance.json beside it."""
    target = output_path(ctx.output_dir, filename, (".json",), overwrite=overwrite)
    data = value if data is None else data
    if data is None:
        raise ValueError("nothing to write: link data or set the value param")
    try:
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the data cannot be written as JSON: {exc}") from None
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
        embed_provenance(tmp, build_provenance(ctx, target, kind="json"), final=target)
    ctx.preview(text[:2000])
    return target
