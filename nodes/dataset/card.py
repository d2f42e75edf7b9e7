"""The dataset card: a Hugging Face style ``README.md`` (YAML header, then prose) that says how the
dataset was made. Everything in it comes from the graph, the manifest and the filters' reports, never
from the clock or the run, so a resumed dataset's card equals an uninterrupted one's.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["card_text", "graph_hash", "swept_params"]

_DATA_FILES = {"parquet": "data/*.parquet", "webdataset": "data/*.tar", "jsonl": "data/*.jsonl",
               "imagefolder": "data/*/*"}


def graph_hash(graph: dict[str, Any]) -> str:
    """The hash of the graph as run, without its layout (positions, viewport)."""
    nodes = {nid: {k: v for k, v in entry.items() if k != "ui"} for nid, entry in graph.get("nodes", {}).items()}
    return hashlib.sha256(json.dumps(nodes, sort_keys=True, default=str).encode()).hexdigest()


def swept_params(graph: dict[str, Any]) -> dict[str, Any]:
    """``NODE.PARAM`` -> the sweep it holds, for every swept param of the graph."""
    found = {}
    for nid, entry in sorted(graph.get("nodes", {}).items()):
        for name, value in sorted((entry.get("params") or {}).items()):
            if isinstance(value, dict) and "sweep" in value:
                found[f"{nid}.{name}"] = value
    return found


def seeds_of(graph: dict[str, Any]) -> dict[str, Any]:
    return {f"{nid}.{name}": value for nid, entry in sorted(graph.get("nodes", {}).items())
            for name, value in sorted((entry.get("params") or {}).items()) if name == "seed" or name.endswith("_seed")}


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "n>1M"


def _yaml(value: Any, indent: int = 0) -> list[str]:
    """A small YAML writer for plain dicts, lists and scalars (JSON scalars are valid YAML)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, list) and item and not any(isinstance(i, (dict, list)) for i in item):
                lines.append(f"{pad}{key}: {json.dumps(item, ensure_ascii=False)}")
            elif isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(_yaml(item, indent + 2))
            else:
                lines.append(f"{pad}{key}: {json.dumps(item, ensure_ascii=False)}")
    elif isinstance(value, list):
        for item in value:
            if not isinstance(item, (dict, list)):  # a list of scalars: one line, JSON (YAML flow style)
                return [f"{pad}{json.dumps(value, ensure_ascii=False)}"]
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = _yaml(item, indent + 2)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {json.dumps(item, ensure_ascii=False)}")
    return lines


def _preview_lines(manifest: dict[str, Any]) -> list[str]:
    """What the card says of a preview: this dataset is one, or it was made whole after one."""
    if manifest.get("preview"):
        first, whole = manifest["preview"]["first"], manifest["preview"]["of"]
        return [f"This is a preview: the first {first} of the graph's {whole} items (`nodeflow run --first {first}`). "
                "Run the graph without `--first` into the same folder to make the rest; the items here are kept.", ""]
    if manifest.get("previewed"):
        first, whole = manifest["previewed"]["first"], manifest["previewed"]["of"]
        return [f"It was previewed first with its first {first} items (`nodeflow run --first {first}`), then made "
                f"whole: {whole} items, the preview's finished shards kept.", ""]
    return []


