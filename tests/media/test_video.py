"""The video pack on real files: MP4 and GIF round trips, frame tools, sound tracks, previews."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PIL import Image

from nodeflow.media.video_files import ffmpeg
from tests.media.media_helpers import SYNTH, frames_nodes, output, run


def encode(fmt: str, **params):
    return {"type": "video.encode", "inputs": {"frames": ["frames", "frames"]}, "params": {"format": fmt, "fps": 10.0, **params}}


def streams(path) -> str:
    """What ffmpeg says the file holds (its stream lines)."""
    done = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    return "\n".join(line for line in done.stderr.splitlines() if "Stream #" in line)


@pytest.mark.parametrize("fmt", ["mp4", "gif"])
def test_frames_round_trip_through_a_video(executor, fmt):
    nodes = {**frames_nodes(3), "video": encode(fmt), "back": {"type": "video.to_frames", "inputs": {"video": ["video", "video"]}}}
    frames = output(executor, nodes, "back")
    assert len(frames) == 3 and frames[0].size == (64, 48)
    expected = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    for frame, colour in zip(frames, expected, strict=False):
        centre = np.asarray(frame)[24, 32].astype(int)
        assert np.abs(centre - colour).max() <= (0 if fmt == "gif" else 12)  # H.264 is lossy


def test_mp4_is_h264_that_browsers_play(executor):
    path = output(executor, {**frames_nodes(2), "video": encode("mp4")}, "video")
    info = streams(path)
    assert "h264" in info and "yuv420p" in info and "64x48" in info


def test_odd_sizes_are_padded_for_h264(executor):
    path = output(executor, {**frames_nodes(2, size=(33, 17)), "video": encode("mp4")}, "video")
    assert "34x18" in streams(path)


def test_frames_of_different_sizes_are_refused(executor):
    nodes = frames_nodes(1) | {
        "big": {"type": "image.new", "params": {"width": 32, "height": 32}},
        "frames": {"type": "video.collect", "inputs": {"a": ["img0", "image"], "b": ["big", "image"]}},
        "video": encode("mp4"),
    }
    result, _ = run(executor, nodes, only=["video"])
    assert result.status == "error" and "differ in size" in result.error.message


def test_interpolate_and_crossfade(executor):
    nodes = {**frames_nodes(2), "smooth": {"type": "video.interpolate", "inputs": {"frames": ["frames", "frames"]}, "params": {"factor": 4}}}
    smooth = output(executor, nodes, "smooth")
    assert len(smooth) == 5
    middle = np.asarray(smooth[2])[0, 0].astype(int)  # halfway from red to green
    assert np.abs(middle - [128, 128, 0]).max() <= 1
    nodes["fade"] = {"type": "video.crossfade", "inputs": {"a": ["smooth", "frames"], "b": ["frames", "frames"]}, "params": {"overlap": 1}}
    faded = output(executor, nodes, "fade")
    assert len(faded) == 5 + 2 - 1


def test_label_frames_numbers_and_enlarges(executor):
    nodes = {**frames_nodes(4), "labelled": {"type": "video.label_frames", "inputs": {"frames": ["frames", "frames"]}, "params": {"size": 96}}}
    film = output(executor, nodes, "labelled")
    assert len(film) == 4 and film[0].size == (96, 72)
    plain = np.asarray(Image.new("RGB", (96, 72), (255, 0, 0)))
    assert (np.asarray(film[0]) != plain).any()  # the counter is drawn
    held = output(executor, {**nodes, "held": {"type": "video.hold", "inputs": {"frames": ["labelled", "frames"]}, "params": {"first": 1, "last": 3}}}, "held")
    assert len(held) == 8 and held[-1] is held[-4]


def test_sound_track_is_muxed_without_re_encoding(executor):
    nodes = {**frames_nodes(3), "video": encode("mp4"), "tone": SYNTH,
             "scored": {"type": "video.add_audio", "inputs": {"video": ["video", "video"], "audio": ["tone", "audio"]}}}
    path = output(executor, nodes, "scored")
    info = streams(path)
    assert "Audio: aac" in info and "Video: h264" in info


def test_load_a_video_from_an_input_folder_and_pick_a_frame(executor, inputs):
    made = output(executor, {**frames_nodes(3), "video": encode("gif")}, "video")
    (inputs / "clip.gif").write_bytes(made.read_bytes())
    nodes = {
        "load": {"type": "video.load", "params": {"path": "clip.gif"}},
        "frames": {"type": "video.to_frames", "inputs": {"video": ["load", "video"]}, "params": {"every": 2}},
        "last": {"type": "video.frame", "inputs": {"frames": ["frames", "frames"]}, "params": {"index": -1}},
    }
    last = output(executor, nodes, "last")
    assert last.getpixel((5, 5)) == (0, 0, 255)


def test_video_previews(executor):
    _, log = run(executor, {**frames_nodes(2), "video": encode("mp4")}, only=["video"])
    kinds = [event["kind"] for event in log.of("preview")]
    assert kinds == ["video"]


def test_latent_walk_slerp_keeps_noise_scale():
    from nodes.video.motion import slerp

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(4096), rng.standard_normal(4096)
    middle = slerp(a, b, 0.5)
    assert np.linalg.norm(middle) == pytest.approx(np.linalg.norm(a), rel=0.05)
    assert np.linalg.norm((a + b) / 2) < 0.8 * np.linalg.norm(a)  # what a straight blend would lose
    assert np.allclose(slerp(a, b, 0.0), a) and np.allclose(slerp(a, b, 1.0), b)


def test_encoding_reports_progress_and_stops_when_cancelled(executor, settings):
    import threading

    from nodeflow.events import EventLog
    from tests.media.media_helpers import graph_of

    nodes = {**frames_nodes(4), "smooth": {"type": "video.interpolate", "inputs": {"frames": ["frames", "frames"]}, "params": {"factor": 16}},
             "video": {"type": "video.encode", "inputs": {"frames": ["smooth", "frames"]}}}
    stop, log = threading.Event(), EventLog()

    def watch(event):
        log(event)
        if event["event"] == "progress" and event["node"] == "video":
            stop.set()  # the user presses stop as soon as encoding starts

    result = executor.run(graph_of(nodes), on_event=watch, cancel=stop, only=["video"])
    assert result.status == "cancelled"
    assert log.of("progress")[0]["max"] == 49
    assert not list(settings.previews_dir.rglob("video.mp4"))  # no half-written video
