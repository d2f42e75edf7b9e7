"""Videos in and out of frames: load, encode (MP4 and GIF), decode, add a sound track."""

from __future__ import annotations

from pathlib import Path

from nodeflow import (
    VIDEO_EXTENSIONS,
    Context,
    Image,
    Param,
    atomic_path,
    decode,
    encode_gif,
    encode_mp4,
    input_file_fingerprint,
    node,
    remux_mp4,
    resolve_inside,
)
from nodes.video.types import FrameList, Frames, Video, VideoPath

try:  # the sound track input needs the audio pack's type; without it the node is left out
    from nodeflow import Audio, save_audio
except ImportError:  # pragma: no cover
    Audio = None


def media_path(ctx: Context, suffix: str) -> Path:
    """Where a node writes an intermediate video: the previews folder (the editor serves it from
    there and plays it on the node), named by run and node."""
    folder = ctx.settings.previews_dir / ctx.run_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{ctx.file_stem}{suffix}"


@node("video.load", category="Video", fingerprint=input_file_fingerprint("path"))
def load_video(
    ctx: Context,
    *,
    path: str = Param(
        "", kind="file", extensions=VIDEO_EXTENSIONS, description="inside an allowed input folder"
    ),
) -> Video:
    """A video file (MP4, GIF, WebM, ...) from an allowed input folder."""
    if not path:
        raise ValueError("no file chosen: set the path param")
    resolved = resolve_inside(path, ctx.settings.input_dirs(), must_exist=True)
    if resolved.suffix.lower() not in VIDEO_EXTENSIONS:
        raise ValueError(f"{path} is not a video file ({', '.join(VIDEO_EXTENSIONS)})")
    ctx.preview(resolved, kind="video")
    return VideoPath(resolved)


@node("video.encode", category="Video")
def encode(
    frames: Frames,
    ctx: Context,
    *,
    fps: float = Param(12.0, min=0.1, max=240),
    format: str = Param("mp4", choices=("mp4", "gif")),
    crf: int = Param(18, min=0, max=51, description="MP4 quality: lower is better and larger"),
) -> Video:
    """Frames to a video: MP4 (H.264, plays in every browser) or an animated GIF."""
    target = media_path(ctx, f".{format}")
    with atomic_path(target) as tmp:
        if format == "gif":
            encode_gif(list(frames), tmp, fps=fps)
        else:
            encode_mp4(list(frames), tmp, fps=fps, crf=crf, on_frame=ctx.progress)
    ctx.preview(target, kind="video")
    return VideoPath(target)


@node("video.to_frames", category="Video")
def to_frames(
    video: Video,
    ctx: Context,
    *,
    every: int = Param(1, min=1, max=1000, description="keep every n-th frame"),
    limit: int = Param(0, min=0, max=100000, description="at most this many frames (0: all)"),
) -> Frames:
    """The frames of a video, as pictures."""
    frames = FrameList()
    for frame in decode(Path(video), every=every, limit=limit):
        ctx.check()
        frames.append(frame)
    if not frames:
        raise ValueError(f"{Path(video).name} has no frames")
    ctx.preview(frames[len(frames) // 2])
    return frames


@node("video.frame", category="Video")
def pick_frame(frames: Frames, *, index: int = Param(0, description="negative counts from the end")) -> Image:
    """One frame out of a list of frames."""
    if not -len(frames) <= index < len(frames):
        raise IndexError(f"frame {index} does not exist: there are {len(frames)} frames")
    return frames[index]


@node("video.collect", category="Video")
def collect(
    a: Image,
    b: Image | None = None,
    c: Image | None = None,
    d: Image | None = None,
    more: Frames | None = None,
) -> Frames:
    """Put pictures in a list of frames: a, b, c, d (those linked), then the frames of more."""
    frames = FrameList(image for image in (a, b, c, d) if image is not None)
    frames.extend(more or [])
    return frames


if Audio is not None:

    @node("video.add_audio", category="Video")
    def add_audio(video: Video, audio: Audio, ctx: Context) -> Video:
        """Put a sound track on an MP4 (AAC). The video is not re-encoded; the result is as long as the shorter."""
        source = Path(video)
        if source.suffix.lower() != ".mp4":
            raise ValueError(
                f"a sound track needs an MP4 video, not {source.suffix} (encode the frames as mp4)"
            )
        sound = media_path(ctx, ".wav")
        save_audio(audio, sound, sample_format="float")
        target = media_path(ctx, ".mp4")
        with atomic_path(target) as tmp:
            remux_mp4(source, tmp, audio=sound)
        sound.unlink(missing_ok=True)
        ctx.preview(target, kind="video")
        return VideoPath(target)
