"""The probe suite's servers, started once for the session and at the same time: the editor (opened
on a graph with a policy beside it, ``story.json`` + ``story.policy.toml``), `serve` and the app form."""

from __future__ import annotations

import json

import pytest

from tests.probe.cases import TEXT_POLICY, guarded_text
from tests.probe.servers import all_three


def unguarded_story() -> dict:
    """writer -> output.text with the guard left out: what the story's policy refuses."""
    nodes = guarded_text()
    nodes["out"]["inputs"]["text"] = ["writer", "text"]
    return {"nodeflow": 1, "nodes": nodes}


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("probe")
    graphs = folder / "graphs"
    graphs.mkdir()
    (graphs / "story.json").write_text(json.dumps(unguarded_story()))
    (graphs / "story.policy.toml").write_text(TEXT_POLICY)
    with all_three(folder, editor_graph=graphs / "story.json") as started:
        yield started