def card_text(*, name: str, description: str, licence: str, manifest: dict[str, Any], graph: dict[str, Any],
              writer: str, models: list[dict[str, Any]], filters: list[dict[str, Any]],
              guards: dict[str, Any], evaluation: dict[str, Any]) -> str:
    """The whole ``README.md``."""
    count = manifest["items"]
    fmt = manifest["format"]
    shards_hash = hashlib.sha256(json.dumps([s["sha256"] for s in manifest["shards"]]).encode()).hexdigest()
    sweeps = swept_params(graph)
    seeds = {k: v for k, v in seeds_of(graph).items() if k not in sweeps}
    # 1. The header the Hugging Face hub (and huggingface_hub's card parser) reads
    header: dict[str, Any] = {
        "pretty_name": name,
        **({"license": licence} if licence else {}),
        "tags": ["synthetic", "nodeflow"],
        "size_categories": [_size_category(count)],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": _DATA_FILES[fmt]}]}],
        "nodeflow": {
            "format": fmt,
            "items": count,
            "shards": len(manifest["shards"]),
            "shards_sha256": shards_hash,
            "graph_sha256": graph_hash(graph),
            "writer": writer,
            "columns": manifest["columns"],
            "models": models,
            "seeds": seeds,
            "sweeps": sweeps,
            "filters": [{k: v for k, v in stage.items() if k != "dropped_items"} for stage in filters],
            "guards": guards,
            **({"preview": manifest["preview"]} if manifest.get("preview") else {}),
            **({"previewed": manifest["previewed"]} if manifest.get("previewed") else {}),
            "evaluation": evaluation,
            "watermark": "none (items carry no invisible watermark)",
            "credentials": "none (no C2PA credentials on items; provenance is this card, manifest.json and graph.json)",
        },
    }
    lines = ["---", *_yaml(header), "---", "", f"# {name}", ""]
    if description:
        lines += [description, ""]
    # 2. Prose a person reads
    lines += [
        "## How it was made",
        "",
        f"{count} items in {len(manifest['shards'])} {fmt} shards, made by the nodeflow graph saved beside this card as "
        f"`graph.json` (sha256 of its nodes, without layout: `{graph_hash(graph)}`), written by its node `{writer}`.",
        "`manifest.json` lists every shard with its sha256, item count and item ids.",
        "",
        *_preview_lines(manifest),
        "Columns: " + ", ".join(f"`{c}`" for c in manifest["columns"]) + ".",
        "",
        "## Models",
        "",
    ]
    lines += [f"- `{m['node']}` ({m['type']}): {m['name']}"
              + (f", sha256 `{m['sha256']}`" if m.get("sha256") else "")
              + f", licence: {m.get('licence') or 'not stated by the model files'}" for m in models] or ["No model files."]
    lines += ["", "## Seeds and sweeps", ""]
    lines += [f"- `{k}` = {json.dumps(v)}" for k, v in {**seeds, **sweeps}.items()] or ["None."]
    lines += ["", "## Filters and guards", ""]
    planned = guards.get("planned", count)
    lines.append(f"- {planned} items were planned; {guards.get('blocked', 0)} were stopped by guards; "
                 f"{sum(s.get('dropped', 0) for s in filters)} were dropped by filters; {count} were written "
                 "(`manifest.json` names each dropped item and why).")
    for guard, counts in sorted((guards.get("by_guard") or {}).items()):
        if counts.get("block"):
            reasons = sorted({why.split(": ", 1)[1] for why in (guards.get("blocked_items") or {}).values()
                              if why.startswith(f"{guard}: ")})
            lines.append(f"- {guard}: blocked {counts['block']}" + (f" ({'; '.join(reasons)})" if reasons else ""))
    for stage in filters:
        why = "; ".join(f"{k}: {v}" for k, v in sorted((stage.get("why") or {}).items()))
        lines.append(f"- {stage['stage']}: kept {stage['kept']}, dropped {stage['dropped']}" + (f" ({why})" if why else ""))
    lines += ["", "## Evaluation", ""]
    lines += [f"- {k}: {v}" for k, v in sorted(evaluation.items())] or ["No figures were computed."]
    lines += [
        "",
        "## Watermark and credentials",
        "",
        "Items carry no invisible watermark and no C2PA credentials. How they were made is recorded here, "
        "in `manifest.json` and in `graph.json`.",
        "",
        "## Reproduce one item",
        "",
        "An item's id is the number of the sweep item that made it: sweeps combine as a product in the order of "
        "`graph.json`'s nodes and params (the last varying fastest), and a `zip` group advances together. "
        "Set the swept params to that item's values and run the graph, for example",
        "",
        "```",
        "nodeflow run graph.json " + " ".join(f"--set {k}=VALUE" for k in sweeps) + f" --set {writer}.folder=one-item",
        "```",
        "",
        "and compare the one-item dataset with the item here.",
        "",
    ]
    return "\n".join(lines)
