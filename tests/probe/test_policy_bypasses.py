"""The probe's policy bypasses (issue 23.3), re-run as one table: each graph routes generated content
around the guard a policy asks for, and each is refused by the check every door uses
(``Executor.prepare``: the CLI, the editor, ``serve`` and ``app``), naming a node. The graph the
policy accepts still passes."""

from __future__ import annotations

import pytest

from nodeflow.graph.model import parse_graph
from nodeflow.nodetypes.registry import default_registry
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.probe.cases import BYPASSES, TEXT_POLICY, bypass_problems, guarded_text


@pytest.fixture(scope="module")
def executor(tmp_path_factory):
    home = tmp_path_factory.mktemp("bypass")
    return Executor(default_registry(), Settings(home=home / "home", output_dir=home / "out"))


@pytest.mark.parametrize("name", list(BYPASSES))
def test_every_bypass_is_refused(executor, name):
    problems = bypass_problems(name, executor)
    assert problems, f"{name}: the policy let it through"
    assert all(p.node for p in problems), problems


def test_the_guarded_graph_still_passes(executor):
    from nodeflow.check.policy import parse_policy

    executor.prepare(parse_graph({"nodeflow": 1, "nodes": guarded_text()}), policy=parse_policy(TEXT_POLICY, "p.toml"))
