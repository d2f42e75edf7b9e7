"""Measuring sound: loudness after BS.1770, clipping and silence on synthesized tones with known
answers, and intelligibility (word error rate) of the bundled voice as the bundled recognizer hears it."""

from __future__ import annotations

import pytest

from tests.media.media_helpers import output, run_ok

TONE = {"type": "audio.synth", "params": {"notes": "B5:8", "bpm": 120.0, "waveform": "sine", "volume": 0.5, "sample_rate": 48000}}


def figures(executor, nodes, source="tone", **params):
    return output(executor, {**nodes, "q": {"type": "audio.quality", "inputs": {"audio": [source, "audio"]}, "params": params}}, "q")


def test_loudness_of_a_sine_matches_the_standard(executor):
    # BS.1770: a full-scale ~1 kHz sine reads -3.01 LUFS; at half amplitude, 6.02 dB less
    found = figures(executor, {"tone": TONE})
    assert found["loudness_lufs"] == pytest.approx(-9.03, abs=0.3)
    assert found["peak_dbfs"] == pytest.approx(-6.02, abs=0.1) and found["clipped_samples"] == 0
    assert found["duration_s"] == pytest.approx(4.0, abs=0.01) and found["silence_ratio"] < 0.02


def test_clipping_and_silence_are_counted(executor):
    loud = {"tone": TONE, "hot": {"type": "audio.gain", "inputs": {"audio": ["tone", "audio"]}, "params": {"db": 12.0}}}
    hot = figures(executor, loud, source="hot")
    assert hot["clipped_samples"] > 1000 and 0.3 < hot["clipped_ratio"] < 0.9
    gap = {"tone": TONE, "gap": {"type": "audio.concatenate", "inputs": {"a": ["tone", "audio"], "b": ["tone", "audio"]}, "params": {"gap": 8.0}}}
    quiet = figures(executor, gap, source="gap")
    assert quiet["silence_ratio"] == pytest.approx(0.5, abs=0.02)


def test_intelligibility_of_the_bundled_voice(executor):
    said = "Fresh bread and warm soup are ready in the kitchen."
    nodes = {
        "words": {"type": "core.text", "params": {"text": said}},
        "say": {"type": "audio.speak", "inputs": {"words": ["words", "text"]}, "params": {"noise_scale": 0.0, "noise_w": 0.0}},
        "score": {"type": "audio.intelligibility", "inputs": {"audio": ["say", "audio"], "reference": ["words", "text"]}},
        "wrong": {"type": "audio.intelligibility", "inputs": {"audio": ["say", "audio"]}, "params": {"text": "Nothing like what was said at all today."}},
    }
    result = run_ok(executor, nodes, only=["score", "wrong"])
    score = result.outputs["score"]["score"]
    assert score["wer"] < 0.1 and score["reference_words"] == 10, result.outputs["score"]["heard"]
    assert result.outputs["wrong"]["score"]["wer"] > 0.7


def test_intelligibility_without_a_reference_says_so(executor):
    from tests.media.media_helpers import run

    nodes = {"say": {"type": "audio.speak", "params": {"text": "Hello."}}, "score": {"type": "audio.intelligibility", "inputs": {"audio": ["say", "audio"]}}}
    result, _ = run(executor, nodes, only=["score"])
    assert result.status == "error" and "no reference" in result.error.message
