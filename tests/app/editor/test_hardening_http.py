"""Hostile and careless HTTP requests: a real `nodeflow ui` process sent what a hostile page or a careless client
sends. Every answer is a 4xx that names the problem (never a 500), Gradio's mounted routes follow the
same Origin and Host rules as nodeflow's, and bodies are capped, Gradio's uploads included."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.editor.live_editor_process import live_editor

REPO = Path(__file__).resolve().parents[3]
HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())
JSON = {"Content-Type": "application/json"}
EVIL = {"Origin": "http://evil.example"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.skip("the editor bundle is not built: run `make setup` (needs Node.js)")
    with live_editor(tmp_path_factory.mktemp("hardening"), NODEFLOW_MAX_UPLOAD_MB="1") as live:
        yield live


def _with_caption(text: str) -> str:
    graph = json.loads(json.dumps(HELLO))
    graph["nodes"]["caption"]["params"]["text"] = text
    return json.dumps({"graph": graph})


DEEP = '{"graph": {"nodeflow": 1, "nodes": {}, "meta": ' + "[" * 1000 + "]" * 1000 + "}}"
DEEP_META = json.dumps({"graph": {**HELLO, "meta": {"x": json.loads("[" * 300 + "]" * 300)}}})
MALFORMED = [
    ("POST", "/api/validate", DEEP, JSON, 400, "nested too deeply"),
    ("POST", "/api/run", DEEP, JSON, 400, "nested too deeply"),
    ("POST", "/api/run", DEEP_META, JSON, 400, "nested more than"),
    ("POST", "/api/run", _with_caption("\ud800"), JSON, 400, "lone surrogate"),
    ("POST", "/api/run", '{"graph": ' + "1" * 5000 + "}", JSON, 400, "digits"),
    ("POST", "/api/upload?name=a%00b", "x", {}, 400, "not a usable file name"),
    ("POST", "/api/upload?name=" + "a" * 300, "x", {}, 400, "longer than 200 bytes"),
    ("GET", "/api/history?offset=9223372036854775808", "", {}, 422, "less than or equal"),
    ("GET", "/files/output/hello.png%00.txt", "", {}, 403, "NUL"),
    ("POST", "/api/run", json.dumps({"graph": HELLO}), {"Content-Type": "text/plain"}, 415, "application/json"),
    ("POST", "/api/validate", json.dumps({"graph": HELLO}), {}, 415, "application/json"),
    ("GET", "/api/start", "", {"Host": "127.0.0.1:7880@evil.example"}, 400, "malformed Host"),
    ("GET", "/api/start", "", {"Host": "localhost:7880, evil.example"}, 400, "malformed Host"),
    ("GET", "/", "", {"Host": "evil.example:7880"}, 403, "127.0.0.1 only"),
    ("POST", "/api/stop", "", EVIL, 403, "evil.example"),
    ("GET", "/api/catalog", "", {"Origin": "null"}, 403, "not allowed"),
]


@pytest.mark.parametrize("method,path,body,headers,status,says", MALFORMED, ids=[f"{m[0]} {m[1][:40]} {m[5]}" for m in MALFORMED])
def test_malformed_requests_get_a_clear_4xx(server, method, path, body, headers, status, says):
    got, text = server.request(method, path, body.encode("utf-8", "surrogatepass"), headers)
    assert got == status, text[:300]
    assert says in text.decode(errors="replace")
    assert server.alive()


@pytest.mark.parametrize("last_event_id", ["9" * 5000, "\u00b2\u00b3", "-1", "12abc"])
def test_odd_last_event_ids_start_the_stream_from_the_beginning(server, last_event_id):
    status, first_line = server.request("GET", "/api/events", headers={"Last-Event-ID": last_event_id})
    assert status == 200 and first_line.startswith(b"retry:")


def test_a_lone_surrogate_is_a_validation_problem_on_the_param(server):
    status, text = server.request("POST", "/api/validate", _with_caption("\ud800").encode(), JSON)
    assert status == 200
    problems = json.loads(text)["problems"]
    assert [(p["node"], p["port"]) for p in problems] == [("caption", "text")]


def test_gradio_routes_refuse_other_sites(server):
    form = b'--b\r\nContent-Disposition: form-data; name="files"; filename="x.txt"\r\n\r\nhello\r\n--b--\r\n'
    multipart = {"Content-Type": "multipart/form-data; boundary=b"}
    status, text = server.request("POST", "/gradio_api/upload", form, {**multipart, **EVIL})
    assert status == 403, text
    status, _ = server.request("POST", "/gradio_api/queue/join", b'{"data": [], "fn_index": 0, "session_hash": "x"}',
                               {**JSON, **EVIL})
    assert status == 403
    # the editor's own page (same Origin) still uploads through Gradio
    status, text = server.request("POST", "/gradio_api/upload", form, {**multipart, "Origin": f"http://{server.host}"})
    assert status == 200, text


def test_bodies_over_the_limit_are_refused_gradio_uploads_too(server):
    big = b"0" * (2 * 2**20)
    for path, headers in (("/api/upload?name=big.txt", {}), ("/api/provenance?name=big.png", {}),
                          ("/gradio_api/upload", {"Content-Type": "multipart/form-data; boundary=b"}),
                          ("/api/run", JSON)):
        status, text = server.request("POST", path, big, headers)
        assert status == 413 and b"NODEFLOW_MAX_UPLOAD_MB" in text, (path, status, text[:200])
    # without a Content-Length (chunked), the body is counted as it arrives
    form_start = b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n\r\n'
    for path in ("/api/upload?name=big.txt", "/gradio_api/upload"):
        assert _chunked_post(server, path, form_start + big) == 413, path
    assert not (server.home / "input" / "big.txt").exists()


def _chunked_post(server, path: str, body: bytes) -> int:
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        head = (f"POST {path} HTTP/1.1\r\nHost: {server.host}\r\nTransfer-Encoding: chunked\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n\r\n")
        sock.sendall(head.encode())
        try:
            for start in range(0, len(body), 65536):
                piece = body[start:start + 65536]
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the whole body arrived
        reply = sock.recv(200).decode(errors="replace")
    return int(reply.split()[1])


# --- fuzzing: whatever arrives, the answer is never a 5xx and the server keeps serving ---------------

ROUTES = ["/api/catalog", "/api/start", "/api/graphs", "/api/graphs/{x}", "/api/validate", "/api/run",
          "/api/stop", "/api/results", "/api/inputs?ext={x}", "/api/upload?name={x}", "/api/history?limit={x}",
          "/api/history?offset={x}", "/api/history/{x}", "/files/output/{x}", "/files/previews/{x}",
          "/files/{x}/a.png", "/api/provenance?name={x}", "/gradio_api/upload", "/config"]
_text = st.text(st.characters(codec="utf-8"), max_size=40)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)
_graphs = st.fixed_dictionaries({"nodeflow": st.sampled_from([1, 1, 0, "1"]),
                                 "nodes": st.dictionaries(_text, st.fixed_dictionaries(
                                     {"type": st.sampled_from(["image.new", "image.blur", "core.text", "x"]),
                                      "params": st.dictionaries(st.sampled_from(["width", "text", "radius", "seed"]), _json, max_size=3)}),
                                     max_size=3)})
_FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@_FUZZ
@given(route=st.sampled_from(ROUTES), part=_text, method=st.sampled_from(["GET", "POST", "DELETE"]),
       content_type=st.sampled_from(["application/json", "text/plain", "", "multipart/form-data; boundary=b"]),
       body=st.one_of(st.binary(max_size=200), _json.map(lambda v: json.dumps(v).encode()),
                      _graphs.map(lambda g: json.dumps({"graph": g}).encode())))
def test_fuzzed_requests_never_get_a_5xx(server, route, part, method, content_type, body):
    from urllib.parse import quote

    path = route.replace("{x}", quote(part, safe=""))
    headers = {"Content-Type": content_type} if content_type else {}
    status, text = server.request(method, path, body if method != "GET" else b"", headers)
    assert status < 500, (method, path, status, text[:300])


@_FUZZ
@given(host=st.text(st.characters(min_codepoint=33, max_codepoint=255), max_size=40),
       origin=st.one_of(st.none(), st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40)),
       last_event_id=st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=30))
def test_fuzzed_headers_never_get_a_5xx(server, host, origin, last_event_id):
    headers = {"Host": host or "x", "Last-Event-ID": last_event_id.strip() or "1"}
    if origin is not None:
        headers["Origin"] = origin.strip() or "null"
    status, text = server.request("GET", "/api/events", headers=headers)
    assert status < 500, (headers, status, text[:300])
    assert server.request("GET", "/api/run")[0] == 200


def test_inputs_do_not_list_links_that_lead_outside(server, tmp_path):
    (tmp_path / "secret.md").write_text("outside")
    folder = server.home / "input" / "linked"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.md").write_text("inside")
    (folder / "passwd.md").symlink_to(tmp_path / "secret.md")
    (folder / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    status, text = server.request("GET", "/api/inputs?ext=.md")
    files = json.loads(text)["files"]
    assert status == 200 and "linked/notes.md" in files
    assert not any(name.startswith(("linked/passwd", "linked/elsewhere")) for name in files), files
