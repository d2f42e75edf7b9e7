"""Nodes the delivery tests use: a model loader that declares what it reads, and a guard."""

from __future__ import annotations

from nodeflow import Context, Image, Param, node


@node("deliverytest.load", category="Test", reads=("source",))
def load(ctx: Context, *, source: str = Param("weights.safetensors")) -> str:
    """Stands for a model loader: returns the name of what it read."""
    return source


@node("deliverytest.tint", category="Test")
def tint(image: Image, model: str) -> Image:
    """Stands for a model run: the picture, unchanged."""
    return image


@node("guard.deliverytest_pass", category="Test")
def guard_pass(image: Image, *, action: str = Param("block", choices=("block", "flag"))) -> Image:
    """A guard that lets everything through."""
    return image
