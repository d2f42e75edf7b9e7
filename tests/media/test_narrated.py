"""Narrated media on the real bundled voice and recognizer: subtitle files whose times match what the
recognizer hears, captions burned into frames, music ducked under the voice, and a narrated slideshow
delivered as an MP4 with sound, an .srt and content credentials."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from nodeflow.delivery import read_provenance
from nodes.audio.subtitles import parse_subtitles
from tests.media.media_helpers import run_ok

pytest.importorskip("piper")
pytest.importorskip("faster_whisper")

SCRIPT = "A small robot woke up in the garden. It saw the sun rise over the hills. Then it went back to sleep."


def _speech_nodes(text: str = SCRIPT) -> dict:
    return {
        "say": {"type": "audio.speak", "params": {"text": text, "noise_scale": 0.0, "noise_w": 0.0}},  # repeatable
        "hear": {"type": "audio.transcribe", "inputs": {"audio": ["say", "audio"]}},
    }


@pytest.mark.parametrize("filename", ["story.srt", "story.vtt"])
def test_subtitle_files_match_what_the_recognizer_hears(executor, settings, filename):
    nodes = {
        **_speech_nodes(),
        "subs": {"type": "audio.subtitles", "inputs": {"timings": ["say", "sentences"]}},
        "save": {"type": "audio.save_subtitles", "inputs": {"cues": ["subs", "cues"]}, "params": {"filename": filename}},
    }
    result = run_ok(executor, nodes, only=["save", "hear"])
    path = result.outputs["save"]["path"]
    document = path.read_text(encoding="utf-8")
    assert document.startswith("WEBVTT") == filename.endswith(".vtt")
    cues = parse_subtitles(document)
    assert [c["text"] for c in cues] == [s.strip() + "." for s in SCRIPT.split(".") if s.strip()]
    # the recognizer, listening to the same audio, hears each sentence's first and last words at the cue's times
    words = result.outputs["hear"]["words"]["words"]
    for cue in cues:
        first = min(words, key=lambda w: abs(w["start"] - cue["start"]))
        last = min(words, key=lambda w: abs(w["end"] - cue["end"]))
        assert abs(first["start"] - cue["start"]) < 0.3 and abs(last["end"] - cue["end"]) < 0.3, (cue, first, last)
    assert read_provenance(path)["graph"]["nodes"]["save"]["type"] == "audio.save_subtitles"


def test_subtitles_from_transcribed_words(executor):
    nodes = {**_speech_nodes(), "subs": {"type": "audio.subtitles", "inputs": {"timings": ["hear", "words"]}, "params": {"format": "vtt"}}}
    result = run_ok(executor, nodes, only=["subs", "hear"])
    cues = result.outputs["subs"]["cues"]["cues"]
    words = result.outputs["hear"]["words"]["words"]
    assert len(cues) >= 2 and all(len(c["text"]) <= 84 for c in cues)  # cut at sentence ends, pauses or length
    assert cues[0]["start"] == words[0]["start"] and cues[-1]["end"] == words[-1]["end"]
    assert parse_subtitles(result.outputs["subs"]["text"]) == [{**c, "text": c["text"]} for c in cues]


def test_burned_captions_show_while_their_sentence_is_spoken(executor):
    plain = {"type": "image.new", "params": {"width": 160, "height": 120, "fill": "solid", "colour_a": "#204080"}}
    cues = {"cues": [{"start": 0.5, "end": 1.0, "text": "Hello there"}]}
    nodes = {
        "pic": plain,
        "frames": {"type": "video.collect", "inputs": {"a": ["pic", "image"], "b": ["pic", "image"], "c": ["pic", "image"], "d": ["pic", "image"]}},
        "burn": {"type": "video.burn_captions", "inputs": {"frames": ["frames", "frames"]}, "params": {"fps": 4.0, "captions": cues}},
    }
    frames = run_ok(executor, nodes, only=["burn"]).outputs["burn"]["frames"]
    pictures = [np.asarray(f).astype(int) for f in frames]
    background = np.array([0x20, 0x40, 0x80])
    # frames 2 and 3 (0.5 s and 0.75 s) carry white text at the bottom; frames 0 and 1 are untouched
    for index in (0, 1):
        assert (pictures[index] == background).all()
    for index in (2, 3):
        bottom = pictures[index][80:]
        assert (bottom.min(axis=2) > 200).sum() > 20 and (pictures[index][:40] == background).all()


def test_music_ducks_under_the_voice(executor):
    nodes = {
        "say": {"type": "audio.speak", "params": {"text": "Listen to the music fall away.", "noise_scale": 0.0, "noise_w": 0.0}},
        "tune": {"type": "audio.synth", "params": {"notes": "A3:8", "waveform": "sine", "volume": 0.5, "sample_rate": 44100}},
        "mix": {"type": "audio.duck", "inputs": {"voice": ["say", "audio"], "music": ["tune", "audio"]}, "params": {"depth_db": -20.0, "tail": 1.0}},
    }
    result = run_ok(executor, nodes, only=["say", "mix"])
    voice, mixed = result.outputs["say"]["audio"], result.outputs["mix"]["audio"]
    assert mixed.sample_rate == voice.sample_rate and mixed.frames == voice.frames + voice.sample_rate
    rate = voice.sample_rate
    music_only = mixed.samples[voice.frames + rate // 2 :, 0]  # the tail: nobody speaks
    timing = result.outputs["say"]["sentences"]["sentences"][0]
    middle = int((timing["start"] + timing["end"]) / 2 * rate)
    under = (mixed.samples[:, 0] - np.pad(voice.samples[:, 0], (0, rate)))[middle - rate // 4 : middle + rate // 4]
    ratio_db = 20 * np.log10(np.sqrt(np.mean(under**2)) / np.sqrt(np.mean(music_only**2)))
    assert -23 < ratio_db < -17  # the music under the voice is 20 dB down


def test_a_narrated_slideshow_is_delivered_with_sound_subtitles_and_credentials(executor, settings):
    from nodeflow.delivery.inspect import inspect_artifact
    from nodeflow.media.video_files import decode, ffmpeg

    pytest.importorskip("c2pa")
    colours = ["#c03020", "#20a040", "#2040c0"]
    nodes = {f"pic{i}": {"type": "image.new", "params": {"width": 128, "height": 96, "fill": "solid", "colour_a": c}} for i, c in enumerate(colours)}
    nodes.update({
        "say": {"type": "audio.speak", "params": {"text": SCRIPT}},
        "pictures": {"type": "video.collect", "inputs": {"a": ["pic0", "image"], "b": ["pic1", "image"], "c": ["pic2", "image"]}},
        "show": {"type": "video.slideshow", "inputs": {"pictures": ["pictures", "frames"], "sentences": ["say", "sentences"]}, "params": {"fps": 8.0}},
        "subs": {"type": "audio.subtitles", "inputs": {"timings": ["say", "sentences"]}},
        "burn": {"type": "video.burn_captions", "inputs": {"frames": ["show", "frames"], "cues": ["subs", "cues"]}, "params": {"fps": 8.0}},
        "film": {"type": "video.encode", "inputs": {"frames": ["burn", "frames"]}, "params": {"fps": 8.0}},
        "tune": {"type": "audio.synth", "params": {"notes": "C4:2 E4:2 G4:2 C5:2", "waveform": "sine", "bpm": 60.0}},
        "bed": {"type": "audio.duck", "inputs": {"voice": ["say", "audio"], "music": ["tune", "audio"]}},
        "sound": {"type": "video.add_audio", "inputs": {"video": ["film", "video"], "audio": ["bed", "audio"]}},
        "save": {"type": "output.video", "inputs": {"video": ["sound", "video"]}, "params": {"filename": "story.mp4", "credentials": True}},
        "save_subs": {"type": "audio.save_subtitles", "inputs": {"cues": ["subs", "cues"]}, "params": {"filename": "story.srt"}},
    })
    result = run_ok(executor, nodes, only=["save", "save_subs", "say"])
    movie, srt = result.outputs["save"]["path"], result.outputs["save_subs"]["path"]
    sentences = result.outputs["say"]["sentences"]["sentences"]
    probe = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(movie)], capture_output=True, text=True, check=False).stderr
    assert "Audio: aac" in probe and "Video: h264" in probe
    # the second sentence's picture is on screen while it is spoken
    frames = list(decode(movie))
    during = frames[int((sentences[1]["start"] + 0.3) * 8)]
    red, green, blue = np.asarray(during)[5:30, 5:30].reshape(-1, 3).mean(axis=0)
    assert green > 120 and red < 80 and blue < 100
    assert len(parse_subtitles(srt.read_text())) == 3
    info = inspect_artifact(movie, home=settings.home)
    assert info.credentials["status"] == "valid"
