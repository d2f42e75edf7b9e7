"""The probe's case lists, shared by the suite (``tests/probe``) and ``bench/probe.py``.

Each list is data: routes of the three servers, bodies a careless or hostile client sends, crafted
artifacts, resource bombs and the policy bypasses of issue 23.3. The tests assert on each case; the
bench runs the same cases and prints the figures (5xx count, bypasses, each bomb's peak memory).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())
JSON = {"Content-Type": "application/json"}

LONG = "n" * 300  # longer than any file system's name limit (255 bytes)
HUGE_INT = "9" * 5000  # more digits than Python converts by default (4,300)


def _graph(nodes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"nodeflow": 1, "nodes": nodes, **extra}


def _tiny(**params: Any) -> dict[str, Any]:
    return _graph({"pic": {"type": "image.new", "params": {"width": 8, "height": 8, "fill": "solid", **params}},
                   "save": {"type": "image.save", "inputs": {"image": ["pic", "image"]}, "params": {"watermark": "none"}}})


# Graphs a client may send: each is wrong in one way (an answer of 200 with problems, or a 4xx, is right).
BAD_GRAPHS: dict[str, Any] = {
    "not an object": [1, 2, 3],
    "nodes not an object": {"nodeflow": 1, "nodes": [1, 2]},
    "node not an object": {"nodeflow": 1, "nodes": {"a": 7}},
    "unknown type": _graph({"a": {"type": "no.such"}}),
    "wrong-typed param": _tiny(width="wide"),
    "huge integer param": _tiny(width=10**4000),
    "float for int": _tiny(width=1e308),
    "long node name": _graph({LONG: {"type": "core.text", "params": {"text": "x"}}}),
    "long file name": _graph({"pic": {"type": "image.new"}, "save": {"type": "image.save", "inputs": {"image": ["pic", "image"]},
                                                                     "params": {"filename": LONG + ".png"}}}),
    "sweep to 1e400": _tiny(seed={"sweep": {"from": 0, "to": 1e300 * 10, "step": 1}}),
    "sweep tiny step": _tiny(seed={"sweep": {"from": 0, "to": 1, "step": 1e-300}}),
    "sweep of a million": _tiny(seed={"sweep": {"from": 0, "to": 1_000_000, "step": 1}}),
    "sweep not a list": _tiny(seed={"sweep": "abc"}),
    "link to nowhere": _graph({"save": {"type": "image.save", "inputs": {"image": ["ghost", "image"]}}}),
    "link malformed": _graph({"save": {"type": "image.save", "inputs": {"image": 5}}}),
    "template traversal": _graph({"t": {"type": "core.template", "params": {"template": "{a.__class__}"}}}),
    "template width 3e9": _graph({"t": {"type": "core.template", "params": {"template": "{a:3000000000}"}}}),
    "definitions not an object": {"nodeflow": 1, "nodes": {}, "definitions": 5},
    "published garbage": {**_tiny(), "published": [5, {"param": 7}, "x.y.z"]},
}

# Raw bodies (bytes), beside the graphs above wrapped as {"graph": ...}
RAW_BODIES: dict[str, bytes] = {
    "empty": b"",
    "truncated JSON": b'{"graph": {"nodes": ',
    "null": b"null",
    "a list": b"[1, 2]",
    "a string": b'"graph"',
    "binary": bytes(range(256)),
    "5,000-digit number": ('{"graph": ' + HUGE_INT + "}").encode(),
    "1e400": b'{"graph": 1e400, "name": 1e400}',
    "deep nesting": ('{"graph": ' + "[" * 5000 + "]" * 5000 + "}").encode(),
    "lone surrogate": b'{"graph": "\\ud800", "name": "\\ud800"}',
    "wrong-typed fields": json.dumps({"graph": "x", "only": 5, "name": [1], "nodes": "x", "graph_name": {"a": 1},
                                      "inputs": 5, "ids": 5, "node": 5}).encode(),
    "long names": json.dumps({"graph": HELLO, "name": LONG, "graph_name": LONG, "output": LONG, "node": LONG,
                              "path": LONG, "ids": [LONG]}).encode(),
    "bad set, sweep and only": json.dumps({"graph": HELLO, "set": ["noise.width=" + HUGE_INT, "x", "=", "a.b=c", LONG + "=1"],
                                           "sweep": ["noise.seed=1e400,2", "noise.seed=" + "1," * 20000 + "1", "bad"],
                                           "only": [LONG], "graph_name": "hello_image.json"}).encode(),
    "path escapes": json.dumps({"graph": HELLO, "name": "../../etc/passwd", "graph_name": "../../x", "output": "../x",
                                "path": "/etc/passwd"}).encode(),
    **{f"graph: {name}": json.dumps({"graph": graph, "graph_name": "x", "nodes": graph, "ids": ["a"]}).encode()
       for name, graph in BAD_GRAPHS.items() if name != "huge integer param"},
    "graph: huge integer param": ('{"graph": ' + json.dumps(_tiny(width=0)).replace('"width": 0', '"width": ' + HUGE_INT) + "}").encode(),
}

# Path parts put where a route takes a name or id
PATH_PARTS = ["x", LONG, "..%2F..%2Fetc%2Fpasswd", "a%00b", HUGE_INT[:400], "-1", "%F0%9F%92%A5"]

# Every route of each server; {x} takes each of PATH_PARTS
EDITOR_ROUTES = [
    ("GET", "/api/catalog"), ("GET", "/api/graphs"), ("GET", "/api/graphs/{x}"), ("GET", "/api/start"),
    ("POST", "/api/validate"), ("POST", "/api/run"), ("POST", "/api/stop"), ("GET", "/api/run"),
    ("GET", "/api/queue"), ("GET", "/api/queue/{x}"), ("POST", "/api/queue/{x}/cancel"), ("POST", "/api/queue/{x}/move"),
    ("POST", "/api/queue/{x}/rerun"), ("GET", "/api/results"), ("GET", "/files/output/{x}"), ("GET", "/files/{x}/{x}"),
    ("GET", "/api/inputs?ext={x}"), ("POST", "/api/inputs/from-output"), ("GET", "/api/models"),
    ("GET", "/api/output-folder"), ("GET", "/api/history/{x}/events"), ("POST", "/api/upload?name={x}"),
    ("GET", "/api/history?limit={x}"), ("GET", "/api/history/{x}"), ("POST", "/api/provenance?name={x}"),
    ("POST", "/api/import"), ("POST", "/api/import?name={x}"), ("POST", "/api/arrange"), ("POST", "/api/subgraphs"),
    ("POST", "/api/subgraphs/definition"), ("POST", "/api/subgraphs/make"), ("POST", "/api/subgraphs/unpack"),
    ("GET", "/api/publish"), ("DELETE", "/api/publish"),
]
SERVE_ROUTES = [
    ("POST", "/v1/runs"), ("GET", "/v1/runs"), ("GET", "/v1/runs?limit={x}"), ("GET", "/v1/runs?cursor={x}"),
    ("GET", "/v1/runs?status={x}"), ("GET", "/v1/runs/{x}"), ("DELETE", "/v1/runs/{x}"),
    ("GET", "/v1/runs/{x}/artifacts/{x}"), ("GET", "/v1/runs/{x}/previews/{x}"), ("POST", "/v1/uploads?name={x}"),
    ("POST", "/v1/batch/cancel"), ("POST", "/v1/batch/retry"), ("GET", "/v1/queue"), ("GET", "/v1/nodes"),
    ("GET", "/v1/graphs"), ("GET", "/v1/graphs/{x}"),
]
APP_ROUTES = [
    ("POST", "/gradio_api/call/run"), ("POST", "/gradio_api/run/run"), ("POST", "/gradio_api/api/run"),
    ("POST", "/gradio_api/queue/join"), ("GET", "/gradio_api/queue/data?session_hash={x}"),
    ("GET", "/gradio_api/call/run/{x}"), ("POST", "/gradio_api/upload"), ("GET", "/gradio_api/file={x}"),
    ("GET", "/gradio_api/info"), ("GET", "/config"),
]

# The form's run takes its published inputs as {"data": [...]}: values its fields refuse
APP_DATA = [
    [], [None, None], ["x"], [HUGE_INT, "{a}"], [LONG * 100, "{a.__class__}"], [1e308, "{a:3000000000}"],
    [{"path": "/etc/passwd"}, "x"], [["a"], {"b": 1}], ["world", "Hello {a}", "extra"], [True, False],
]


def requests_for(routes: list[tuple[str, str]]) -> list[tuple[str, str, bytes, dict[str, str]]]:
    """(method, path, body, headers) for every route with every path part, and for routes that take a
    body, every raw body (as JSON, and once as text/plain)."""
    out = []
    for method, route in routes:
        paths = [route.replace("{x}", part) for part in PATH_PARTS] if "{x}" in route else [route]
        for path in paths:
            out.append((method, path, b"", {}))
        if method in ("POST", "DELETE"):
            for body in RAW_BODIES.values():
                out.append((method, paths[0], body, JSON))
            out.append((method, paths[0], b'{"graph": {}}', {"Content-Type": "text/plain"}))
    return out


def app_requests() -> list[tuple[str, str, bytes, dict[str, str]]]:
    """The form's routes as above, and its run event sent each of APP_DATA."""
    out = requests_for(APP_ROUTES)
    for data in APP_DATA:
        body = json.dumps({"data": data}).replace(f'"{HUGE_INT}"', HUGE_INT).encode()
        for path in ("/gradio_api/call/run", "/gradio_api/run/run", "/gradio_api/api/run"):
            out.append(("POST", path, body, JSON))
        out.append(("POST", "/gradio_api/queue/join", json.dumps(
            {"data": data, "fn_index": 0, "session_hash": "probe", "event_data": None}).encode(), JSON))
    return out


