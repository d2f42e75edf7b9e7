"""The audio guard on speech made by the bundled voice itself: a spoken e-mail address and spoken
profanity are blocked, flagged, or beeped out (and the redacted sound, transcribed again, no longer
says them). Real models throughout: Piper, Whisper tiny.en, alt-profanity-check, MiniLM."""

from __future__ import annotations

import numpy as np
import pytest

from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph

pytest.importorskip("piper")
pytest.importorskip("faster_whisper")

EMAIL = "Please write to tom at gmail dot com before noon."
RUDE = "Oh shit, the printer is broken again."
CLEAN = "The weather is lovely and the birds are singing."


def guarded(text: str, **params) -> dict:
    return {
        "say": {"type": "audio.speak", "params": {"text": text, "noise_scale": 0.0, "noise_w": 0.0}},
        "guard": {"type": "guard.audio", "inputs": {"audio": ["say", "audio"]}, "params": params},
        "hear": {"type": "audio.transcribe", "inputs": {"audio": ["guard", "audio"]}},
    }


def run(executor, nodes, only=("guard", "hear", "say")):
    log = EventLog()
    result = executor.run(parse_graph({"nodeflow": 1, "nodes": nodes}), on_event=log, only=list(only))
    return result, log


@pytest.mark.parametrize("text, kind", [(EMAIL, "email"), (RUDE, "offensive")])
def test_spoken_email_and_profanity_are_blocked(executor, text, kind):
    result, log = run(executor, guarded(text, action="block"))
    assert result.blocked == ["guard"] and "guard" not in result.outputs and "hear" not in result.outputs
    assert log.of("node_blocked")[0]["reason"].startswith(f"spoken content: {kind} x")  # blocked is a state, not an error


@pytest.mark.parametrize("text, kind", [(EMAIL, "email"), (RUDE, "offensive")])
def test_flagging_passes_the_sound_on_and_says_when_it_was_said(executor, text, kind):
    result, _ = run(executor, guarded(text, action="flag"), only=("guard", "say"))
    out = result.outputs["guard"]
    assert np.array_equal(out["audio"].samples, result.outputs["say"]["audio"].samples)
    assert out["report"].startswith(f"flagged: {kind} x")
    found = [f for f in out["flags"]["found"] if f["kind"] == kind]
    start, end = found[0]["at"]
    assert 0 < start < end <= result.outputs["say"]["audio"].duration
    assert "tom" not in str(out["flags"]).lower() and "shit" not in str(out["flags"]).lower()  # never the words


def test_redacting_beeps_over_the_words_and_the_result_no_longer_says_them(executor):
    result, _ = run(executor, guarded(f"{EMAIL} {RUDE}", action="redact"))
    out = result.outputs["guard"]
    assert out["report"].startswith("redacted:") and "email x1" in out["report"] and "offensive x1" in out["report"]
    assert "[EMAIL]" in out["transcript"] and "[OFFENSIVE]" in out["transcript"]
    heard = result.outputs["hear"]["text"].lower()
    assert "gmail" not in heard and "shit" not in heard, heard
    assert "printer" in heard and "noon" in heard  # the rest is still said
    # a 1 kHz beep where the address was said
    (email,) = [f for f in out["flags"]["found"] if f["kind"] == "email"]
    start, end = email["at"]
    rate = out["audio"].sample_rate
    piece = out["audio"].samples[int(start * rate) : int(end * rate), 0]
    spectrum = np.abs(np.fft.rfft(piece))
    assert abs(np.fft.rfftfreq(piece.size, 1 / rate)[spectrum.argmax()] - 1000) < 10


def test_clean_speech_passes_unchanged(executor):
    result, _ = run(executor, guarded(CLEAN, action="redact"), only=("guard", "say"))
    out = result.outputs["guard"]
    assert out["report"] == "clean" and np.array_equal(out["audio"].samples, result.outputs["say"]["audio"].samples)


def test_word_list_and_semantic_screen_on_linked_words(executor):
    nodes = {
        "say": {"type": "audio.speak", "params": {"text": "The secret project is called blue falcon. He hit the man with a knife."}},
        "hear": {"type": "audio.transcribe", "inputs": {"audio": ["say", "audio"]}},
        "guard": {
            "type": "guard.audio",
            "inputs": {"audio": ["say", "audio"], "words": ["hear", "words"]},
            "params": {
                "action": "flag", "offensive": False, "personal_data": False, "word_list": "blue falcon",
                "categories": "violence: a person is stabbed with a knife; people fighting and hurting each other",
                "similarity": 0.45,
            },
        },
    }
    result, _ = run(executor, nodes, only=("guard",))
    kinds = [f["kind"] for f in result.outputs["guard"]["flags"]["found"]]
    assert "listed" in kinds and "violence" in kinds
