"""Speech files as artifacts: provenance and signed credentials naming the voice, and which re-runs
write byte-identical files (the voice with its noise at 0) and which do not (Piper's noise is drawn
inside onnxruntime with no seed a caller can set)."""

from __future__ import annotations

import pytest

from nodeflow.delivery import read_provenance
from tests.media.media_helpers import run_ok

pytest.importorskip("piper")

TEXT = "Every file says how it was made. This one was spoken."


def _save(executor, filename: str, credentials: bool = False, **voice):
    nodes = {
        "say": {"type": "audio.speak", "params": {"text": TEXT, **voice}},
        "save": {"type": "output.audio", "inputs": {"audio": ["say", "audio"]}, "params": {"filename": filename, "credentials": credentials, "overwrite": True}},
    }
    return run_ok(executor, nodes).outputs["save"]["path"]


@pytest.mark.parametrize("filename", ["speech.wav", "speech.flac", "speech.mp3", "speech.opus"])
def test_speech_with_the_noise_at_zero_is_byte_identical_on_a_re_run(executor, filename):
    first = _save(executor, filename, noise_scale=0.0, noise_w=0.0).read_bytes()
    executor.memory.clear()
    again = _save(executor, filename, noise_scale=0.0, noise_w=0.0)
    assert again.read_bytes() == first
    record = read_provenance(again)
    assert record["models"]["say.voice"]["name"] == "en_US-joe-medium"
    assert record["params"]["say"]["noise_scale"] == 0.0


def test_speech_with_the_voice_s_noise_differs_between_runs(executor):
    # documented, not hidden: the natural-sounding default is not repeatable sample for sample
    first = _save(executor, "natural.wav").read_bytes()
    executor.memory.clear()
    assert _save(executor, "natural.wav").read_bytes() != first


def test_signed_speech_verifies_and_names_the_voice(executor, settings):
    pytest.importorskip("c2pa")
    from nodeflow.delivery.inspect import inspect_artifact

    path = _save(executor, "signed.wav", credentials=True)
    info = inspect_artifact(path, home=settings.home)
    assert info.credentials["status"] == "valid"
    assert [m["name"] for m in info.credentials["generation"]["models"]] == ["en_US-joe-medium"]


@pytest.mark.parametrize("filename", ["speech.mp3", "speech.opus"])
def test_speech_saved_compressed_plays_back_at_its_length_with_its_record_beside_it(executor, filename):
    import soundfile

    path = _save(executor, filename)
    info = soundfile.info(str(path))
    assert info.format == ("MP3" if filename.endswith(".mp3") else "OGG")
    assert 3.0 < info.duration < 8.0  # two sentences at the voice's own pace
    assert (path.parent / (path.name + ".provenance.json")).is_file()
    assert read_provenance(path)["params"]["save"]["filename"] == filename


def test_signed_mp3_speech_verifies_and_reproduces_byte_for_byte(executor, settings, tmp_path):
    pytest.importorskip("c2pa")
    from nodeflow.delivery.inspect import inspect_artifact
    from nodeflow.record.reproduce import reproduce

    path = _save(executor, "signed.mp3", credentials=True, noise_scale=0.0, noise_w=0.0)
    info = inspect_artifact(path, home=settings.home)
    assert info.credentials["status"] == "valid"
    assert [m["name"] for m in info.credentials["generation"]["models"]] == ["en_US-joe-medium"]
    executor.memory.clear()
    report = reproduce(path, tmp_path / "again", executor=executor)
    # the audio frames are byte-identical; the signed manifest holds a signing time, so never the same twice
    assert report.verdict == "same content", report.lines()