def bad_answer(status: int, body: bytes) -> str | None:
    """Why an answer is wrong (a 5xx, or a traceback shown to the client), else None."""
    text = body.decode("utf-8", "replace")
    if status >= 500:
        return f"{status}: {text[:200]}"
    if "Traceback (most recent call last)" in text or 'File "/' in text:
        return f"{status} with a traceback: {text[:200]}"
    return None


# --- resource bombs: each is refused before it costs memory ---------------------------------------

def _nested(copies: int, levels: int) -> dict[str, Any]:
    """Subgraphs each using the one below ``copies`` times: copies**levels leaves."""
    definitions: dict[str, Any] = {"l0": {"nodes": {"leaf": {"type": "core.int", "params": {"value": 1}}},
                                          "outputs": {"value": ["leaf", "value"]}}}
    for level in range(1, levels + 1):
        definitions[f"l{level}"] = {"nodes": {f"c{i}": {"type": f"subgraph.l{level - 1}"} for i in range(copies)},
                                    "outputs": {"value": ["c0", "value"]}}
    return {"nodeflow": 1, "definitions": definitions, "nodes": {"top": {"type": f"subgraph.l{levels}"}}}


_TONE = {"type": "audio.synth", "params": {"notes": "A4", "sample_rate": 16000}}
_BIG = 1e300 * 10  # json.dumps writes Infinity; the file below says 1e400 instead

