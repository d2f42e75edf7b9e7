"""What every guard does with what it found: pass, block, redact or flag, and say so.

A guard turns its findings into one of three actions the user picks:

- ``block``: raise :class:`nodeflow.Blocked`, so the branch stops with the reason on the node;
- ``redact``: replace each finding with ``[KIND]`` (or blur the region of an image) and go on;
- ``flag``: pass the content on unchanged and report what was found.

Every guard has the same outputs besides the content: ``report`` (one short line: ``clean``,
``flagged: email x1`` or ``redacted: ...``, which the run history keeps) and ``flags`` (the findings
as JSON: kind, where, score; never the offending text itself).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from nodeflow import Blocked, Context, Param

__all__ = ["ACTIONS", "Finding", "action_param", "describe", "redact", "settle"]

ACTIONS = ("block", "redact", "flag")


@dataclass
class Finding:
    """One thing a guard found: its kind, where in the text (or ``box`` in an image), a score."""

    kind: str
    start: int = -1
    end: int = -1
    score: float | None = None
    box: tuple[int, int, int, int] | None = None  # x, y, width, height

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != -1}


def _digest(text: str, finding: Finding) -> dict[str, str]:
    """A short hash of the found text (never the text): the run record uses it to find, and redact,
    the params upstream that held what a redacting guard removed."""
    if finding.start < 0 or finding.end <= finding.start:
        return {}
    return {"digest": hashlib.sha256(text[finding.start : finding.end].encode()).hexdigest()[:16]}


def action_param(default: str = "block", *, can_redact: bool = True) -> Param:
    choices = ACTIONS if can_redact else ("block", "flag")
    what = "replace what was found with [KIND]" if can_redact else ""
    description = "block: stop this branch; " + (f"redact: {what}; " if what else "") + "flag: pass it on and report it"
    return Param(default, choices=choices, description=description)


def describe(findings: list[Finding]) -> str:
    """``email x2, phone x1``, in order of first appearance."""
    counts = Counter(f.kind for f in findings)
    return ", ".join(f"{kind} x{n}" for kind, n in counts.items())


def redact(text: str, findings: list[Finding]) -> str:
    """The text with every finding (non-overlapping spans) replaced by ``[KIND]``."""
    out, last = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < last:
            continue
        out.append(text[last : finding.start])
        out.append(f"[{finding.kind.upper()}]")
        last = finding.end
    out.append(text[last:])
    return "".join(out)


def settle(
    ctx: Context | None,
    what: str,
    text: str,
    findings: list[Finding],
    action: str,
) -> tuple[str, str, dict[str, Any]]:
    """Apply ``action`` to a text guard's findings: ``(text, report, flags)`` or raise Blocked.

    ``what`` names the guard in the message ("personal data", "offensive language").
    """
    flags = {"guard": what, "action": "pass" if not findings else action,
             "found": [{**f.to_json(), **_digest(text, f)} for f in findings]}
    if not findings:
        report = "clean"
    elif action == "block":
        raise Blocked(f"{what}: {describe(findings)}", guard=what, found=flags["found"])
    elif action == "redact":
        spans = [f for f in findings if f.start >= 0]
        if len(spans) < len(findings):  # a finding about the whole text (a score): nothing to cut out
            text = f"[{findings[0].kind.upper()}]"
        else:
            text = redact(text, spans)
        report = f"redacted: {describe(findings)}"
    else:
        report = f"flagged: {describe(findings)}"
    if ctx is not None:
        ctx.log(f"{what}: {report}")
    return text, report, flags
