"""LoRAs switched on a resident diffusers pipeline: each LoRA file is loaded once per pipeline as a
named adapter, and the pipeline is set to exactly the adapters (and strengths) a handle asks for.

Used by the ``DiffusionPipeline`` handle when it samples (``types.py``), by ``diffusion.lora`` when
it loads a LoRA (``loading.py``) and by the step-level parts (``parts.py``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from nodes.diffusion.types import LoraRef

__all__ = ["activate_loras", "adapter_name", "list_adapters"]


def adapter_name(path: str) -> str:
    """The adapter name a LoRA file is loaded under (the same file, the same name)."""
    return "lora_" + hashlib.blake2b(path.encode(), digest_size=6).hexdigest()


def activate_loras(pipe: Any, loras: tuple[LoraRef, ...]) -> None:
    """Switch the resident pipeline to exactly ``loras`` (loading each file once per pipeline)."""
    loaded = {name for names in list_adapters(pipe).values() for name in names}
    if not loras:
        if loaded:
            pipe.disable_lora()
        return
    names, weights = [], []
    for ref in loras:
        name = adapter_name(ref.path)
        if name not in loaded:
            file = Path(ref.path)
            try:
                pipe.load_lora_weights(str(file.parent), weight_name=file.name, adapter_name=name)
            except (ValueError, KeyError, RuntimeError) as exc:
                raise ValueError(f"{file.name} is not a LoRA for this pipeline: {exc}") from None
            loaded.add(name)
        if name in names:  # the same LoRA twice: add the scales
            weights[names.index(name)] += ref.scale
        else:
            names.append(name)
            weights.append(ref.scale)
    pipe.enable_lora()
    pipe.set_adapters(names, adapter_weights=weights)


def list_adapters(pipe: Any) -> dict[str, list[str]]:
    """Component name -> the adapters loaded on it (none before the first LoRA)."""
    try:
        return pipe.get_list_adapters()
    except (ValueError, AttributeError):  # no PEFT layers yet
        return {}
