"""Two writer processes on one dataset folder, taking turns: each sees what the other did (a shard the
other closed, logs it removed) although neither looks at the manifest or the staging folder again while
the lock file's change count stands. Real processes, each a long-lived writer like a Ray worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# a writer process: reads "INDEX" lines, adds that item, answers what add_item said
WRITER = """
import json, sys
from nodes.dataset.store import DatasetFolder
store = DatasetFolder(sys.argv[1], fmt="jsonl", shard_size=4, identity="two-writers")
for line in sys.stdin:
    index = int(line)
    try:
        said = store.add_item(index, {"id": f"{index:06d}", "text": f"item {index}"}, {})
    except Exception as exc:
        said = f"error: {exc}"
    print(json.dumps(said), flush=True)
"""


class Writer:
    def __init__(self, folder: Path):
        self.process = subprocess.Popen([sys.executable, "-c", WRITER, str(folder)], cwd=REPO, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        env={**os.environ, "PYTHONPATH": str(REPO)})

    def add(self, index: int) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{index}\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def test_writers_in_two_processes_see_each_others_shards(tmp_path):
    folder = tmp_path / "set"
    first, second = Writer(folder), Writer(folder)
    try:
        assert [first.add(0), first.add(1)] == ["added", "added"]
        # the second process stages 2 and 3, finds shard 0 full (with the first's records) and closes it
        assert [second.add(2), second.add(3)] == ["added", "added"]
        manifest = json.loads((folder / "manifest.json").read_text())
        assert [s["items"] for s in manifest["shards"]] == [["000000", "000001", "000002", "000003"]]
        # the first process must see that shard 0 is written (not stage item 3 again into a log the second
        # removed, where it would be lost), then both go on into shard 1
        assert first.add(3) == "kept"
        assert [first.add(4), second.add(5), first.add(6), second.add(7)] == ["added"] * 4
    finally:
        first.close()
        second.close()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [s["items"] for s in manifest["shards"]] == [[f"{i:06d}" for i in range(4)],
                                                        [f"{i:06d}" for i in range(4, 8)]]
    rows = [json.loads(line) for s in manifest["shards"] for line in (folder / s["name"]).read_text().splitlines()]
    assert rows == [{"id": f"{i:06d}", "text": f"item {i}"} for i in range(8)]
    assert not list((folder / ".nodeflow" / "staging").glob("*.log"))
