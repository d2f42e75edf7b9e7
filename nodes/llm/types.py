"""The LanguageModel port type: a causal language model with its tokenizer.

The type and its handle (:class:`LanguageModelHandle`) are shared with the train pack, so they live
in the engine's public API (``nodeflow.ports.model``). This pack knows how to write one, so it gives
the type its disk storage: a transformers folder (config, safetensors weights, tokenizer files),
loaded back with ``from_pretrained``. A handle that is a base model plus a LoRA adapter
(``base_folder`` and ``adapter_file`` set) stores only the adapter and where the base lives, and is
rebuilt from them. Never pickle.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nodeflow import LanguageModel, LanguageModelHandle, LoadedLM, attach_storage
from nodes.llm.adapters import adapted_handle
from nodes.llm.loading import load_causal_lm, save_causal_lm

__all__ = ["LanguageModel", "LanguageModelHandle", "LoadedLM"]


def _save(handle: LanguageModelHandle, folder: Path) -> None:
    base_folder, adapter_file = getattr(handle, "base_folder", None), getattr(handle, "adapter_file", None)
    if base_folder and adapter_file and Path(base_folder, "config.json").exists():
        shutil.copyfile(adapter_file, folder / "adapter.safetensors")  # kilobytes, not the base
        recipe = {"name": handle.name, "base_folder": base_folder, "merged": handle.merged}
        (folder / "adapted.json").write_text(json.dumps(recipe))
        return
    loaded = handle.loaded()
    if hasattr(loaded.model, "merge_and_unload"):  # a peft model: store it merged, as a plain model
        import copy

        loaded = LoadedLM(copy.deepcopy(loaded.model).merge_and_unload(), loaded.tokenizer)
    save_causal_lm(loaded.model, loaded.tokenizer, folder)
    (folder / "name.txt").write_text(handle.name)


def _load(folder: Path) -> LanguageModelHandle:
    if (folder / "adapted.json").exists():
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


attach_storage(LanguageModel, _save, _load)
