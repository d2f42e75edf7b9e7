"""Text guards on real texts: each action (block, redact, flag), through the executor as a user runs
them, with the real alt-profanity-check model and the bundled MiniLM."""

from __future__ import annotations

import pytest

from nodes.guard.personal_data import find_personal_data, iban_valid, luhn_valid
from tests.guard.guard_support import run_guard, texts_of

CLEAN = "Draw the number seven on a birthday card with three balloons, dated 2024-05-01."
PERSONAL = (
    "Send the print to jane.doe@example.org or call +44 20 7946 0958. "
    "Pay with card 4111 1111 1111 1111 or to IBAN GB82 WEST 1234 5698 7654 32. "
    "Deliver to 221B Baker Street, London."
)


def test_checksums_tell_real_numbers_from_random_digits():
    assert luhn_valid("4111111111111111") and luhn_valid("5500005555555559")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and iban_valid("DE89370400440532013000")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")  # one digit off
    assert not iban_valid("DE8937040044053201300")  # a German IBAN is 22 long


@pytest.mark.parametrize(
    "text, kind",
    [
        ("mail me at bob.smith+art@mail.example.co.uk today", "email"),
        ("my number is (555) 123-4567", "phone"),
        ("ring 0170 1234567 after six", "phone"),
        ("card: 5500-0055-5555-5559", "card"),
        ("pay DE89 3704 0044 0532 0130 00 please", "iban"),
        ("the White House is at 1600 Pennsylvania Avenue NW, Washington, DC 20500", "address"),
        ("wir wohnen in der Hauptstraße 5, 10115 Berlin", "address"),
        ("post it to PO Box 1234", "address"),
        ("the office postcode is SW1A 1AA", "address"),
    ],
)
def test_each_kind_of_personal_data_is_found(text, kind):
    assert [f.kind for f in find_personal_data(text)] == [kind]


@pytest.mark.parametrize(
    "text",
    [
        CLEAN,
        "order 4111 1111 1111 1112 shipped",  # fails Luhn
        "account GB82 WEST 1234 5698 7654 33",  # fails mod-97
        "seed 20240501 and 12 steps at 512x512",
    ],
)
def test_clean_text_and_near_misses_are_not_personal_data(text):
    assert find_personal_data(text) == []


def test_personal_data_redacted_by_default(executor):
    result, log = run_guard(executor, "guard.personal_data", PERSONAL)
    assert result.ok
    out = result.outputs["guard"]
    assert out["text"] == (
        "Send the print to [EMAIL] or call [PHONE]. Pay with card [CARD] or to IBAN [IBAN]. "
        "Deliver to [ADDRESS]."
    )
    assert out["report"] == "redacted: email x1, phone x1, card x1, iban x1, address x1"
    assert "jane.doe" not in str(out["flags"])  # flags say what and where, never the data itself
    assert any("redacted" in t for t in texts_of(log, "guard"))


def test_personal_data_block_stops_the_branch_with_the_reason(executor):
    result, log = run_guard(executor, "guard.personal_data", PERSONAL, action="block")
    assert result.blocked == ["guard"] and "guard" not in result.outputs
    assert result.status == "ok" and log.of("node_error") == []  # a guard doing its job is no failure
    blocked = log.of("node_blocked")[0]
    assert blocked["node"] == "guard" and blocked["reason"].startswith("personal data: email x1, phone x1")


def test_personal_data_flag_passes_text_unchanged(executor):
    result, _ = run_guard(executor, "guard.personal_data", PERSONAL, action="flag", address=False)
    out = result.outputs["guard"]
    assert out["text"] == PERSONAL
    assert out["report"] == "flagged: email x1, phone x1, card x1, iban x1"
    assert [f["kind"] for f in out["flags"]["found"]] == ["email", "phone", "card", "iban"]


def test_clean_text_passes_every_text_guard_unchanged(executor):
    for guard in ("guard.personal_data", "guard.offensive_language", "guard.word_list", "guard.prompt"):
        result, _ = run_guard(executor, guard, CLEAN)
        assert result.ok, guard
        assert result.outputs["guard"]["text"] == CLEAN
        assert result.outputs["guard"]["report"] == "clean"


def test_offensive_language_each_action(executor):
    rude = "What a lovely card. You are a stupid idiot and your drawing is shit."
    blocked, log = run_guard(executor, "guard.offensive_language", rude)
    assert blocked.blocked == ["guard"]
    assert "offensive language" in log.of("node_blocked")[0]["reason"]

    redacted, _ = run_guard(executor, "guard.offensive_language", rude, action="redact")
    text = redacted.outputs["guard"]["text"]
    assert text.startswith("What a lovely card.")  # the clean sentence is untouched
    assert "idiot" not in text and "shit" not in text and "[OFFENSIVE]" in text

    flagged, _ = run_guard(executor, "guard.offensive_language", rude, action="flag")
    assert flagged.outputs["guard"]["text"] == rude
    assert flagged.outputs["guard"]["report"].startswith("flagged: offensive x")
    assert all(f["score"] >= 0.7 for f in flagged.outputs["guard"]["flags"]["found"])


