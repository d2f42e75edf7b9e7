"""``--set`` and ``--only`` paths of a graph whose subgraphs were expanded, made flat: ``upscaler.resize.width``
names the inner node ``upscaler/resize``, an exposed param names every inner param it feeds, and a subgraph
asked for by ``--only`` stands for its last inner nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .model import Graph

__all__ = ["flat_paths", "subgraph_overrides"]


def flat_paths(graph: Graph, overrides: Iterable[str], only: Iterable[str] | None) -> tuple[list[str], list[str]]:
    """``--set`` and ``--only`` of an expanded graph, with subgraph paths made flat.

    ``upscaler.resize.width=512`` sets the inner node ``upscaler/resize``; ``upscaler.width=512`` sets
    every inner param the exposed ``width`` feeds; ``--only upscaler`` asks for the subgraph's last nodes.
    """
    return subgraph_overrides(graph, overrides), _only(graph, list(only or []))


def _only(graph: Graph, only: list[str]) -> list[str]:
    flat = []
    for target in only:
        prefix = target.replace(".", "/") + "/"
        inside = [nid for nid in graph.nodes if nid.startswith(prefix)] if target not in graph.nodes else []
        if not inside:
            flat.append(target)
            continue
        read = {src for nid in inside for src, _ in graph.nodes[nid].inputs.values()}
        flat += [nid for nid in inside if nid not in read]
    return flat


def subgraph_overrides(graph: Graph, overrides: Iterable[str]) -> list[str]:
    """Rewrite ``--set`` paths into flat ones (see :func:`flat_paths`)."""
    rewritten = []
    for text in overrides:
        target, sep, value = text.partition("=")
        path, dot, param = target.rpartition(".")
        node_id = path.replace(".", "/")
        if not sep or not dot or path in graph.nodes:
            rewritten.append(text)
        elif node_id in graph.nodes:
            rewritten.append(f"{node_id}.{param}={value}")
        elif (node_id, param) in graph.exposed:
            rewritten += [f"{n}.{p}={value}" for n, p in _exposed_targets(graph, node_id, param)]
        else:
            rewritten.append(text)
    return rewritten


def _exposed_targets(graph: Graph, node_id: str, param: str) -> list[tuple[str, str]]:
    found = []
    for target in graph.exposed[(node_id, param)]:
        found += _exposed_targets(graph, *target) if target in graph.exposed else [target]
    return found