# name -> (command, graph, what the refusal says). "validate": refused by validation; "run": by the node,
# before it allocates (a contact sheet's picture count is known only when its sweep has run).
BOMBS: dict[str, tuple[str, dict[str, Any], str]] = {
    "subgraphs nested 4^12": ("validate", _nested(4, 12), "would expand to"),
    "contact sheet 500 x 2,048 px": ("run", _graph({
        "pic": {"type": "image.new", "params": {"width": 8, "height": 8, "fill": "solid", "seed": {"sweep": list(range(500))}}},
        "sheet": {"type": "image.contact_sheet", "params": {"cell": 2048, "columns": 25}, "inputs": {"images": ["pic", "image"]}},
        "save": {"type": "image.save", "params": {"watermark": "none"}, "inputs": {"image": ["sheet", "image"]}}}),
        "lower cell"),
    "audio.concatenate gap 30,000 s": ("validate", _graph({
        "a": _TONE, "b": _TONE,
        "join": {"type": "audio.concatenate", "params": {"gap": 30000.0}, "inputs": {"a": ["a", "audio"], "b": ["b", "audio"]}},
        "save": {"type": "output.audio", "inputs": {"audio": ["join", "audio"]}}}), "lower gap"),
    "audio.mix offset 30,000 s": ("validate", _graph({
        "a": _TONE, "b": _TONE,
        "mix": {"type": "audio.mix", "params": {"offset": 30000.0}, "inputs": {"a": ["a", "audio"], "b": ["b", "audio"]}},
        "save": {"type": "output.audio", "inputs": {"audio": ["mix", "audio"]}}}), "lower offset"),
    "core.template width 3e9": ("validate", _graph({
        "n": {"type": "core.text", "params": {"text": "x"}},
        "t": {"type": "core.template", "params": {"template": "{a:3000000000}"}, "inputs": {"a": ["n", "text"]}},
        "show": {"type": "core.show_text", "inputs": {"text": ["t", "text"]}}}), "width over 10,000"),
    "sweep to 1e400": ("validate", _tiny(seed={"sweep": {"from": 0, "to": "BIG", "step": 1}}), "finite numbers"),
    "sweep with a tiny step": ("validate", _tiny(seed={"sweep": {"from": 0, "to": 10, "step": 1e-300}}),
                               "more than 10,000 values"),
    "image.new 8,192 x 8,192 noise": ("validate", _tiny(width=8192, height=8192, fill="noise"),
                                         "lower width"),
}


