"""Arrange on a graph with groups (POST /api/arrange without a selection): each group's nodes stay together
and no group's frame (as the editor draws it around its nodes) overlaps another's or a node outside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nodeflow.graph.group_layout import FRAME_HEAD, FRAME_SIDE, arrange_with_groups, group_members
from nodeflow.graph.layout import node_size, overlaps
from nodeflow.graph.model import parse_graph
from nodeflow.nodetypes.registry import Registry

GRAPHS = Path(__file__).resolve().parents[3] / "graphs"
GROUPED = sorted(p.name for p in GRAPHS.glob("*.json") if json.loads(p.read_text()).get("groups"))


@pytest.fixture(scope="module")
def registry():
    return Registry().load_all()


def cross(a: tuple, b: tuple) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


@pytest.mark.parametrize("name", GROUPED)
def test_arranged_groups_never_overlap(name, registry):
    graph = parse_graph(json.loads((GRAPHS / name).read_text()))
    positions = arrange_with_groups(graph, registry)
    assert set(positions) == set(graph.nodes)
    boxes = {}
    for nid, (x, y) in positions.items():
        w, h = node_size(graph.nodes[nid], registry, graph)
        boxes[nid] = (x, y, x + w, y + h)
    frames = []
    for members in group_members(graph):
        frames.append((min(boxes[n][0] for n in members) - FRAME_SIDE, min(boxes[n][1] for n in members) - FRAME_HEAD,
                       max(boxes[n][2] for n in members) + FRAME_SIDE, max(boxes[n][3] for n in members) + FRAME_SIDE,
                       set(members)))
    assert len(frames) >= 1
    for i, a in enumerate(frames):
        for b in frames[i + 1:]:
            assert not cross(a, b), (name, a[4], b[4])
        for nid, box in boxes.items():
            assert nid in a[4] or not cross(a, box), (name, nid, a[4])
    assert not overlaps(graph, registry)


def test_a_graph_without_groups_is_laid_out_as_before(registry):
    from nodeflow.graph.layout import arrange

    text = (GRAPHS / "hello_image.json").read_text()
    plain = parse_graph(json.loads(text))
    plain.groups = []
    again = parse_graph(json.loads(text))
    again.groups = []
    assert arrange_with_groups(plain, registry) == arrange(again, registry)
