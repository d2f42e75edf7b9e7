"""LoRA adapters for language models: one ``.safetensors`` file, applied to a base model on load.

The file format (written by the train pack's ``train.llm_lora``, read here): the tensors are peft's
adapter state dict (``get_peft_model_state_dict``); the safetensors metadata holds

| key | value |
|---|---|
| ``format`` | ``nodeflow-llm-lora`` |
| ``lora`` | JSON: ``r``, ``lora_alpha``, ``target_modules``, ``lora_dropout`` |
| ``base_model`` | the name of the model it was trained on |
| ``base_signature`` | JSON: ``model_type``, ``hidden_size``, ``num_hidden_layers``, ``vocab_size`` |
| ``nodeflow_provenance`` | JSON: the provenance record of the run that trained it |

An adapter only fits the base model it was trained on; a different one is refused with both named.
Applying never changes the model passed in: it works on a copy.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from nodeflow import (
    Context,
    File,
    LanguageModel,
    LanguageModelHandle,
    ModelNotFound,
    Param,
    Resolve,
    find_local_model,
    model_folders,
    node,
)

__all__ = ["FORMAT", "base_signature", "read_adapter", "apply_adapter", "adapter"]

FORMAT = "nodeflow-llm-lora"
_SIGNATURE_KEYS = ("model_type", "hidden_size", "num_hidden_layers", "vocab_size")


def base_signature(model: Any) -> dict[str, Any]:
    """What an adapter's base must match: the architecture and its sizes."""
    config = model.config
    return {key: getattr(config, key, None) for key in _SIGNATURE_KEYS}


def _describe(name: str, signature: dict[str, Any]) -> str:
    return (f"{name} ({signature.get('model_type')}, width {signature.get('hidden_size')}, "
            f"{signature.get('num_hidden_layers')} layers, vocabulary {signature.get('vocab_size')})")


def read_adapter(path: Path | str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(tensors, metadata)`` of an adapter file, metadata's JSON fields parsed."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as opened:
            raw = opened.metadata() or {}
            tensors = {key: opened.get_tensor(key) for key in opened.keys()}
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{path.name} is not a readable .safetensors file ({exc})") from None
    if raw.get("format") != FORMAT:
        raise ValueError(f"{path.name} is not a nodeflow LLM LoRA adapter (train one with train.llm_lora)")
    meta = dict(raw)
    for key in ("lora", "base_signature", "history", "nodeflow_provenance"):
        if key in meta:
            meta[key] = json.loads(meta[key])
    return tensors, meta


def apply_adapter(handle: LanguageModelHandle, path: Path | str, *, merge: bool = False) -> Any:
    """A copy of the handle's model with the adapter at ``path`` applied (merged into the weights
    when ``merge``). Raises ValueError naming both models when the adapter is for another base."""
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict

    path = Path(path)
    tensors, meta = read_adapter(path)
    base = handle.loaded().model
    wanted, have = meta.get("base_signature", {}), base_signature(base)
    if wanted != have:
        raise ValueError(
            f"the adapter {path.name} was trained for {_describe(meta.get('base_model', '?'), wanted)}; "
            f"it does not fit {_describe(handle.name, have)}: load the model it was trained on"
        )
    settings = meta["lora"]
    config = LoraConfig(r=settings["r"], lora_alpha=settings["lora_alpha"], lora_dropout=0.0,
                        target_modules=settings["target_modules"], bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(copy.deepcopy(base), config)
    result = set_peft_model_state_dict(model, tensors)
    missing = [k for k in result.missing_keys if "lora_" in k]
    if missing:
        raise ValueError(f"the adapter {path.name} lacks weights the model expects ({missing[0]}, ...)")
    model.eval()
    return model.merge_and_unload() if merge else model


def adapted_handle(handle: LanguageModelHandle, path: Path | str, *, merge: bool) -> LanguageModelHandle:
    """A new handle holding the adapted copy; it stores itself compactly (base folder + adapter)."""
    model = apply_adapter(handle, path, merge=merge)
    base_folder = handle.base_folder if handle.adapter_file is None else None
    return LanguageModelHandle(f"{handle.name} + {Path(path).stem}", model=model, tokenizer=handle.tokenizer,
                               base_folder=base_folder, adapter_file=str(path), merged=merge)


def find_adapter(path: str, settings: Any) -> Path:
    found = find_local_model(path, settings) if path else None
    if found is None or not found.is_file():
        raise ModelNotFound(
            f"adapter {path!r} was not found in {', '.join(str(p) for p in model_folders(settings))}; "
            "put the .safetensors file into the models folder (train.llm_lora writes to models/loras/)"
        )
    return found


def adapter_stamp(path: str, ctx: Context) -> str:
    """A fingerprint of the adapter file a param names (a replaced file re-runs the node)."""
    try:
        found = find_local_model(path, ctx.settings) if path else None
    except ValueError as exc:
        return f"unavailable: {exc}"
    return str(found.stat().st_mtime_ns) if found is not None and found.is_file() else "missing"


# validation checks a named adapter exists; empty passes (a linked file, or no adapter at all)
ADAPTER_RESOLVE = Resolve("model", lambda value, settings, _: find_adapter(value, settings) if value else None,
                          models="lora")


def _fingerprint(params: dict[str, Any], ctx: Context) -> str:
    return adapter_stamp(params.get("path", ""), ctx)


@node("llm.adapter", category="LLM", outputs=("model",), fingerprint=_fingerprint, title="LLM LoRA")
def adapter(
    model: LanguageModel,
    file: File | None = None,
    ctx: Context = None,
    *,
    path: str = Param("", kind="file", extensions=(".safetensors",),
                      description="a LoRA adapter in the models folder (when no file is linked)",
                      resolve=ADAPTER_RESOLVE),
    merge: bool = Param(False, description="merge into the weights: a little faster to run, not removable"),
) -> LanguageModel:
    """Apply a LoRA adapter (from train.llm_lora) to a language model; the base model is not changed."""
    if file is not None:
        found = Path(file)
        if not found.is_file():
            raise ModelNotFound(f"the linked adapter {found} no longer exists; run the trainer again")
    elif not path:
        raise ValueError("no adapter chosen: link a file from train.llm_lora or set path to a .safetensors adapter")
    else:
        found = find_adapter(path, ctx.settings)
    handle = adapted_handle(model, found, merge=merge)
    ctx.log(f"applied {found.name} to {model.name}" + (" (merged)" if merge else ""))
    return handle
