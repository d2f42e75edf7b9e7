"""What a run will download: a model param naming a Hugging Face hub id that the cache does not hold, while
the hub answers, is fetched on the first run. The editor says so on the node before Run, with the size the
hub's metadata gives, so a person is not surprised by gigabytes (validation already says "not on this
machine" when the hub cannot be asked).

The size comes from ``huggingface_hub``'s model metadata (``HfApi.model_info`` with file sizes), asked only
when the hub may be asked (``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` unset), at the endpoint
``HF_ENDPOINT`` names, and remembered for a while: validation runs after every edit.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from nodeflow.graph.inactive import inactive_nodes
from nodeflow.models import hub_offline
from nodeflow.nodetypes.resolve import hub_cached

if TYPE_CHECKING:
    from nodeflow.graph.model import Graph
    from nodeflow.nodetypes.registry import Registry

__all__ = ["NOT_ON_HUB", "download_notes", "hub_download_bytes", "weights_to_fetch"]

NOT_ON_HUB = -1  # the hub answered that it has no such repository (a misspelt id)

REMEMBER_S = 600.0  # a repository's size barely changes; asked again after ten minutes
REMEMBER_FAILURE_S = 60.0  # an unanswered lookup is tried again after a minute, like the reachability probe
LOOKUP_TIMEOUT_S = 5.0

_sizes: dict[tuple[str, str], tuple[float, int | None]] = {}
_lock = threading.Lock()

# weight formats a loader skips when the repository also has .safetensors (diffusers and transformers do)
_OTHER_WEIGHTS = (".bin", ".ckpt", ".pt", ".pth", ".msgpack", ".h5", ".onnx", ".onnx_data", ".pb", ".ot", ".tflite")
_WEIGHTS = (".safetensors", *_OTHER_WEIGHTS)
_VARIANTS = (".fp16.", ".non_ema.", ".ema.", ".bf16.")


def weights_to_fetch(files: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The files of a repository (name, bytes) that loading it by id downloads, as diffusers and transformers
    choose them by default: .safetensors over other weight formats, no variant files (fp16, ema), and in a
    diffusers repository (model_index.json) not the single-file checkpoints at its top."""
    names = {name for name, _ in files}
    has_safetensors = any(name.endswith(".safetensors") for name in names)
    diffusers_layout = "model_index.json" in names
    kept = []
    for name, size in files:
        if any(marker in name for marker in _VARIANTS):
            continue
        if has_safetensors and name.endswith(_OTHER_WEIGHTS):
            continue
        if diffusers_layout and "/" not in name and name.endswith(_WEIGHTS):
            continue
        kept.append((name, size))
    return kept


def hub_download_bytes(repo_id: str) -> int | None:
    """Bytes a first run downloads for ``repo_id``, from the hub's metadata; ``NOT_ON_HUB`` when the hub
    says it has no such repository; None when the hub may not be asked (offline) or does not answer."""
    if hub_offline():
        return None
    from huggingface_hub import constants

    key = (constants.ENDPOINT, repo_id)
    now = time.monotonic()
    with _lock:
        seen = _sizes.get(key)
    if seen is not None and now - seen[0] < (REMEMBER_S if seen[1] is not None else REMEMBER_FAILURE_S):
        return seen[1]
    size = _ask_hub(repo_id, constants.ENDPOINT)
    with _lock:
        _sizes[key] = (time.monotonic(), size)
    return size


def _ask_hub(repo_id: str, endpoint: str) -> int | None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        info = HfApi(endpoint=endpoint).model_info(repo_id, files_metadata=True, timeout=LOOKUP_TIMEOUT_S, token=False)
    except RepositoryNotFoundError:
        return NOT_ON_HUB
    except Exception:  # noqa: BLE001  any other failure (network, odd answer) means "size unknown"
        return None
    files = [(s.rfilename, s.size) for s in info.siblings or [] if s.size is not None]
    if not files:
        return None
    return sum(size for _, size in weights_to_fetch(files))


def download_notes(graph: Graph, registry: Registry, settings: Any) -> list[dict[str, Any]]:
    """A note for each model param (unlinked, not swept, on a node that runs) naming a hub id that is not
    cached here and that the hub will be asked for: ``{"node", "port", "message", "bytes"}``. Empty when
    offline: then validation's "not on this machine" problem says what to do."""
    if hub_offline():
        return []
    notes = []
    skip = inactive_nodes(graph, registry)
    for node in graph.nodes.values():
        spec = registry.specs.get(node.type)
        if spec is None or node.id in skip or node.mode == "bypass":
            continue
        values = {name: p.default for name, p in spec.params.items()}
        values.update(node.params)
        for name, param in spec.params.items():
            how = getattr(param, "resolve", None)
            value = values.get(name)
            if how is None or how.kind != "model" or how.check is None or name in node.inputs or not isinstance(value, str):
                continue
            try:
                found = how.check(value, settings, values)
            except Exception:  # noqa: BLE001, S112  not found (validation's problem says so) or a broken check
                continue
            if not (isinstance(found, tuple) and len(found) > 1 and found[0] == "hub") or hub_cached(found[1]):
                continue
            size = hub_download_bytes(found[1])
            if size == NOT_ON_HUB:
                message = (f"{found[1]} is not on this machine, and the Hugging Face hub has no public model of that "
                           "id (or it is private or gated): check its spelling (org/name), or pick a model found on "
                           "this machine.")
            else:
                how_big = f" ({_gigabytes(size)})" if size else " (the hub did not say how big)"
                message = (f"{found[1]} is not on this machine yet: the first run will download it from the "
                           f"Hugging Face hub{how_big} into the cache.")
            notes.append({"node": node.id, "port": name, "bytes": size if size != NOT_ON_HUB else None, "message": message})
    return notes


def _gigabytes(size: int) -> str:
    if size >= 10**9:
        return f"{size / 10**9:.1f} GB"
    return f"{max(size / 10**6, 0.1):.1f} MB"