def bomb_file(name: str, folder: Path) -> Path:
    """The bomb's graph as a file (a sweep bound of 1e400 written as JSON allows it)."""
    path = folder / (name.replace(" ", "_").replace(",", "").replace("^", "").replace("/", "") + ".json")
    path.write_text(json.dumps(BOMBS[name][1]).replace('"BIG"', "1e400"))
    return path


RSS_LIMIT_MB = 500  # the issue's target: each bomb refused before its process reaches this


def measure(args: list[str], env: dict[str, str], timeout: float = 300, cwd: Path = REPO) -> dict[str, Any]:
    """Run ``python -m nodeflow ARGS`` in a process of its own and return its exit code, its stderr and
    its peak resident memory (``getrusage(RUSAGE_CHILDREN)`` of a wrapper that ran only it)."""
    import subprocess
    import sys

    wrapper = ("import json, resource, subprocess, sys\n"
               "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
               "print(json.dumps({'code': done.returncode, 'stderr': done.stderr[-4000:], 'rss_mb': peak}))\n")
    done = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "nodeflow", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)
    return json.loads(done.stdout)


# --- crafted artifacts: records someone wrote by hand, embedded in a PNG --------------------------

def _record(nodes: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"nodeflow_provenance": 1, "artifact": {"node": "save", "type": "image.save", "kind": "image",
                                                                     "name": "x.png"},
                              "params": {}, "libraries": {}, "inputs": {}, **extra}
    if nodes is not None:
        record["graph"] = {"nodeflow": 1, "nodes": nodes}
    return record


def _saving(source: dict[str, Any], **save: Any) -> dict[str, Any]:
    return {"src": source, "save": {"type": "image.save", "inputs": {"image": ["src", "image"]},
                                    "params": {"filename": "x.png", "watermark": "none", **save}}}


_PIC = {"type": "image.new", "params": {"width": 8, "height": 8, "fill": "solid"}}

# name -> the record (None: the JSON null) written into a PNG's iTXt chunk. `reproduce --yes` of each
# must not run what it should not (exit 2, nothing read outside the input folders), and nothing answers
# with a traceback or a 5xx.
CRAFTED_RECORDS: dict[str, Any] = {
    "null": None,
    "a list": [1, 2],
    "no graph": _record(None),
    "graph not an object": {**_record(None), "graph": "x"},
    "huge sweep": _record(_saving({**_PIC, "params": {**_PIC["params"], "seed": {"sweep": {"from": 0, "to": 1_000_000, "step": 1}}}})),
    "sweep to 1e400": _record(_saving({**_PIC, "params": {**_PIC["params"], "seed": {"sweep": {"from": 0, "to": "BIG", "step": 1}}}})),
    "reads the working folder": _record(_saving({"type": "image.load", "params": {"path": "secret.png"}})),
    "reads /etc/passwd": _record({"t": {"type": "data.text_file", "params": {"path": "/etc/passwd"}},
                                  "out": {"type": "output.text", "inputs": {"text": ["t", "corpus"]}}}),
    "writes outside the output folder": _record(_saving(_PIC, filename="../../escaped.png")),
    "template reads the environment": _record({
        "n": {"type": "core.text", "params": {"text": "x"}},
        "t": {"type": "core.template", "params": {"template": "{a.__class__.__init__.__globals__}"}, "inputs": {"a": ["n", "text"]}},
        "out": {"type": "output.text", "inputs": {"text": ["t", "text"]}}}),
    "subgraph bomb": {**_record(None), "graph": _nested(4, 12)},
}


def crafted_png(name: str, folder: Path) -> Path:
    """A 1x1 PNG carrying CRAFTED_RECORDS[name] as its embedded provenance."""
    from tests.media.crafted import ours, png_with

    text = json.dumps(CRAFTED_RECORDS[name]).replace('"BIG"', "1e400").encode()
    import zlib

    path = folder / (name.replace(" ", "-").replace("/", "") + ".png")
    path.write_bytes(png_with(ours(zlib.compress(text))))
    return path


# --- policy bypasses (issue 23.3): each must be refused ------------------------------------------

SECRET = "jane.doe@example.com"
TEXT_POLICY = '[outputs]\nguards = ["personal_data"]\ngenerators = ["core.text"]\n'
IMAGE_POLICY = '[outputs]\nguards = ["nudity"]\n'


def _writer(text: str = f"write to {SECRET} today") -> dict[str, Any]:
    return {"type": "core.text", "params": {"text": text}}


