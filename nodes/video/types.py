"""Port types of the video pack: Frames (a list of pictures) and Video (a file)."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image as PILImage

from nodeflow import PortType, register_type

__all__ = ["Frames", "Video", "FrameList"]


class FrameList(list):
    """A list of PIL images, all the same size, in playing order."""


def _save_frames(frames: list, folder: Path) -> None:
    for index, frame in enumerate(frames):
        frame.save(folder / f"{index:06d}.png", format="PNG", compress_level=1)
    (folder / "frames.json").write_text(json.dumps({"count": len(frames)}))


def _load_frames(folder: Path) -> FrameList:
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
