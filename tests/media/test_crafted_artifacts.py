"""Crafted artifacts are refused with a clear message: by the readers, by `nodeflow info` and `reproduce`
(exit 1, one line, no traceback), and by the editor server's POST /api/provenance (4xx, no memory jump)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from nodeflow.delivery import ArtifactError, read_provenance, read_provenance_bytes
from nodeflow.delivery.limits import inflate
from tests.media.crafted import CRAFTED, bomb_png
from tests.media.media_helpers import REPO, nodeflow_cli


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    return bomb_png(tmp_path_factory.mktemp("bomb"))


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_readers_refuse_crafted_artifacts_with_a_clear_error(name, tmp_path):
    data = CRAFTED[name]
    try:
        found = read_provenance_bytes(data, name)
    except ArtifactError as exc:
        assert str(exc).strip() and "\n" not in str(exc)
    else:
        assert found is None, f"{name} read as a record"
    path = tmp_path / name
    path.write_bytes(data)
    try:
        read_provenance(path)
    except ArtifactError:
        pass


def test_a_decompression_bomb_is_refused_within_the_limit(bomb):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(ArtifactError, match="inflates past the 32 MiB limit"):
        read_provenance(bomb)
    assert time.perf_counter() - started < 5
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"peak memory grew {grown_mb:.0f} MB reading a 1 MB file"
    with pytest.raises(ArtifactError, match="corrupt"):
        inflate(b"\x78\x9c garbage", "test")


def test_nodeflow_info_and_reproduce_print_one_line_and_exit_1(tmp_path, bomb):
    folder = tmp_path / "crafted"
    folder.mkdir()
    names = ["bare.gif", "unterminated-blocks.gif", "ftyp.mp4", "bad-zlib.png", "chunk-0xffffffff.png",
             "deep.png", "graph-list.png", "seeds-list.png", "wav-huge-chunk.wav", "deep.provenance.json"]
    for name in names:
        (folder / name).write_bytes(CRAFTED[name])
    (folder / "bomb.png").write_bytes(bomb.read_bytes())
    for name in [*names, "bomb.png"]:
        done = nodeflow_cli("info", str(folder / name), home=tmp_path / "home", cwd=tmp_path)
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, (name, done.stderr)
        assert done.stderr.startswith(str(folder / name) + ": ")
    for name in ("graph-list.png", "seeds-list.png", "bomb.png", "bare.gif"):
        done = nodeflow_cli("reproduce", str(folder / name), "--out", "again", home=tmp_path / "home", cwd=tmp_path)
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and done.stderr.strip().splitlines()[-1].startswith(str(folder / name))


artifact_bytes = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(sorted(CRAFTED)).flatmap(
        lambda name: st.tuples(st.just(CRAFTED[name]), st.integers(0, 400), st.binary(max_size=8)).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + len(t[2]) :]  # overwrite a few bytes somewhere
        )
    ),
    st.sampled_from([b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\0\0\0\0WAVE", b"fLaC", b"\0\0\0\x20ftyp"]).flatmap(
        lambda head: st.binary(max_size=200).map(lambda tail: head + tail)
    ),
)


@hyp_settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=artifact_bytes, name=st.sampled_from(["a.png", "a.gif", "a.mp4", "a.wav", "a.flac", "a.provenance.json", "a.json", "a"]))
def test_fuzzed_artifacts_give_a_record_none_or_a_clear_error(data, name):
    try:
        found = read_provenance_bytes(data, name)
    except ArtifactError as exc:
        assert str(exc)
    else:
        assert found is None or isinstance(found, dict)


# --- the editor server, a real process ----------------------------------------------------------


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture
def editor(tmp_path):
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.skip("the editor bundle is not built")
    from nodeflow.app.editor.live import free_port

    port = free_port()
    env = {**os.environ, "NODEFLOW_HOME": str(tmp_path / "home"), "NODEFLOW_OUTPUT": str(tmp_path / "out"),
           "PYTHONPATH": str(REPO)}
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed when the server stops
    process = subprocess.Popen([sys.executable, "-m", "nodeflow.cli.main", "ui", "--no-browser", "--port", str(port)],
                               cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(base + "/api/start", timeout=5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("the editor did not start: " + (tmp_path / "server.log").read_text()[-2000:])
            time.sleep(0.3)
    yield base, process.pid
    process.terminate()
    process.wait(10)
    log.close()


def _post(url: str, data: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_server_refuses_a_bomb_without_growing_and_keeps_answering(editor, bomb):
    base, pid = editor
    idle = _rss_mb(pid)
    peak = [idle]
    answered: list[float] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb(pid))
            started = time.perf_counter()
            urllib.request.urlopen(base + "/api/start", timeout=10).close()
            answered.append(time.perf_counter() - started)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results = [_post(base + "/api/provenance?name=bomb.png", bomb.read_bytes()) for _ in range(3)]
    finally:
        done.set()
        watcher.join()
    for status, body in results:
        assert status in (413, 422), body
        assert "32 MiB limit" in body
    assert peak[0] - idle < 300, f"RSS went from {idle:.0f} MB to {peak[0]:.0f} MB"
    assert answered and max(answered) < 2.0, f"other requests waited up to {max(answered):.1f} s"
    for name in ("bare.gif", "ftyp.mp4", "chunk-0xffffffff.png", "deep.png", "bad-zlib.png", "graph-list.png"):
        status, body = _post(base + f"/api/provenance?name={name}", CRAFTED[name])
        assert status in (404, 413, 422), (name, status, body)


def test_the_history_routes_provenance_reader_is_bounded_too(bomb, tmp_path):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from nodeflow.app.history_routes import router

    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        refused = client.post("/api/provenance?name=bomb.png", content=bomb.read_bytes())
        assert refused.status_code == 422 and "32 MiB limit" in refused.json()["detail"]
        for name in ("bare.gif", "ftyp.mp4", "deep.provenance.json", "seeds-list.png"):
            assert client.post(f"/api/provenance?name={name}", content=CRAFTED[name]).status_code == 422, name
