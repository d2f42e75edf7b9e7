"""Published inputs as a graph file writes them: the params a graph offers as a form (``nodeflow app``).

A graph file may list them in an optional top-level key, in the order the form shows them (and the
order ``gradio_client``'s ``predict(*inputs)`` takes them)::

    "published": ["caption.text", {"param": "noise.seed", "label": "Seed"}]

Each entry is ``NODE.PARAM`` (split at the last dot, like ``--set``) or an object with ``param`` and an
optional ``label``. Files without the key load unchanged; ``nodeflow app --inputs`` overrides it.
"""

from __future__ import annotations

from typing import Any

from nodeflow.problems import Problem

__all__ = ["parse_published", "published_to_json"]


def parse_published(data: Any, problems: list[Problem]) -> list[dict[str, str]]:
    """The ``published`` key of a file as ``[{"param": "NODE.PARAM", "label"?: ...}]``; a malformed
    entry becomes a load problem and is left out."""
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(Problem.graph('"published" must be a list of "NODE.PARAM" entries'))
        return []
    entries = []
    for item in data:
        if isinstance(item, str):
            entries.append({"param": item})
        elif isinstance(item, dict) and isinstance(item.get("param"), str):
            entry = {"param": item["param"]}
            if isinstance(item.get("label"), str) and item["label"]:
                entry["label"] = item["label"]
            entries.append(entry)
        else:
            problems.append(Problem.graph(f'"published": {str(item)[:60]!r} is not "NODE.PARAM" or {{"param": ...}}'))
    return entries


def published_to_json(entries: list[dict[str, str]]) -> list[Any]:
    """Plain strings where there is no label, so files stay short."""
    return [e["param"] if set(e) == {"param"} else dict(e) for e in entries]
