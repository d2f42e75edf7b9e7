"""A disk-cached node's entry is written without holding the caches' shared lock: while one run
writes a large entry (seconds for a model's weights), another run on the same executor looks up its
caches and finishes. Events, no timings: the first run's write waits until the second has finished."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from nodeflow.nodetypes.registry import Registry
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.engine_support import PACKS, graph_of

GATE_PACK = '''
import threading

from nodeflow import Param, PortType, node, register_type

SAVING = threading.Event()  # the entry's write has started
RELEASE = threading.Event()  # the test lets it finish


class Held:
    def __init__(self, value):
        self.value = value


def _save_when_released(held, folder):
    SAVING.set()
    RELEASE.wait(120)  # never forever: a broken test ends
    (folder / "value").write_text(str(held.value))


HELD = register_type(PortType("GateHeld", py=Held, save=_save_when_released,
                              load=lambda folder: Held(int((folder / "value").read_text()))))


@node("gate.held", category="Test", cache="disk")
def held(*, value: int = Param(1)) -> HELD:
    return Held(value)
'''

WAIT_S = 60  # a generous bound on a two-node run of a loaded machine (it takes well under a second): only
             # so that a run blocked behind the write ends the test with a failure instead of hanging it


def test_another_run_finishes_while_a_disk_entry_is_written(tmp_path: Path):
    gates = tmp_path / "gatepack"
    gates.mkdir()
    (gates / "gatepack.py").write_text(GATE_PACK)
    registry = Registry().load_all(extra_folders=[PACKS, gates])
    pack = registry.specs["gate.held"].func.__globals__
    executor = Executor(registry, Settings(home=tmp_path / "home", output_dir=tmp_path / "out"))
    results: dict[str, Any] = {}

    writer = threading.Thread(target=lambda: results.update(writer=executor.run(graph_of({"held": {"type": "gate.held"}}))))
    writer.start()
    try:
        assert pack["SAVING"].wait(WAIT_S), "the disk write never started"
        other = threading.Thread(target=lambda: results.update(other=executor.run(
            graph_of({"one": {"type": "test.number", "params": {"value": 2}},
                      "sum": {"type": "test.add", "inputs": {"a": ["one", "value"]}}}))))
        other.start()
        other.join(WAIT_S)
        assert not other.is_alive(), "the second run waited for the first run's disk write"
        assert writer.is_alive()  # the write is still held: the second run finished beside it
    finally:
        pack["RELEASE"].set()
        writer.join(WAIT_S)
    assert results["other"].status == "ok" and results["other"].outputs["sum"]["value"] == 3
    assert results["writer"].status == "ok"
    fresh = Executor(registry, Settings(home=tmp_path / "home", output_dir=tmp_path / "out"))  # memory empty
    again = fresh.run(graph_of({"held": {"type": "gate.held"}}))
    assert again.status == "ok" and again.ran == []  # loaded from the entry the first run wrote
