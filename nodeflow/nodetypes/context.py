"""The run context a node receives when it asks for ``ctx``."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from nodeflow.models import ModelManager
    from nodeflow.settings import Settings

__all__ = ["Context", "Cancelled"]


class Cancelled(Exception):
    """Raised by :meth:`Context.check` when the run was asked to stop."""


class CancelSignal(Protocol):
    """What says a run was asked to stop: a ``threading.Event``, or a run's ``StopSignal``."""

    def is_set(self) -> bool: ...


class Context:
    """What a node can reach while it runs: progress, previews, cancellation, models, seeds."""

    def __init__(
        self,
        *,
        run_id: str,
        node_id: str,
        node_type: str,
        emit: Callable[[dict[str, Any]], None],
        cancel_event: CancelSignal,
        settings: Settings,
        models: ModelManager,
        output_dir: Path,
        device: str | None = None,
        graph: Any = None,
        params: dict[str, Any] | None = None,
        item: int | None = None,
        labels: dict[str, list[str]] | None = None,
        plan: Any = None,
        registry: Any = None,
        findings: list[dict[str, Any]] | None = None,
        key: str | None = None,
        shows_previews: Callable[[], bool] | None = None,
    ):
        self.run_id = run_id
        self.node_id = node_id
        self.node_type = node_type
        self._emit = emit
        self._cancel = cancel_event
        self.settings = settings
        self.models = models
        self.output_dir = output_dir
        self._device = device
        self._graph = graph
        self.params = params or {}  # this node's resolved static params
        self.item = item  # the sweep item this call makes, when the node is mapped over a sweep
        self._labels = labels or {}
        self.plan = plan  # the plan being run: what provenance records (nodeflow.delivery)
        self.registry = registry
        # for output nodes: what the guard nodes upstream did in this run (their ``flags`` outputs)
        self.findings = findings or []
        self.key = key  # this call's cache key: what it reads and how (stable across processes)
        self._preview_count = 0
        self._shows_previews = shows_previews
        self._last_progress = 0.0

    # --- cancellation ----------------------------------------------------------------------------

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the run was asked to stop. Call it inside long loops."""
        if self._cancel.is_set():
            raise Cancelled()

    # --- progress and previews -------------------------------------------------------------------

    def progress(self, value: float, maximum: float) -> None:
        """Report progress; also a cancellation point. Throttled to about 20 events a second."""
        self.check()
        now = time.monotonic()
        if value < maximum and now - self._last_progress < 0.05:
            return
        self._last_progress = now
        self._send("progress", value=value, max=maximum)

    @property
    def previews_wanted(self) -> bool:
        """Whether a preview reaches anyone: a headless run with no listener for previews has no use for
        one, and a node can skip making it (a sampler's picture of its latents at every step)."""
        return self._shows_previews is None or self._shows_previews()

    def preview(self, value: Any, *, kind: str | None = None, name: str | None = None) -> None:
        """Show something on the node while it runs: a PIL image, text, or a media file path. Nothing
        is written or sent when no listener takes previews (``previews_wanted``)."""
        if not self.previews_wanted:
            return
        if isinstance(value, str) and kind in (None, "text"):
            # a name keeps a text apart from the node's log lines (a dataset item's score and decision)
            self._send("preview", kind="text", text=value, **({"name": name} if name else {}))
            return
        self._preview_count += 1
        folder = self.settings.previews_dir / self.run_id
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(value, (str, Path)):
            self._send("preview", kind=kind or "file", path=str(value))
            return
        if hasattr(value, "save") and hasattr(value, "mode"):  # a PIL image
            path = folder / f"{self.file_stem}-{self._preview_count:04d}.png"
            image = value if value.mode in ("RGB", "RGBA", "L") else value.convert("RGB")
            image.save(path, format="PNG", compress_level=1)
            # a name keeps previews apart on the node (a trainer's loss curve beside its samples)
            self._send("preview", kind="image", path=str(path), **({"name": name} if name else {}))
            return
        raise TypeError(f"cannot preview a {type(value).__name__}; pass an image, text or a file path")

    @property
    def file_stem(self) -> str:
        """The node (and sweep item) as one file name: ids inside subgraphs are paths (``up/resize``)."""
        stem = self.node_id if self.item is None else f"{self.node_id}-item{self.item}"
        return stem.replace("/", "~")

    def item_labels(self, port: str) -> list[str]:
        """For a list input that collects sweep items: what made each item ("seed=3, steps=20")."""
        return list(self._labels.get(port, []))

    def log(self, message: str) -> None:
        self._send("preview", kind="text", text=message)

    def _send(self, event_name: str, /, **fields: Any) -> None:
        # positional-only: a preview's own ``name`` field must not collide with the event's name
        event = {"event": event_name, "run": self.run_id, "t": time.time(), "node": self.node_id, **fields}
        if self.item is not None:
            event["item"] = self.item
        self._emit(event)

    # --- what is running -------------------------------------------------------------------------

    def graph_dict(self) -> dict[str, Any]:
        """The graph file being run (after migrations and ``--set`` overrides), as a dict."""
        return self._graph.to_dict() if self._graph is not None else {}

    # --- devices and seeds -----------------------------------------------------------------------

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = self.models.device
        return self._device

    def seed_for(self, *parts: Any) -> int:
        """A stable 63-bit seed derived from ``parts`` (for example the node's seed and a step)."""
        text = "\x1f".join(str(p) for p in parts).encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 1
