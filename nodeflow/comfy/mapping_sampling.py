"""ComfyUI's custom-sampling, conditioning and image-op nodes and the nodes they become.

Kept apart from ``mapping.py`` so this table can grow without touching the core one; ``mapping.py``
merges ``SAMPLING_MAPPINGS`` into ``MAPPINGS``.
"""

from __future__ import annotations

from .mapping_types import Mapping

SAMPLING_MAPPINGS: dict[str, Mapping] = {}
