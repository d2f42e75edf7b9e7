"""Dataset nodes: ``dataset.write`` takes one item per call (each sweep item) and ``dataset.finish``
gathers what was written into a complete dataset with its manifest and card.

    items (a sweep) -> dataset.write (one call per item) -> dataset.finish (one call, a list input)

The writer stages each item on disk and writes a shard as soon as all its items are staged, so a
dataset streams to disk and never sits whole in memory. Run the same graph again after a kill and
finished shards are checked and kept, staged items reused, and nothing is written twice.
"""

from __future__ import annotations

import functools
import io
import json
from pathlib import Path
from typing import Any

from nodeflow import JSON, Audio, Context, File, Image, Param, deliver, node
from nodes.dataset.card import card_text
from nodes.dataset.formats import FORMATS, check_columns
from nodes.dataset.item_notes import decision_of, show_item
from nodes.dataset.store import MANIFEST, RECIPE_CHARS, DatasetError, DatasetFolder, identity_of

_FOLDER = Param("dataset", description="the dataset folder, inside the output folder")


def _structure(ctx: Context) -> dict[str, Any]:
    """The graph's nodes and links without params: the same for every sweep item (whose own graph has
    its values filled in), so it can name the dataset; params are checked item by item (digests)."""
    graph = ctx.graph_dict()
    return {"nodes": {nid: {"type": entry.get("type"), "inputs": entry.get("inputs") or {}}
                      for nid, entry in graph.get("nodes", {}).items()}}


_IDENTITIES: dict[tuple[Any, ...], str] = {}  # (run, writer node, format, shard size) -> its dataset identity


def _identity(ctx: Context, fmt: str, shard_size: int) -> str:
    """The dataset identity of this writer, once a run (the graph's structure is the same for every item,
    and encoding the whole graph for each item costs more than writing a small one)."""
    if not ctx.run_id:  # no run to tell graphs apart by
        return identity_of(_structure(ctx), ctx.node_id, fmt, shard_size)
    key = (ctx.run_id, ctx.node_id, fmt, shard_size)
    found = _IDENTITIES.get(key)
    if found is None:
        if len(_IDENTITIES) > 256:  # a long-lived server: forget older runs'
            _IDENTITIES.clear()
        found = _IDENTITIES[key] = identity_of(_structure(ctx), ctx.node_id, fmt, shard_size)
    return found


def _folder_path(ctx: Context, folder: str, place: str = "output") -> Path:
    root = str(Path(ctx.settings.home) / "datasets") if place == "shared" else str(ctx.output_dir)
    return _inside(root, folder, place)


@functools.lru_cache(maxsize=256)
def _inside(root_text: str, folder: str, place: str) -> Path:
    """``folder`` resolved inside ``root_text``, once a folder (resolving costs a system call a path part,
    and the writer is asked once an item, before a run and in it)."""
    root = Path(root_text).resolve()
    path = (root / folder).resolve()
    if path == root or root not in path.parents:
        where = "the shared datasets folder" if place == "shared" else "the output folder"
        raise ValueError(f"folder {folder!r}: a dataset folder must be a sub-folder inside {where}")
    return path


@functools.lru_cache(maxsize=256)
def _store(path: Path, fmt: str, shard_size: int, identity: str) -> DatasetFolder:
    """The folder as a writer sees it (it holds only its paths: shared by the items of a run)."""
    return DatasetFolder(path, fmt=fmt, shard_size=shard_size, identity=identity)


def _encode_image(image: Any) -> bytes:
    buffer = io.BytesIO()
    picture = image if image.mode in ("RGB", "RGBA", "L") else image.convert("RGB")
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _encode_audio(audio: Any) -> bytes:
    import numpy as np
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(audio.samples, -1.0, 1.0), audio.sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _already_written(params: dict[str, Any], ctx: Context) -> JSON | None:
    """The ``done`` hook: before a run, is this item already in a finished, verified shard, made by the
    same recipe (the writer call's cache key: its params and everything upstream of it)? Then its receipt,
    and the run does not make the item again; else None. A resumed run so makes only the missing items."""
    if ctx.key is None:
        return None
    index = ctx.item if ctx.item is not None else 0
    fmt = params.get("format", "parquet")
    shard_size = params.get("shard_size", 100)
    folder, place = params.get("folder", "dataset"), params.get("place", "output")
    if not isinstance(folder, str) or not isinstance(shard_size, int):
        return None
    path = _folder_path(ctx, folder, place)
    if not (path / MANIFEST).exists():
        return None
    store = _store(path, fmt, shard_size, _identity(ctx, fmt, shard_size))
    _check_once(store, ctx)  # the shards are checked by hash before any is trusted (raises when one changed)
    recipe, guards = store.written_recipe(index)
    if recipe != ctx.key[:RECIPE_CHARS]:
        return None
    # what the guards upstream did to the item when it was made: they do not run again, and the card counts them
    return {**_receipt(store, folder, place, index), "resumed": True, **({"guards": guards} if guards else {})}


