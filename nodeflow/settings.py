"""Where nodeflow keeps its files, and which folders file nodes may touch.

Everything is overridable by environment variables so that tests, CI and users can move it:

| variable | default | what |
|---|---|---|
| ``NODEFLOW_HOME`` | ``~/.nodeflow`` | the data folder (cache, previews, history, models) |
| ``NODEFLOW_OUTPUT`` | ``./out`` | where output nodes write |
| ``NODEFLOW_INPUTS`` | (none) | extra folders input nodes may read, separated by the OS path separator |
| ``NODEFLOW_CACHE_MB`` | 2048 | the memory cache budget |
| ``NODEFLOW_NODE_MAX_MB`` | 1024 | memory one node may ask for (``nodeflow.nodetypes.decorator.node_memory_limit``) |
| ``NODEFLOW_HISTORY_KEEP`` | 10000 | runs the history keeps (``nodeflow.record.history``) |
| ``NODEFLOW_MAX_UPLOAD_MB`` | 512 | largest request body a server accepts (``nodeflow.app.request_limits``) |
| ``NODEFLOW_COMFY_MODELS`` | (none) | ComfyUI installs whose models to use: ``models`` folders, ComfyUI folders or ``extra_model_paths.yaml`` files, separated by the OS path separator (``nodeflow.comfy_folders``) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings", "ASSETS_DIR"]

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


def _env_paths(name: str) -> list[Path]:
    return [Path(p).expanduser() for p in os.environ.get(name, "").split(os.pathsep) if p.strip()]


@dataclass
class Settings:
    home: Path = field(default_factory=lambda: Path(os.environ.get("NODEFLOW_HOME", "~/.nodeflow")).expanduser())
    output_dir: Path = field(default_factory=lambda: Path(os.environ.get("NODEFLOW_OUTPUT", "out")))
    extra_input_dirs: list[Path] = field(default_factory=lambda: _env_paths("NODEFLOW_INPUTS"))
    comfy_models: list[Path] = field(default_factory=lambda: _env_paths("NODEFLOW_COMFY_MODELS"))
    # the working folder is an input folder for command-line runs, not for the server
    allow_cwd_inputs: bool = True
    memory_cache_bytes: int = field(
        default_factory=lambda: int(float(os.environ.get("NODEFLOW_CACHE_MB", "2048")) * 2**20)
    )

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def previews_dir(self) -> Path:
        return self.home / "previews"

    @property
    def input_dir(self) -> Path:
        return self.home / "input"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    def input_dirs(self) -> list[Path]:
        """Folders that input nodes may read from, most specific first."""
        dirs = [self.input_dir, *self.extra_input_dirs]
        if self.allow_cwd_inputs:
            dirs.append(Path.cwd())
        dirs.append(ASSETS_DIR)
        return dirs
