"""Save frames as an animated WebP or a WebM video (ComfyUI's SaveAnimatedWEBP and SaveWEBM), delivered
like every output: inside the output folder, whole or not at all, with provenance (WebP and WebM carry
it in a ``.provenance.json`` sidecar, as the delivery table says)."""

from __future__ import annotations

from nodeflow import Context, Delivery, File, Param, credentials_param, deliver, node, overwrite_param, pipe_frames
from nodes.video.types import Frames

__all__ = ["save_webm", "save_webp"]

_NAME = "inside the output folder; sub-folders allowed"
_WEBM_CODECS = {"vp9": "libvpx-vp9", "av1": "libaom-av1"}


def _same_size(frames: list) -> None:
    if not frames:
        raise ValueError("no frames to save")
    size = frames[0].size
    for index, frame in enumerate(frames):
        if frame.size != size:
            raise ValueError(f"frame {index} is {frame.size[0]}x{frame.size[1]}, frame 0 is {size[0]}x{size[1]}: resize them first")


@node("video.save_webp", category="Video", output=True, outputs=("path",), title="Save animated WebP")
def save_webp(
    frames: Frames,
    ctx: Context,
    *,
    filename: str = Param("animation.webp", description=f"{_NAME}; .webp"),
    fps: float = Param(6.0, min=0.01, max=1000),
    lossless: bool = Param(False),
    quality: int = Param(80, min=0, max=100, description="lossy: picture quality; lossless: effort"),
    method: str = Param("default", choices=("default", "fastest", "slowest"), description="encoder effort"),
    overwrite: bool = overwrite_param(),
    credentials: bool = credentials_param(),
) -> File:
    """Save frames as an animated WebP that loops (plays in every browser)."""
    frames = list(frames)
    _same_size(frames)
    effort = {"default": 4, "fastest": 0, "slowest": 6}[method]

    def write(out: Delivery) -> None:
        first, *rest = [frame.convert("RGBA" if "A" in frame.getbands() else "RGB") for frame in frames]
        first.save(out.path, format="WEBP", save_all=True, append_images=rest, duration=round(1000 / fps), loop=0,
                   lossless=lossless, quality=quality, method=effort)

    return deliver(ctx, filename, write, kind="video", suffixes=(".webp",), overwrite=overwrite, credentials=credentials)


@node("video.save_webm", category="Video", output=True, outputs=("path",), title="Save WebM")
def save_webm(
    frames: Frames,
    ctx: Context,
    *,
    filename: str = Param("video.webm", description=f"{_NAME}; .webm"),
    codec: str = Param("vp9", choices=tuple(_WEBM_CODECS)),
    fps: float = Param(24.0, min=0.01, max=1000),
    crf: float = Param(32.0, min=0, max=63, description="quality: lower is better and larger"),
    overwrite: bool = overwrite_param(),
) -> File:
    """Save frames as a WebM video (VP9 or AV1), which browsers play."""
    frames = list(frames)
    _same_size(frames)
    width, height = frames[0].size
    width, height = width - width % 2, height - height % 2  # yuv420p needs even sizes
    if not width or not height:
        raise ValueError("frames are too small for a video: at least 2x2 pixels")

    def write(out: Delivery) -> None:
        args = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{fps}", "-i", "-",
                "-c:v", _WEBM_CODECS[codec], "-crf", str(round(crf)), "-b:v", "0", "-pix_fmt", "yuv420p",
                "-threads", "2", "-map_metadata", "-1", "-fflags", "+bitexact", "-f", "webm", str(out.path)]
        pixels = (frame.convert("RGB").crop((0, 0, width, height)).tobytes() for frame in frames)
        pipe_frames(args, pixels, count=len(frames), on_frame=ctx.progress)

    return deliver(ctx, filename, write, kind="video", suffixes=(".webm",), overwrite=overwrite)