def _receipt(store: DatasetFolder, folder: str, place: str, index: int) -> dict[str, Any]:
    return {"folder": folder, "place": place, "format": store.fmt, "shard_size": store.shard_size, "index": index,
            "id": f"{index:06d}", "identity": store.identity}


# cache="none": a receipt says an item went into the folder, which a later run may have changed (a preview's
# short shard taken back, the folder deleted); whether an item is already written is the done hook's answer,
# from the folder itself. (A server remembered the receipts and never wrote those items again.)
@node("dataset.write", category="Dataset", output=True, outputs=("receipt",), title="Write dataset item",
      done=_already_written, cache="none")
def write(
    ctx: Context,
    image: Image | None = None,
    text: str | None = None,
    audio: Audio | None = None,
    values: JSON | None = None,
    scores: JSON | None = None,
    checks: JSON | None = None,
    filter: JSON | None = None,
    *,
    folder: str = _FOLDER,
    format: str = Param("parquet", choices=FORMATS,
                        description="parquet (Hugging Face datasets), webdataset (tar shards), imagefolder "
                        "(images + metadata.jsonl), jsonl (text and values)"),
    shard_size: int = Param(100, min=1, max=100_000, description="items per shard"),
    place: str = Param("output", choices=("output", "shared"),
                       description="output: inside this run's output folder; shared: the datasets folder of the "
                       "nodeflow home, the same for every run and server job, so a later job resumes the dataset"),
    label: str = Param("", description="a label for the item (link or sweep it); empty: no label column"),
    caption: str = Param("", description="a caption for the item; empty: no caption column"),
) -> JSON:
    """Write one item (an image, text or sound, with a label, caption and any values) into a dataset.
    Map it over a sweep and link its receipts to dataset.finish, which completes the dataset. Items a
    dedup filter (linked to ``filter``) dropped, and items that failed a check (``checks``), are not written;
    ``values`` and ``scores`` (a judge's verdict) become columns."""
    index = ctx.item if ctx.item is not None else 0
    keep = list(filter["keep"]) if isinstance(filter, dict) and "keep" in filter else None
    path = _folder_path(ctx, folder, place)
    store = _store(path, format, shard_size, _identity(ctx, format, shard_size))
    item_id = f"{index:06d}"
    receipt = _receipt(store, folder, place, index)
    if keep is not None and index >= len(keep):
        raise ValueError(f"filter: it judged {len(keep)} items, this is item {index}; link a filter of the same sweep")
    # the editor's grid: the item with its scores and what the filters and checks decided
    if ctx.previews_wanted:  # (nobody listens to a headless run: no decision text to make)
        show_item(ctx, image=image, text=text, scores=scores, decision=decision_of(index, filter, checks))
    if keep is not None and not keep[index]:
        return {**receipt, "dropped": True}
    if isinstance(checks, dict) and not checks.get("passed", True):
        failed = next(c for c in checks.get("checks", []) if not c.get("ok"))
        return {**receipt, "dropped": True, "failed": failed}

    # 1. The item as columns and encoded media; refuse a format it cannot go in before writing anything
    columns: dict[str, Any] = {"id": item_id}
    if text is not None:
        columns["text"] = text
    if label:
        columns["label"] = label
    if caption:
        columns["caption"] = caption
    for given in (values, scores):
        if given is None:
            continue
        extra = given if isinstance(given, dict) else {"value": given}
        for key, value in extra.items():
            columns.setdefault(str(key), value)
    problem = check_columns(format, set(columns) | ({"image"} if image is not None else set())
                            | ({"audio"} if audio is not None else set()))
    if problem:
        raise ValueError(f"format {format!r}: {problem}")
    media = {}
    if image is not None:
        media["image.png"] = _encode_image(image)
    if audio is not None:
        media["audio.wav"] = _encode_audio(audio)

    # 2. Check the folder once a run, then stage the item (unless a resumed run already holds the very
    #    same item) and write every shard that is full
    try:
        _check_once(store, ctx)
        store.add_item(index, columns, media, keep, recipe=ctx.key, guards=_guard_actions(ctx))
    except DatasetError as exc:
        raise DatasetError(f"folder {folder!r}: {exc}") from None
    return receipt


def _guard_actions(ctx: Context) -> dict[str, str]:
    """What each guard upstream of this item did to it (guard node -> pass, flag, redact)."""
    return {str(f.get("node")): str(f.get("action", "pass")) for f in ctx.findings or []}


_VERIFIED: set[tuple[str, str]] = set()  # (folder, run): shards already checked in this run


