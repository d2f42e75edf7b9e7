"""The audio pack on real sound: file formats, edits, the synthesizer, spectrograms, generation errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from nodes.audio.clip import AudioClip
from nodes.audio.synth import MelodyError, note_frequency, parse_melody
from tests.media.media_helpers import SYNTH, output, run


def dominant_hz(clip: AudioClip) -> float:
    mono = clip.samples.mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(mono.size)))
    return float(np.fft.rfftfreq(mono.size, 1 / clip.sample_rate)[spectrum.argmax()])


def linked(node_type: str, source: str = "tone", **params):
    return {"type": node_type, "inputs": {"audio": [source, "audio"]}, "params": params}


@pytest.mark.parametrize("filename, tolerance", [("a.wav", 1e-4), ("a.flac", 1e-4), ("a.ogg", 0.05)])
def test_formats_round_trip(executor, settings, inputs, filename, tolerance):
    saved = output(executor, {"tone": SYNTH, "save": linked("output.audio", filename=filename)}, "save")
    assert saved.parent == settings.output_dir.resolve() and saved.name == filename
    # a user puts the file in an input folder and loads it back
    (inputs / filename).write_bytes(saved.read_bytes())
    loaded = output(executor, {"load": {"type": "audio.load", "params": {"path": filename}}}, "load")
    original = output(executor, {"tone": SYNTH}, "tone")
    assert loaded.sample_rate == 16000 and loaded.channels == 1
    assert abs(loaded.frames - original.frames) <= 1024  # Vorbis may pad the last packet
    count = min(loaded.frames, original.frames)
    assert np.abs(loaded.samples[:count] - original.samples[:count]).mean() < tolerance
    assert abs(dominant_hz(loaded) - 440) < 3


def test_float_and_24_bit_wav_keep_more_than_16_bits(executor):
    quiet = {"tone": SYNTH, "quiet": linked("audio.gain", db=-80.0)}
    for fmt in ("float", "24-bit"):
        path = output(executor, {**quiet, "save": linked("output.audio", "quiet", filename=f"{fmt}.wav", sample_format=fmt)}, "save")
        samples, _ = soundfile.read(path, dtype="float32")
        assert np.abs(samples).max() > 0  # -80 dB of 0.5 is below 16-bit's smallest step
        assert soundfile.info(str(path)).subtype == {"float": "FLOAT", "24-bit": "PCM_24"}[fmt]


def test_resample_keeps_pitch_and_duration(executor):
    out = output(executor, {"tone": SYNTH, "r": linked("audio.resample", sample_rate=44100)}, "r")
    assert out.sample_rate == 44100 and abs(out.duration - 0.5) < 1e-3
    assert abs(dominant_hz(out) - 440) < 3


def test_trim_gain_normalize_fade(executor):
    tone = {"tone": SYNTH}
    trimmed = output(executor, {**tone, "t": linked("audio.trim", start=0.1, duration=0.2)}, "t")
    assert trimmed.frames == 3200
    louder = output(executor, {**tone, "g": linked("audio.gain", db=6.0)}, "g")
    original = output(executor, tone, "tone")
    assert np.abs(louder.samples).max() == pytest.approx(np.abs(original.samples).max() * 10 ** (6 / 20), rel=1e-4)
    peak = output(executor, {**tone, "n": linked("audio.normalize", mode="peak", target_db=-3.0)}, "n")
    assert np.abs(peak.samples).max() == pytest.approx(10 ** (-3 / 20), rel=1e-4)
    rms = output(executor, {**tone, "n": linked("audio.normalize", mode="rms", target_db=-20.0)}, "n")
    assert np.sqrt(np.mean(rms.samples**2)) == pytest.approx(0.1, rel=1e-3)
    faded = output(executor, {**tone, "f": linked("audio.fade", fade_in=0.1, fade_out=0.1)}, "f")
    assert faded.samples[0, 0] == 0 and faded.samples[-1, 0] == 0
    assert np.abs(faded.samples[3000:5000]).max() == pytest.approx(np.abs(original.samples[3000:5000]).max())


def test_trim_past_the_end_says_so(executor):
    result, _ = run(executor, {"tone": SYNTH, "t": linked("audio.trim", start=5.0)}, only=["t"])
    assert result.status == "error" and "past the end" in result.error.message


def test_mix_and_concatenate_match_rates_and_channels(executor):
    low = {**SYNTH, "params": {**SYNTH["params"], "notes": "A3:2", "sample_rate": 8000}}
    nodes = {"tone": SYNTH, "low": low}
    mixed = output(executor, {**nodes, "m": {"type": "audio.mix", "inputs": {"a": ["tone", "audio"], "b": ["low", "audio"]}, "params": {"balance": 0.5}}}, "m")
    assert mixed.sample_rate == 16000 and abs(mixed.duration - 1.0) < 1e-3  # as long as the longer
    spectrum = np.abs(np.fft.rfft(mixed.samples[:8000, 0]))
    freqs = np.fft.rfftfreq(8000, 1 / 16000)
    strongest = set(np.round(freqs[np.argsort(spectrum)[-2:]]).astype(int))
    assert strongest == {220, 440}
    joined = output(executor, {**nodes, "c": {"type": "audio.concatenate", "inputs": {"a": ["tone", "audio"], "b": ["low", "audio"]}, "params": {"gap": 0.25}}}, "c")
    assert joined.sample_rate == 16000 and abs(joined.duration - 1.75) < 1e-3


def test_synth_plays_the_written_notes():
    assert note_frequency("A4") == pytest.approx(440.0)
    assert note_frequency("C4") == pytest.approx(261.6256, rel=1e-5)
    assert note_frequency("Bb3") == pytest.approx(note_frequency("A#3"))
    notes = parse_melody("C4 E4:2 | R:1/2, C4+E4+G4:0.5")
    assert [n.beats for n in notes] == [1, 2, 0.5, 0.5] and notes[2].frequencies == () and len(notes[3].frequencies) == 3


def test_synth_node_is_deterministic_and_tuned(executor):
    first = output(executor, {"tone": SYNTH}, "tone")
    assert first.duration == pytest.approx(0.5) and abs(dominant_hz(first) - 440) < 3
    executor.memory.clear()
    again = output(executor, {"tone": SYNTH}, "tone")
    assert np.array_equal(first.samples, again.samples)


@pytest.mark.parametrize("melody, where", [("C4 H4", "note 2 ('H4')"), ("C4:x", "note 1"), ("", "empty"), ("C4:0", "between 0 and 64")])
def test_bad_melody_names_the_note(melody, where):
    with pytest.raises(MelodyError) as error:
        parse_melody(melody)
    assert where in str(error.value)


def test_melody_linked_from_text(executor):
    nodes = {
        "words": {"type": "core.text", "params": {"text": "E5:0.5"}},
        "tone": {"type": "audio.synth", "inputs": {"melody": ["words", "text"]}, "params": {"waveform": "sine", "sample_rate": 16000}},
    }
    clip = output(executor, nodes, "tone")
    assert clip.duration == pytest.approx(0.25) and abs(dominant_hz(clip) - 659.26) < 5


def test_spectrogram_shows_the_tone_at_its_height(executor):
    image = output(executor, {"tone": SYNTH, "s": linked("audio.spectrogram", n_fft=512, hop=128, height=257)}, "s")
    assert image.size[1] == 257 and image.mode == "RGB"
    brightness = np.asarray(image).astype(float).sum(axis=(1, 2))
    row = int(brightness.argmax())  # frequency bin of 440 Hz at 16 kHz, n_fft 512: 14, drawn from the bottom
    assert abs((256 - row) - 440 / (16000 / 512)) <= 2


def test_previews_are_playable_files(executor):
    _, log = run(executor, {"tone": SYNTH}, only=["tone"])
    (preview,) = log.of("preview")
    assert preview["kind"] == "audio"
    samples, rate = soundfile.read(preview["path"])
    assert rate == 16000 and len(samples) == 8000


def test_text_to_speech_from_the_hub_offline_says_what_to_do(executor, settings):
    result, _ = run(executor, {"tts": {"type": "audio.text_to_speech", "params": {"model": "microsoft/speecht5_tts"}}}, only=["tts"])
    assert result.status == "error"
    assert "offline" in result.error.message and str(settings.models_dir) in result.error.message


def test_text_to_audio_with_a_missing_folder_says_so(executor):
    result, _ = run(executor, {"tta": {"type": "audio.text_to_audio", "params": {"model": "no such folder"}}}, only=["tta"])
    assert result.status == "error" and "not a folder" in result.error.message


def test_replacing_a_loaded_file_re_runs_the_load(executor, inputs):
    low = {**SYNTH, "params": {**SYNTH["params"], "notes": "A3"}}
    for name, tone in (("first", SYNTH), ("second", low)):
        saved = output(executor, {"tone": tone, "save": linked("output.audio", filename=f"{name}.wav")}, "save")
        (inputs / "take.wav").write_bytes(saved.read_bytes())
        result, log = run(executor, {"load": {"type": "audio.load", "params": {"path": "take.wav"}}}, only=["load"])
        assert abs(dominant_hz(result.outputs["load"]["audio"]) - {"first": 440, "second": 220}[name]) < 3
    assert log.of("node_started")[0]["reason"] == "fingerprint changed"