def guarded_text(action: str = "redact") -> dict[str, Any]:
    """writer -> personal-data guard -> output.text: what the text policy accepts."""
    return {"writer": _writer(),
            "screen": {"type": "guard.personal_data", "params": {"action": action}, "inputs": {"text": ["writer", "text"]}},
            "out": {"type": "output.text", "params": {"filename": "guarded.txt"}, "inputs": {"text": ["screen", "text"]}}}


def _with(nodes: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(nodes))
    out.update(changes)
    return out


_DIAMOND = _with(guarded_text(), join={"type": "core.concat", "inputs": {"a": ["screen", "text"], "b": ["writer", "text"]}})
_DIAMOND["out"]["inputs"]["text"] = ["join", "text"]
_TWO = _with(guarded_text(), second=_writer("call +44 20 7946 0958"),
             join={"type": "core.concat", "inputs": {"a": ["screen", "text"], "b": ["second", "text"]}})
_TWO["out"]["inputs"]["text"] = ["join", "text"]
_STEPS = {
    "ckpt": {"type": "diffusion.load_checkpoint"},
    "pos": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}},
    "neg": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}},
    "empty": {"type": "diffusion.empty_latent"},
    "sample": {"type": "diffusion.sampler", "inputs": {"model": ["ckpt", "model"], "positive": ["pos", "conditioning"],
                                                       "negative": ["neg", "conditioning"], "latent": ["empty", "latent"]}},
    "decode": {"type": "diffusion.vae_decode", "inputs": {"vae": ["ckpt", "vae"], "latent": ["sample", "latent"]}},
    "save": {"type": "image.save", "inputs": {"image": ["decode", "image"]}},
}
_REPORT = {"pipe": {"type": "diffusion.load"},
           "draw": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["pipe", "pipeline"]}},
           "report": {"type": "evaluate.report", "inputs": {"images": ["draw", "image"]}}}

# name -> (nodes, policy text, only, definitions): every one is refused by the policy check
BYPASSES: dict[str, tuple[dict[str, Any], str, list[str] | None, dict[str, Any] | None]] = {
    "no guard at all": ({"writer": _writer(), "out": {"type": "output.text", "inputs": {"text": ["writer", "text"]}}},
                        TEXT_POLICY, None, None),
    "diamond joining raw and guarded text": (_DIAMOND, TEXT_POLICY, None, None),
    "two generators, one guard": (_TWO, TEXT_POLICY, None, None),
    "guard that only flags": (guarded_text("flag"), TEXT_POLICY, None, None),
    "guard muted": (_with(guarded_text(), screen={**guarded_text()["screen"], "mode": "bypass"}), TEXT_POLICY, None, None),
    "only the generator": (guarded_text(), TEXT_POLICY, ["writer"], None),
    "generator inside a subgraph": ({"sub": {"type": "subgraph.maker"},
                                     "out": {"type": "output.text", "inputs": {"text": ["sub", "text"]}}},
                                    TEXT_POLICY, None, {"maker": {"nodes": {"inner": _writer()}, "outputs": {"text": ["inner", "text"]}}}),
    "step-level diffusion": (_STEPS, IMAGE_POLICY, None, None),
    "text_to_image into evaluate.report": (_REPORT, IMAGE_POLICY, None, None),
}


def bypass_problems(name: str, executor: Any) -> list[Any]:
    """The problems ``executor.prepare`` (the one check CLI, editor, serve and app use) finds in
    BYPASSES[name] under its policy; an empty list is a bypass."""
    from nodeflow.check.policy import parse_policy
    from nodeflow.graph.model import parse_graph
    from nodeflow.problems import GraphInvalid

    nodes, policy, only, definitions = BYPASSES[name]
    data: dict[str, Any] = {"nodeflow": 1, "nodes": nodes, **({"definitions": definitions} if definitions else {})}
    try:
        executor.prepare(parse_graph(json.loads(json.dumps(data))), only=only, policy=parse_policy(policy, "probe.policy.toml"))
    except GraphInvalid as invalid:
        return [p for p in invalid.problems if "policy" in p.message or "guard" in p.message]
    return []


def measure_all(jobs: dict[str, tuple[list[str], dict[str, str], Path]], workers: int = 4) -> dict[str, dict[str, Any]]:
    """:func:`measure` of each job (name -> (args, env, cwd)), ``workers`` at a time: each is its own
    process, so its peak memory is its own."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        futures = {name: pool.submit(measure, args, env, 300, cwd) for name, (args, env, cwd) in jobs.items()}
        return {name: future.result() for name, future in futures.items()}