def _check_once(store: DatasetFolder, ctx: Context) -> None:
    """Check the folder's shards once per run, so a resumed run finds damage before it writes."""
    key = (str(store.root), ctx.run_id)
    if key in _VERIFIED:
        return
    with store.locked(recheck=True):
        if key in _VERIFIED:  # another item's writer checked while this one waited
            return
        manifest = store.read_manifest()
        dropped = store.verify(manifest)
        reopened = store.reopen_preview(manifest)
        _VERIFIED.add(key)
    for name in dropped:
        ctx.log(f"shard {name} was missing: its items are written again")
    for name in reopened:
        ctx.log(f"shard {name} ended a preview: its items are written again with those that follow")


def _models_of(ctx: Context, graph: dict[str, Any]) -> list[dict[str, Any]]:
    """The model files the graph's nodes read, with their hashes and licences where known."""
    from nodeflow import PathNotAllowed, content_hash, model_facts, resolve_inside

    registry = ctx.registry
    roots = [ctx.settings.models_dir, *ctx.settings.input_dirs()]
    models = []
    for nid, entry in sorted(graph.get("nodes", {}).items()):
        spec = registry.get(entry.get("type")) if registry is not None else None
        if spec is None:
            continue
        params = {name: param.default for name, param in spec.params.items()} | (entry.get("params") or {})
        for name in spec.reads:
            value = params.get(name)
            if not isinstance(value, str) or not value:
                continue
            try:  # a model file or folder in the models or input folders; a hub id has no local hash
                sha = content_hash(resolve_inside(value, roots, must_exist=True))
            except (PathNotAllowed, FileNotFoundError, OSError):
                sha = None
            models.append({"node": nid, "type": spec.type, "name": value, **({"sha256": sha} if sha else {}),
                           **model_facts(spec.params[name], value, ctx.settings, params)})
    return models


