"""Templates a graph controls fill in named values and nothing more: no attribute or index traversal
(``{a.save.__globals__[os].environ}`` once returned the server's environment), no nested fields, no
width that asks for gigabytes. Refused by validation (exit 2, node and param named) and by the node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nodeflow import TemplateError, fill_template
from nodeflow.graph.model import parse_graph
from nodeflow.problems import GraphInvalid

REPO = Path(__file__).resolve().parents[2]
ESCAPES = [
    "{a.save.__globals__[os].environ}",
    "{a.__class__.__init__.__globals__}",
    "{a[0]}",
    "{b.__class__.__mro__[1].__subclasses__}",
    "{a:{b}}",
    "{a:3000000000}",
    "{a:.999999999}",
]


def cli(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NODEFLOW_HOME": str(home), "NODEFLOW_AUTH": "s3cret-token"}
    return subprocess.run([sys.executable, "-m", "nodeflow", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def graph_with(template: str) -> dict:
    return {"nodeflow": 1, "nodes": {
        "src": {"type": "core.text", "params": {"text": "hello"}},
        "fill": {"type": "core.template", "params": {"template": template}, "inputs": {"a": ["src", "text"]}},
        "show": {"type": "core.show_text", "inputs": {"text": ["fill", "text"]}},
    }}


@pytest.mark.parametrize("template", ESCAPES)
def test_escaping_template_is_refused_by_validation(template, executor):
    with pytest.raises(GraphInvalid) as invalid:
        executor.run(parse_graph(graph_with(template)))
    found = [(p.node, p.port) for p in invalid.value.problems]
    assert found == [("fill", "template")], invalid.value.problems


def test_escaping_template_in_a_run_from_the_command_line_shows_no_secret(tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps(graph_with("{a.save.__globals__[os].environ}")))
    done = cli("run", str(path), "--out", str(tmp_path / "out"), cwd=tmp_path, home=tmp_path / "home")
    assert done.returncode == 2, done.stderr
    assert "fill (core.template)" in done.stderr and "not a plain name" in done.stderr
    assert "s3cret-token" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    # --set is checked the same way
    path.write_text(json.dumps(graph_with("{a}")))
    done = cli("validate", str(path), cwd=tmp_path, home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    done = cli("run", str(path), "--set", "fill.template={a.__class__}", "--out", str(tmp_path / "out"),
               cwd=tmp_path, home=tmp_path / "home")
    assert done.returncode == 2 and "fill (core.template)" in done.stderr


def test_a_template_linked_from_another_node_is_checked_when_it_arrives(executor):
    graph = graph_with("{a}")
    graph["nodes"]["evil"] = {"type": "core.text", "params": {"text": "{a.__init__.__globals__}"}}
    graph["nodes"]["fill"]["inputs"]["template"] = ["evil", "text"]
    result = executor.run(parse_graph(graph))
    assert result.status == "error" and result.error.node == "fill"
    assert "not a plain name" in result.error.message


def test_plain_templates_still_fill_and_leave_unknown_names():
    assert fill_template("{a} and {b!r} {c:>5}|{zz}", {"a": "x", "b": "y", "c": 3}) == "x and 'y'     3|{zz}"
    assert fill_template("{{literal}} {a}", {"a": 1}) == "{literal} 1"
    with pytest.raises(TemplateError, match="malformed"):
        fill_template("{a", {"a": 1})
