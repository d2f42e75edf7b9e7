"""Subtitles from speech timings: cues from ``audio.speak``'s sentences or ``audio.transcribe``'s
words, written as SubRip (.srt) or WebVTT (.vtt) files.

Cues are plain JSON (``{"cues": [{"start", "end", "text"}]}``, seconds), so the video pack can burn the
same cues into frames without importing this pack.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from nodeflow import JSON, Context, File, Param, String, deliver, node, overwrite_param

__all__ = ["Subtitles", "cues_from", "format_subtitles", "parse_subtitles", "save_subtitles", "subtitles"]

_END_OF_SENTENCE = (".", "!", "?", ";", ":")


class Subtitles(NamedTuple):
    cues: JSON  # {"cues": [{"start", "end", "text"}]}
    text: String  # the cues as an .srt or .vtt document


def _word_cues(words: list[dict[str, Any]], max_chars: int, max_gap: float) -> list[dict[str, Any]]:
    """Words grouped into cues: a cue ends at a sentence's end, a pause longer than ``max_gap``, or
    when one more word would pass ``max_chars``."""
    cues: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []

    def close() -> None:
        if current:
            cues.append({"start": current[0]["start"], "end": current[-1]["end"], "text": " ".join(w["word"] for w in current)})
            current.clear()

    for word in words:
        text = str(word.get("word", "")).strip()
        if not text:
            continue
        word = {**word, "word": text}
        if current and (
            float(word["start"]) - float(current[-1]["end"]) > max_gap
            or len(" ".join(w["word"] for w in current)) + 1 + len(text) > max_chars
        ):
            close()
        current.append(word)
        if text.endswith(_END_OF_SENTENCE):
            close()
    close()
    return cues


def cues_from(timings: dict[str, Any], max_chars: int = 84, max_gap: float = 0.8) -> list[dict[str, Any]]:
    """Cues from speech timings: ``words`` (a transcription) are grouped; ``sentences`` (what
    audio.speak said) and ``segments`` give one cue each."""
    if not isinstance(timings, dict):
        raise ValueError("timings must be the sentences of audio.speak or the words of audio.transcribe")
    if timings.get("words"):
        cues = _word_cues(timings["words"], max_chars, max_gap)
    else:
        parts = timings.get("sentences") or timings.get("segments") or timings.get("cues") or []
        cues = [{"start": p["start"], "end": p["end"], "text": str(p["text"]).strip()} for p in parts if str(p.get("text", "")).strip()]
    for cue in cues:
        cue["start"], cue["end"] = round(float(cue["start"]), 3), round(float(cue["end"]), 3)
        if cue["end"] < cue["start"]:
            raise ValueError(f"a cue ends before it starts: {cue}")
    return cues


def _stamp(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _wrap(text: str, width: int = 42) -> str:
    """At most two lines, broken at the space nearest the middle when the text is longer than a line."""
    if len(text) <= width or " " not in text:
        return text
    middle = len(text) // 2
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    split = min(spaces, key=lambda i: abs(i - middle))
    return text[:split] + "\n" + text[split + 1 :]


def format_subtitles(cues: list[dict[str, Any]], kind: str) -> str:
    """The cues as a SubRip (``srt``) or WebVTT (``vtt``) document."""
    if kind not in ("srt", "vtt"):
        raise ValueError(f"subtitles are srt or vtt, not {kind!r}")
    blocks = []
    for number, cue in enumerate(cues, 1):
        separator = "," if kind == "srt" else "."
        timing = f"{_stamp(cue['start'], separator)} --> {_stamp(cue['end'], separator)}"
        text = _wrap(cue["text"]).replace("-->", "->")  # an arrow in the words would read as a timing line
        blocks.append(f"{number}\n{timing}\n{text}" if kind == "srt" else f"{timing}\n{text}")
    body = "\n\n".join(blocks)
    return ("WEBVTT\n\n" + body if kind == "vtt" else body) + "\n"


def parse_subtitles(document: str) -> list[dict[str, Any]]:
    """Cues read back from an .srt or .vtt document (what a player sees)."""

    def seconds(stamp: str) -> float:
        hours, minutes, rest = stamp.strip().replace(",", ".").split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    cues = []
    for block in document.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.strip().split("\n") if line.strip()]
        for index, line in enumerate(lines):
            if "-->" in line:
                start, end = line.split("-->")
                cues.append({"start": seconds(start), "end": seconds(end.split()[0]), "text": " ".join(lines[index + 1 :])})
                break
    return cues


@node("audio.subtitles", category="Audio/Speech", outputs=("cues", "text"))
def subtitles(
    timings: JSON,
    ctx: Context,
    *,
    format: str = Param("srt", choices=("srt", "vtt"), description="the document on the text output"),
    max_chars: int = Param(84, min=10, max=400, description="transcribed words: longest cue (two lines of 42)"),
    max_gap: float = Param(0.8, min=0.0, max=10.0, description="transcribed words: a pause this long (s) starts a new cue"),
) -> Subtitles:
    """Subtitle cues from when things are said: audio.speak's sentences or audio.transcribe's words."""
    cues = cues_from(timings, max_chars=max_chars, max_gap=max_gap)
    document = format_subtitles(cues, format)
    ctx.preview(document[:2000])
    return Subtitles({"cues": cues}, document)


@node("audio.save_subtitles", category="Output", output=True, outputs=("path",))
def save_subtitles(
    cues: JSON,
    ctx: Context,
    *,
    filename: str = Param("subtitles.srt", description="inside the output folder; .srt or .vtt"),
    overwrite: bool = overwrite_param(),
) -> File:
    """Save subtitle cues as an .srt or .vtt file (by the name's ending), with its provenance beside it."""
    found = cues.get("cues") if isinstance(cues, dict) else None
    if found is None:
        found = cues_from(cues)
    written: list[str] = []

    def write(out: Any) -> None:
        document = format_subtitles(found, out.target.suffix.lower().lstrip("."))
        out.path.write_text(document, encoding="utf-8")
        written.append(document)

    return deliver(
        ctx, filename, write, kind="text", suffixes=(".srt", ".vtt"), overwrite=overwrite, preview=lambda: written[0][:2000]
    )
