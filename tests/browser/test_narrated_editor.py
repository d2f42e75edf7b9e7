"""The narrated story in the editor (real Chromium, the real voice): the fast configuration (the
script written in, not by SmolLM2) runs from the Run button, its film plays with sound on the
node, and the captions burned into the picture show while their sentence is spoken."""

from __future__ import annotations

import json

import pytest

from tests.browser.editor_helpers import REPO, open_graph, run_and_wait

pytest.importorskip("piper")

SCRIPT = "A little robot found a seed. It planted the seed in the garden. Soon a tall flower grew in the sun."


def test_the_narrated_story_plays_in_the_editor_with_its_captions(page):
    graph = json.loads((REPO / "graphs" / "narrated_story.json").read_text())
    for name in ("llm", "writer"):
        del graph["nodes"][name]
    graph["nodes"]["say"].pop("inputs")
    graph["nodes"]["say"]["params"]["text"] = SCRIPT
    graph["nodes"]["save"]["params"]["credentials"] = False  # signing is tested elsewhere; this is about playing
    open_graph(page, graph, name="narrated_story.json")
    run_and_wait(page, timeout=240_000)
    video = page.wait_for_selector("[data-testid=preview-video-soundtrack]", timeout=30_000)
    assert video is not None
    found = page.evaluate(
        """async () => {
             const video = document.querySelector('[data-testid=preview-video-soundtrack]');
             video.muted = true;  // autoplay rules: a muted player may start without a click
             if (video.readyState < 1) await new Promise(r => video.addEventListener('loadedmetadata', r, {once: true}));
             await video.play();
             // plays: its clock moves past 0.2 s (on a loaded machine 800 ms of wall time may play only
             // 0.1 s of video, so wait up to 20 s for it rather than a fixed time)
             const started = performance.now();
             while (video.currentTime <= 0.2 && performance.now() - started < 20000) await new Promise(r => setTimeout(r, 100));
             const played = video.currentTime;
             video.pause();
             const look = async (t) => {
               video.currentTime = t;
               await new Promise(r => video.addEventListener('seeked', r, {once: true}));
               const canvas = document.createElement('canvas');
               canvas.width = video.videoWidth; canvas.height = video.videoHeight;
               const g = canvas.getContext('2d');
               g.drawImage(video, 0, 0);
               const band = g.getImageData(0, Math.floor(canvas.height * 0.7), canvas.width, Math.floor(canvas.height * 0.3)).data;
               let white = 0;
               for (let i = 0; i < band.length; i += 4) if (band[i] > 220 && band[i + 1] > 220 && band[i + 2] > 220) white++;
               return white;
             };
             return {played, duration: video.duration, during: await look(1.5), after: await look(video.duration - 0.3), width: video.videoWidth};
           }"""
    )
    assert found["width"] == 256 and found["duration"] > 5
    assert found["played"] > 0.2  # the player plays
    assert found["during"] > 50  # white caption text in the lower band while the first sentence is spoken
    assert found["after"] < found["during"] / 5  # and none once the story has been told


def test_the_voice_picker_lists_the_bundled_voice(page):
    open_graph(page, {"nodeflow": 1, "nodes": {"say": {"type": "audio.speak", "params": {"voice": ""}, "ui": {"pos": [40, 40]}}}})
    page.click("[data-testid=models-btn-say-voice]")
    page.click("[data-testid='model-option-en_US-joe-medium']")
    page.wait_for_function("() => document.querySelector('[data-testid=param-say-voice]').value === 'en_US-joe-medium'")
