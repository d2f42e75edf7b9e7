"""Port types of the video pack: Frames (a list of pictures) and Video (a file).

Shared with the output pack, so they live in the engine's public API (``nodeflow.ports.media``);
this module names them for the pack's own files.
"""

from nodeflow import FrameList, Frames, Video, VideoPath

__all__ = ["Frames", "Video", "FrameList", "VideoPath"]
