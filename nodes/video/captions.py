"""Captions burned into frames: each frame shows the cue being spoken at its time.

Cues are plain JSON (``{"cues": [{"start", "end", "text"}]}`` from ``audio.subtitles``, or the
sentences of ``audio.speak``), so this pack reads them without importing the audio pack.
"""

from __future__ import annotations

from typing import Any

from PIL import ImageDraw, ImageFont

from nodeflow import JSON, Context, Param, node
from nodes.video.types import FrameList, Frames

__all__ = ["burn_captions", "cue_at", "cue_list", "draw_caption"]


def cue_list(cues: Any) -> list[dict[str, Any]]:
    """The cues in ``cues`` (subtitle cues, speech sentences or transcription segments), in order."""
    if isinstance(cues, dict):
        cues = cues.get("cues") or cues.get("sentences") or cues.get("segments") or []
    if not isinstance(cues, list) or not all(isinstance(c, dict) and {"start", "end", "text"} <= set(c) for c in cues):
        raise ValueError('captions need cues: {"cues": [{"start", "end", "text"}]} from audio.subtitles or audio.speak')
    return sorted(cues, key=lambda c: float(c["start"]))


def cue_at(cues: list[dict[str, Any]], seconds: float) -> str:
    """The text shown at ``seconds``: the cue that covers it, or nothing."""
    for cue in cues:
        if float(cue["start"]) <= seconds < float(cue["end"]):
            return str(cue["text"])
    return ""


def _lines(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> str:
    """The text wrapped to ``width`` pixels."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    return "\n".join(lines)


def draw_caption(frame: Any, text: str, size: int, margin: int) -> Any:
    """The frame with ``text`` at the bottom, white on a dark band, wrapped to the frame's width."""
    out = frame.convert("RGB").copy()
    if not text:
        return out
    draw = ImageDraw.Draw(out, "RGBA")
    font = ImageFont.load_default(size=size)
    wrapped = _lines(draw, text, font, out.width - 2 * margin)
    left, top, right, bottom = draw.multiline_textbbox((0, 0), wrapped, font=font, align="center")
    x = (out.width - (right - left)) / 2 - left
    y = out.height - margin - bottom
    pad = max(2, size // 4)
    draw.rectangle((x + left - pad, y + top - pad, x + right + pad, y + bottom + pad), fill=(0, 0, 0, 160))
    draw.multiline_text((x, y), wrapped, font=font, fill="#ffffff", align="center")
    return out


@node("video.burn_captions", category="Video", title="Burn in captions")
def burn_captions(
    frames: Frames,
    cues: JSON | None = None,
    ctx: Context = None,
    *,
    captions: dict = Param(
        None, kind="json", description='used when cues is not linked: {"cues": [{"start": 0, "end": 2, "text": "..."}]}'
    ),
    fps: float = Param(12.0, min=0.1, max=240, description="the frame rate the frames will play at"),
    size: int = Param(0, min=0, max=512, description="text height in pixels; 0 picks one from the frame height"),
    margin: int = Param(8, min=0, max=1024),
) -> Frames:
    """Write the caption spoken at each frame's time at the bottom of the frame."""
    shown = cue_list(captions if cues is None else cues)
    out = FrameList()
    for index, frame in enumerate(frames):
        ctx.progress(index, len(frames))
        text = cue_at(shown, index / fps)
        out.append(draw_caption(frame, text, size or max(10, frame.height // 14), margin))
    if out:
        ctx.preview(out[len(out) // 2])
    return out
