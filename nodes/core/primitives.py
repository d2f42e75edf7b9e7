"""Primitive value nodes: the widgets whose outputs feed other nodes' params."""

from __future__ import annotations

from nodeflow import Param, node


@node("core.int", category="Primitives")
def int_value(*, value: int = Param(0)) -> int:
    """A whole number."""
    return value


@node("core.float", category="Primitives")
def float_value(*, value: float = Param(0.0)) -> float:
    """A number."""
    return value


@node("core.text", category="Primitives")
def text_value(*, text: str = Param("", kind="text")) -> str:
    """A piece of text (several lines allowed)."""
    return text


@node("core.bool", category="Primitives")
def bool_value(*, value: bool = Param(False)) -> bool:
    """True or false."""
    return value


@node("core.seed", category="Primitives", outputs=("seed",))
def seed_value(*, seed: int = Param(0, kind="seed")) -> int:
    """A random seed to share between nodes; the editor can randomize it."""
    return seed
