"""Writing a trained LoRA: one ``.safetensors`` file in the models folder, whole or not at all.

The file goes to ``<models>/loras/<stem>-<hash>.safetensors`` (the hash is of the weights, so the same
training writes the same name, and the loader nodes find it in the models folder). Its safetensors
metadata carries what the loaders check plus the provenance record of the run that trained it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from nodeflow import Context, build_record

__all__ = ["write_lora_file", "trainable_state"]


def _digest(tensors: dict[str, Any]) -> str:
    digest = hashlib.blake2b(digest_size=6)
    for key in sorted(tensors):
        digest.update(key.encode() + b"\0")
        digest.update(tensors[key].detach().to("cpu").contiguous().numpy().tobytes())
    return digest.hexdigest()


def write_lora_file(tensors: dict[str, Any], metadata: dict[str, Any], ctx: Context | None, *, stem: str,
                    folder: Path | None = None) -> Path:
    """Save ``tensors`` with ``metadata`` (values not already strings are written as JSON)."""
    from safetensors.torch import save_file

    if folder is None:
        if ctx is None:
            raise ValueError("write_lora_file needs a run context or a folder")
        folder = ctx.settings.models_dir / "loras"
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "lora"
    target = folder / f"{stem}-{_digest(tensors)}.safetensors"
    meta = {key: value if isinstance(value, str) else json.dumps(value) for key, value in metadata.items()}
    if ctx is not None and getattr(ctx, "graph_dict", None) is not None:
        try:
            meta["nodeflow_provenance"] = json.dumps(build_record(ctx, target, kind="lora"), sort_keys=True, default=str)
        except Exception as exc:  # noqa: BLE001  (a record we cannot build must not lose the training)
            meta["nodeflow_provenance_error"] = str(exc)
    tensors = {key: value.detach().to("cpu").contiguous() for key, value in tensors.items()}
    handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    os.close(handle)
    try:
        save_file(tensors, tmp, metadata=meta)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def trainable_state(model: Any) -> dict[str, Any]:
    """The parameters that train (the LoRA weights), by name, detached copies."""
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}
