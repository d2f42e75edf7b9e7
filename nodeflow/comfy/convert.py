"""A ComfyUI workflow turned into a nodeflow graph, with a report of what mapped, what is approximate
and what is unknown.

Reroutes dissolve into the links they carry; notes become comments (the graph's ``ui.comments``);
primitive nodes become our primitive nodes linked into the params they fed; positions, titles,
colours, groups, muted (mode 2) and bypassed (mode 4) nodes are kept. A node of a class we do not
know stays as a placeholder of type ``comfy.CLASS`` with its widget values, so the rest still opens
and validation names it. Model file names become the loaders' sources, for the user to point at
local files.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from .builder import NOTES, PLACEHOLDER_PREFIX, ImportReport, convert_nodes, node_looks, node_order
from .group_nodes import with_group_nodes_as_subgraphs
from .read import ComfyImportError
from .subgraphs import convert_definitions
from .video_latents import decode_video_latents
from .workflow import from_prompt, from_workflow

if TYPE_CHECKING:
    from nodeflow.graph.model import Graph

__all__ = ["ImportReport", "convert", "PLACEHOLDER_PREFIX", "MAX_NODES"]

MAX_NODES = 10_000  # the largest public workflows have a few hundred nodes
MAX_GROUPS = 1_000  # ... and a few dozen groups (each group looks at the nodes in its columns)


def convert(kind: str, document: dict[str, Any], container: str, *, title: str = "") -> tuple[Graph, ImportReport]:
    """Build our graph from a classified ComfyUI document (see :func:`nodeflow.comfy.read.read_document`)."""
    check_size(kind, document)
    report = ImportReport(kind, container)
    subgraphs: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    if kind == "workflow":

        # legacy group nodes (extra.groupNodes) become ComfyUI subgraphs first, then ours like any other
        document = with_group_nodes_as_subgraphs(document, report.warnings)
        nodes, groups, warnings = from_workflow(document)
        report.warnings += warnings
        # ComfyUI's own subgraphs (2025): definitions of ours, nodes of type subgraph.NAME
        definitions, subgraphs = convert_definitions(document, report)
    else:
        nodes, groups = from_prompt(document), []
    builder = convert_nodes(nodes, report, subgraphs)
    graph = builder.graph
    decode_video_latents(graph)  # ComfyUI's one VAEDecode: ours for video latents gives frames
    graph.definitions = definitions
    graph.meta = {"title": title or "Imported ComfyUI workflow",
                  "description": f"Imported from a ComfyUI {'workflow' if kind == 'workflow' else 'API prompt'}."}
    report.nodes = len(graph.nodes) - len(builder.helpers)
    comments = []
    for node in sorted(nodes.values(), key=node_order):
        if node.cls in NOTES:
            text = (node.widgets or [""])[0] if node.widgets else node.values.get("text", "")
            comment: dict[str, Any] = {"text": str(text), **node_looks(node)}
            if node.size is not None:
                comment["size"] = [round(node.size[0]), round(node.size[1])]
            comments.append(comment)
    if comments:
        graph.ui["comments"] = comments
    report.comments = len(comments)
    graph.groups = _groups(groups, graph)
    return graph, report


def check_size(kind: str, document: dict[str, Any]) -> None:
    """Refuse a workflow of more nodes than MAX_NODES (counting those inside subgraphs and group nodes)."""
    if kind == "prompt":
        total = len(document)
    else:
        total = len(document["nodes"])
        definitions = document.get("definitions")
        subgraphs = definitions.get("subgraphs") if isinstance(definitions, dict) else None
        for entry in subgraphs if isinstance(subgraphs, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("nodes"), list):
                total += len(entry["nodes"])
        extra = document.get("extra")
        groups = extra.get("groupNodes") if isinstance(extra, dict) else None
        for entry in groups.values() if isinstance(groups, dict) else []:
            if isinstance(entry, dict) and isinstance(entry.get("nodes"), list):
                total += len(entry["nodes"])
    if total > MAX_NODES:
        raise ComfyImportError(f"the workflow has {total:,} nodes, more than the {MAX_NODES:,} an import takes; "
                               "split it into smaller workflows")
    groups_list = document.get("groups") if kind == "workflow" else None
    if isinstance(groups_list, list) and len(groups_list) > MAX_GROUPS:
        raise ComfyImportError(f"the workflow has {len(groups_list):,} groups, more than the {MAX_GROUPS:,} an import takes")


def _groups(groups: list[dict[str, Any]], graph: Graph) -> list[dict[str, Any]]:
    """ComfyUI's groups (boxes on the canvas) as ours (lists of the nodes inside). Nodes are sorted by x
    once, so each box looks only at the nodes in its columns, not at every node."""
    placed = sorted((pos[0], pos[1], order, nid) for order, (nid, node) in enumerate(graph.nodes.items())
                    if (pos := node.ui.get("pos")))
    xs = [entry[0] for entry in placed]
    found = []
    for group in groups:
        box = group.get("bounding")
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
            continue
        x, y, w, h = box
        inside = placed[bisect.bisect_left(xs, x):bisect.bisect_right(xs, x + w)]
        members = [nid for _, node_y, _, nid in sorted(inside, key=lambda e: e[2]) if y <= node_y <= y + h]
        entry: dict[str, Any] = {"title": str(group.get("title", "Group")), "nodes": members}
        if isinstance(group.get("color"), str):
            entry["colour"] = group["color"]
        found.append(entry)
    return found
