"""Sweeps over a list a node makes: planning in two phases.

A sweep written ``{"sweep": {"each": [NODE, OUTPUT]}}`` maps over a list that NODE makes when it runs,
so its items are not known when the graph is planned. Planning a graph with sweeps then goes:

1. ``plan_sweeps``, when the run is prepared: plain sweeps are expanded at once
   (``sweeps.expand_sweeps``); a graph with list sweeps keeps its plan unexpanded and names the list
   sources in ``Plan.lists_from``;
2. when it runs, the run makes those lists first (``sources_plan``: the plan of the list sources
   alone, whose results the caches keep, so the run proper does not make them again); then
   ``plan_over_lists`` writes the lists into a copy of the graph, has it checked again (``check``,
   given by the run: checking is a stage above planning) and expands its sweeps as plain ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nodeflow.problems import GraphInvalid

from .planner import make_plan
from .sweeps import expand_sweeps, first_items, list_sources, resolve_lists

if TYPE_CHECKING:
    from collections.abc import Callable

    from nodeflow.graph.model import Graph
    from nodeflow.nodetypes.registry import Registry
    from nodeflow.problems import Problem

    from .planner import Plan

__all__ = ["plan_sweeps", "sources_plan", "plan_over_lists", "has_sweep"]


def has_sweep(graph: Graph) -> bool:
    """Whether any param of ``graph`` is swept."""
    for node in graph.nodes.values():  # loops, not nested generators: asked of every graph prepared
        for value in node.params.values():
            if isinstance(value, dict) and "sweep" in value:
                return True
    return False


def plan_sweeps(plan: Plan, registry: Registry, settings: Any = None, *, only: list[str] | None = None,
                policy: Any = None, first: int | None = None) -> Plan:
    """Phase 1: ``plan`` with its sweeps expanded (only the ``first`` items of each, for a preview); or,
    when a sweep maps over a list a node makes, the plan as it is with ``lists_from`` (the list
    sources), ``only``, ``policy`` and the preview kept for phase 2."""
    graph = plan.graph
    if graph is None or not has_sweep(graph):
        return plan
    sources = list_sources(graph)
    if not sources:
        expanded = expand_sweeps(plan, registry, settings)
        return first_items(expanded, first) if first else expanded
    plan.lists_from = sources
    plan.only = only
    plan.policy = policy  # checked again once the lists are made
    plan.preview = {"first": first, "items": {}} if first else None
    return plan


def sources_plan(plan: Plan, registry: Registry) -> Plan:
    """Phase 2, first half: the plan that makes the lists ``plan``'s sweeps map over."""
    assert plan.graph is not None
    return make_plan(plan.graph, registry, plan.lists_from)


def plan_over_lists(plan: Plan, outputs: dict[str, dict[str, Any]], registry: Registry, settings: Any,
                    check: Callable[[Graph, Any, list[str] | None], list[Problem]]) -> Plan:
    """Phase 2, second half: ``plan``'s graph with each list sweep replaced by the list its node made
    (``outputs``: what the sources plan made), checked by ``check(graph, policy, only)`` (raises
    GraphInvalid with its problems) and planned with every sweep expanded."""
    assert plan.graph is not None
    resolved = resolve_lists(plan.graph, outputs)
    problems = check(resolved, plan.policy, plan.only)
    if problems:
        raise GraphInvalid(problems)
    expanded = expand_sweeps(make_plan(resolved, registry, plan.only), registry, settings)
    return first_items(expanded, plan.preview["first"]) if plan.preview else expanded
