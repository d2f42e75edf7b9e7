"""The narrated story showcase (graphs/narrated_story.json) in its fast configuration: the same graph
with the script written in rather than by SmolLM2 (whose first load converts its weights for
minutes on a busy 2-core machine), run by the real command line. The full graph validates with the
other examples (tests/graph/test_example_graphs.py)."""

from __future__ import annotations

import json
import subprocess

import pytest

from nodes.audio.subtitles import parse_subtitles
from tests.media.media_helpers import REPO, nodeflow_cli

pytest.importorskip("piper")
pytest.importorskip("c2pa")

SCRIPT = "A little robot found a seed. It planted the seed in the garden. Soon a tall flower grew in the sun."


def fast_story(folder):
    """The showcase with a written script in place of the LLM: the writer and its model are left out."""
    graph = json.loads((REPO / "graphs" / "narrated_story.json").read_text())
    for name in ("llm", "writer"):
        del graph["nodes"][name]
    say = graph["nodes"]["say"]
    say.pop("inputs")
    say["params"]["text"] = SCRIPT
    path = folder / "story_fast.json"
    path.write_text(json.dumps(graph))
    return path


def test_the_narrated_story_runs_and_delivers_a_signed_film_with_sound_and_subtitles(tmp_path):
    from nodeflow.media.video_files import ffmpeg

    graph = fast_story(tmp_path)
    out = tmp_path / "out"
    done = nodeflow_cli("run", str(graph), "--out", str(out), home=tmp_path / "home", cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    movie, subs = out / "narrated_story.mp4", out / "narrated_story.srt"
    cues = parse_subtitles(subs.read_text(encoding="utf-8"))
    assert [c["text"] for c in cues] == ["A little robot found a seed.", "It planted the seed in the garden.", "Soon a tall flower grew in the sun."]
    probe = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(movie)], capture_output=True, text=True, check=False).stderr
    assert "Audio: aac" in probe and "Video: h264" in probe
    info = nodeflow_cli("info", str(movie), "--json", home=tmp_path / "home", cwd=REPO)
    assert info.returncode == 0, info.stderr
    found = json.loads(info.stdout)
    credentials = found["checks"]["credentials"]
    assert credentials["status"] == "valid"
    voices = [m for m in credentials["generation"]["models"] if m["type"] == "audio.speak"]
    assert voices and voices[0]["name"] == "en_US-joe-medium"
    assert found["graph"]["nodes"]["say"]["params"]["text"] == SCRIPT
    assert (out / "narrated_story.srt.provenance.json").exists()
