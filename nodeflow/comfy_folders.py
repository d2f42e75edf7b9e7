"""The model folders of a ComfyUI install, so nodeflow finds the models a ComfyUI user already has
without copying them.

Pointed at by ``NODEFLOW_COMFY_MODELS`` (or ``nodeflow --comfy-models DIR``), each entry being one of:

- a ComfyUI ``models`` folder (it holds ``checkpoints/``, ``loras/``...);
- a ComfyUI folder (its ``models/`` is used, and its ``extra_model_paths.yaml`` when there is one);
- an ``extra_model_paths.yaml`` file: ComfyUI's own list of further model folders. Each of its sections
  has a ``base_path`` (relative to the file's folder when relative) and, per kind, one folder or several
  (one a line) relative to it::

      comfyui:
          base_path: /data/ComfyUI/
          checkpoints: models/checkpoints/
          loras: |
              models/loras
              more/loras

Of each, the folders of the kinds nodeflow loads are model folders (see ``nodeflow.models.model_folders``):
a workflow's ``sub\\x.safetensors`` in ``loras/sub/x.safetensors`` resolves like one in nodeflow's own
models folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["COMFY_KINDS", "ComfyFolderError", "comfy_kind_folders", "comfy_model_folders", "read_extra_model_paths"]

# ComfyUI's folder names of the kinds nodeflow loads, with the picker kind their files are listed as
COMFY_KINDS = {
    "checkpoints": "diffusion", "diffusion_models": "diffusion", "unet": "diffusion", "loras": "lora",
    "vae": "vae", "text_encoders": "text_encoder", "clip": "text_encoder", "controlnet": "controlnet",
    "upscale_models": "upscale", "embeddings": "embedding", "clip_vision": "clip_vision",
}
YAML_NAME = "extra_model_paths.yaml"
MAX_YAML_BYTES = 1 << 20


class ComfyFolderError(ValueError):
    """An ``extra_model_paths.yaml`` that cannot be read; the message says which and why."""


def read_extra_model_paths(path: Path) -> list[tuple[str, Path]]:
    """``(kind, folder)`` for every folder of a known kind that an ``extra_model_paths.yaml`` lists
    (existing or not; the caller keeps the existing ones). Read with ``yaml.safe_load``: no tags run."""
    try:
        import yaml
    except ImportError:  # PyYAML comes with transformers and huggingface_hub; say so if it is gone
        raise ComfyFolderError(f"{path}: reading it needs PyYAML (pip install pyyaml)") from None
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise ComfyFolderError(f"{path} is larger than 1 MB; ComfyUI's model paths file is a few lines")
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ComfyFolderError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise ComfyFolderError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if document is None:
        return []
    if not isinstance(document, dict):
        raise ComfyFolderError(f"{path} must map section names to folders, not hold a {type(document).__name__}")
    found: list[tuple[str, Path]] = []
    for name, section in document.items():
        if not isinstance(section, dict):
            raise ComfyFolderError(f"{path}: section {name!r} must map kinds to folders")
        base = section.get("base_path", "")
        if not isinstance(base, str):
            raise ComfyFolderError(f"{path}: {name}.base_path must be a folder name")
        root = Path(os.path.expandvars(os.path.expanduser(base.strip() or ".")))
        if not root.is_absolute():
            root = path.parent / root
        for kind, folders in section.items():
            if kind not in COMFY_KINDS or folders is None:
                continue
            if not isinstance(folders, str):
                raise ComfyFolderError(f"{path}: {name}.{kind} must be a folder, or several one a line")
            for line in folders.splitlines():
                if line.strip():
                    folder = Path(os.path.expandvars(os.path.expanduser(line.strip().replace("\\", "/"))))
                    found.append((kind, folder if folder.is_absolute() else root / folder))
    return found


def comfy_kind_folders(entries: Iterable[Path]) -> list[tuple[str, Path]]:
    """``(kind, folder)`` of every existing kind folder the configured entries give, in order, once each."""
    found: list[tuple[str, Path]] = []
    for entry in entries:
        entry = Path(entry).expanduser()
        if entry.is_file():
            found += read_extra_model_paths(entry)
            continue
        models = entry / "models" if (entry / "models").is_dir() and not (entry / "checkpoints").is_dir() else entry
        found += [(kind, models / kind) for kind in COMFY_KINDS]
        if (entry / YAML_NAME).is_file():
            found += read_extra_model_paths(entry / YAML_NAME)
    seen: set[Path] = set()
    kept = []
    for kind, folder in found:
        if folder.is_dir() and folder.resolve() not in seen:
            seen.add(folder.resolve())
            kept.append((kind, folder))
    return kept


def comfy_model_folders(settings: Any) -> list[Path]:
    """The model folders of the ComfyUI installs ``settings.comfy_models`` names."""
    return [folder for _, folder in comfy_kind_folders(getattr(settings, "comfy_models", []) or [])]
