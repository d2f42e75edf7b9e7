"""The Audio port type: float32 samples shaped (frames, channels) at a sample rate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nodeflow import PortType, register_type

__all__ = ["AudioClip", "Audio", "as_clip"]


@dataclass(frozen=True, eq=False)
class AudioClip:
    """A piece of sound. ``samples`` is float32 shaped (frames, channels), nominally in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[:, None]
        if samples.ndim != 2 or samples.shape[1] < 1:
            raise ValueError(f"audio samples must be shaped (frames, channels), not {samples.shape}")
        if int(self.sample_rate) <= 0:
            raise ValueError(f"sample rate must be positive, not {self.sample_rate}")
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def frames(self) -> int:
        return self.samples.shape[0]

    @property
    def channels(self) -> int:
        return self.samples.shape[1]

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    @property
    def shape(self) -> tuple[int, int]:  # what run events show
        return self.samples.shape

    @property
    def nbytes(self) -> int:
        return int(self.samples.nbytes)


def as_clip(samples: np.ndarray, sample_rate: int) -> AudioClip:
    return AudioClip(np.asarray(samples, dtype=np.float32), sample_rate)


def _save(clip: AudioClip, folder: Path) -> None:
    np.save(folder / "samples.npy", clip.samples, allow_pickle=False)
    (folder / "audio.json").write_text(json.dumps({"sample_rate": clip.sample_rate}))


def _load(folder: Path) -> AudioClip:
    rate = json.loads((folder / "audio.json").read_text())["sample_rate"]
    return AudioClip(np.load(folder / "samples.npy", allow_pickle=False), rate)


Audio = register_type(
    PortType(
        "Audio",
        "#e06666",
        "Sound: float32 samples (frames, channels) at a sample rate",
        py=AudioClip,
        save=_save,
        load=_load,
        size_of=lambda clip: clip.nbytes,
    )
)
