"""Port types for media that more than one pack passes along: sound, frames and video files.

The audio and video packs make these values; the output pack writes them. All import them from here
(the engine's public API). numpy and Pillow are imported on use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .core import PortType, register_type

__all__ = ["AudioClip", "as_clip", "Audio", "FrameList", "Frames", "VideoPath", "Video"]


@dataclass(frozen=True, eq=False)
class AudioClip:
    """A piece of sound. ``samples`` is float32 shaped (frames, channels), nominally in [-1, 1]."""

    samples: Any  # numpy float32 array
    sample_rate: int

    def __post_init__(self) -> None:
        import numpy as np

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


def as_clip(samples: Any, sample_rate: int) -> AudioClip:
    import numpy as np

    return AudioClip(np.asarray(samples, dtype=np.float32), sample_rate)


def _save_audio(clip: AudioClip, folder: Path) -> None:
    import numpy as np

    np.save(folder / "samples.npy", clip.samples, allow_pickle=False)
    (folder / "audio.json").write_text(json.dumps({"sample_rate": clip.sample_rate}))


def _load_audio(folder: Path) -> AudioClip:
    import numpy as np

    rate = json.loads((folder / "audio.json").read_text())["sample_rate"]
    return AudioClip(np.load(folder / "samples.npy", allow_pickle=False), rate)


Audio = register_type(
    PortType(
        "Audio",
        "#e06666",
        "Sound: float32 samples (frames, channels) at a sample rate",
        py=AudioClip,
        save=_save_audio,
        load=_load_audio,
        size_of=lambda clip: clip.nbytes,
    )
)


class FrameList(list):
    """A list of PIL images, all the same size, in playing order."""


def _save_frames(frames: list, folder: Path) -> None:
    for index, frame in enumerate(frames):
        frame.save(folder / f"{index:06d}.png", format="PNG", compress_level=1)
    (folder / "frames.json").write_text(json.dumps({"count": len(frames)}))


def _load_frames(folder: Path) -> FrameList:
    from PIL import Image as PILImage

    count = json.loads((folder / "frames.json").read_text())["count"]
    frames = FrameList()
    for index in range(count):
        with PILImage.open(folder / f"{index:06d}.png") as image:
            image.load()
            frames.append(image.copy())
    return frames


def _frames_nbytes(frames: list) -> int:
    return sum(f.width * f.height * len(f.getbands()) for f in frames)


Frames = register_type(
    PortType(
        "Frames",
        "#4db6ac",
        "A list of pictures in playing order (a film before encoding)",
        py=FrameList,
        save=_save_frames,
        load=_load_frames,
        size_of=_frames_nbytes,
    )
)


class VideoPath(type(Path())):  # type: ignore[misc]
    """A video file (MP4 or GIF) that a node wrote or loaded."""


def _save_video(value: Path, folder: Path) -> None:
    (folder / "value.json").write_text(json.dumps(str(value)))


def _load_video(folder: Path) -> VideoPath:
    return VideoPath(json.loads((folder / "value.json").read_text()))


Video = register_type(
    PortType(
        "Video",
        "#f06292",
        "A video file (MP4 or GIF)",
        py=VideoPath,
        save=_save_video,
        load=_load_video,
        still_valid=lambda value: Path(value).exists(),
    )
)
