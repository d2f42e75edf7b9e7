"""Per-item checks: rule validators (JSON schema, regex), a score threshold and any yes/no check (such as
the code pack's syntax check), chained into one verdict that ``dataset.write`` reads from its ``checks``
input. An item that fails any check is not written; the card counts each failure by the check that
failed first.

A verdict is JSON::

    {"passed": false, "checks": [{"stage": "json schema", "ok": true, "why": ""},
                                 {"stage": "judge >= 3", "ok": false, "why": "score 2.4 is under 3"}]}
"""

from __future__ import annotations

import json
import re
from typing import Any

from nodeflow import JSON, Param, node

__all__ = ["check_json", "check_regex", "check_score", "check_flag", "verdict"]


def verdict(after: Any, stage: str, ok: bool, why: str = "") -> dict[str, Any]:
    """``after``'s verdict with one more check added."""
    checks = list(after.get("checks") or []) if isinstance(after, dict) else []
    checks.append({"stage": stage, "ok": bool(ok), "why": "" if ok else why})
    return {"passed": all(c["ok"] for c in checks), "checks": checks}


@node("dataset.check_json", category="Dataset / Checks", outputs=("verdict",), title="Check JSON schema")
def check_json(
    text: str,
    after: JSON | None = None,
    *,
    schema: str = Param('{"type": "object"}', description="a JSON Schema (as JSON text) the item's text must meet"),
) -> JSON:
    """Pass items whose text is JSON that meets the schema (with jsonschema); say where it does not."""
    import jsonschema

    try:
        rules = json.loads(schema)
        jsonschema.validators.validator_for(rules).check_schema(rules)
    except (ValueError, jsonschema.SchemaError) as exc:
        raise ValueError(f"schema: not a JSON Schema ({str(exc).splitlines()[0]})") from None
    try:
        value = json.loads(text)
    except ValueError as exc:
        return verdict(after, "json schema", False, f"not JSON: {exc}")
    error = jsonschema.exceptions.best_match(jsonschema.validators.validator_for(rules)(rules).iter_errors(value))
    if error is None:
        return verdict(after, "json schema", True)
    where = "/".join(str(p) for p in error.absolute_path) or "the top level"
    return verdict(after, "json schema", False, f"at {where}: {error.message}")


@node("dataset.check_regex", category="Dataset / Checks", outputs=("verdict",), title="Check pattern")
def check_regex(
    text: str,
    after: JSON | None = None,
    *,
    pattern: str = Param(r"\S", description="a Python regular expression"),
    rule: str = Param("must match", choices=("must match", "must not match", "must match whole")),
) -> JSON:
    """Pass items whose text matches (or does not match) a regular expression."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"pattern: not a regular expression ({exc})") from None
    if rule == "must match whole":
        ok = compiled.fullmatch(text) is not None
    else:
        found = compiled.search(text) is not None
        ok = found if rule == "must match" else not found
    return verdict(after, f"pattern {rule}", ok, f"{rule} /{pattern}/")


@node("dataset.check_score", category="Dataset / Checks", outputs=("verdict",), title="Check score")
def check_score(
    score: float,
    after: JSON | None = None,
    *,
    minimum: float = Param(3.0, description="items scoring under this are dropped"),
    name: str = Param("judge", description="what the score is, for the card"),
) -> JSON:
    """A threshold filter: pass items whose score (a judge's, or any number) is at least ``minimum``."""
    return verdict(after, f"{name} >= {minimum:g}", score >= minimum, f"score {score:.3g} is under {minimum:g}")


@node("dataset.check_flag", category="Dataset / Checks", outputs=("verdict",), title="Check yes/no")
def check_flag(
    ok: bool,
    after: JSON | None = None,
    *,
    name: str = Param("check", description="what was checked, for the card (\"python syntax\")"),
) -> JSON:
    """Pass items for which a yes/no check said yes: link the code pack's syntax check ``ok`` here, or
    any Boolean output."""
    return verdict(after, name, ok, "said no")
