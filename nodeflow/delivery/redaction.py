"""What a redacting guard removed never reaches the record.

A guard that redacts (``guard.personal_data`` with ``action=redact``...) changes the content, but the
provenance record holds the graph and every param of the nodes upstream, and so the original text.
Here the record is cleaned before it is written anywhere (sidecar, embedded chunk, credentials):

1. the params upstream of each guard that redacted something, which hold what it removed (found by
   the short digests a guard reports for each finding; every text param when a guard reports none),
   are replaced by ``[redacted: sha256 ...]``, in ``params`` and wherever the same value appears in the
   recorded graph (sweeps and subgraph definitions included);
2. ``redacted`` lists each such param, the guard and the kinds and counts of what it removed: never
   the text. ``nodeflow reproduce`` reads it to say what it cannot reproduce.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

__all__ = ["PLACEHOLDER", "redact_record", "is_redacted"]

PLACEHOLDER = "[redacted: sha256 {}]"
_TEXT_KINDS = ("string", "text", "json")


def is_redacted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[redacted: sha256 ")


def redact_record(record: dict[str, Any], planned: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    """``record`` with what redacting guards removed taken out (see the module doc); edited in place."""
    # "unknown": a guard whose result no cache holds any more; it may have redacted anything
    redacting = [f for f in findings if f.get("action") in ("redact", "unknown") and f.get("found")]
    if not redacting:
        return record
    by_graph_id: dict[str, list[str]] = {}
    for pid, step in planned.items():
        by_graph_id.setdefault(step.node.id, []).append(pid)
    originals: dict[str, str] = {}  # original text -> its placeholder
    listed: dict[str, dict[str, Any]] = {}
    for guard in redacting:
        digests = [(f["digest"], int(f["end"]) - int(f["start"])) for f in guard["found"]
                   if isinstance(f, dict) and f.get("digest") and isinstance(f.get("start"), int) and isinstance(f.get("end"), int)]
        every_text = len(digests) < len(guard["found"])  # something found with no digest: take no chances
        counts = dict(Counter(str(f.get("kind")) for f in guard["found"] if isinstance(f, dict)))
        for pid in _upstream(planned, by_graph_id.get(guard["node"], [])):
            step = planned[pid]
            for name, value in (record["params"].get(pid) or {}).items():
                param = step.spec.params.get(name)
                if param is None or param.kind not in _TEXT_KINDS or name in step.spec.reads or param.resolve is not None:
                    continue
                for text in _strings(value):
                    if every_text or _holds(text, digests):
                        originals[text] = PLACEHOLDER.format(hashlib.sha256(text.encode()).hexdigest()[:16])
                        entry = listed.setdefault(f"{pid}.{name}", {"param": f"{pid}.{name}", "by": [], "removed": {}})
                        if guard["node"] not in entry["by"]:
                            entry["by"].append(guard["node"])
                        for kind, n in counts.items():
                            entry["removed"][kind] = entry["removed"].get(kind, 0) + n
    if not originals:
        return record
    for key in ("params", "graph"):
        record[key] = _replace(record.get(key), originals)
    record["redacted"] = sorted(listed.values(), key=lambda e: e["param"])
    return record


def _upstream(planned: dict[str, Any], starts: list[str]) -> set[str]:
    """The planned nodes ``starts`` read from, directly or not (not the starts themselves)."""
    found: set[str] = set()
    stack = [src for start in starts if start in planned for _, src, _, _ in planned[start].links]
    while stack:
        current = stack.pop()
        if current in found or current not in planned:
            continue
        found.add(current)
        stack.extend(src for _, src, _, _ in planned[current].links)
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _holds(text: str, digests: list[tuple[str, int]]) -> bool:
    """Whether ``text`` contains a stretch whose digest a guard reported. Past a few million hashes
    (a long text, many findings) the answer is yes: redacting too much is the safe mistake."""
    if len(text) * len(digests) > 4_000_000:
        return True
    for digest, length in digests:
        if length <= 0 or length > len(text):
            continue
        for start in range(len(text) - length + 1):
            if hashlib.sha256(text[start : start + length].encode()).hexdigest()[:16] == digest:
                return True
    return False


def _replace(value: Any, originals: dict[str, str]) -> Any:
    if isinstance(value, str):
        return originals.get(value, value)
    if isinstance(value, dict):
        return {k: _replace(v, originals) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, originals) for v in value]
    return value
