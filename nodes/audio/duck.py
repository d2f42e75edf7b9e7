"""Narration over music: ``audio.duck`` lowers the music while the voice speaks (side-chain ducking).

The voice's loudness, measured in short windows and smoothed with an attack and a release, drives a
gain on the music; the two are then mixed as ``audio.mix`` does (the music matched to the voice's
sample rate and channels, looped or cut to the voice's length plus a tail).
"""

from __future__ import annotations

import numpy as np

from nodeflow import Context, Param, node
from nodes.audio.clip import Audio, AudioClip
from nodes.audio.edit import match
from nodes.audio.io import preview_audio

__all__ = ["duck", "voice_activity"]

_WINDOW_S = 0.02


def voice_activity(voice: AudioClip, threshold_db: float, attack: float, release: float) -> np.ndarray:
    """Per sample, 0 (silent) to 1 (speaking): the voice's RMS over 20 ms windows against the
    threshold, rising in ``attack`` seconds and falling in ``release`` seconds."""
    window = max(1, int(_WINDOW_S * voice.sample_rate))
    mono = voice.samples.mean(axis=1)
    count = -(-mono.size // window)
    padded = np.zeros(count * window, dtype=np.float32)
    padded[: mono.size] = mono
    rms = np.sqrt(np.mean(padded.reshape(count, window) ** 2, axis=1))
    active = (20 * np.log10(np.maximum(rms, 1e-9)) > threshold_db).astype(np.float32)
    # a one-pole follower on the window grid: quick to duck, slow to come back up
    up = 1.0 - np.exp(-_WINDOW_S / max(attack, 1e-3))
    down = 1.0 - np.exp(-_WINDOW_S / max(release, 1e-3))
    level, smoothed = 0.0, np.empty_like(active)
    for index, target in enumerate(active):
        level += (target - level) * (up if target > level else down)
        smoothed[index] = level
    return np.repeat(smoothed, window)[: mono.size]


@node("audio.duck", category="Audio")
def duck(
    voice: Audio,
    music: Audio,
    ctx: Context,
    *,
    depth_db: float = Param(-15.0, min=-60.0, max=0.0, description="how much quieter the music gets under the voice"),
    music_db: float = Param(-6.0, min=-60.0, max=12.0, description="the music's level where nobody speaks"),
    threshold_db: float = Param(-40.0, min=-90.0, max=0.0, description="voice louder than this (dBFS) counts as speech"),
    attack: float = Param(0.05, min=0.0, max=2.0, description="seconds to duck when speech starts"),
    release: float = Param(0.4, min=0.0, max=5.0, description="seconds to come back up after it"),
    tail: float = Param(1.0, min=0.0, max=60.0, description="seconds of music after the voice ends"),
) -> Audio:
    """Mix a voice over music, lowering the music while the voice speaks. The music loops if shorter."""
    music = match(music, voice)
    frames = voice.frames + int(round(tail * voice.sample_rate))
    if music.frames == 0:
        raise ValueError("the music is empty")
    repeats = -(-frames // music.frames)
    bed = np.tile(music.samples, (repeats, 1))[:frames]
    speaking = np.zeros(frames, dtype=np.float32)
    speaking[: voice.frames] = voice_activity(voice, threshold_db, attack, release)
    gain_db = music_db + depth_db * speaking
    out = bed * (10 ** (gain_db / 20)).astype(np.float32)[:, None]
    out[: voice.frames] += voice.samples
    clip = AudioClip(out.astype(np.float32), voice.sample_rate)
    preview_audio(ctx, clip)
    return clip
