"""Core pack: primitive values, text and math."""

from . import primitives, text, math, lists, switch  # noqa: F401  (importing registers the nodes)
