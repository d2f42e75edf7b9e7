"""The provenance record: how an artifact was made, built from the plan the executor ran.

A record holds the graph that was run (after migrations and ``--set`` overrides), the resolved params
and seeds of the nodes that made the artifact, their node type versions and packs, library
versions, the device, and content hashes of the model and data files those nodes read.

It holds no wall-clock time, run id or absolute output path, so running the same graph twice on the
same machine gives the same record. When and by which run an artifact was made is what the run
history (``nodeflow.record.history``) keeps.
"""

from __future__ import annotations

import hashlib
import json
import platform
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nodeflow.check.licences import model_facts  # source, and licence where the model files state one
from nodeflow.files import content_hash

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.nodetypes.context import Context
    from nodeflow.plan.planner import PlannedNode

__all__ = ["SCHEMA", "build_record", "dumps_record", "library_versions", "pack_version", "upstream_of"]

SCHEMA = 1
# libraries whose versions can change an artifact; read from installed metadata, never imported
LIBRARIES = (
    "numpy",
    "pillow",
    "torch",
    "transformers",
    "diffusers",
    "tokenizers",
    "safetensors",
    "soundfile",
    "scipy",
    "imageio",
    "imageio-ffmpeg",
)


def build_record(ctx: Context, artifact: Path | str, *, kind: str) -> dict[str, Any]:
    """The record for an artifact written by the node that owns ``ctx``.

    ``artifact`` is where the file will end up (it is recorded relative to the output folder).
    """
    # 1. The nodes that made it: the artifact's node and everything upstream, as planned
    planned = upstream_of(ctx)
    registry = getattr(ctx, "registry", None)

    # 2. Their resolved params, seeds, versions, and the files they read
    params: dict[str, dict[str, Any]] = {}
    versions: dict[str, dict[str, Any]] = {}
    seeds: dict[str, int] = {}
    inputs: dict[str, dict[str, Any]] = {}
    models: dict[str, dict[str, Any]] = {}  # what the nodes' ``reads`` params name (loaders)
    guards: list[dict[str, Any]] = []  # guard.* nodes upstream: the artifact passed them
    roots = [ctx.settings.models_dir, *ctx.settings.input_dirs()]
    for node_id in sorted(planned):
        step = planned[node_id]
        spec = step.spec
        resolved = dict(step.params)
        params[node_id] = resolved
        versions[node_id] = {"type": spec.type, "version": spec.version, "pack": spec.pack or None}
        for name, param in spec.params.items():
            value = resolved.get(name)
            if param.kind == "seed" and isinstance(value, int):
                seeds[f"{node_id}.{name}"] = value
            if isinstance(value, str) and value and (param.kind == "file" or name in spec.reads):
                found = _hash_input(value, roots)
                if found is not None:
                    inputs[f"{node_id}.{name}"] = found
                if name in spec.reads:
                    models[f"{node_id}.{name}"] = {"node": node_id, "type": spec.type, "name": value,
                                                   **({"sha256": found["sha256"]} if found else {}),
                                                   **model_facts(param, value, ctx.settings, resolved)}
        if spec.type.startswith("guard."):
            guards.append({"node": node_id, "type": spec.type,
                           **({"action": resolved["action"]} if "action" in resolved else {}),
                           **_outcome(getattr(ctx, "findings", None) or [], step.node.id)})

    # 3. The record, without what a redacting guard removed
    record = {
        "nodeflow_provenance": SCHEMA,
        "artifact": {
            "node": ctx.node_id,
            "type": ctx.node_type,
            "kind": kind,
            "name": _relative_name(Path(artifact), ctx.output_dir),
            **({"item": ctx.item} if getattr(ctx, "item", None) is not None else {}),
        },
        "graph": ctx.graph_dict(),
        "params": params,
        "seeds": seeds,
        "nodes": versions,
        "packs": {
            name: pack_version(registry, name) for name in sorted({v["pack"] for v in versions.values()} - {None})
        },
        "libraries": library_versions(),
        "platform": f"{platform.system()}-{platform.machine()}",
        "device": _device_used(ctx, params),
        "inputs": inputs,
        "models": models,
        "guards": guards,
        "source": _source_type(planned, [k for k in inputs if k not in models]),
    }
    from .redaction import redact_record

    return redact_record(record, planned, getattr(ctx, "findings", None) or [])


