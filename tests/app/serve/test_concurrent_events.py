"""With several jobs at once (``NODEFLOW_JOBS`` > 1), the editor's live event stream carries every job's
events, each naming its job, none lost when another job starts; each job's own stream has only its
events; the results panel of a run lists that run's files. Real HTTP against the editor's routes."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.app.serve.serve_support import REPO

PACKS = REPO / "tests" / "browser" / "packs"  # uitest.slow


def slow(name: str, steps: int) -> dict:
    return {"nodeflow": 1, "nodes": {
        "slow": {"type": "uitest.slow", "params": {"steps": steps, "delay": 0.02}},
        "save": {"type": "image.save", "inputs": {"image": ["slow", "image"]}, "params": {"filename": name}}}}


@pytest.fixture
def editor(tmp_path):
    from fastapi import FastAPI

    from nodeflow.app.editor.live import LiveServer
    from nodeflow.app.editor.routes import EditorState, make_router
    from nodeflow.app.runs import RunManager
    from nodeflow.nodetypes.registry import Registry
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    registry = Registry().load_all(extra_folders=[PACKS])
    settings = Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[], allow_cwd_inputs=False)
    runs = RunManager(Executor(registry, settings), {"output": settings.output_dir, "previews": settings.previews_dir},
                      concurrency=2)
    app = FastAPI()
    app.include_router(make_router(EditorState(registry=registry, settings=settings, runs=runs)))
    try:
        with LiveServer(app) as server:
            yield server, runs
    finally:
        runs.close()


def read_events(url: str, until_finished: set[str]) -> list[dict]:
    """Events from a stream until every run in ``until_finished`` has finished."""
    got: list[dict] = []
    with httpx.stream("GET", url, timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                got.append(json.loads(line[6:]))
                if until_finished <= {e["run"] for e in got if e["event"] == "run_finished"}:
                    return got
    return got


def test_two_jobs_at_once_keep_their_events_apart(editor):
    server, runs = editor
    first = httpx.post(server.url + "/api/run", json={"graph": slow("a.png", 40)}, timeout=60).json()["run"]
    second = httpx.post(server.url + "/api/run", json={"graph": slow("b.png", 20)}, timeout=60).json()["run"]
    runs.wait(120)
    jobs = {job["id"]: job for job in runs.queue.list()}
    assert jobs[first]["status"] == jobs[second]["status"] == "ok"
    assert jobs[second]["started"] < jobs[first]["finished"]  # they did run at the same time

    # a page opened now replays both jobs whole: the second's start did not drop the first's events
    live = read_events(server.url + "/api/events", {first, second})
    assert all(e.get("run") in (first, second) for e in live)
    for run_id, name in ((first, "a.png"), (second, "b.png")):
        mine = [e for e in live if e["run"] == run_id]
        assert mine[0]["event"] == "run_started" and mine[-1]["event"] == "run_finished"
        progress = [e["value"] for e in mine if e["event"] == "progress"]
        assert progress == sorted(progress) and progress  # one job's progress, not two interleaved
        own = read_events(f"{server.url}/api/queue/{run_id}/events", {run_id})
        assert {e["run"] for e in own} == {run_id}
        assert [e["seq"] for e in own] == [e["seq"] for e in runs.events_of(run_id).snapshot()]
        results = httpx.get(server.url + "/api/results", params={"run": run_id}, timeout=30).json()["results"]
        assert [r["path"].rsplit("/", 1)[-1] for r in results if r["node"] == "save"] == [name]


def test_a_queued_job_cancelled_ends_its_event_stream(editor):
    server, runs = editor
    blockers = [httpx.post(server.url + "/api/run", json={"graph": slow(f"x{i}.png", 400)}, timeout=60).json()["run"]
                for i in range(2)]
    queued = httpx.post(server.url + "/api/run", json={"graph": slow("q.png", 5)}, timeout=60).json()["run"]
    assert httpx.post(f"{server.url}/api/queue/{queued}/cancel", json={}, timeout=30).json() == {"cancelled": True}
    seen = read_events(f"{server.url}/api/queue/{queued}/events", {queued})
    assert [(e["event"], e["status"]) for e in seen] == [("run_finished", "cancelled")]
    for run_id in blockers:
        runs.stop(run_id)
    runs.wait(60)
