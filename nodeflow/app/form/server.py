"""Serving one graph's form: the Gradio Blocks of ``gradio_form.py`` mounted in a FastAPI app with the
editor's security rules (local-only by default, credentials on any other address)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from nodeflow.app.auth import AuthConfig, auth_for_host
from nodeflow.app.gradio_loop import build_in_own_loop
from nodeflow.nodetypes.registry import Registry, default_registry
from nodeflow.problems import GraphInvalid
from nodeflow.record.listeners import HistoryListener
from nodeflow.settings import Settings

__all__ = ["build_app_server", "run_app", "EXIT_INVALID"]

EXIT_INVALID = 2


def build_app_server(
    graph_data: dict[str, Any],
    *,
    inputs: list[str] | None = None,
    settings: Settings | None = None,
    registry: Registry | None = None,
    auth: AuthConfig | None = None,
    local_only: bool = True,
    policy: Any = None,
) -> Any:
    """The FastAPI app serving the form at ``/``. Raises GraphInvalid (bad graph or ``inputs``).
    ``policy``: the graph's own policy file (GRAPH.policy.toml), obeyed besides the data folder's."""
    import gradio as gr
    from fastapi import FastAPI

    from nodeflow.run.executor import Executor

    from .gradio_form import PublishedApp, build_blocks

    settings = settings or Settings(allow_cwd_inputs=False)
    registry = registry or default_registry()
    runs_dir = Path(settings.home) / "apps" / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    executor = Executor(registry=registry, settings=settings, listeners=_history(settings))
    published = PublishedApp(graph_data, executor, inputs=inputs, runs_dir=runs_dir, policy=policy)
    app = FastAPI(title=f"nodeflow app: {published.title}", docs_url=None, redoc_url=None)
    app = build_in_own_loop(lambda: gr.mount_gradio_app(app, build_blocks(published), path="/",
                                                        allowed_paths=[str(runs_dir.resolve())],
                                                        footer_links=["api"], ssr_mode=False))
    app.state.published = published
    from nodeflow.app.request_limits import secure

    from .request_check import FormRequestCheck

    app.add_middleware(FormRequestCheck, published=published)  # inside secure's rules: bodies arrive bounded

    return secure(app, auth=auth, local_only=local_only and auth is None)


def _history(settings: Settings) -> list[HistoryListener]:
    try:
        from nodeflow.record.history import RunHistory

        return [HistoryListener(RunHistory.in_folder(settings.home))]
    except Exception:  # a read-only or corrupt data folder must not stop the app
        return []


def run_app(graph_path: str, inputs: str | None, host: str, port: int) -> int:
    """``nodeflow app``: serve the form until interrupted. Exit 2 for a bad graph or ``--inputs``."""
    import uvicorn

    path = Path(graph_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {graph_path}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except json.JSONDecodeError as exc:
        print(f"{graph_path} is not valid JSON: {exc.msg} at line {exc.lineno}", file=sys.stderr)
        return EXIT_INVALID
    chosen = [part for part in inputs.split(",")] if inputs is not None else None
    try:
        auth = auth_for_host(host)
        from nodeflow.check.policy import PolicyError, policy_beside

        app = build_app_server(data, inputs=chosen, auth=auth, local_only=auth is None, policy=policy_beside(path))
    except PolicyError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    except GraphInvalid as invalid:
        for problem in invalid.problems:
            print(str(problem), file=sys.stderr)
        print(f"{graph_path}: cannot publish this graph ({len(invalid.problems)} problem(s))", file=sys.stderr)
        return EXIT_INVALID
    except ValueError as exc:  # NODEFLOW_AUTH malformed
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown_host}:{port}/"
    token = auth.token if auth is not None and not auth.basic else None
    fields = ", ".join(f.address for f in app.state.published.fields) or "none"
    from nodeflow.app.token_notice import announce_url

    announce_url("nodeflow app", url, token, home=Settings().home, name="app")  # a token never into a log file
    print(f"inputs (in predict order): {fields}", flush=True)
    from nodeflow.app.parent_watch import watch_parent_pipe

    watch_parent_pipe()  # started by the editor: end with it
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0
