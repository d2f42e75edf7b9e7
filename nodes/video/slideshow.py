"""A narrated slideshow: pictures held on screen while each sentence is spoken.

Picture k goes with sentence k (the pictures repeat when there are fewer of them); each is held from
its sentence's start to the next one's, so cutting to the next picture happens as its sentence
begins. The sentences are audio.speak's (or any cues); the sound goes on with ``video.add_audio``.
"""

from __future__ import annotations

from nodeflow import JSON, Context, Param, node, node_memory_limit
from nodes.video.captions import cue_list
from nodes.video.types import FrameList, Frames

__all__ = ["slideshow"]


@node("video.slideshow", category="Video")
def slideshow(
    pictures: Frames,
    sentences: JSON,
    ctx: Context,
    *,
    fps: float = Param(12.0, min=0.1, max=60),
    tail: float = Param(1.0, min=0.0, max=60.0, description="seconds the last picture stays after the last sentence"),
) -> Frames:
    """Frames that show one picture per spoken sentence, for as long as the sentence lasts."""
    timed = cue_list(sentences)
    if not pictures:
        raise ValueError("no pictures: link frames (for example video.collect of image nodes)")
    if not timed:
        raise ValueError("no sentences: link audio.speak's sentences")
    total = int(round((float(timed[-1]["end"]) + tail) * fps))
    first = pictures[0]
    needed, limit = total * first.width * first.height * 3, node_memory_limit()
    if needed > limit:
        raise ValueError(
            f"{total} frames of {first.width}x{first.height} need about {needed / 2**20:,.0f} MB, more than the per-node "
            f"limit of {limit / 2**20:,.0f} MB (NODEFLOW_NODE_MAX_MB): lower fps or use smaller pictures"
        )
    starts = [0.0] + [float(s["start"]) for s in timed[1:]]  # the first picture shows from the very start
    out = FrameList()
    current = 0
    ready: dict[int, object] = {}  # each picture converted once; its frames share it
    for index in range(total):
        seconds = index / fps
        while current + 1 < len(starts) and seconds >= starts[current + 1]:
            current += 1
        which = current % len(pictures)
        if which not in ready:
            picture = pictures[which].convert("RGB")
            ready[which] = picture if picture.size == first.size else picture.resize(first.size)
        out.append(ready[which])
    ctx.preview(out[0])
    return out
