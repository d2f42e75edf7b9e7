"""``nodeflow.client`` (sync and async) against a real ``serve``: submit, wait, stream events,
download, upload, list, cancel, and a refused request raised with the server's field."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import json

import pytest
from PIL import Image

from nodeflow.client import AsyncClient, Client, NodeflowError
from tests.app.serve.serve_support import GRAPHS, ServerProcess, tiny_image_graph


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve-client")
    with ServerProcess(["serve"], home, ready_path="/v1/queue") as server:
        yield server


def test_sync_client_submit_events_wait_download_upload(server, tmp_path):
    with Client(server.url) as nf:
        run_id = nf.submit(tiny_image_graph(1))
        names = [event["event"] for event in nf.events(run_id)]
        assert names[0] == "run_started" and names[-1] == "run_finished"
        state = nf.wait(run_id, timeout=60)
        assert state.status == "ok"
        [output] = state.outputs
        saved = nf.download(run_id, output, f"{tmp_path}/got/")  # a name ending in / is a folder
        assert saved == tmp_path / "got" / "tiny.png" and saved.read_bytes().startswith(b"\x89PNG")
        picture = io.BytesIO()
        Image.new("RGB", (24, 24), "green").save(picture, "PNG")
        upload = nf.upload(picture.getvalue(), name="green.png")
        graph = json.loads((GRAPHS / "blur_upload.json").read_text())
        graph["nodes"]["save"]["params"]["watermark"] = "none"
        blurred = nf.run(graph, set={"load.path": upload.ref}, timeout=60)
        assert blurred.status == "ok", blurred
        with Image.open(nf.download(blurred.id, blurred.outputs[0], tmp_path)) as image:
            assert image.size == (24, 24)
        assert run_id in [r.id for r in nf.runs(page=1)]
        with pytest.raises(NodeflowError) as refused:
            nf.submit(tiny_image_graph(), set={"noise.width": 0})
        assert refused.value.status == 422 and refused.value.field == "set" and refused.value.problems
        with pytest.raises(NodeflowError) as missing:
            nf.get("nope")
        assert missing.value.status == 404
        assert nf.cancel(run_id) == "deleted"


def test_async_client_runs_many_at_once(server, tmp_path):
    async def main() -> list:
        async with AsyncClient(server.url) as nf:
            states = await asyncio.gather(*(nf.run(tiny_image_graph(seed), timeout=120) for seed in range(4)))
            events = [e async for e in nf.events(states[0].id)]
            path = await nf.download(states[0].id, states[0].outputs[0], tmp_path / "a.png")
            return [states, events, path]

    # in a thread of its own: Playwright's sync API (the browser tests) keeps an event loop running in
    # this thread for the rest of the session, and asyncio.run refuses to start a second one here
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        states, events, path = pool.submit(asyncio.run, main()).result()
    assert [s.status for s in states] == ["ok"] * 4 and len({s.id for s in states}) == 4
    assert events[-1]["event"] == "run_finished" and events[-1]["outputs"][0]["artifact"] == "tiny.png"
    assert path.read_bytes().startswith(b"\x89PNG")
