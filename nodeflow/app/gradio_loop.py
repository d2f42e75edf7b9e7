"""Building Gradio pages without leaking asyncio event loops.

Gradio's ``Blocks`` and ``mount_gradio_app`` make their locks through ``safe_get_lock``, which, when no
loop is running in this thread, creates a new event loop for each lock and never closes it: about six
per page, each a ResourceWarning ("unclosed event loop") when collected. Building inside one running
loop that we close afterwards gives Gradio that loop instead. The locks bind to a loop only on first
use, so the server's own loop uses them later as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def build_in_own_loop(build: Callable[[], T]) -> T:
    """Return ``build()``, called inside a short-lived running event loop that is closed afterwards
    (or directly when a loop already runs in this thread, where Gradio makes no loop of its own)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return build()

    async def call() -> T:
        return build()

    with asyncio.Runner() as runner:
        return runner.run(call())
