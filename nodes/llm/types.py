"""The LanguageModel port type: a causal language model with its tokenizer.

A value is a :class:`LanguageModelHandle`. A handle made by ``llm.load`` does not hold the weights: it
asks the model manager for them each time it is used, so the output cache never pins a model and the
manager may evict it between runs (it is loaded again, by the same key, when next used). A handle
made around a model in hand (a model trained in the graph) holds it directly.

On disk (``cache="disk"`` nodes) a handle is stored as a transformers folder: config, safetensors
weights and tokenizer files, loaded back with ``from_pretrained``. A handle that is a base model
plus a LoRA adapter (``base_folder`` and ``adapter_file`` set) stores only the adapter and where the
base lives, and is rebuilt from them. Never pickle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from nodeflow import PortType, register_type
from nodeflow.models import model_nbytes

__all__ = ["LanguageModel", "LanguageModelHandle", "LoadedLM"]


@dataclass
class LoadedLM:
    """A causal LM and its tokenizer, as the model manager keeps them."""

    model: Any
    tokenizer: Any

    def to(self, device: str) -> "LoadedLM":
        self.model.to(device)
        return self

    def parameters(self):  # so the model manager can measure it
        return self.model.parameters()


class LanguageModelHandle:
    """What flows along a LanguageModel link. ``.model`` and ``.tokenizer`` are transformers objects."""

    def __init__(
        self,
        name: str,
        *,
        fetch: Callable[[], LoadedLM] | None = None,
        model: Any = None,
        tokenizer: Any = None,
        base_folder: str | None = None,
        adapter_file: str | None = None,
        merged: bool = False,
    ):
        if fetch is None and (model is None or tokenizer is None):
            raise ValueError("a LanguageModelHandle needs either fetch or both model and tokenizer")
        self.name = name
        self._fetch = fetch
        self._held = LoadedLM(model, tokenizer) if fetch is None else None
        self.base_folder = base_folder  # a transformers folder holding the base weights, when known
        self.adapter_file = adapter_file  # the LoRA applied to that base (see adapters.py)
        self.merged = merged

    def loaded(self) -> LoadedLM:
        """The model and tokenizer, loading them again if the model manager evicted them."""
        return self._held if self._held is not None else self._fetch()  # type: ignore[misc]

    @property
    def model(self) -> Any:
        return self.loaded().model

    @property
    def tokenizer(self) -> Any:
        return self.loaded().tokenizer

    @property
    def nbytes(self) -> int:
        """Bytes this handle itself keeps alive (none when the model manager holds the weights)."""
        return model_nbytes(self._held.model) if self._held is not None else 256

    def __repr__(self) -> str:
        return f"LanguageModelHandle({self.name!r})"


def _save(handle: LanguageModelHandle, folder: Path) -> None:
    import json
    import shutil

    from .loading import save_causal_lm

    if handle.base_folder and handle.adapter_file and Path(handle.base_folder, "config.json").exists():
        shutil.copyfile(handle.adapter_file, folder / "adapter.safetensors")  # kilobytes, not the base
        recipe = {"name": handle.name, "base_folder": handle.base_folder, "merged": handle.merged}
        (folder / "adapted.json").write_text(json.dumps(recipe))
        return
    loaded = handle.loaded()
    if hasattr(loaded.model, "merge_and_unload"):  # a peft model: store it merged, as a plain model
        import copy

        loaded = LoadedLM(copy.deepcopy(loaded.model).merge_and_unload(), loaded.tokenizer)
    save_causal_lm(loaded.model, loaded.tokenizer, folder)
    (folder / "name.txt").write_text(handle.name)


def _load(folder: Path) -> LanguageModelHandle:
    from .loading import load_causal_lm

    if (folder / "adapted.json").exists():
        import json

        from .adapters import adapted_handle

        recipe = json.loads((folder / "adapted.json").read_text())
        base = load_causal_lm(recipe["base_folder"], device="cpu")
        handle = LanguageModelHandle(recipe["name"], model=base.model, tokenizer=base.tokenizer,
                                     base_folder=recipe["base_folder"])
        adapted = adapted_handle(handle, folder / "adapter.safetensors", merge=recipe["merged"])
        adapted.name = recipe["name"]
        return adapted

    loaded = load_causal_lm(folder, device="cpu")
    name_file = folder / "name.txt"
    name = name_file.read_text() if name_file.exists() else folder.name
    return LanguageModelHandle(name, model=loaded.model, tokenizer=loaded.tokenizer)


LanguageModel = register_type(
    PortType(
        "LanguageModel",
        "#8e7cc3",
        "A causal language model with its tokenizer",
        py=LanguageModelHandle,
        size_of=lambda handle: handle.nbytes,
        save=_save,
        load=_load,
    )
)
