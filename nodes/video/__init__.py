"""Video pack: frames to MP4 (H.264) and GIF and back, interpolation, crossfades, denoising films,
latent walks and sound tracks (imageio-ffmpeg's ffmpeg, Pillow).

Saving is the ``output.video`` node (nodes/output), which embeds provenance.
"""

from nodes.video.types import FrameList, Frames, Video, VideoPath  # noqa: F401

from . import (  # noqa: F401  (importing registers the nodes)
    captions,
    files,
    gather,
    motion,
    slideshow,
    web_formats,  # noqa: F401  (animated WebP and WebM, as ComfyUI saves them)
)
