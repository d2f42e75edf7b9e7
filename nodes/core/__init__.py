"""Core pack: primitive values, text and math."""

from . import lists, math, primitives, switch, text  # noqa: F401  (importing registers the nodes)
