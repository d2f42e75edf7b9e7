"""Does a param name something that exists? A cheap check, run with validation, for model sources and
input files: it looks at folders, the Hugging Face cache and installed packages, and loads nothing.
So a graph whose diffusion model is missing says so on that node before the LLM upstream works for
seconds and the run fails.

The check that runs them over a graph is ``nodeflow.check.resolve_checks`` (a validation check).

A pack marks a param with ``Param(..., resolve=Resolve("model", check, models="llm"))``; ``check(value,
settings, params)`` raises (ModelNotFound, FileNotFoundError, ValueError) with a message saying what
is missing, or returns what it found. ``file`` params are checked against the input folders unless
they bring their own check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Resolve", "hub_cached", "hub_reachable", "input_file", "model_source"]


@dataclass(frozen=True)
class Resolve:
    """How validation checks that a param's value exists. ``kind``: ``model`` or ``file``; ``models``
    names the kind of model a picker lists (llm, diffusion, embed, lora)."""

    kind: str
    check: Callable[[Any, Any, dict[str, Any]], Any] | None = None
    models: str = ""

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, **({"models": self.models} if self.models else {})}


def model_source(
    resolver: Callable[[str, Any, dict[str, Any]], Any], *, models: str, what: str, layout: str
) -> Resolve:
    """A model source param: ``resolver(value, settings, params)`` is the pack's own (cheap) lookup,
    returning a tuple whose first item is ``"hub"`` (then the second is the hub id) or a local kind.
    A hub id counts only when the Hugging Face cache holds it, or the hub may be asked and answers."""

    def check(value: Any, settings: Any, params: dict[str, Any]) -> Any:
        from nodeflow.models import ModelNotFound, not_found_message

        found = resolver(str(value), settings, params)
        if (
            isinstance(found, tuple)
            and found
            and found[0] == "hub"
            and not hub_cached(found[1])
            and (_offline() or not hub_reachable())
        ):
            raise ModelNotFound(not_found_message(found[1], settings, what=what, layout=layout))
        return found

    return Resolve("model", check, models)


def input_file(value: Any, settings: Any, params: dict[str, Any]) -> Path:
    """A file (or folder) param: it must name something inside the input folders."""
    from nodeflow.files import resolve_inside

    if not str(value).strip():
        raise ValueError("no file chosen: pick one from the input folders, or upload one")
    try:
        return resolve_inside(str(value), settings.input_dirs(), must_exist=True)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{value!r} is not in the input folders ({', '.join(str(p) for p in settings.input_dirs())}); "
            "upload it or pick another file"
        ) from None


def hub_cached(repo_id: str) -> bool:
    """Whether the Hugging Face cache holds a snapshot of ``repo_id`` (looked up on disk, no network)."""
    from huggingface_hub import constants

    folder = Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}" / "snapshots"
    return folder.is_dir() and any(folder.iterdir())


HUB_PROBE_EVERY_S = 60.0  # validation runs after each edit: the hub is asked at most once a minute
_hub_probe: dict[str, tuple[float, bool]] = {}


def hub_reachable(timeout: float = 1.5) -> bool:
    """Whether the Hugging Face hub accepts a connection (its endpoint's host and port), remembered for a
    minute. A hub id that is neither cached nor reachable fails at run time, so validation says so now."""
    import socket
    import time
    from urllib.parse import urlsplit

    from huggingface_hub import constants

    endpoint = urlsplit(constants.ENDPOINT)
    host = endpoint.hostname or ""
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    key = f"{host}:{port}"
    now = time.monotonic()
    seen = _hub_probe.get(key)
    if seen is not None and now - seen[0] < HUB_PROBE_EVERY_S:
        return seen[1]
    try:
        with socket.create_connection((host, port), timeout=timeout):
            reachable = True
    except OSError:
        reachable = False
    _hub_probe[key] = (now, reachable)
    return reachable


def _offline() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )
