"""Editing sound: resample, trim, gain, normalize, fade, mix and concatenate."""

from __future__ import annotations

from math import gcd

import numpy as np

from nodeflow import Context, Param, node, node_memory_limit
from nodes.audio.clip import Audio, AudioClip
from nodes.audio.io import preview_audio

_RATE = dict(min=1000, max=384000)
_SECONDS = 86_400.0  # a day: the longest stretch of time a param may name (infinity or 1e300 is a mistake)

# Validation does not know the sample rate of a linked sound: it counts a gap or offset at 48 kHz
# stereo, float32, twice (the silence or the mix buffer, then the joined result). The node checks
# again with the sound's real rate before it allocates anything.
_ASSUMED_RATE, _ASSUMED_CHANNELS, _COPIES = 48_000, 2, 2


def _silence_bytes(seconds: float, rate: int, channels: int) -> int:
    return int(seconds * rate) * channels * 4 * _COPIES


def _estimate_seconds(param: str):  # noqa: ANN202 - a node's estimate function
    def estimate(params: dict) -> tuple[int, str] | None:
        seconds = params.get(param)
        if not isinstance(seconds, (int, float)) or seconds != seconds:
            return None
        return _silence_bytes(min(float(seconds), _SECONDS), _ASSUMED_RATE, _ASSUMED_CHANNELS), param
    return estimate


def _check_memory(seconds: float, clip: AudioClip, param: str, extra_frames: int = 0) -> None:
    """Refuse, before allocating, a silence of ``seconds`` at the sound's real rate that passes the
    per-node limit (``NODEFLOW_NODE_MAX_MB``)."""
    needed = _silence_bytes(seconds, clip.sample_rate, clip.channels) + extra_frames * clip.channels * 4
    if needed > node_memory_limit():
        raise ValueError(f"{param} {seconds:g} s at {clip.sample_rate} Hz would need about {needed / 2**20:,.0f} MB, "
                         f"more than the per-node limit of {node_memory_limit() / 2**20:,.0f} MB "
                         f"(NODEFLOW_NODE_MAX_MB): lower {param}")