def test_word_list_matches_whole_words_and_phrases_in_any_case(executor):
    words = "Mickey Mouse\nbatman, coca-cola"
    text = "Draw MICKEY   mouse holding a Coca-Cola next to Batmanesque shadows."
    result, _ = run_guard(executor, "guard.word_list", text, words=words, action="redact")
    assert result.outputs["guard"]["text"] == "Draw [LISTED] holding a [LISTED] next to Batmanesque shadows."
    _blocked, log = run_guard(executor, "guard.word_list", text, words=words)
    assert "word list: listed x2" in log.of("node_blocked")[0]["reason"]


def test_empty_word_list_or_category_list_is_a_validation_problem(registry):
    from nodeflow.check.validate import validate
    from tests.guard.guard_support import graph_of

    graph = graph_of(
        {
            "t": {"type": "core.text", "params": {"text": "hi"}},
            "w": {"type": "guard.word_list", "params": {"words": "  \n "}, "inputs": {"text": ["t", "text"]}},
            "s": {"type": "guard.semantic", "params": {"categories": ""}, "inputs": {"text": ["t", "text"]}},
            "n": {"type": "guard.nudity", "params": {"labels": ""}, "inputs": {"image": ["t", "text"]}},
        }
    )
    problems = {(p.node, p.port): p.message for p in validate(graph, registry)}
    assert problems[("w", "words")].startswith("is empty: list at least one word")
    assert problems[("s", "categories")].startswith("is empty: list at least one category")
    assert problems[("n", "labels")].startswith("is empty")


def test_semantic_screen_finds_a_category_by_meaning_and_shows_scores(executor):
    categories = "weapons: a man shoots a gun; soldiers fire rifles\ncooking: a chef bakes bread in an oven"
    violent = "A sheriff fires his revolver at the outlaw."
    result, log = run_guard(executor, "guard.semantic", violent, categories=categories, action="flag", threshold=0.4)
    out = result.outputs["guard"]
    assert out["report"] == "flagged: weapons x1"
    assert out["flags"]["scores"]["weapons"] > out["flags"]["scores"]["cooking"]
    assert any("threshold 0.40" in t for t in texts_of(log, "guard"))

    calm, log = run_guard(executor, "guard.semantic", "A kitten sleeps on a sofa.", categories=categories, threshold=0.4)
    assert calm.ok and calm.outputs["guard"]["report"] == "clean"

    _blocked, log = run_guard(executor, "guard.semantic", violent, categories=categories, threshold=0.4)
    assert "semantic screen: weapons x1" in log.of("node_blocked")[0]["reason"]


def test_prompt_screen_runs_the_screens_together(executor):
    prompt = "A portrait of Batman with the caption jane@example.org, you stupid idiot"
    result, _ = run_guard(executor, "guard.prompt", prompt, words="batman", action="redact")
    out = result.outputs["guard"]
    assert "[LISTED]" in out["text"] and "[EMAIL]" in out["text"] and "[OFFENSIVE]" in out["text"]
    assert "jane@" not in out["text"]


def test_fast_offensive_language_scores_equal_the_packages_own():
    from profanity_check import predict_prob

    from nodes.guard.screens import _profanity_model

    texts = ["you are a stupid idiot", "a lovely day by the river", "draw the number seven", "what the hell"]
    assert _profanity_model()(texts) == pytest.approx(predict_prob(texts), abs=1e-9)


def test_in_a_sweep_a_block_stops_only_that_items_branch(executor):
    from nodeflow.events import EventLog
    from tests.guard.guard_support import graph_of

    texts = ["Draw a seven.", "Draw a seven for jane@example.org.", "Draw a three."]
    nodes = {
        "note": {"type": "core.text", "params": {"text": {"sweep": texts}}},
        "pii": {"type": "guard.personal_data", "params": {"action": "block"}, "inputs": {"text": ["note", "text"]}},
        "save": {"type": "output.text", "params": {"filename": "note.txt"}, "inputs": {"text": ["pii", "text"]}},
    }
    log = EventLog()
    result = executor.run(graph_of(nodes), on_event=log)
    assert result.blocked == ["pii[1]"]
    saved = sorted(k for k in result.outputs if k.startswith("save"))
    assert saved == ["save[0]", "save[2]"]
    assert [p.read_text() for p in (result.outputs[k]["path"] for k in saved)] == [texts[0], texts[2]]
    skipped = [e for e in log.of("node_skipped") if e["node"] == "save"]
    assert [(e["item"], e["reason"]) for e in skipped] == [(1, "blocked by guard")]
