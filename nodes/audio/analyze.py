"""Looking at sound: a spectrogram image."""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage

from nodeflow import Image, Param, node
from nodes.audio.clip import Audio, AudioClip

# a dark-to-bright palette (black, purple, red, orange, pale yellow), interpolated per channel
_PALETTE = np.array(
    [[0, 0, 4], [59, 15, 112], [140, 41, 129], [222, 73, 104], [254, 159, 109], [252, 253, 191]],
    dtype=np.float32,
)


def spectrogram_db(clip: AudioClip, n_fft: int, hop: int) -> np.ndarray:
    """Magnitude in dB, shaped (n_fft // 2 + 1, frames), from a Hann-windowed short-time FFT of the mono mix."""
    mono = clip.samples.mean(axis=1)
    if mono.size < n_fft:
        mono = np.pad(mono, (0, n_fft - mono.size))
    count = 1 + (mono.size - n_fft) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(count)[:, None]
    frames = mono[index] * np.hanning(n_fft).astype(np.float32)
    magnitude = np.abs(np.fft.rfft(frames, axis=1)).T
    return 20 * np.log10(np.maximum(magnitude, 1e-10))


@node("audio.spectrogram", category="Audio")
def spectrogram(
    audio: Audio,
    *,
    n_fft: int = Param(1024, min=64, max=16384, description="window length in samples"),
    hop: int = Param(256, min=16, max=8192),
    floor_db: float = Param(
        -80.0, min=-160, max=-10, description="quieter than this (below the peak) is black"
    ),
    height: int = Param(256, min=16, max=4096),
) -> Image:
    """A picture of the sound: time left to right, frequency bottom to top, loudness as colour."""
    db = spectrogram_db(audio, n_fft, hop)
    level = (db - db.max() - floor_db) / -floor_db  # 0 at the floor, 1 at the peak
    level = np.clip(level, 0, 1)[::-1]  # low frequencies at the bottom
    steps = np.linspace(0, 1, len(_PALETTE))
    rgb = np.stack([np.interp(level, steps, _PALETTE[:, c]) for c in range(3)], axis=-1)
    picture = PILImage.fromarray(np.round(rgb).astype(np.uint8), "RGB")
    return picture.resize((picture.width, height), PILImage.Resampling.BILINEAR)
