"""Measuring sound: ``audio.quality`` (loudness, peak, clipping, silence) and ``audio.intelligibility``
(how much of a text a recognizer hears back: word error rate with jiwer).

Loudness is integrated loudness after ITU-R BS.1770 (K-weighting, 400 ms blocks overlapping by 75%,
an absolute gate at -70 LUFS and a relative gate 10 LU below), so a full-scale 1 kHz sine in one
channel reads -3 LUFS, as the standard's own check says.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from nodeflow import JSON, Context, Param, Resolve, String, node
from nodes.audio.clip import Audio, AudioClip
from nodes.audio.transcribe import BUNDLED_RECOGNIZER, _check_recognizer, find_recognizer, open_recognizer, recognize

__all__ = ["intelligibility", "loudness_lufs", "quality", "quality_figures", "word_errors"]


def _biquad(kind: str, hz: float, q: float, rate: int, gain_db: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A high-shelf or high-pass biquad from the Audio EQ Cookbook's formulas."""
    w0 = 2 * np.pi * hz / rate
    cos, alpha = np.cos(w0), np.sin(w0) / (2 * q)
    if kind == "high_pass":
        b = np.array([(1 + cos) / 2, -(1 + cos), (1 + cos) / 2])
        a = np.array([1 + alpha, -2 * cos, 1 - alpha])
    else:
        g = 10 ** (gain_db / 40)
        root = 2 * np.sqrt(g) * alpha
        b = g * np.array([(g + 1) + (g - 1) * cos + root, -2 * ((g - 1) + (g + 1) * cos), (g + 1) + (g - 1) * cos - root])
        a = np.array([(g + 1) - (g - 1) * cos + root, 2 * ((g - 1) - (g + 1) * cos), (g + 1) - (g - 1) * cos - root])
    return b / a[0], a / a[0]


def _k_weighting(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """BS.1770's K-weighting at any sample rate: a +4 dB shelf above ~1.5 kHz (the head), then a
    high-pass at 38 Hz."""
    return [_biquad("high_shelf", 1500.0, 1 / np.sqrt(2), rate, 4.0), _biquad("high_pass", 38.0, 0.5, rate)]


def loudness_lufs(clip: AudioClip) -> float:
    """Integrated loudness in LUFS (-inf for silence or sound shorter than one 400 ms block)."""
    from scipy.signal import lfilter

    rate, block, step = clip.sample_rate, int(0.4 * clip.sample_rate), int(0.1 * clip.sample_rate)
    if clip.frames < block:
        return float("-inf")
    weighted = clip.samples.astype(np.float64)
    for b, a in _k_weighting(rate):
        weighted = lfilter(b, a, weighted, axis=0)
    starts = range(0, clip.frames - block + 1, step)
    power = np.array([np.mean(weighted[s : s + block] ** 2, axis=0).sum() for s in starts])  # channels weigh 1 (mono, stereo)
    with np.errstate(divide="ignore"):
        block_loudness = -0.691 + 10 * np.log10(power)
    gated = power[block_loudness > -70]
    if gated.size == 0:
        return float("-inf")
    relative = -0.691 + 10 * np.log10(gated.mean()) - 10
    kept = power[(block_loudness > -70) & (block_loudness > relative)]
    return float(-0.691 + 10 * np.log10(kept.mean()))


def quality_figures(clip: AudioClip, silence_db: float = -50.0) -> dict[str, Any]:
    """Loudness, peak and RMS level, clipped samples, and the share of 20 ms windows quieter than ``silence_db``."""
    samples = clip.samples
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0
    window = max(1, int(0.02 * clip.sample_rate))
    count = clip.frames // window
    if count:
        windows = samples[: count * window].mean(axis=1).reshape(count, window)
        levels = np.sqrt(np.mean(windows.astype(np.float64) ** 2, axis=1))
        silent = float(np.mean(levels < 10 ** (silence_db / 20)))
    else:
        silent = 1.0

    def db(value: float) -> float | None:
        return round(20 * np.log10(value), 2) if value > 0 else None  # None: silence (JSON has no -inf)

    lufs = loudness_lufs(clip)
    return {
        "duration_s": round(clip.duration, 3),
        "sample_rate": clip.sample_rate,
        "channels": clip.channels,
        "loudness_lufs": round(lufs, 2) if np.isfinite(lufs) else None,
        "peak_dbfs": db(peak),
        "rms_dbfs": db(rms),
        "clipped_samples": int(np.count_nonzero(np.abs(samples) >= 0.999)),
        "clipped_ratio": round(float(np.mean(np.abs(samples) >= 0.999)), 6) if samples.size else 0.0,
        "silence_ratio": round(silent, 4),
    }


@node("audio.quality", category="Audio/Evaluate", outputs=("figures",))
def quality(
    audio: Audio,
    ctx: Context,
    *,
    silence_db: float = Param(-50.0, min=-120.0, max=0.0, description="20 ms windows quieter than this count as silence"),
) -> JSON:
    """Basic audio figures: loudness (LUFS), peak and RMS level, clipping, and how much is silence."""
    figures = quality_figures(audio, silence_db)
    ctx.preview(
        f"loudness {figures['loudness_lufs']} LUFS, peak {figures['peak_dbfs']} dBFS, "
        f"clipped {figures['clipped_samples']}, silence {figures['silence_ratio']:.0%}"
    )
    return figures


def word_errors(reference: str, heard: str) -> dict[str, Any]:
    """Word and character error rates of ``heard`` against ``reference`` (case and punctuation ignored)."""
    import jiwer

    clean = jiwer.Compose(
        [jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip(), jiwer.ReduceToListOfListOfWords()]
    )
    if not clean(reference) or not clean(reference)[0]:
        raise ValueError("the reference text has no words to compare with")
    words = jiwer.process_words(reference, heard or "", reference_transform=clean, hypothesis_transform=clean)
    chars = jiwer.cer(reference.lower(), (heard or "").lower())
    return {
        "wer": round(words.wer, 4),
        "cer": round(float(chars), 4),
        "substitutions": words.substitutions,
        "deletions": words.deletions,
        "insertions": words.insertions,
        "reference_words": sum(len(r) for r in words.references),
    }


class Intelligibility(NamedTuple):
    score: JSON  # {"wer", "cer", "substitutions", "deletions", "insertions", "reference_words"}
    heard: String


@node("audio.intelligibility", category="Audio/Evaluate", outputs=("score", "heard"))
def intelligibility(
    audio: Audio,
    reference: str | None = None,
    ctx: Context = None,
    *,
    text: str = Param("", kind="text", description="what the audio should say; used when reference is not linked"),
    model: str = Param(BUNDLED_RECOGNIZER, resolve=Resolve("model", _check_recognizer, models="recognizer")),
) -> Intelligibility:
    """How well speech can be understood: a recognizer listens and its words are compared with the text
    that was meant (word error rate, jiwer). Link audio.speak's text to test a voice end to end."""
    wanted = text if reference is None else reference
    if not wanted.strip():
        raise ValueError("no reference: link the text that was spoken, or write it in the text param")
    recognizer = open_recognizer(find_recognizer(model, ctx.settings.models_dir), ctx)
    found = recognize(recognizer, audio, ctx=ctx)
    heard = " ".join(segment["text"] for segment in found["segments"]).strip()
    score = word_errors(wanted, heard)
    ctx.preview(f"WER {score['wer']:.1%} ({score['substitutions']} substituted, {score['deletions']} missed, {score['insertions']} added)")
    return Intelligibility(score, heard)
