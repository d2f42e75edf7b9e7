"""The model manager: loaded models stay resident across runs, within a memory budget per device.

Separate from the output cache. A model is keyed by what loaded it (a loader name and its arguments);
asking again with the same key returns the resident model without loading. When a device's budget
is exceeded the least recently used models are evicted (or, for GPU models that can move, offloaded
to the CPU first). The device is chosen automatically (cuda, then mps, then cpu) unless told.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["ModelManager", "ResidentModel", "pick_device", "model_nbytes"]


def pick_device(preferred: str | None = None) -> str:
    """``cuda`` when available, else ``mps``, else ``cpu``; ``NODEFLOW_DEVICE`` or ``preferred`` wins."""
    preferred = preferred or os.environ.get("NODEFLOW_DEVICE") or None
    if preferred:
        return preferred
    if importlib.util.find_spec("torch") is None:
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def model_nbytes(model: Any) -> int:
    """Bytes of parameters and buffers of a torch module (or of a pipeline's modules)."""
    total = 0
    modules = []
    if hasattr(model, "parameters") and callable(model.parameters):
        modules.append(model)
    components = getattr(model, "components", None)
    if isinstance(components, dict):
        modules += [m for m in components.values() if hasattr(m, "parameters")]
    seen: set[int] = set()
    for module in modules:
        for tensor in list(module.parameters()) + list(getattr(module, "buffers", lambda: [])()):
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            total += tensor.element_size() * tensor.nelement()
    return total


@dataclass
class ResidentModel:
    key: tuple
    value: Any
    nbytes: int
    device: str


@dataclass
class ModelManager:
    device_override: str | None = None
    # bytes allowed per device; a device missing here is unbounded
    budgets: dict[str, int] = field(default_factory=dict)
    loads: int = 0  # how many times a loader actually ran (benchmarks print it)
    _resident: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _device: str | None = None

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = pick_device(self.device_override)
        return self._device

    def get(
        self,
        key: tuple,
        loader: Callable[[], Any],
        *,
        device: str | None = None,
        nbytes: int | None = None,
    ) -> Any:
        """Return the model stored under ``key``, loading it with ``loader()`` the first time."""
        with self._lock:
            resident = self._resident.get(key)
            if resident is not None:
                self._resident.move_to_end(key)
                return resident.value
            value = loader()
            self.loads += 1
            size = nbytes if nbytes is not None else model_nbytes(value)
            where = device or self.device
            self._resident[key] = ResidentModel(key, value, size, where)
            self._enforce_budget(where, keep=key)
            return value

    def __contains__(self, key: tuple) -> bool:
        return key in self._resident

    def resident(self) -> list[ResidentModel]:
        return list(self._resident.values())

    def used_bytes(self, device: str) -> int:
        return sum(m.nbytes for m in self._resident.values() if m.device == device)

    def evict(self, key: tuple) -> None:
        with self._lock:
            self._resident.pop(key, None)
            gc.collect()
            _empty_device_cache()

    def clear(self) -> None:
        with self._lock:
            self._resident.clear()
            gc.collect()
            _empty_device_cache()

    def _enforce_budget(self, device: str, keep: tuple) -> None:
        budget = self.budgets.get(device)
        if budget is None:
            return
        for key in list(self._resident):
            if self.used_bytes(device) <= budget:
                break
            model = self._resident[key]
            if key == keep or model.device != device:
                continue
            if device != "cpu" and hasattr(model.value, "to"):
                model.value.to("cpu")  # offload before dropping: a later run moves it back cheaply
                model.device = "cpu"
                self._enforce_budget("cpu", keep=keep)
            else:
                del self._resident[key]
        gc.collect()
        _empty_device_cache()


def _empty_device_cache() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
