"""Text guards: offensive language, personal data, a user's word list.

Each passes its text through unchanged when it is clean; otherwise it blocks the branch, redacts
what it found or flags it (the ``action`` param). ``report`` says what happened in one line.
"""

from __future__ import annotations

from typing import NamedTuple

from nodeflow import JSON, Context, Param, String, node
from nodes.guard.findings import action_param, settle
from nodes.guard.personal_data import KINDS

from . import screens

__all__ = ["GuardedText", "offensive_language", "personal_data", "word_list"]


class GuardedText(NamedTuple):
    text: String  # the text, unchanged when clean or flagged, with [KIND] markers when redacted
    report: String  # clean, flagged: ..., redacted: ...
    flags: JSON  # {"guard", "action", "found": [{"kind", "start", "end", "score"}]}


THRESHOLD = Param(
    0.7, min=0.05, max=0.99, step=0.01, display="slider",
    description="alt-profanity-check's probability above which a sentence counts as offensive",
)  # fmt: skip


@node("guard.offensive_language", category="Guard", title="Offensive language")
def offensive_language(
    text: String,
    ctx: Context,
    *,
    threshold: float = THRESHOLD,
    action: str = action_param("block"),
) -> GuardedText:
    """Screen text for offensive language (alt-profanity-check's bundled model, per sentence).
    Redacting replaces the offending words."""
    found = screens.offensive(text, threshold)
    return GuardedText(*settle(ctx, "offensive language", text, found, action))


@node("guard.personal_data", category="Guard", title="Personal data")
def personal_data(
    text: String,
    ctx: Context,
    *,
    email: bool = True,
    phone: bool = True,
    card: bool = Param(True, description="payment card numbers (Luhn checked)"),
    iban: bool = Param(True, description="bank account numbers (IBAN, mod-97 checked)"),
    address: bool = Param(True, description="street addresses, postcodes and PO boxes of common shapes"),
    action: str = action_param("redact"),
) -> GuardedText:
    """Find e-mail addresses, phone numbers, card numbers, IBANs and street addresses; redact them
    as [EMAIL], [PHONE], [CARD], [IBAN], [ADDRESS], or block or flag the text."""
    chosen = {"email": email, "phone": phone, "card": card, "iban": iban, "address": address}
    kinds = tuple(kind for kind in KINDS if chosen[kind])
    found = screens.personal(text, kinds)
    return GuardedText(*settle(ctx, "personal data", text, found, action))


@node("guard.word_list", category="Guard", title="Word list")
def word_list(
    text: String,
    ctx: Context,
    *,
    words: str = Param(
        "example banned phrase",
        kind="text",
        nonempty="list at least one word or phrase (one per line)",
        description="one word or phrase per line (commas separate too); whole words, any case",
    ),
    action: str = action_param("block"),
) -> GuardedText:
    """Screen text for the words and phrases you list."""
    found = screens.listed(text, screens.parse_word_list(words))
    return GuardedText(*settle(ctx, "word list", text, found, action))
