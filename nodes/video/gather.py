"""Collecting sweep items: the images of a sweep, in item order, as the frames of a video."""

from __future__ import annotations

from nodeflow import Image, node
from nodes.video.types import FrameList, Frames


@node("video.gather_frames", category="Video", title="Frames from items")
def gather_frames(images: list[Image]) -> Frames:
    """Every image a sweep made, in item order, as frames (encode them into a video next)."""
    return FrameList(images)