def _outcome(findings: list[dict[str, Any]], node_id: str) -> dict[str, Any]:
    """What a guard did in this run: ``pass`` (nothing found) or the action it took, and the kinds
    of what it found (``email``, ``FACE_FEMALE``...), never the found text itself."""
    for finding in findings:
        if finding.get("node") == node_id:
            found = [str(f.get("kind")) for f in finding.get("found") or [] if isinstance(f, dict)]
            counts = {kind: found.count(kind) for kind in sorted(set(found))}
            return {"outcome": finding.get("action", "pass"),
                    **({"found": sorted(counts), "counts": counts} if counts else {})}
    return {}


def _source_type(planned: dict[str, PlannedNode], files_read: list[str]) -> str:
    """The IPTC digital source type of what the nodes made: ``trainedAlgorithmicMedia`` when a
    generative model made it, ``compositeWithTrainedAlgorithmicMedia`` when generated content is
    mixed with files read from disk, ``algorithmicMedia`` when no model was involved at all (a
    gradient with a caption), ``composite`` when files read from disk were edited without one."""
    from nodeflow.check.policy import Policy, is_generator

    policy = Policy()
    generated = any(is_generator(step.node, step.spec, policy) for step in planned.values())
    read_files = bool(files_read)
    if generated:
        return "compositeWithTrainedAlgorithmicMedia" if read_files else "trainedAlgorithmicMedia"
    return "composite" if read_files else "algorithmicMedia"


def upstream_of(ctx: Context) -> dict[str, PlannedNode]:
    """The planned nodes the node of ``ctx`` depends on, itself included."""
    plan = getattr(ctx, "plan", None)
    if plan is None:  # a Context made outside the executor (a test, a tool): plan just this node
        from nodeflow.nodetypes.registry import default_registry
        from nodeflow.plan.planner import make_plan

        ctx.registry = getattr(ctx, "registry", None) or default_registry()
        plan = ctx.plan = make_plan(ctx._graph, ctx.registry, only=[ctx.node_id])
    by_id = {step.id: step for step in plan.order}
    found: dict[str, PlannedNode] = {}
    stack = [ctx.node_id]
    while stack:
        current = stack.pop()
        if current in found or current not in by_id:
            continue
        found[current] = by_id[current]
        stack.extend(src for _, src, _, _ in by_id[current].links)
    return found


@lru_cache(maxsize=256)
def _folder_pack_hash(source: str) -> str:
    path = Path(source)
    files = [path] if path.is_file() else sorted(path.rglob("*.py"))
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def pack_version(registry: Any, pack: str) -> str:
    """What identifies a pack's code: nodeflow's version for built-in packs, the distribution's
    version for installed ones, a hash of the source files for packs loaded from a folder."""
    import importlib.metadata

    from nodeflow.version import __version__

    if registry is None:
        from nodeflow.nodetypes.registry import default_registry

        registry = default_registry()
    source = registry.packs.get(pack, "")
    if source == "built-in":
        return f"built-in, nodeflow {__version__}"
    if source.startswith("entry point "):
        module = source[len("entry point ") :].split(":")[0].split(".")[0]
        for dist in importlib.metadata.packages_distributions().get(module, []):
            return f"{dist} {importlib.metadata.version(dist)}"
        return source
    if source and Path(source).exists():
        return f"{Path(source).name}, sha256 {_folder_pack_hash(source)}"
    return source or "unknown"


def _relative_name(artifact: Path, output_dir: Path) -> str:
    try:
        return artifact.resolve().relative_to(Path(output_dir).resolve()).as_posix()
    except ValueError:
        return artifact.name


def _device_used(ctx: Context, params: dict[str, dict[str, Any]]) -> str:
    """The devices the nodes were told to use, else the one the model manager picked when a node
    asked, else cpu (nothing asked: no accelerator was involved).

    Asking the model manager outright would import torch for graphs that never use it.
    """
    told = sorted({str(p["device"]) for p in params.values() if p.get("device") not in (None, "", "auto")})
    if told:
        return ",".join(told)
    return getattr(ctx, "_device", None) or getattr(ctx.models, "_device", None) or "cpu"


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    import importlib.metadata  # slow to import: only when a record is built

    from nodeflow.version import __version__

    versions = {"python": platform.python_version(), "nodeflow": __version__}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _hash_input(value: str, roots: list[Path]) -> dict[str, Any] | None:
    from nodeflow.files import PathNotAllowed, resolve_inside

    try:
        path = resolve_inside(value, roots, must_exist=True)
    except (PathNotAllowed, FileNotFoundError, OSError):
        return None  # a hub id or a missing file: the node itself says what is wrong
    return {"path": value, "sha256": content_hash(path)}


def dumps_record(record: dict[str, Any]) -> str:
    """The canonical text of a record: sorted keys, no spaces, so equal records are equal bytes."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
