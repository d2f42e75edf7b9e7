"""The Audio port type: float32 samples shaped (frames, channels) at a sample rate.

Shared with the video and output packs, so it lives in the engine's public API
(``nodeflow.ports.media``); this module names it for the pack's own files.
"""

from nodeflow import Audio, AudioClip, as_clip

__all__ = ["AudioClip", "Audio", "as_clip"]
