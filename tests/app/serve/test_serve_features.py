"""What integrators need from ``/v1``, against a real ``serve``: uploads, listing runs
with filters and pages, deleting a finished run with its files, retention, idempotency keys,
priorities, webhooks to a real local HTTP receiver, per-client tokens with scopes and isolation,
and batch cancel and retry."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import io
import json
import threading
import time

import httpx
import pytest
from PIL import Image

from tests.app.serve.serve_support import GRAPHS, REPO, ServerProcess, tiny_image_graph

PACKS = REPO / "tests" / "browser" / "packs"  # uitest.slow counts slowly; uitest.fail always fails
SECRET = "a-webhook-secret-for-tests"


def wait_done(http: httpx.Client, run_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while (state := http.get(f"/v1/runs/{run_id}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, state
        time.sleep(0.05)
    return state


def slow_graph(steps: int = 40) -> dict:
    slow = json.loads((GRAPHS / "slow.json").read_text())
    slow["nodes"]["slow"]["params"].update(steps=steps, delay=0.05)
    slow["nodes"]["save"]["params"]["watermark"] = "none"
    return slow


def failing_graph() -> dict:
    graph = tiny_image_graph()
    graph["nodes"]["fail"] = {"type": "uitest.fail", "inputs": {"image": ["noise", "image"]}}
    graph["nodes"]["save"]["inputs"]["image"] = ["fail", "image"]
    return graph


def png_bytes(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve-features")
    env = {"NODEFLOW_PACKS": str(PACKS), "NODEFLOW_UPLOAD_MB": "0.05", "NODEFLOW_WEBHOOK_SECRET": SECRET}
    with ServerProcess(["serve"], home, env=env, ready_path="/v1/queue") as server:
        server.http = httpx.Client(base_url=server.url, timeout=60)
        server.home = home
        yield server


# --- uploads -----------------------------------------------------------------------------------------


def test_an_upload_is_usable_in_set(server):
    answer = server.http.post("/v1/uploads", params={"name": "../../my photo (1).png"}, content=png_bytes("blue"))
    assert answer.status_code == 201, answer.text
    upload = answer.json()
    assert upload["kind"] == "image" and upload["size"] > 0
    assert "/" not in upload["name"] and upload["name"].endswith("-my_photo__1_.png") and upload["ref"] == f"uploads/{upload['name']}"
    graph = json.loads((GRAPHS / "blur_upload.json").read_text())
    graph["nodes"]["save"]["params"]["watermark"] = "none"
    run_id = server.http.post("/v1/runs", json={"graph": graph, "set": {"load.path": upload["ref"]}}).json()["id"]
    state = wait_done(server.http, run_id)
    assert state["status"] == "ok", state
    with Image.open(io.BytesIO(server.http.get(state["outputs"][0]["url"]).content)) as image:
        assert image.size == (32, 32) and image.getpixel((16, 16))[2] > 200  # the uploaded blue picture, blurred


@pytest.mark.parametrize("name, content, status, field", [
    ("tool.exe", b"MZ\x90\x00", 415, "name"),
    ("fake.png", b"this is text, not a picture", 415, "body"),
    ("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 60_000, 413, "body"),
    ("", b"\x89PNG\r\n\x1a\n", 422, "name"),
])
def test_a_refused_upload_says_why_and_leaves_nothing(server, name, content, status, field):
    answer = server.http.post("/v1/uploads", params={"name": name}, content=content)
    assert answer.status_code == status and answer.json()["field"] == field, answer.text
    folder = server.home / "input" / "uploads"
    assert not [p for p in folder.iterdir() if p.suffix == ".part" or "fake" in p.name or "big" in p.name or "tool" in p.name]


# --- listing, deleting, idempotency, priorities --------------------------------------------------------


def test_list_runs_filters_and_pages(server):
    ids = [server.http.post("/v1/runs", json={"graph": tiny_image_graph(i)}).json()["id"] for i in range(3)]
    failed = server.http.post("/v1/runs", json={"graph": failing_graph()}).json()["id"]
    for run_id in [*ids, failed]:
        wait_done(server.http, run_id)
    pages, cursor = [], None
    while True:
        page = server.http.get("/v1/runs", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        pages.append([r["id"] for r in page["runs"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    listed = [run_id for page in pages for run_id in page]
    assert all(len(page) <= 2 for page in pages) and len(listed) == len(set(listed))
    assert listed[:4] == [failed, *reversed(ids)]  # newest first
    errors = server.http.get("/v1/runs", params={"status": "error"}).json()["runs"]
    assert failed in [r["id"] for r in errors] and all(r["status"] == "error" for r in errors)
    assert server.http.get("/v1/runs", params={"status": "bogus"}).status_code == 422
    assert server.http.get("/v1/runs", params={"cursor": "x;drop"}).json()["field"] == "cursor"


def test_list_by_graph_name(tmp_path):
    graphs = tmp_path / "graphs"
    graphs.mkdir()
    (graphs / "tiny.json").write_text(json.dumps(tiny_image_graph()))
    with ServerProcess(["serve", "--graphs", str(graphs)], tmp_path, ready_path="/v1/queue") as server:
        http = httpx.Client(base_url=server.url, timeout=60)
        named = http.post("/v1/runs", json={"graph_name": "tiny.json"}).json()["id"]
        other = http.post("/v1/runs", json={"graph": tiny_image_graph(2)}).json()["id"]
        wait_done(http, named), wait_done(http, other)
        assert [r["id"] for r in http.get("/v1/runs", params={"graph": "tiny.json"}).json()["runs"]] == [named]
        assert http.get(f"/v1/runs/{named}").json()["graph"] == "tiny.json"


def test_delete_a_finished_run_with_its_files(server):
    run_id = server.http.post("/v1/runs", json={"graph": tiny_image_graph(11)}).json()["id"]
    url = wait_done(server.http, run_id)["outputs"][0]["url"]
    assert (server.home / "serve" / "runs" / run_id).is_dir()
    answer = server.http.delete(f"/v1/runs/{run_id}")
    assert answer.status_code == 200 and answer.json() == {"id": run_id, "status": "deleted"}
    assert server.http.get(f"/v1/runs/{run_id}").status_code == 404
    assert server.http.get(url).status_code == 404
    assert not (server.home / "serve" / "runs" / run_id).exists()


def test_the_same_idempotency_key_returns_the_same_run(server):
    body = {"graph": tiny_image_graph(21)}
    first = server.http.post("/v1/runs", json=body, headers={"Idempotency-Key": "order-77"}).json()["id"]
    again = server.http.post("/v1/runs", json=body, headers={"Idempotency-Key": "order-77"}).json()["id"]
    other = server.http.post("/v1/runs", json=body, headers={"Idempotency-Key": "order-78"}).json()["id"]
    assert first == again != other
    wait_done(server.http, first), wait_done(server.http, other)
    assert server.http.post("/v1/runs", json=body, headers={"Idempotency-Key": ""}).status_code == 400


def test_a_higher_priority_runs_before_earlier_queued_ones(server):
    http = server.http
    blocker = http.post("/v1/runs", json={"graph": slow_graph(30)}).json()["id"]
    while http.get(f"/v1/runs/{blocker}").json()["status"] != "running":
        time.sleep(0.05)
    low = http.post("/v1/runs", json={"graph": tiny_image_graph(31)}).json()["id"]
    high = http.post("/v1/runs", json={"graph": tiny_image_graph(32), "priority": 5}).json()["id"]
    assert [j["id"] for j in http.get("/v1/queue").json()["queued"]] == [high, low]
    low_state, high_state = wait_done(http, low), wait_done(http, high)
    assert high_state["started"] < low_state["started"]
    wait_done(http, blocker)


# --- batch cancel and retry ------------------------------------------------------------------------------


def test_batch_cancel_and_retry(server):
    http = server.http
    running = http.post("/v1/runs", json={"graph": slow_graph(200)}).json()["id"]
    queued = [http.post("/v1/runs", json={"graph": tiny_image_graph(40 + i)}).json()["id"] for i in range(2)]
    while http.get(f"/v1/runs/{running}").json()["status"] != "running":
        time.sleep(0.05)
    result = http.post("/v1/batch/cancel", json={"ids": [running, *queued, "nope"]}).json()
    assert sorted(result["done"]) == sorted([running, *queued]) and result["skipped"] == {"nope": "no such run"}
    assert all(wait_done(http, run_id)["status"] == "cancelled" for run_id in [running, *queued])
    failed = http.post("/v1/runs", json={"graph": failing_graph()}).json()["id"]
    ok = http.post("/v1/runs", json={"graph": tiny_image_graph(50)}).json()["id"]
    wait_done(http, failed), wait_done(http, ok)
    retried = http.post("/v1/batch/retry", json={"ids": [failed, queued[0], ok]}).json()
    assert len(retried["done"]) == 2 and set(retried["skipped"]) == {ok}
    states = [wait_done(http, run_id) for run_id in retried["done"]]
    assert sorted(s["status"] for s in states) == ["error", "ok"]  # the same requests, run again
    assert http.post("/v1/batch/retry", json={"ids": []}).status_code == 422


# --- webhooks ------------------------------------------------------------------------------------------------


class Receiver(http.server.ThreadingHTTPServer):
    """A real local HTTP server that records what it is sent and fails the first ``fail_first`` posts."""

    def __init__(self, fail_first: int = 0):
        self.received: list[tuple[dict, bytes]] = []
        self.fail_first = fail_first
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(500 if len(outer.received) <= outer.fail_first else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


def test_a_webhook_is_signed_and_retried_until_it_is_taken(server):
    receiver = Receiver(fail_first=1)
    try:
        run_id = server.http.post("/v1/runs", json={"graph": tiny_image_graph(60), "callback_url": receiver.url}).json()["id"]
        state = wait_done(server.http, run_id)
        deadline = time.monotonic() + 30
        while len(receiver.received) < 2:
            assert time.monotonic() < deadline, receiver.received
            time.sleep(0.1)
        for headers, body in receiver.received:
            signed = hmac.new(SECRET.encode(), f"{headers['x-nodeflow-timestamp']}.".encode() + body, hashlib.sha256)
            assert hmac.compare_digest(headers["x-nodeflow-signature"], "sha256=" + signed.hexdigest())
        event = json.loads(receiver.received[-1][1])
        assert event["event"] == "run_finished" and event["run"] == run_id and event["outputs"] == state["outputs"]
        assert [h["x-nodeflow-attempt"] for h, _ in receiver.received] == ["1", "2"]
        time.sleep(1.5)
        assert len(receiver.received) == 2  # taken: not sent again
    finally:
        receiver.shutdown()


@pytest.mark.parametrize("url, words", [("file:///etc/passwd", "http(s)"), ("ftp://example.com/x", "http(s)"),
                                        ("SELF", "this server itself")])
def test_a_webhook_to_elsewhere_than_http_or_to_the_server_itself_is_refused(server, url, words):
    url = server.url + "/v1/queue" if url == "SELF" else url
    answer = server.http.post("/v1/runs", json={"graph": tiny_image_graph(), "callback_url": url})
    assert answer.status_code == 422 and answer.json()["field"] == "callback_url" and words in answer.json()["detail"]


# --- per-client tokens and retention ----------------------------------------------------------------------


def test_client_tokens_scopes_isolation_and_retention(tmp_path):
    tokens = {"alice": "alice-token-0123456789", "bob": "bob-token-0123456789", "viewer": "viewer-token-0123456789"}
    (tmp_path / "tokens.toml").write_text(
        '[clients.alice]\ntoken = "alice-token-0123456789"\nscopes = ["submit", "read"]\n'
        '[clients.bob]\ntoken = "bob-token-0123456789"\nscopes = ["submit", "read"]\n'
        '[clients.viewer]\ntoken = "viewer-token-0123456789"\nscopes = ["read"]\n')
    env = {"NODEFLOW_TOKENS": str(tmp_path / "tokens.toml"), "NODEFLOW_RUNS_KEEP": "3"}
    with ServerProcess(["serve"], tmp_path, env=env, ready_path="/docs") as server:
        as_ = {name: httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"})
               for name, token in tokens.items()}
        assert httpx.get(server.url + "/v1/queue").status_code == 401  # even on 127.0.0.1
        mine = [as_["alice"].post("/v1/runs", json={"graph": tiny_image_graph(i)}).json()["id"] for i in range(2)]
        theirs = as_["bob"].post("/v1/runs", json={"graph": tiny_image_graph(9)}).json()["id"]
        for run_id in mine:
            assert wait_done(as_["alice"], run_id)["client"] == "alice"
        wait_done(as_["bob"], theirs)
        assert as_["alice"].get(f"/v1/runs/{theirs}").status_code == 404  # another client's run is not there
        assert as_["alice"].get(f"/v1/runs/{theirs}/events").status_code == 404
        assert as_["alice"].delete(f"/v1/runs/{theirs}").status_code == 404
        assert {r["id"] for r in as_["alice"].get("/v1/runs").json()["runs"]} == set(mine)
        assert {r["id"] for r in as_["bob"].get("/v1/runs").json()["runs"]} == {theirs}
        refused = as_["viewer"].post("/v1/runs", json={"graph": tiny_image_graph()})
        assert refused.status_code == 403 and refused.json()["field"] == "Authorization" and "submit" in refused.json()["detail"]
        assert as_["viewer"].get("/v1/runs").json()["runs"] == []
        admin_token = (tmp_path / "serve.token").read_text().strip()  # its output is a log file: the token is not in it
        admin = httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {admin_token}"})
        assert {r["id"] for r in admin.get("/v1/runs").json()["runs"]} == {*mine, theirs}
        # retention: NODEFLOW_RUNS_KEEP=3 keeps the newest three finished runs and their files
        newest = as_["alice"].post("/v1/runs", json={"graph": tiny_image_graph(5)}).json()["id"]
        wait_done(as_["alice"], newest)
        deadline = time.monotonic() + 10
        while len(admin.get("/v1/runs").json()["runs"]) > 3:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert {r["id"] for r in admin.get("/v1/runs").json()["runs"]} == {mine[1], theirs, newest}
        assert not (tmp_path / "serve" / "runs" / mine[0]).exists()
