"""LoRAs switched on a resident diffusers pipeline: each LoRA file is loaded once per pipeline as a
named adapter, and the pipeline is set to exactly the adapters (and strengths) a handle asks for.

Used by the ``DiffusionPipeline`` handle when it samples (``types.py``), by ``diffusion.lora`` when
it loads a LoRA (``loading.py``) and by the step-level parts (``parts.py``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from nodes.diffusion.types import LoraRef


class LoraFile(Protocol):
    """A LoRA file at a strength: a pipeline handle's ``LoraRef`` or a model part's ``Adapter``."""

    @property
    def path(self) -> str: ...

    @property
    def scale(self) -> float: ...

__all__ = ["activate_loras", "load_adapters", "adapter_name", "list_adapters"]


def adapter_name(path: str) -> str:
    """The adapter name a LoRA file is loaded under (the same file, the same name)."""
    return "lora_" + hashlib.blake2b(path.encode(), digest_size=6).hexdigest()


def activate_loras(pipe: Any, loras: tuple[LoraRef, ...]) -> None:
    """Switch the resident pipeline to exactly ``loras`` (loading each file once per pipeline)."""
    found = load_adapters(pipe, loras, "pipeline")
    if found is None:
        return
    names, weights = found
    pipe.enable_lora()
    pipe.set_adapters(names, adapter_weights=weights)


def load_adapters(pipe: Any, loras: Iterable[LoraFile], what: str) -> tuple[list[str], list[float]] | None:
    """Load each LoRA file not yet on ``pipe`` as an adapter and return the adapters' names and
    strengths (the same file twice: one adapter, the strengths added). With no LoRAs the pipeline's
    adapters are disabled and None is returned. ``what`` the pipeline is, for the error message."""
    loaded = {name for names in list_adapters(pipe).values() for name in names}
    loras = list(loras)
    if not loras:
        if loaded:
            pipe.disable_lora()
        return None
    names: list[str] = []
    scales: list[float] = []
    for ref in loras:
        name = adapter_name(ref.path)
        if name not in loaded:
            file = Path(ref.path)
            try:
                pipe.load_lora_weights(str(file.parent), weight_name=file.name, adapter_name=name)
            except (ValueError, KeyError, RuntimeError) as exc:
                raise ValueError(f"{file.name} is not a LoRA for this {what}: {exc}") from None
            loaded.add(name)
        if name in names:  # the same LoRA twice: add the scales
            scales[names.index(name)] += ref.scale
        else:
            names.append(name)
            scales.append(ref.scale)
    return names, scales


def list_adapters(pipe: Any) -> dict[str, list[str]]:
    """Component name -> the adapters loaded on it (none before the first LoRA)."""
    try:
        return pipe.get_list_adapters()
    except (ValueError, AttributeError):  # no PEFT layers yet
        return {}