def resample_clip(clip: AudioClip, rate: int) -> AudioClip:
    """Band-limited polyphase resampling (scipy), or linear interpolation without scipy."""
    if rate == clip.sample_rate or clip.frames == 0:
        return AudioClip(clip.samples, rate) if clip.frames == 0 else clip
    try:
        from scipy.signal import resample_poly
    except ImportError:  # pragma: no cover - scipy comes with the media extra
        count = max(1, round(clip.frames * rate / clip.sample_rate))
        old = np.arange(clip.frames) / clip.sample_rate
        new = np.arange(count) / rate
        return AudioClip(np.stack([np.interp(new, old, ch) for ch in clip.samples.T], axis=1), rate)
    common = gcd(rate, clip.sample_rate)
    samples = resample_poly(clip.samples, rate // common, clip.sample_rate // common, axis=0)
    return AudioClip(samples.astype(np.float32), rate)


def match(clip: AudioClip, like: AudioClip) -> AudioClip:
    """``clip`` at ``like``'s sample rate and channel count (mono spreads to every channel)."""
    clip = resample_clip(clip, like.sample_rate)
    if clip.channels == like.channels:
        return clip
    if clip.channels == 1:
        return AudioClip(np.repeat(clip.samples, like.channels, axis=1), clip.sample_rate)
    if like.channels == 1:
        return AudioClip(clip.samples.mean(axis=1, keepdims=True), clip.sample_rate)
    raise ValueError(f"cannot match {clip.channels} channels to {like.channels}")


@node("audio.resample", category="Audio")
def resample(audio: Audio, ctx: Context, *, sample_rate: int = Param(44100, **_RATE)) -> Audio:
    """Change the sample rate (band-limited, so no aliasing)."""
    out = resample_clip(audio, sample_rate)
    preview_audio(ctx, out)
    return out


@node("audio.trim", category="Audio")
def trim(
    audio: Audio,
    ctx: Context,
    *,
    start: float = Param(0.0, min=0, max=_SECONDS, description="seconds cut from the start"),
    duration: float = Param(0.0, min=0, max=_SECONDS, description="seconds kept; 0 keeps the rest"),
) -> Audio:
    """Keep a part of the sound: from start, for duration seconds."""
    first = int(round(start * audio.sample_rate))
    if first >= audio.frames:
        raise ValueError(f"start {start} s is past the end of the {audio.duration:.2f} s sound")
    last = (
        audio.frames if duration == 0 else min(audio.frames, first + int(round(duration * audio.sample_rate)))
    )
    out = AudioClip(audio.samples[first:last], audio.sample_rate)
    preview_audio(ctx, out)
    return out


@node("audio.gain", category="Audio")
def gain(audio: Audio, ctx: Context, *, db: float = Param(0.0, min=-96, max=48, display="slider")) -> Audio:
    """Make louder or quieter by a number of decibels."""
    out = AudioClip(audio.samples * np.float32(10 ** (db / 20)), audio.sample_rate)
    preview_audio(ctx, out)
    return out


@node("audio.normalize", category="Audio")
def normalize(
    audio: Audio,
    ctx: Context,
    *,
    mode: str = Param("peak", choices=("peak", "rms")),
    target_db: float = Param(-1.0, min=-96, max=0, description="target level in dBFS"),
) -> Audio:
    """Scale so the peak (or the RMS loudness) reaches the target level. Silence stays silent."""
    samples = audio.samples
    level = float(np.abs(samples).max()) if mode == "peak" else float(np.sqrt(np.mean(samples**2)))
    if level == 0 or samples.size == 0:
        out = audio
    else:
        out = AudioClip(samples * np.float32(10 ** (target_db / 20) / level), audio.sample_rate)
    preview_audio(ctx, out)
    return out


@node("audio.fade", category="Audio")
def fade(
    audio: Audio,
    ctx: Context,
    *,
    fade_in: float = Param(0.1, min=0, max=_SECONDS, description="seconds"),
    fade_out: float = Param(0.1, min=0, max=_SECONDS, description="seconds"),
    curve: str = Param("linear", choices=("linear", "equal power")),
) -> Audio:
    """Fade in at the start and out at the end."""
    samples = audio.samples.copy()
    for seconds, at_start in ((fade_in, True), (fade_out, False)):
        count = min(audio.frames, int(round(seconds * audio.sample_rate)))
        if count == 0:
            continue
        ramp = np.linspace(0.0, 1.0, count, dtype=np.float32)
        if curve == "equal power":
            ramp = np.sin(ramp * np.pi / 2).astype(np.float32)
        if at_start:
            samples[:count] *= ramp[:, None]
        else:
            samples[-count:] *= ramp[::-1, None]
    out = AudioClip(samples, audio.sample_rate)
    preview_audio(ctx, out)
    return out


@node("audio.mix", category="Audio", estimate=_estimate_seconds("offset"))
def mix(
    a: Audio,
    b: Audio,
    ctx: Context,
    *,
    balance: float = Param(0.5, min=0, max=1, step=0.01, display="slider", description="0 only a, 1 only b"),
    offset: float = Param(0.0, min=0, max=_SECONDS, description="seconds b starts after a"),
) -> Audio:
    """Play two sounds together. b is converted to a's sample rate and channels; the result is as long as the longer."""
    _check_memory(offset, a, "offset", b.frames)
    b = match(b, a)
    start = int(round(offset * a.sample_rate))
    frames = max(a.frames, start + b.frames)
    out = np.zeros((frames, a.channels), dtype=np.float32)
    # a crossfader: at 0.5 both play at full level, towards either end the other fades out
    out[: a.frames] += a.samples * np.float32(min(1.0, 2 * (1 - balance)))
    out[start : start + b.frames] += b.samples * np.float32(min(1.0, 2 * balance))
    clip = AudioClip(out, a.sample_rate)
    preview_audio(ctx, clip)
    return clip


@node("audio.concatenate", category="Audio", estimate=_estimate_seconds("gap"))
def concatenate(
    a: Audio,
    b: Audio,
    ctx: Context,
    *,
    gap: float = Param(0.0, min=0, max=_SECONDS, description="seconds of silence between"),
) -> Audio:
    """Play b after a. b is converted to a's sample rate and channels."""
    _check_memory(gap, a, "gap", a.frames + b.frames)
    b = match(b, a)
    silence = np.zeros((int(round(gap * a.sample_rate)), a.channels), dtype=np.float32)
    out = AudioClip(np.concatenate([a.samples, silence, b.samples]), a.sample_rate)
    preview_audio(ctx, out)
    return out
