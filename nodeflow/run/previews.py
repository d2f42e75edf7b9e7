"""Results shown on a node that is not an output node: a user ticks "preview" on it (``ui.preview``
in the graph file) and its image and text outputs are shown on it after it runs, or when it is
cached, as if it were an output node. Written to the previews folder; nothing goes to the output
folder. The executor calls :func:`show_outputs` after a node finishes or is found in the cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["show_outputs"]


def show_outputs(planned: Any, values: tuple | None, context: Callable[[], Any]) -> None:
    """Preview the image and text outputs of ``planned`` when its node asks for it."""
    node = getattr(planned, "node", None)
    if (
        values is None
        or node is None
        or not (getattr(node, "ui", None) or {}).get("preview")
        or planned.spec.output
    ):
        return
    ctx = context()
    for value in values:
        try:
            if hasattr(value, "save") and hasattr(value, "mode"):  # a PIL image
                ctx.preview(value)
            elif isinstance(value, str):
                ctx.preview(value[:4000], kind="text")
        except (OSError, TypeError, ValueError):
            continue  # a preview must never fail the run