@node("dataset.finish", category="Dataset", output=True, outputs=("card",), title="Finish dataset")
def finish(
    receipts: list[JSON],
    ctx: Context,
    reports: JSON | None = None,
    evaluation: JSON | None = None,
    *,
    name: str = Param("Synthetic dataset", description="the dataset's name on its card"),
    license: str = Param("", description="an SPDX licence id for the card (empty: none stated)"),
    description: str = Param("", description="a paragraph for the card"),
    arrow: bool = Param(True, description="parquet datasets: also write arrow/, the layout datasets.save_to_disk "
                        "writes, so datasets.load_from_disk reads it (a second copy of the data)"),
) -> File:
    """Complete a dataset: write its last shards, manifest.json and a README.md card (Hugging Face format)
    with the graph, models, seeds, sweeps, filter and guard counts. Link every dataset.write receipt here."""
    if not receipts:
        raise ValueError("receipts: no item reached the writer (every item was stopped or none was planned)")
    first = receipts[0]
    folders = {(r["folder"], r.get("place"), r["format"], r["shard_size"], r["identity"]) for r in receipts}
    if len(folders) > 1:
        raise ValueError("receipts: items come from writers with different folders or formats; finish each dataset apart")
    path = _folder_path(ctx, first["folder"], first.get("place", "output"))
    store = DatasetFolder(path, fmt=first["format"], shard_size=first["shard_size"], identity=first["identity"])
    written = sorted({r["index"] for r in receipts if not r.get("dropped")})
    graph = ctx.graph_dict()  # finish is not mapped: the graph as run, sweeps and all
    writer = _writer_of(graph, ctx)

    # 1. The shards the writer could not close (items stopped by guards leave them short)
    with store.locked(recheck=True):
        manifest = store.read_manifest()
        done = store.finished(manifest)
        by_shard: dict[int, list[int]] = {}
        for index in written:
            by_shard.setdefault(store.shard_of(index), []).append(index)
        for shard, indices in sorted(by_shard.items()):
            if shard in done:
                continue
            store.rescan_staged()
            missing = [i for i in indices if store.load_staged(i, rescan=False) is None]
            if missing:
                raise DatasetError(f"items {missing[:5]} were written but are not staged in {first['folder']!r}; run again")
            store.close_shard(manifest, shard, indices)
        listed = {i for s in manifest["shards"] for i in s["items"]}
        lost = [f"{i:06d}" for i in written if f"{i:06d}" not in listed]
        if lost:
            raise DatasetError(f"items {lost[:5]} are in no shard of {first['folder']!r}; run again")

        # 2. The card and the graph beside it
        filters = _stages(reports) + _check_stages(receipts)
        guards = _guard_counts(ctx, receipts)
        preview = _preview_of(ctx, writer, len(receipts))
        if preview is not None:
            manifest["preview"] = preview
        elif "preview" in manifest:  # the whole sweep, after a preview of its first items
            manifest["previewed"] = manifest.pop("preview")
        text = card_text(name=name, description=description, licence=license, manifest=manifest, graph=graph,
                         writer=writer, models=_models_of(ctx, graph), filters=filters, guards=guards,
                         evaluation=dict(evaluation or {}))
        if arrow and first["format"] == "parquet":
            from nodes.dataset.disk_copy import write_arrow_copy

            write_arrow_copy(path, [s["name"] for s in manifest["shards"]])
        (path / "graph.json").write_text(json.dumps(graph, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        manifest["complete"] = True
        manifest["filters"] = filters
        manifest["guards"] = guards
        store.write_manifest(manifest, pretty=True)
        if first.get("place", "output") == "output":  # delivered like any artifact, its provenance beside it
            relative = (path / "README.md").relative_to(Path(ctx.output_dir).resolve()).as_posix()
            return deliver(ctx, relative, lambda out: out.path.write_text(text, encoding="utf-8"), kind="text",
                           suffixes=(".md",), overwrite=True, preview=f"{manifest['items']} items in {path.name}")
        card = path / "README.md"  # the shared folder lies outside the output folder deliver() writes into
        scratch = card.with_name(".README.md.part")
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(card)
        ctx.preview(f"{manifest['items']} items in {path}")
        return card


def _preview_of(ctx: Context, writer: str, reached: int) -> dict[str, int] | None:
    """``{"first": K, "of": N}`` when this run is a preview (``nodeflow run --first K``) that made
    the writer's first K items of N; None for a run of the whole sweep."""
    preview = getattr(ctx.plan, "preview", None)
    if not preview:
        return None
    whole = preview["items"].get(writer.split(",")[0])
    if whole is None or whole <= preview["first"]:
        return None
    return {"first": preview["first"], "of": whole}


def _guard_counts(ctx: Context, receipts: list[dict[str, Any]]) -> dict[str, Any]:
    """What the guards upstream did: items stopped (blocked) and flagged, by guard node. ``receipts``:
    items that reached the writer (written, or dropped by a filter). Items a resumed run took from
    finished shards were not made again, so their guards did not run: what those guards did when the item
    was made comes from the manifest, through the item's receipt."""
    reached = len(receipts)
    by_guard: dict[str, dict[str, int]] = {}
    blocked_items: dict[str, str] = {}  # item id -> the guard that stopped it and why
    for finding in ctx.findings or []:
        counts = by_guard.setdefault(str(finding.get("node")), {})
        action = str(finding.get("action", "pass"))
        counts[action] = counts.get(action, 0) + 1
        if action == "block":
            item = finding.get("item")
            blocked_items[f"{item if item is not None else 0:06d}"] = f"{finding.get('node')}: {finding.get('reason') or 'blocked'}"
    for receipt in receipts:
        for guard, action in (receipt.get("guards") or {}).items() if receipt.get("resumed") else ():
            counts = by_guard.setdefault(guard, {})
            counts[action] = counts.get(action, 0) + 1
            if counts.get("unknown"):  # the finding this run has for that guard's item: it did not run
                counts["unknown"] -= 1
                if not counts["unknown"]:
                    del counts["unknown"]
    blocked = sum(c.get("block", 0) for c in by_guard.values())
    return {"planned": reached + blocked, "blocked": blocked, "by_guard": by_guard,
            **({"blocked_items": dict(sorted(blocked_items.items()))} if blocked_items else {})}


def _writer_of(graph: dict[str, Any], ctx: Context) -> str:
    writers = [nid for nid, entry in sorted(graph.get("nodes", {}).items()) if entry.get("type") == "dataset.write"]
    return writers[0] if len(writers) == 1 else ",".join(writers)


def _check_stages(receipts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-item checks as stages: each failure counted under the check that failed first."""
    judged = [r for r in receipts if not (r.get("dropped") and "failed" not in r)]  # dedup drops came earlier
    if not any("failed" in r for r in judged):
        return []
    why: dict[str, int] = {}
    dropped = {}
    for receipt in sorted(judged, key=lambda r: r["index"]):
        if "failed" in receipt:
            stage = receipt["failed"]["stage"]
            why[stage] = why.get(stage, 0) + 1
            dropped[receipt["id"]] = f"{stage}: {receipt['failed']['why']}"
    return [{"stage": "checks", "kept": len(judged) - len(dropped), "dropped": len(dropped), "why": why,
             "dropped_items": dropped}]


def _stages(reports: Any) -> list[dict[str, Any]]:
    """Filter reports as a list of ``{"stage", "kept", "dropped", "why"}`` (one report or a list)."""
    if reports is None:
        return []
    found = reports if isinstance(reports, list) else [reports]
    stages = []
    for report in found:
        if isinstance(report, dict) and "stages" in report:
            stages.extend(report["stages"])
        elif isinstance(report, dict):
            stages.append(report)
    return stages
