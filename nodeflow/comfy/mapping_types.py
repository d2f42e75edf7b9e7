"""The shape of one ComfyUI-node-to-nodeflow-node mapping, shared by the mapping tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Note = Callable[[str], None]


@dataclass(frozen=True)
class Mapping:
    type: str
    widgets: tuple[str, ...] = ()
    params: dict[str, str] = field(default_factory=dict)  # widget -> our param
    convert: Callable[[dict[str, Any], Note], dict[str, Any]] | None = None  # all widgets -> our params
    inputs: dict[str, str] = field(default_factory=dict)  # ComfyUI input -> our input
    outputs: tuple[str, ...] = ()
    base_id: str = "node"
    caveat: str = ""  # what is approximate about it, for the README's table (scripts/comfy_table.py)


class Unmappable(Exception):
    """Raised by a converter when this node's values have no counterpart of ours (say, an expression
    our math node cannot compute): the node stays a placeholder, and the message says why."""
