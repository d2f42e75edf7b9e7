"""Output nodes: deliver sound, video, text and JSON into the output folder, with provenance.

Images are delivered by ``image.save`` in the image pack, which follows the same rules. Every one
goes through ``nodeflow.deliver``: the file appears whole or not at all, carries how it was made,
and stays inside the output folder whatever its name says.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nodeflow import (
    JSON,
    SUBTYPES,
    Audio,
    Context,
    Delivery,
    File,
    Param,
    Video,
    credentials_param,
    deliver,
    dumps_record,
    node,
    overwrite_param,
    remux_mp4,
    write_audio,
)

_NAME = "inside the output folder; sub-folders allowed"
_MAX_TAG = 100_000  # bigger records go to a sidecar: a command-line argument has a size limit


@node("output.audio", category="Output", output=True, outputs=("path",))
def save_audio(
    audio: Audio,
    ctx: Context,
    *,
    filename: str = Param("sound.wav", description=f"{_NAME}; .wav, .flac, .ogg, .opus or .mp3"),
    overwrite: bool = overwrite_param(),
    sample_format: str = Param(
        "16-bit", choices=tuple(SUBTYPES["WAV"]), description="WAV and FLAC (FLAC stores float as 24-bit)"
    ),
    credentials: bool = credentials_param(),
) -> File:
    """Save sound as WAV, FLAC (provenance inside), OGG Vorbis, Opus or MP3 (provenance in a .provenance.json
    beside it; MP3 can carry signed credentials)."""
    return deliver(
        ctx, filename, lambda out: write_audio(out.content, out.path, sample_format=sample_format),
        content=audio, kind="audio", suffixes=(".wav", ".flac", ".ogg", ".opus", ".mp3"), overwrite=overwrite, credentials=credentials,
    )


@node("output.video", category="Output", output=True, outputs=("path",))
def save_video(
    video: Video,
    ctx: Context,
    *,
    filename: str = Param("video.mp4", description=f"{_NAME}; .mp4 or .gif, as the video is"),
    overwrite: bool = overwrite_param(),
    credentials: bool = credentials_param(),
) -> File:
    """Save a video (not re-encoded). MP4 carries its provenance in its comment tag, GIF in a comment block."""
    kind = Path(video).suffix.lower()
    if kind not in (".mp4", ".gif"):
        raise ValueError(f"cannot save a {kind} video: output.video writes .mp4 and .gif")

    def write(out: Delivery) -> None:
        if kind == ".mp4":  # the record rides in the comment tag, muxed in without re-encoding
            text = dumps_record(out.record)
            remux_mp4(Path(video), out.path, metadata=["-metadata", f"comment={text}"] if len(text) < _MAX_TAG else [])
        else:
            shutil.copyfile(video, out.path)

    return deliver(ctx, filename, write, kind="video", suffixes=(kind,), overwrite=overwrite, credentials=credentials)


@node("output.text", category="Output", output=True, outputs=("path",))
def save_text(
    text: str,
    ctx: Context,
    *,
    filename: str = Param("text.txt", description=f"{_NAME}; .txt or .md"),
    overwrite: bool = overwrite_param(),
) -> File:
    """Save text (UTF-8), with its provenance in a .provenance.json beside it."""
    return deliver(
        ctx, filename, lambda out: out.path.write_text(text, encoding="utf-8"),
        kind="text", suffixes=(".txt", ".md"), overwrite=overwrite, preview=text,
    )


@node("output.json", category="Output", output=True, outputs=("path",))
def save_json(
    data: JSON | None = None,
    ctx: Context = None,
    *,
    value: dict = Param(None, kind="json", description="written when data is not linked"),
    filename: str = Param("data.json", description=f"{_NAME}; .json"),
    overwrite: bool = overwrite_param(),
) -> File:
    """Save structured data as indented JSON, with its provenance in a .provenance.json beside it."""
    data = value if data is None else data
    written: list[str] = []

    def write(out: Delivery) -> None:  # checked after the name, so a bad name is the error shown first
        if data is None:
            raise ValueError("nothing to write: link data or set the value param")
        try:
            text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the data cannot be written as JSON: {exc}") from None
        out.path.write_text(text, encoding="utf-8")
        written.append(text)

    return deliver(
        ctx, filename, write, kind="json", suffixes=(".json",), overwrite=overwrite, preview=lambda: written[0][:2000]
    )
