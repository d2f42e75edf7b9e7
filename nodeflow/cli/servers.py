"""``nodeflow ui``, ``nodeflow app`` and ``nodeflow serve``: the commands that start a server (the
editor, a graph as a Gradio form, the /v1 HTTP API) and return its exit code when it stops."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .common import EXIT_NODE_FAILED

if TYPE_CHECKING:  # pragma: no cover
    import argparse

__all__ = ["cmd_ui", "cmd_app", "cmd_serve"]


def cmd_ui(args: argparse.Namespace) -> int:
    """The editor, opened in the browser unless ``--no-browser``."""
    try:
        from nodeflow.app.editor.server import serve
    except ImportError as exc:
        print(f"the editor is not available: {exc}", file=sys.stderr)
        return EXIT_NODE_FAILED
    return serve(graph=args.graph, host=args.host, port=args.port, open_browser=not args.no_browser)


def cmd_app(args: argparse.Namespace) -> int:
    """A graph published as a Gradio form."""
    from nodeflow.app.form.server import run_app

    return run_app(args.graph, args.inputs, args.host, args.port)


def cmd_serve(args: argparse.Namespace) -> int:
    """The /v1 HTTP API with its job queue."""
    from nodeflow.app.serve.server import run_serve

    return run_serve(args.host, args.port, args.backend, args.graphs, args.address)
