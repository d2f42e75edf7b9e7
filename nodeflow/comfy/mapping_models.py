"""ComfyUI's model-family nodes (component loaders, ControlNet, video latents) and the nodes they become.

Kept apart from ``mapping.py`` so the families can grow without touching the core table; ``mapping.py``
merges ``MODEL_MAPPINGS`` into ``MAPPINGS``.
"""

from __future__ import annotations

from .mapping_types import Mapping

MODEL_MAPPINGS: dict[str, Mapping] = {}
