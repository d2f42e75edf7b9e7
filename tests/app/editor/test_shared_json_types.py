"""The JSON the editor reads, checked against its TypeScript types: every field Python sends is declared
in ui/src (so the editor cannot silently miss one), and every field a type requires is sent. The types are
written by hand in TypeScript; this test is what keeps them from drifting from what the server says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nodeflow.nodetypes.registry import Registry
from nodeflow.problems import Problem
from nodeflow.record.jobs import JobQueue

UI = Path(__file__).resolve().parents[3] / "ui" / "src"


def interface(name: str) -> tuple[set[str], set[str]]:
    """(every field, the required fields) of ``export interface NAME`` in ui/src."""
    for path in UI.glob("*.ts"):
        found = re.search(rf"export interface {name}\b[^{{]*\{{\n(.*?)\n\}}", path.read_text(), re.S)
        if found:
            fields = re.findall(r"^  (\w+)(\??):", found[1], re.M)
            return {f for f, _ in fields}, {f for f, optional in fields if not optional}
    raise AssertionError(f"no interface {name} in ui/src")


def check(name: str, sent: list[dict]) -> None:
    declared, required = interface(name)
    keys = set().union(*(set(s) for s in sent))
    assert keys <= declared, f"{name} lacks fields the server sends: {sorted(keys - declared)}"
    for s in sent:
        assert required <= set(s), f"{name} requires fields the server left out: {sorted(required - set(s))}"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry().load_all()


def test_the_catalog_matches_node_port_and_param_types(registry):
    entries = [spec.catalog_entry() for spec in registry.specs.values()]
    check("NodeTypeSpec", entries)
    check("PortSpec", [port for e in entries for port in e["inputs"] + e["outputs"]])
    check("ParamSpec", [param for e in entries for param in e["params"]])


def test_a_job_matches_the_job_type(tmp_path):
    queue = JobQueue.in_folder(tmp_path, "editor")
    job_id = queue.enqueue({"graph": {"nodeflow": 1, "nodes": {}}}, source="editor", title="t")
    queue.finish(job_id, "ok", outputs=[{"node": "save", "name": "path", "kind": "image", "path": "/x.png", "url": None}])
    jobs = queue.list()
    check("Job", jobs)
    check("JobOutput", [o for j in jobs for o in j["outputs"]])


def test_a_problem_matches_the_problem_type():
    check("Problem", [Problem("n", "image.save", "filename", "bad").to_json(), Problem.graph("whole graph").to_json()])
