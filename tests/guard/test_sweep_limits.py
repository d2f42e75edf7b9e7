"""Sweep sizes are limits of validation, not only of the run: ``validate`` refuses what ``run``
would (a product of sweeps past 10,000 items, a list that long), and range arithmetic that would
overflow (to 1e400, a 400-digit bound, a step so small the count is astronomical) is a problem on
the param, never an OverflowError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.guard.governance_support import cli


def graph(tmp_path: Path, seed, width=32) -> Path:
    path = tmp_path / "g.json"
    text = json.dumps({"nodeflow": 1, "nodes": {
        "pic": {"type": "image.new", "params": {"width": width, "height": 32, "seed": seed}},
        "show": {"type": "image.blur", "inputs": {"image": ["pic", "image"]}},
    }})
    path.write_text(text.replace('"BIG"', "1e400").replace('"HUGE_INT"', "9" * 400))
    return path


@pytest.mark.parametrize("seed, width, said", [
    ({"sweep": list(range(200))}, {"sweep": list(range(16, 216))}, "mapped over 200 x 200 = 40,000 items"),
    ({"sweep": list(range(10_001))}, 32, "the sweep has 10,001 values"),
    ({"sweep": {"from": 0, "to": "BIG", "step": 1}}, 32, "finite numbers"),
    ({"sweep": {"from": 0, "to": "HUGE_INT", "step": 1}}, 32, "finite numbers"),
    ({"sweep": {"from": 0, "to": 10, "step": 1e-300}}, 32, "more than 10,000 values"),
])
def test_validate_refuses_what_run_would(tmp_path, seed, width, said):
    path = graph(tmp_path, seed, width)
    for command in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "out")]):
        done = cli(command, tmp_path / "home")
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert said in done.stderr and "pic (image.new)" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_zipped_sweeps_count_once(tmp_path):
    values = list(range(16, 216))
    nodes = {"pic": {"type": "image.new", "params": {"width": {"sweep": values, "zip": "z"},
                                                      "seed": {"sweep": values, "zip": "z"}}}}
    path = tmp_path / "z.json"
    path.write_text(json.dumps({"nodeflow": 1, "nodes": nodes}))
    done = cli(["validate", str(path)], tmp_path / "home")
    assert done.returncode == 0, done.stderr


def test_a_symlink_loop_as_a_sweep_file_is_a_problem_not_a_traceback(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "a").symlink_to(work / "b")
    (work / "b").symlink_to(work / "a")
    path = work / "g.json"
    path.write_text(json.dumps({"nodeflow": 1, "nodes": {"t": {"type": "core.text", "params": {"text": "x"}},
                                                          "show": {"type": "core.show_text", "inputs": {"text": ["t", "text"]}}}}))
    done = cli(["run", str(path), "--sweep", "t.text=@a", "--out", str(tmp_path / "out")], tmp_path / "home", cwd=work)
    assert done.returncode == 2, done.stderr
    assert "sweep file 'a' is a loop of symbolic links" in done.stderr and "Traceback" not in done.stderr
