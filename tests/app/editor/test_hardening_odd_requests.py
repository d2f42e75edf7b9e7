"""Issue 25 item 4 and issue 23 item 10: what the probe sent a real editor that it answered with a 500
and a traceback. Each is now a 4xx whose message names what is wrong, and the server goes on serving.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest

from tests.app.editor.live_editor_process import LiveServer, live_editor

REPO = Path(__file__).resolve().parents[3]
HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())
JSON = {"Content-Type": "application/json"}
LONG = "a" * 300 + ".png"


@pytest.fixture(scope="module")
def editor(tmp_path_factory):
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.skip("the editor bundle is not built: run `make setup` (needs Node.js)")
    with live_editor(tmp_path_factory.mktemp("odd")) as live:
        yield live


def _post(editor: LiveServer, path: str, body: object) -> tuple[int, str]:
    status, text = editor.request("POST", path, json.dumps(body).encode(), JSON, timeout=200)
    return status, text.decode(errors="replace")


def _giant_png(workflow: dict | None = None) -> bytes:
    """A small PNG whose header says 30,000 x 30,000 pixels (Pillow refuses more than 179 MP as a
    decompression bomb), with a ComfyUI ``workflow`` text chunk when given."""
    import struct
    import zlib

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", 30000, 30000)  # IHDR's width and height, then its CRC
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    if workflow is not None:
        text = b"workflow\0" + json.dumps(workflow).encode()
        chunk = struct.pack(">I", len(text)) + b"tEXt" + text + struct.pack(">I", zlib.crc32(b"tEXt" + text))
        data[33:33] = chunk  # right after IHDR
    return bytes(data)


@pytest.mark.parametrize("path", [f"/files/output/{LONG}", f"/files/previews/{LONG}", f"/files/output/x/{LONG}/y.png"])
def test_a_300_character_file_name_is_a_404(editor, path):
    status, text = editor.request("GET", path)
    assert status == 404, text[:300]
    assert b"Traceback" not in text and b"File name too long" not in text


def test_a_300_character_name_copied_from_the_output_is_a_404(editor):
    status, text = _post(editor, "/api/inputs/from-output", {"name": LONG})
    assert status == 404 and "no such file in the output folder" in text, text


@pytest.mark.parametrize("nodes", [[1, 2], {"a": 1, "b": "text"}, {"a": None}, {"a": {"type": 5, "inputs": []}}],
                         ids=["a list", "numbers", "null", "odd fields"])
@pytest.mark.parametrize("route", ["make", "unpack"])
def test_non_object_nodes_sent_to_the_subgraph_routes_are_a_400(editor, route, nodes):
    graph = {"nodeflow": 1, "nodes": nodes}
    body = {"graph": graph, "selection": ["a", "b"], "name": "g"} if route == "make" else {"graph": graph, "node": "a"}
    status, text = _post(editor, f"/api/subgraphs/{route}", body)
    assert status == 400, text
    assert "Traceback" not in text
    assert editor.alive()


def test_publish_checks_the_graph_as_the_app_will_run_it(editor):
    """The probe's 500 with the child's traceback: a graph the editor's light check passed and the app
    refused at start. A picture file that is not there is now a problem on its param, before any app starts."""
    graph = {"nodeflow": 1, "nodes": {
        "load": {"type": "image.load", "params": {"path": "not-there.png"}},
        "save": {"type": "image.save", "inputs": {"image": ["load", "image"]}, "params": {"watermark": "none"}}}}
    status, text = _post(editor, "/api/publish", {"graph": graph})
    assert status == 400, text[:500]
    problems = json.loads(text)["problems"]
    assert [(p["node"], p["port"]) for p in problems] == [("load", "path")], problems
    assert "not-there.png" in problems[0]["message"]
    assert "Traceback" not in text
    assert json.loads(editor.request("GET", "/api/publish")[1]) == {"url": None}


def test_publish_with_unknown_inputs_is_a_400(editor):
    status, text = _post(editor, "/api/publish", {"graph": HELLO, "inputs": ["caption.nope"]})
    assert status == 400 and "problems" in json.loads(text), text


@pytest.mark.parametrize("workflow", [None, {"nodes": [], "links": []}, {"nodes": [{"id": 1, "type": "LoadImage"}]}],
                         ids=["no workflow", "empty workflow", "a workflow"])
def test_a_giant_png_dropped_on_import_is_never_a_500(editor, workflow):
    """Import reads the PNG's text chunks, never its pixels: a workflow imports, anything else is a 4xx."""
    data = base64.b64encode(_giant_png(workflow)).decode()
    status, text = _post(editor, "/api/import", {"name": "bomb.png", "base64": data})
    assert status < 500, text[:300]
    assert "Traceback" not in text and "DecompressionBomb" not in text
    if workflow is None:
        assert status == 400 and "workflow" in text


def test_a_giant_png_dropped_for_its_provenance_is_a_4xx(editor):
    status, text = editor.request("POST", "/api/provenance?name=bomb.png", _giant_png())
    assert 400 <= status < 500, text[:300]
    assert b"Traceback" not in text
