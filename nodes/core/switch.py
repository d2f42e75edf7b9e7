"""Choosing between two values with a switch."""

from __future__ import annotations

from typing import Any

from nodeflow import Param, node


@node("core.switch", category="Logic", title="Switch", outputs=("output",))
def switch(on_false: Any = None, on_true: Any = None, *, switch: bool = Param(False, description="which input passes")) -> Any:
    """Pass on_true when the switch is on, on_false when it is off. When only one input is linked, it
    passes whatever the switch says."""
    if on_true is None and on_false is None:
        raise ValueError("link on_false or on_true (or both)")
    if on_true is None:
        return on_false
    if on_false is None:
        return on_true
    return on_true if switch else on_false
