"""The LanguageModel port type: a causal language model with its tokenizer.

The type and its handle (:class:`LanguageModelHandle`) are shared with the train pack, so they live
in the engine's public API (``nodeflow.model_types``). This pack knows how to write one, so it gives
the type its disk storage: a transformers folder (config, safetensors weights, tokenizer files),
loaded back with ``from_pretrained``. Never pickle.
"""

from __future__ import annotations

from pathlib import Path

from nodeflow import LanguageModel, LanguageModelHandle, LoadedLM, attach_storage

__all__ = ["LanguageModel", "LanguageModelHandle", "LoadedLM"]


def _save(handle: LanguageModelHandle, folder: Path) -> None:
    from .loading import save_causal_lm

    loaded = handle.loaded()
    save_causal_lm(loaded.model, loaded.tokenizer, folder)
    (folder / "name.txt").write_text(handle.name)


def _load(folder: Path) -> LanguageModelHandle:
    from .loading import load_causal_lm

    loaded = load_causal_lm(folder, device="cpu")
    name_file = folder / "name.txt"
    name = name_file.read_text() if name_file.exists() else folder.name
    return LanguageModelHandle(name, model=loaded.model, tokenizer=loaded.tokenizer)


attach_storage(LanguageModel, _save, _load)
