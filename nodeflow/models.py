"""The model manager: loaded models stay resident across runs, within a memory budget per device.

Separate from the output cache. A model is keyed by what loaded it (a loader name and its arguments);
asking again with the same key returns the resident model without loading. When a device's budget
is exceeded the least recently used models are evicted (or, for GPU models that can move, offloaded
to the CPU first, and moved back when asked for again). The device is chosen automatically (cuda,
then mps, then cpu) unless told, and so is the dtype that suits it.

Budgets, in order of precedence: ``ModelManager(budgets={"cuda": bytes})``, the environment
(``NODEFLOW_MODEL_MB_CUDA=8000``, ``NODEFLOW_MODEL_MB_CPU=...``), then a share of what the device has.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .files import resolve_inside

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from .settings import Settings

__all__ = [
    "ModelManager",
    "ResidentModel",
    "ModelNotFound",
    "pick_device",
    "pick_dtype",
    "model_nbytes",
    "default_budget",
    "model_folders",
    "find_local_model",
    "refuse_pickled_weights",
    "hub_offline",
    "is_hub_id",
    "looks_like_path",
    "not_found_message",
]

# share of a device's memory that resident models may take when no budget is set
_DEFAULT_SHARE = {"cuda": 0.85, "mps": 0.6, "cpu": 0.5}


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


def pick_dtype(device: str) -> Any:
    """The torch dtype models run in on ``device``: half precision on GPUs, float32 on the CPU.

    ``NODEFLOW_DTYPE`` (float32, float16, bfloat16) overrides the choice.
    """
    import torch

    named = os.environ.get("NODEFLOW_DTYPE")
    if named:
        dtype = getattr(torch, named, None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"NODEFLOW_DTYPE={named!r} is not a torch dtype; use float32, float16 or bfloat16")
        return dtype
    kind = device.split(":")[0]
    if kind == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if kind == "mps":
        return torch.float16
    return torch.float32


def default_budget(device: str) -> int | None:
    """Bytes that resident models may take on ``device``; None when it cannot be told."""
    kind = device.split(":")[0]
    env = os.environ.get(f"NODEFLOW_MODEL_MB_{kind.upper()}")
    if env:
        return int(float(env) * 2**20)
    share = _DEFAULT_SHARE.get(kind)
    if share is None:
        return None
    if kind == "cuda":
        import torch

        index = int(device.split(":")[1]) if ":" in device else 0
        return int(torch.cuda.get_device_properties(index).total_memory * share)
    try:  # mps shares the machine's memory with the CPU
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return int(total * share)


def model_nbytes(model: Any) -> int:
    """Bytes of parameters and buffers of a torch module, a pipeline's modules, or a holder's modules."""
    modules = []
    candidates = [model]
    components = getattr(model, "components", None)
    if isinstance(components, dict):
        candidates += list(components.values())
    elif isinstance(model, (tuple, list)):
        candidates += list(model)
    elif hasattr(model, "__dict__") and not hasattr(model, "parameters"):
        candidates += list(vars(model).values())
    for candidate in candidates:
        if hasattr(candidate, "parameters") and callable(candidate.parameters):
            modules.append(candidate)
    total = 0
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
    device: str  # where it is now
    home: str = ""  # where it runs; differs from ``device`` while offloaded

    def __post_init__(self) -> None:
        self.home = self.home or self.device


@dataclass
class ModelManager:
    device_override: str | None = None
    # bytes allowed per device; a device missing here gets default_budget(device)
    budgets: dict[str, int] = field(default_factory=dict)
    loads: int = 0  # how many times a loader actually ran (benchmarks print it)
    load_counts: Counter = field(default_factory=Counter)  # loads per key
    evictions: int = 0
    offloads: int = 0
    _resident: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _device: str | None = None

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = pick_device(self.device_override)
        return self._device

    def dtype(self, device: str | None = None) -> Any:
        """The torch dtype for models on ``device`` (this manager's device by default)."""
        return pick_dtype(device or self.device)

    def budget(self, device: str) -> int | None:
        if device in self.budgets:
            return self.budgets[device]
        kind = device.split(":")[0]
        if kind in self.budgets:
            return self.budgets[kind]
        budget = default_budget(device)
        self.budgets[device] = budget  # type: ignore[assignment]  # measured once
        return budget

    def get(
        self,
        key: tuple,
        loader: Callable[[], Any],
        *,
        device: str | None = None,
        nbytes: int | None = None,
    ) -> Any:
        """Return the model stored under ``key``, loading it with ``loader()`` the first time.

        ``device`` is where the loader puts the model (this manager's device by default); ``nbytes``
        its size when known in advance, so room is made before loading rather than after.
        """
        with self._lock:
            resident = self._resident.get(key)
            if resident is not None:
                self._resident.move_to_end(key)
                if resident.device != resident.home:  # offloaded earlier: bring it back
                    resident.value.to(resident.home)
                    resident.device = resident.home
                    self._enforce_budget(resident.home, keep=key)
                return resident.value
            where = device or self.device
            if nbytes is not None:
                self._make_room(where, nbytes, keep=key)
            value = loader()
            self.loads += 1
            self.load_counts[key] += 1
            size = nbytes if nbytes is not None else model_nbytes(value)
            self._resident[key] = ResidentModel(key, value, size, where)
            self._enforce_budget(where, keep=key)
            return value

    def __contains__(self, key: tuple) -> bool:
        return key in self._resident

    def resident(self) -> list[ResidentModel]:
        """Resident models, least recently used first."""
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

    # --- budgets ---------------------------------------------------------------------------------

    def _make_room(self, device: str, incoming: int, keep: tuple) -> None:
        budget = self.budget(device)
        if budget is not None:
            self._shrink(device, budget - incoming, keep)

    def _enforce_budget(self, device: str, keep: tuple) -> None:
        budget = self.budget(device)
        if budget is not None:
            self._shrink(device, budget, keep)

    def _shrink(self, device: str, target: int, keep: tuple) -> None:
        """Free ``device`` down to ``target`` bytes, least recently used first."""
        freed = False
        for key in list(self._resident):
            if self.used_bytes(device) <= target:
                break
            model = self._resident.get(key)  # offloading may have evicted it from the CPU
            if model is None or key == keep or model.device != device:
                continue
            freed = True
            if device != "cpu" and callable(getattr(model.value, "to", None)):
                # offload before dropping: a later run moves it back instead of loading it again
                model.value.to("cpu")
                model.device = "cpu"
                self.offloads += 1
                self._enforce_budget("cpu", keep=keep)
            else:
                del self._resident[key]
                self.evictions += 1
        if freed:
            gc.collect()
            _empty_device_cache()


def _empty_device_cache() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


# --- where model files are found ------------------------------------------------------------------


class ModelNotFound(FileNotFoundError):
    """A model is neither a file or folder in the model folders nor reachable on the hub."""


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def model_folders(settings: Settings) -> list[Path]:
    """Folders a graph may load models from: the models folder first, then the kind folders of the
    ComfyUI installs the settings name (``checkpoints/``, ``loras/``...), then the input folders."""
    from .comfy_folders import comfy_model_folders

    return [settings.models_dir, *comfy_model_folders(settings), *settings.input_dirs()]


def hub_offline() -> bool:
    """Whether the Hugging Face hub must not be asked (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``)."""
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def looks_like_path(source: str) -> bool:
    return source.startswith(("/", "~", ".", "\\")) or bool(re.search(r"\.(gguf|safetensors|ckpt|bin|pt)$", source))


def find_local_model(source: str, settings: Settings) -> Path | None:
    """The file or folder that ``source`` names inside the model folders; None when there is none.

    Raises :class:`nodeflow.files.PathNotAllowed` for a path outside those folders.
    """
    folders = model_folders(settings)
    try:
        return resolve_inside(source, folders, must_exist=True)
    except FileNotFoundError:
        pass
    if "\\" in source and not re.match(r"^[A-Za-z]:|^\\\\", source):
        # a name saved on Windows (ComfyUI writes sub\\x.safetensors): its separators are folders here too
        try:
            return resolve_inside(source.replace("\\", "/"), folders, must_exist=True)
        except FileNotFoundError:
            pass
    return None


PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


def refuse_pickled_weights(folder: Path, *, what: str) -> None:
    """Raise ValueError when a model folder (or one of its module sub-folders) holds weights only in a
    pickle format (``pytorch_model.bin``...): unpickling can run code, so nodeflow loads safetensors only."""
    pickled = []
    for current, _, names in os.walk(folder):
        if any(name.endswith(".safetensors") for name in names):
            continue  # safetensors beside a pickle: the safetensors are what gets loaded
        pickled += [Path(current) / name for name in sorted(names) if name.lower().endswith(PICKLE_SUFFIXES)]
    if pickled:
        shown = ", ".join(str(p.relative_to(folder)) for p in pickled[:3])
        raise ValueError(
            f"{what} {folder.name} holds pickled weights ({shown}) and no .safetensors; pickles can run code "
            "when loaded, so nodeflow loads safetensors only. Convert it once, in a Python you trust with "
            f"the file: AutoModel.from_pretrained('{folder}').save_pretrained('{folder}', safe_serialization=True) "
            "(transformers), then delete the .bin"
        )


def is_hub_id(source: str) -> bool:
    return not looks_like_path(source) and bool(_HUB_ID.match(source))


def not_found_message(source: str, settings: Settings, *, what: str, layout: str) -> str:
    """Say where a model was looked for and how to make it available, in a few lines."""
    folders = ", ".join(str(p) for p in model_folders(settings))
    found = f"{what} {source!r} was not found" + (": it is not on this machine." if is_hub_id(source) else ".")
    lines = [found, f"Looked for a file or folder of that name in: {folders}."]
    if is_hub_id(source):
        from huggingface_hub import constants

        if hub_offline():
            lines.append(
                f"Looked in the Hugging Face cache ({constants.HF_HUB_CACHE}); the hub itself was not asked "
                "because HF_HUB_OFFLINE is set."
            )
        else:
            lines.append(f"The Hugging Face hub has no {what} {source!r}, or it could not be reached.")
        lines.append(
            f"To make it available: on a machine with internet run `hf download {source} --local-dir "
            f"{settings.models_dir / source.split('/')[-1]}` and copy that folder here, then set the source "
            f"to {source.split('/')[-1]!r}; or put {layout} into {settings.models_dir}."
        )
    else:
        lines.append(f"To make it available: put {layout} into {settings.models_dir} and name it in the source.")
    return "\n".join(lines)
