"""The editor's web app: the project's FastAPI app with the JSON/SSE routes, the bundled editor under
/ui/, and the Gradio page mounted at /. ``serve`` is what ``nodeflow ui`` calls.
"""

from __future__ import annotations

import os
import sys
import threading
import webbrowser
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from nodeflow.app.auth import AuthConfig, auth_for_host
from nodeflow.app.gradio_loop import build_in_own_loop
from nodeflow.app.request_limits import secure
from nodeflow.app.runs import RunManager
from nodeflow.app.token_notice import announce_url
from nodeflow.files import clean_stale_parts
from nodeflow.nodetypes.registry import Registry, default_registry
from nodeflow.record.jobs import owner_name
from nodeflow.record.listeners import HistoryListener
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings

from .graph_tools import make_graph_tools_router
from .item_provenance import make_item_provenance_router
from .publish import make_publish_router
from .routes import EditorState, make_router

__all__ = ["build_app", "serve", "BUNDLE_DIR", "BundleMissing"]

BUNDLE_DIR = Path(__file__).resolve().parents[3] / "ui" / "dist"


class BundleMissing(RuntimeError):
    """The editor's JavaScript bundle was not built."""


def _bundle_version() -> str:
    bundle = BUNDLE_DIR / "editor.js"
    if not bundle.exists():
        raise BundleMissing(
            f"the editor's bundle {bundle} is missing: run `make setup` (needs Node.js 20 or newer with npm), "
            "or `cd ui && npm ci && npm run build`"
        )
    return str(int(bundle.stat().st_mtime))


def build_app(
    *,
    settings: Settings | None = None,
    registry: Registry | None = None,
    graph: str | Path | None = None,
    auth: AuthConfig | None = None,
    graphs_dir: Path | None = None,
    local_only: bool = False,
    owner: str | None = None,
) -> FastAPI:
    """The whole app. ``graph`` is a file to open instead of the default example; ``auth`` asks every
    request for credentials; ``local_only`` refuses requests addressed to names other than localhost;
    ``owner`` names its job queue (``nodeflow.record.jobs.owner_name``): it runs only the jobs it queued."""
    import gradio as gr

    from .page import PAGE_CSS, build_page

    version = _bundle_version()
    settings = settings or Settings(allow_cwd_inputs=False)
    registry = registry or default_registry()
    for folder in (settings.previews_dir, settings.output_dir, settings.input_dir):
        Path(folder).mkdir(parents=True, exist_ok=True)
    clean_stale_parts([settings.previews_dir, settings.output_dir, settings.input_dir])  # left by killed runs
    history = _open_history(settings)
    executor = Executor(registry=registry, settings=settings, listeners=[HistoryListener(history)] if history else [])
    executor.disk.clean_stale()  # half-written disk-cache entries of killed runs
    runs = RunManager(executor, {"previews": settings.previews_dir, "output": settings.output_dir}, owner=owner)
    state = EditorState(registry=registry, settings=settings, runs=runs, start_graph=Path(graph) if graph else None)
    if graphs_dir is not None:
        state.graphs_dir = graphs_dir
    if graph:
        from nodeflow.check.policy import policy_beside

        state.policy = policy_beside(graph)  # GRAPH.policy.toml: obeyed by every check and run of this editor

    app = FastAPI(title="nodeflow", docs_url=None, redoc_url=None)
    app.state.editor = state
    app.include_router(make_router(state))
    app.include_router(make_publish_router(state))  # the editor's "Publish as app"
    app.include_router(make_graph_tools_router(state.registry))  # import, arrange, subgraph entries
    app.include_router(make_item_provenance_router(runs))  # what made one result (results view, compare)
    history_router = _history_router()
    if history_router is not None:
        app.include_router(history_router)
    app.mount("/ui", StaticFiles(directory=BUNDLE_DIR), name="ui")
    allowed = [str(Path(settings.previews_dir).resolve()), str(Path(settings.output_dir).resolve())]
    app = build_in_own_loop(lambda: gr.mount_gradio_app(app, build_page(runs, version, history), path="/",
                                                        css=PAGE_CSS, allowed_paths=allowed, footer_links=[],
                                                        ssr_mode=False))
    app.state.editor = state
    if history is not None:
        app.state.history = history  # the history routes read the same database
    # Host, Origin, auth and body-size rules in front of everything, Gradio's routes included
    return secure(app, auth=auth, local_only=local_only and auth is None)


def _open_history(settings: Settings):
    """The run history that records editor runs, when this install has one (nodeflow.record.history)."""
    from nodeflow.record.history import RunHistory

    return RunHistory.in_folder(settings.home)


def _history_router():
    try:
        from nodeflow.app.history_routes import router
    except ImportError:
        return None
    return router


def serve(graph: str | None, host: str, port: int, open_browser: bool) -> int:
    """Run the editor until interrupted. Returns the process exit code."""
    import uvicorn

    if graph is not None and not Path(graph).is_file():
        print(f"no graph file at {graph}", file=sys.stderr)
        return 2
    try:
        auth = auth_for_host(host)
        app = build_app(graph=graph, auth=auth, local_only=auth is None, owner=owner_name("editor", port))
    except (BundleMissing, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown_host}:{port}/"
    token = auth.token if auth is not None and not auth.basic else None
    # the token reaches a terminal, never a log file (nodeflow.app.token_notice)
    announce_url("nodeflow editor", url, token, home=Path(app.state.editor.settings.home), name="editor")
    if token is not None:
        url += f"?token={token}"  # what the browser opens
    if auth is not None:
        how = "HTTP basic auth (NODEFLOW_AUTH)" if auth.basic else "the token (?token= in the address, or Authorization: Bearer)"
        print(f"listening on {host}: every request needs {how}", flush=True)
    if open_browser and not os.environ.get("NODEFLOW_NO_BROWSER"):
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0
