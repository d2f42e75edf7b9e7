"""The command line contract: run, --set, --only, --events, exit codes, progress, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from tests.engine_support import PACKS, REPO, nodeflow_cli, write_graph


def test_run_hello_image_makes_a_png(tmp_path: Path):
    done = nodeflow_cli("run", "graphs/hello_image.json", "--out", str(tmp_path / "out"), env={"NODEFLOW_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "out" / "hello.png") as image:
        assert image.size == (256, 256) and image.format == "PNG"
    assert "ok: 8 ran, 0 cached" in done.stdout


def test_set_overrides_a_param_and_bad_values_name_node_and_param(tmp_path: Path):
    env = {"NODEFLOW_HOME": str(tmp_path / "home")}
    done = nodeflow_cli("run", "graphs/hello_image.json", "--out", str(tmp_path), "--set", "resize.width=100", env=env)
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "hello.png") as image:
        assert image.size == (100, 256)
    bad = nodeflow_cli("run", "graphs/hello_image.json", "--set", "resize.width=huge", "--set", "blurr.radius=2", env=env)
    assert bad.returncode == 2
    assert "resize (image.resize): 'width': --set: expected a whole number, got 'huge'" in bad.stderr
    assert "no node 'blurr' (did you mean 'blur'?)" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_events_dash_prints_json_lines_and_only_limits_the_run(tmp_path: Path):
    done = nodeflow_cli("run", "graphs/hello_image.json", "--only", "blend", "--events", "-", env={"NODEFLOW_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[0]["event"] == "run_started" and events[-1] == {**events[-1], "event": "run_finished", "status": "ok"}
    assert events[0]["nodes"] == ["gradient", "noise", "blend"]
    assert {e["node"] for e in events if e["event"] == "node_finished"} == {"gradient", "noise", "blend"}


def test_events_file(tmp_path: Path):
    events_file = tmp_path / "events.jsonl"
    done = nodeflow_cli("run", "graphs/hello_image.json", "--out", str(tmp_path), "--events", str(events_file), env={"NODEFLOW_HOME": str(tmp_path)})
    assert done.returncode == 0
    names = [json.loads(line)["event"] for line in events_file.read_text().splitlines()]
    assert names.count("node_finished") == 8 and "preview" in names


def test_failing_node_exits_1_with_its_message(tmp_path: Path):
    graph = write_graph(tmp_path / "g.json", {"bad": {"type": "test.fail", "params": {"message": "out of cheese"}}})
    done = nodeflow_cli("run", str(graph), env={"NODEFLOW_HOME": str(tmp_path)})
    assert done.returncode == 1
    assert "bad (test.fail) failed: RuntimeError: out of cheese" in done.stderr
    assert "Traceback" not in done.stderr
    verbose = nodeflow_cli("run", str(graph), "-v", env={"NODEFLOW_HOME": str(tmp_path)})
    assert "Traceback" in verbose.stderr


def test_invalid_graph_exits_2(tmp_path: Path):
    graph = write_graph(tmp_path / "g.json", {"a": {"type": "test.add"}})
    done = nodeflow_cli("run", str(graph))
    assert done.returncode == 2 and "a (test.add): 'a': missing required input (Int)" in done.stderr


def test_ctrl_c_cancels_cleanly_with_exit_130(tmp_path: Path):
    graph = write_graph(tmp_path / "g.json", {
        "slow": {"type": "test.slow", "params": {"steps": 2000, "delay": 0.01}},
        "w": {"type": "test.write", "inputs": {"x": ["slow", "value"]}},
    })
    process = subprocess.Popen(
        [sys.executable, "-m", "nodeflow.cli.main", "run", str(graph), "--out", str(tmp_path / "out"), "--events", str(tmp_path / "ev.jsonl")],
        cwd=REPO,
        env={**os.environ, "NODEFLOW_PACKS": str(PACKS), "NODEFLOW_HOME": str(tmp_path / "home")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    events = tmp_path / "ev.jsonl"
    deadline = time.time() + 30
    while time.time() < deadline and not (events.exists() and '"progress"' in events.read_text()):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "cancelled" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out" / "result.txt").exists()
    last = json.loads(events.read_text().splitlines()[-1])
    assert last["event"] == "run_finished" and last["status"] == "cancelled"


def test_progress_bars_in_a_terminal(tmp_path: Path):
    """In a real terminal (a pty) the run shows rich progress bars."""
    import pty

    graph = write_graph(tmp_path / "g.json", {"slow": {"type": "test.slow", "params": {"steps": 20, "delay": 0.02}}})
    env = {**os.environ, "NODEFLOW_PACKS": str(PACKS), "NODEFLOW_HOME": str(tmp_path), "COLUMNS": "100"}
    pid, fd = pty.fork()
    if pid == 0:  # child: the real command line, attached to the pty
        os.chdir(REPO)
        os.execve(sys.executable, [sys.executable, "-m", "nodeflow.cli.main", "run", str(graph)], env)
    output = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0
    assert "━" in text  # rich's bar glyph
    assert "slow: ran in" in text and "(first run)" in text  # a permanent line per finished node
    assert "1/1" in text  # the overall bar completed


def test_nodes_lists_the_catalog_and_json_has_full_specs():
    done = nodeflow_cli("nodes")
    assert done.returncode == 0 and "image.blend" in done.stdout and "test.add" in done.stdout
    catalog = json.loads(nodeflow_cli("nodes", "--json").stdout)
    blend = next(n for n in catalog["nodes"] if n["type"] == "image.blend")
    assert blend["category"] == "Image"
    assert blend["description"].startswith("Mix two images")
    assert blend["inputs"] == [{"name": "a", "type": "Image", "optional": False}, {"name": "b", "type": "Image", "optional": False}]
    assert blend["outputs"] == [{"name": "image", "type": "Image"}]
    alpha = blend["params"][0]
    assert alpha == {**alpha, "name": "alpha", "kind": "float", "default": 0.5, "min": 0, "max": 1}
    math = next(n for n in catalog["nodes"] if n["type"] == "core.math")
    assert next(p for p in math["params"] if p["name"] == "op")["choices"][0] == "add"
    assert catalog["types"]["Float"]["accepts"] == ["Int"]
    assert catalog["types"]["Image"]["colour"].startswith("#")
