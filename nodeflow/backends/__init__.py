"""How planned nodes run: the backend interface (``base``) and the local backends (``local``).

``make_backend("local")`` gives the bounded pool; ``"sync"`` one node at a time in the caller's
thread. Other backends (Ray) register a factory in ``BACKENDS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Backend, StopSignal, Task, TaskEnv, TaskResult, run_task
from .local import PoolBackend, SyncBackend

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Backend", "Task", "TaskEnv", "TaskResult", "StopSignal", "run_task", "make_backend", "BACKENDS"]

BACKENDS: dict[str, Callable[..., Any]] = {"local": PoolBackend, "sync": SyncBackend}


def make_backend(name: str = "local", **options: Any) -> Backend:
    """A backend by name; raises ValueError naming the known ones."""
    factory = BACKENDS.get(name)
    if factory is None and name == "ray":  # imported on first use: Ray is heavy and optional
        try:
            from .ray import RayBackend
        except ImportError as exc:
            raise ValueError(f"the ray backend is not available: {exc}") from None
        factory = BACKENDS["ray"] = RayBackend
    if factory is None:
        raise ValueError(f"unknown backend {name!r} (known: {', '.join(sorted(BACKENDS))})")
    return factory(**options)
