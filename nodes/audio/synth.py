"""A small synthesizer that plays a melody written as text, so sound works with no model at all.

The melody is a list of notes separated by spaces, commas or bar lines::

    C4 E4 G4:2 | R:0.5 A#4:1/2 Bb3+D4+F4:2

A note is a pitch (a letter A-G, an optional ``#`` or ``b``, an octave 0-9, default 4), optionally
``:BEATS`` (a number or a fraction, default 1). ``R`` (or ``rest``, or ``-``) is a rest; ``+`` joins
pitches into a chord. An LLM asked for "a melody as note names with durations" writes this readily.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from nodeflow import Context, Param, node, node_memory_limit
from nodes.audio.clip import Audio, AudioClip
from nodes.audio.io import preview_audio

_PITCH = re.compile(r"^([A-Ga-g])([#b]?)(-?\d)?$")
_SEMITONE = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_RESTS = {"r", "rest", "-", "_"}


class MelodyError(ValueError):
    """A melody text that cannot be read; the message names the token and its position."""


@dataclass(frozen=True)
class Note:
    frequencies: tuple[float, ...]  # empty for a rest
    beats: float


def note_frequency(name: str) -> float:
    """Frequency in Hz of a note name such as A4 (440 Hz), C#5 or Bb3, in equal temperament."""
    found = _PITCH.match(name)
    if found is None:
        raise MelodyError(f"{name!r} is not a note (write a letter A-G, an optional # or b, and an octave)")
    letter, accidental, octave = found.groups()
    semitone = _SEMITONE[letter.lower()] + {"#": 1, "b": -1, "": 0}[accidental]
    midi = 12 * (int(octave if octave is not None else 4) + 1) + semitone
    return 440.0 * 2 ** ((midi - 69) / 12)


def parse_melody(text: str) -> list[Note]:
    notes = []
    tokens = [t for t in re.split(r"[\s,|;]+", text.strip()) if t]
    if not tokens:
        raise MelodyError("the melody is empty: write notes such as C4 E4 G4:2")
    for position, token in enumerate(tokens, start=1):
        pitch, _, beats_text = token.partition(":")
        try:
            beats = float(Fraction(beats_text)) if beats_text else 1.0
        except (ValueError, ZeroDivisionError):
            raise MelodyError(
                f"note {position} ({token!r}): {beats_text!r} is not a number of beats"
            ) from None
        if not 0 < beats <= 64:
            raise MelodyError(f"note {position} ({token!r}): beats must be between 0 and 64")
        if pitch.lower() in _RESTS:
            notes.append(Note((), beats))
            continue
        try:
            notes.append(Note(tuple(note_frequency(p) for p in pitch.split("+")), beats))
        except MelodyError as exc:
            raise MelodyError(f"note {position} ({token!r}): {exc}") from None
    return notes


def _wave(shape: str, phase: np.ndarray) -> np.ndarray:
    cycle = phase % 1.0
    if shape == "sine":
        return np.sin(2 * np.pi * phase)
    if shape == "square":
        return np.where(cycle < 0.5, 1.0, -1.0) * 0.6
    if shape == "saw":
        return (2 * cycle - 1) * 0.7
    if shape == "triangle":
        return 1 - 4 * np.abs(cycle - 0.5)
    # "pluck": a few decaying harmonics, like a plucked string
    return sum(np.sin(2 * np.pi * k * phase) / k**1.5 for k in range(1, 6)) * 0.6


def render(
    notes: list[Note], *, bpm: float, rate: int, shape: str, attack: float, release: float
) -> np.ndarray:
    beat = 60.0 / bpm
    parts = []
    for note in notes:
        count = int(round(note.beats * beat * rate))
        t = np.arange(count, dtype=np.float64) / rate
        if not note.frequencies:
            parts.append(np.zeros(count))
            continue
        tone = sum(_wave(shape, f * t) for f in note.frequencies) / len(note.frequencies)
        envelope = np.ones(count)
        rise = min(count, int(attack * rate))
        fall = min(count - rise, int(release * rate))
        if rise:
            envelope[:rise] = np.linspace(0, 1, rise)
        if fall:
            envelope[count - fall :] = np.linspace(1, 0, fall)
        if shape == "pluck":
            envelope *= np.exp(-3.0 * t / max(t[-1] if count else 1.0, 1e-3))
        parts.append(tone * envelope)
    return np.concatenate(parts) if parts else np.zeros(0)


def melody_memory(notes: list[Note], bpm: float, rate: int) -> int:
    """Bytes render() needs at its peak (measured: ~20 a sample in all, ~32 a sample of the longest note)."""
    counts = [int(round(note.beats * 60.0 / bpm * rate)) for note in notes] or [0]
    return 20 * sum(counts) + 32 * max(counts)


def _estimate_synth(params: dict) -> tuple[int, str] | None:
    notes, bpm, rate = params.get("notes"), params.get("bpm"), params.get("sample_rate")
    if params.get("melody") is ... or not isinstance(notes, str) or not isinstance(bpm, (int, float)) or not isinstance(rate, int):
        return None  # a linked melody is checked when the node runs
    return melody_memory(parse_melody(notes), float(bpm), rate), "notes"


@node("audio.synth", category="Audio/Generate", estimate=_estimate_synth)
def synth(
    melody: str | None = None,
    ctx: Context = None,
    *,
    notes: str = Param(
        "C4 E4 G4 C5:2 | G4:0.5 E4:0.5 C4:2", kind="text", description="used when melody is not linked"
    ),
    bpm: float = Param(120.0, min=20, max=400),
    waveform: str = Param("pluck", choices=("pluck", "sine", "triangle", "square", "saw")),
    volume: float = Param(0.5, min=0, max=1, display="slider"),
    attack: float = Param(0.01, min=0, max=2, description="seconds"),
    release: float = Param(0.08, min=0, max=4, description="seconds"),
    sample_rate: int = Param(44100, min=8000, max=192000),
) -> Audio:
    """Play a melody written as text (for example by an LLM): notes like C4, F#3:2, rests R:0.5, chords C4+E4+G4.

    Everything is computed from the text, so the same melody always gives the same samples.
    """
    text = notes if melody is None else melody
    parsed = parse_melody(text)
    needed, limit = melody_memory(parsed, bpm, sample_rate), node_memory_limit()
    if needed > limit:  # a linked melody (an LLM's) was not known at validation
        raise ValueError(
            f"this melody would need about {needed / 2**20:,.0f} MB to render, more than the per-node limit of "
            f"{limit / 2**20:,.0f} MB (NODEFLOW_NODE_MAX_MB): shorten it or lower sample_rate"
        )
    samples = render(parsed, bpm=bpm, rate=sample_rate, shape=waveform, attack=attack, release=release)
    clip = AudioClip((samples * volume).astype(np.float32), sample_rate)
    if ctx is not None:
        preview_audio(ctx, clip)
    return clip
