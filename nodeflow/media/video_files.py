"""Video files for every pack: encoding and decoding with the ffmpeg that imageio-ffmpeg ships, GIFs with Pillow.

MP4 is H.264 in yuv420p (plays in every browser) with bit-exact muxing and a fixed thread count, so
the same frames give the same bytes on the same machine.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image as PILImage
from PIL import ImageSequence

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = ["ffmpeg", "pipe_frames", "encode_mp4", "encode_gif", "decode", "remux_mp4", "probe_fps", "VIDEO_EXTENSIONS"]

VIDEO_EXTENSIONS = (".mp4", ".gif", ".webm", ".mov", ".mkv")
_BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]


def ffmpeg() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - part of the media extra
        raise RuntimeError("video needs imageio-ffmpeg: pip install 'nodeflow[media]'") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def _run(args: list[str]) -> None:
    done = subprocess.run([ffmpeg(), "-hide_banner", "-v", "error", "-y", *args], capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {done.stderr.decode(errors='replace').strip()[-800:]}")


def _even(frame: PILImage.Image) -> np.ndarray:
    """RGB pixels padded (by repeating the edge) to even sizes, which yuv420p needs."""
    pixels = np.asarray(frame.convert("RGB"))
    pad_h, pad_w = pixels.shape[0] % 2, pixels.shape[1] % 2
    if pad_h or pad_w:
        pixels = np.pad(pixels, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return pixels


def encode_mp4(
    frames: list[PILImage.Image],
    path: Path,
    *,
    fps: float,
    crf: int = 18,
    audio: Path | None = None,
    metadata: list[str] = (),  # type: ignore[assignment]
    on_frame: Callable[[int, int], None] | None = None,
) -> None:
    """Encode ``frames`` to H.264; ``on_frame(i, n)`` is called after each (it may raise to stop)."""
    if not frames:
        raise ValueError("no frames to encode")
    size = frames[0].size
    first = _even(frames[0])
    height, width = first.shape[:2]
    args = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{fps}", "-i", "-"]
    if audio is not None:
        args += ["-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-b:a", "160k", "-shortest"]
    args += ["-c:v", "libx264", "-preset", "medium", "-crf", str(crf), "-pix_fmt", "yuv420p", "-threads", "2"]
    args += ["-map_metadata", "-1", *metadata, *_BITEXACT, "-movflags", "+faststart", "-f", "mp4", str(path)]

    def pixels() -> Iterator[bytes]:
        for frame in frames:
            if frame.size != size:
                raise ValueError(f"frames differ in size: {frame.size} after {size}; resize them first")
            yield _even(frame).tobytes()

    pipe_frames(args, pixels(), count=len(frames), on_frame=on_frame)


def pipe_frames(
    args: list[str], pixels: Iterable[bytes], *, count: int, on_frame: Callable[[int, int], None] | None = None,
) -> None:
    """Run ffmpeg with ``args`` (its input being raw frames on stdin) and feed it ``pixels``, one frame's
    bytes at a time; ``on_frame(i, count)`` after each (it may raise to stop: ffmpeg is then killed).
    Raises RuntimeError with ffmpeg's own message when it fails."""
    process = subprocess.Popen(
        [ffmpeg(), "-hide_banner", "-v", "error", "-y", *args], stdin=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        for index, frame in enumerate(pixels):
            process.stdin.write(frame)  # type: ignore[union-attr]
            if on_frame is not None:
                on_frame(index + 1, count)
        process.stdin.close()  # type: ignore[union-attr]
    except BrokenPipeError:
        pass
    except BaseException:
        process.kill()
        process.wait()
        raise
    errors = process.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
    if process.wait() != 0:
        raise RuntimeError(f"ffmpeg failed: {errors.strip()[-800:]}")


def remux_mp4(source: Path, target: Path, *, metadata: list[str] = (), audio: Path | None = None) -> None:  # type: ignore[assignment]
    """Copy the streams into a new MP4 (no re-encode), with new metadata and, optionally, a sound track."""
    args = ["-i", str(source)]
    if audio is not None:
        args += [
            "-i",
            str(audio),
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-b:a",
            "160k",
            "-shortest",
        ]
    else:
        args += ["-map", "0", "-c", "copy"]
    args += [
        "-map_metadata",
        "-1",
        *metadata,
        *_BITEXACT,
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(target),
    ]
    _run(args)


def encode_gif(frames: list[PILImage.Image], path: Path, *, fps: float) -> None:
    if not frames:
        raise ValueError("no frames to encode")
    rgb = [f.convert("RGB") for f in frames]
    rgb[0].save(path, format="GIF", save_all=True, append_images=rgb[1:], duration=round(1000 / fps), loop=0)


def probe_fps(path: Path) -> float:
    path = Path(path)
    if path.suffix.lower() == ".gif":
        with PILImage.open(path) as image:
            return 1000.0 / max(1, image.info.get("duration", 100))
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    return float(meta.get("fps") or 25.0)


def decode(path: Path, *, every: int = 1, limit: int = 0) -> Iterator[PILImage.Image]:
    """The frames of a video or GIF as RGB pictures: every ``every``-th, at most ``limit`` (0: all)."""
    path = Path(path)
    if path.suffix.lower() == ".gif":
        with PILImage.open(path) as image:
            source: Iterable = (f.convert("RGB") for f in ImageSequence.Iterator(image))
            yield from _pick(source, every, limit)
        return
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    try:
        meta = next(reader)
    except (RuntimeError, StopIteration) as exc:
        raise ValueError(f"{path.name} is not a video ffmpeg can read ({exc})") from None
    width, height = meta["size"]
    source = (PILImage.frombytes("RGB", (width, height), raw) for raw in reader)
    try:
        yield from _pick(source, every, limit)
    finally:
        reader.close()


def _pick(source: Iterable[PILImage.Image], every: int, limit: int) -> Iterator[PILImage.Image]:
    count = 0
    for index, frame in enumerate(source):
        if index % every:
            continue
        yield frame
        count += 1
        if limit and count >= limit:
            return
