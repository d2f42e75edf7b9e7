"""``nodeflow serve``: the headless HTTP API (``/v1/``, see routes.py) with its queue, no editor.

Same security rules as the editor: on 127.0.0.1 no login and only local host names; on any other
address every request needs the printed token or ``NODEFLOW_AUTH``; cross-site browser requests are
refused; ``NODEFLOW_TOKENS`` gives clients tokens of their own. OpenAPI docs at ``/docs``. Finished
runs are kept as retention.py says; each run's ``run_finished`` also goes to its webhook
(webhooks.py).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from nodeflow.app.auth import AuthConfig, auth_for_host
from nodeflow.nodetypes.registry import Registry, default_registry
from nodeflow.record.jobs import owner_name
from nodeflow.record.listeners import HistoryListener
from nodeflow.settings import Settings

__all__ = ["build_serve_app", "run_serve"]


def build_serve_app(
    *,
    settings: Settings | None = None,
    registry: Registry | None = None,
    graphs_dir: Path | None = None,
    backend: str = "local",
    auth: AuthConfig | None = None,
    local_only: bool = True,
    owner: str | None = None,
    port: int | None = None,
) -> Any:
    """``owner``: the queue's name (``nodeflow.record.jobs.owner_name``); the server runs only its own jobs.
    ``port``: where it listens (a webhook may not call this server itself)."""
    from fastapi import FastAPI

    from nodeflow.app.editor.routes import GRAPHS_DIR
    from nodeflow.app.request_limits import secure
    from nodeflow.app.runs import RunManager
    from nodeflow.run.executor import Executor

    from .contract import install_contract
    from .retention import prune_runs
    from .routes import file_url, make_v1_router, public_outputs
    from .webhooks import Webhooks, webhook_problem

    settings = settings or Settings(allow_cwd_inputs=False)
    registry = registry or default_registry()
    executor = Executor(registry=registry, settings=settings, backend=backend, listeners=_history(settings))
    runs_root = Path(settings.home) / "serve" / "runs"
    runs_root.mkdir(parents=True, exist_ok=True)
    from nodeflow.files import clean_stale_parts

    clean_stale_parts([runs_root, settings.previews_dir])  # .part files that killed runs left
    executor.disk.clean_stale()  # and half-written disk-cache entries
    # the same runs and queue as the editor; each serve job writes into a folder of its own
    previews_root = Path(settings.previews_dir)
    runs = RunManager(executor, {"output": runs_root, "previews": previews_root},
                      output_dir=lambda job_id: runs_root / job_id, owner=owner, keep_events=True,
                      urls=lambda job_id, path: file_url(job_id, path, runs_root, previews_root),
                      public_outputs=lambda job_id, outputs: public_outputs(job_id, outputs, runs_root))

    webhooks = Webhooks(_webhook_secret(), os.environ.get("NODEFLOW_WEBHOOK_URL") or None)
    runs.finish_hooks.append(lambda job_id, event: webhooks.job_finished(
        job_id, event, (runs.queue.request_of(job_id) or {}).get("callback_url")))

    def prune(_job_id: str, _event: dict[str, Any]) -> None:
        prune_runs(runs, runs_root, previews_root)

    runs.finish_hooks.append(prune)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any):
        prune_runs(runs, runs_root, previews_root)
        yield
        runs.close()  # a running job stops at its next safe point (and is queued again)
        webhooks.wait(10)
        runs.queue.close()  # a clean shutdown leaves no write-ahead logs behind
        for listener in executor.listeners:
            if isinstance(listener, HistoryListener):
                listener.history.close()
        if backend == "ray":
            from nodeflow.backends.ray_cluster import shutdown

            shutdown()  # and a local Ray started for this server stops with it

    app = FastAPI(title="nodeflow serve", version="1", description="Run nodeflow graphs over HTTP: a queue of jobs, "
                  "their events and artifacts.", redoc_url=None, lifespan=lifespan)
    app.include_router(make_v1_router(runs, registry, graphs_dir if graphs_dir is not None else GRAPHS_DIR, runs_root,
                                      previews_root, settings.input_dir, lambda url: webhook_problem(url, port)))
    install_contract(app)
    app.state.runs = runs
    app.state.settings = settings
    return secure(app, auth=auth, local_only=local_only and auth is None)


def _webhook_secret() -> str:
    """``NODEFLOW_WEBHOOK_SECRET``, else one made now (printed with the first webhook, see webhooks.py)."""
    return os.environ.get("NODEFLOW_WEBHOOK_SECRET", "") or secrets.token_urlsafe(24)


def _history(settings: Settings) -> list[Any]:
    try:
        from nodeflow.record.history import RunHistory

        return [HistoryListener(RunHistory.in_folder(settings.home))]
    except Exception as exc:  # a read-only or corrupt data folder must not stop the server
        print(f"warning: run history unavailable: {exc}", file=sys.stderr)
        return []


def run_serve(host: str, port: int, backend: str, graphs: str | None, address: str | None = None) -> int:
    """Serve until interrupted. Exit 2 for a bad option."""
    import uvicorn

    graphs_dir = Path(graphs) if graphs else None
    if graphs_dir is not None and not graphs_dir.is_dir():
        print(f"--graphs {graphs}: no such folder", file=sys.stderr)
        return 2
    if backend == "ray":
        from nodeflow.backends.ray_cluster import RayUnavailable, connect

        try:
            connect(address)
        except RayUnavailable as exc:
            print(str(exc), file=sys.stderr)
            return 2
    try:
        auth = auth_for_host(host)
        app = build_serve_app(graphs_dir=graphs_dir, backend=backend, auth=auth, local_only=auth is None,
                              owner=owner_name("serve", port), port=port)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"nodeflow serve: http://{shown_host}:{port}/v1/ (API docs at /docs, backend {backend})", flush=True)
    if auth is not None and auth.basic:
        print(f"listening on {host}: every request needs HTTP basic auth (NODEFLOW_AUTH)", flush=True)
    elif auth is not None:  # the token is printed to a terminal only, never into a log file
        from nodeflow.app.token_notice import tell_token

        names = ", ".join(c.name for c in auth.clients)
        who = f"a client's token (NODEFLOW_TOKENS: {names}) or the admin token " if names else ""
        tell_token(f"listening on {host}: every request needs {who}Authorization: Bearer {{token}}", auth.token,
                   home=Settings(allow_cwd_inputs=False).home, name="serve")
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0
