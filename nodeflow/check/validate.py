"""Validation: every problem of a graph at once, each tied to a node and a port.

``check_graph`` is the entry point that the CLI, the editor's validate route, ``serve`` and the
executor use (publishing a graph as a form checks its nodes alone: ``migrate_nodes`` and
``validate``). It applies the edits made before validation (migrating nodes written by older versions of their
type, ``--set NODE.PARAM=VALUE`` overrides, ``--sweep NODE.PARAM=A,B,C``), validates the graph and its
sweeps, runs every check plugged in with :func:`add_check` (model sources and input files, output
file names), then the policy (``nodeflow.check.policy``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from nodeflow.graph.inactive import inactive_nodes
from nodeflow.graph.model import Graph
from nodeflow.graph.order import bypass_source, topological_order
from nodeflow.graph.subgraph_paths import flat_paths
from nodeflow.graph.subgraphs import expand_subgraphs, is_subgraph
from nodeflow.graph.sweep_syntax import is_sweep
from nodeflow.nodetypes.decorator import node_memory_limit
from nodeflow.nodetypes.params import ParamError
from nodeflow.nodetypes.registry import Registry
from nodeflow.ports.core import compatible
from nodeflow.problems import Problem, did_you_mean

from .param_edits import apply_overrides, apply_sweeps
from .policy import problems_for as policy_problems
from .published import problems_for as published_problems
from .resolve_checks import resolve_check
from .sweeps import sweep_problems

__all__ = ["check_graph", "add_check", "CHECKS", "validate", "migrate_nodes", "find_cycle"]

# A check: (graph, registry, settings or None, policy or None) -> problems. Runs after the built-in
# validation, on the graph as edited (migrated, overrides and sweeps applied).
Check = Callable[[Graph, Registry, Any, Any], list[Problem]]
CHECKS: list[Check] = []


def add_check(check: Check) -> Check:
    """Plug a check into :func:`check_graph` (usable as a decorator). Adding one twice is harmless."""
    if check not in CHECKS:
        CHECKS.append(check)
    return check


def check_graph(
    graph: Graph,
    registry: Registry,
    settings: Any = None,
    *,
    policy: Any = None,
    overrides: Iterable[str] = (),
    sweeps: Iterable[str] = (),
    only: Iterable[str] | None = None,
) -> list[Problem]:
    """Every problem of ``graph`` as it would run. Edits ``graph`` in place (migrations, overrides,
    sweeps), as running it would. An empty list means it can run. ``only``: the nodes the run asks
    for, which the policy checks too (they may not show unguarded generated content)."""
    expand_subgraphs(graph)  # subgraph nodes become flat `SUB/INNER` nodes (a no-op the second time)
    overrides, _ = flat_paths(graph, overrides, None)
    problems = migrate_nodes(graph, registry)
    problems += apply_overrides(graph, registry, overrides)
    sweeps = list(sweeps)
    if sweeps:
        problems += apply_sweeps(graph, registry, sweeps)
    problems += validate(graph, registry)
    problems += sweep_problems(graph, registry, settings)
    for check in list(CHECKS):
        problems += check(graph, registry, settings, policy)
    # the policy given merged with the data folder's (or --policy's)
    problems += policy_problems(graph, registry, settings, policy, only=list(only or []))
    return problems


def migrate_nodes(graph: Graph, registry: Registry) -> list[Problem]:
    """Upgrade nodes saved by an older version of their type, one migration step at a time."""
    problems = []
    specs = registry.specs
    for node in graph.nodes.values():
        spec = specs.get(node.type)
        if spec is None or node.version >= spec.version:
            continue
        entry: dict[str, Any] = {"type": node.type, "params": node.params, "inputs": {k: list(v) for k, v in node.inputs.items()}}
        while node.version < spec.version:
            step = spec.migrations.get(node.version)
            if step is None:
                problems.append(
                    Problem(
                        node.id,
                        node.type,
                        None,
                        f"saved by version {node.version} of {node.type}; no migration to version "
                        f"{node.version + 1} exists",
                    )
                )
                break
            entry = step(entry)
            node.version += 1
        node.params = dict(entry.get("params", {}))
        node.inputs = {k: (v[0], v[1]) for k, v in entry.get("inputs", {}).items()}
    return problems


def validate(graph: Graph, registry: Registry) -> list[Problem]:
    """Return every problem of the graph (an empty list when it can run)."""
    problems = list(graph.load_problems)
    nodes = graph.nodes
    specs = registry.specs  # looked up a few times per node: no method call each time
    for node in nodes.values():
        spec = specs.get(node.type)
        if spec is None:
            if is_subgraph(node.type) and any(p.node == node.id for p in graph.load_problems):
                continue  # a subgraph node that could not be expanded: expansion said why
            problems.append(
                Problem(node.id, node.type, None, f"unknown node type{did_you_mean(node.type, registry.specs)}")
            )
            continue

        if node.version > spec.version:
            _add_problem(
                problems, node,
                f"saved by version {node.version} of {node.type}, newer than the installed version "
                f"{spec.version}; update the {spec.pack or 'its'} pack"
            )
        passed = spec.__dict__.get("_passed_values")
        if passed is None:  # per node type: (param, exact type, value) its checks accepted
            passed = spec.__dict__["_passed_values"] = set()
        for name, value in node.params.items():
            param = spec.params.get(name)
            if param is None:
                if name not in spec.inputs:
                    _add_problem(problems, node, f"unknown param{did_you_mean(name, spec.params)}", name)
                continue
            if name in node.inputs:
                continue  # the link supplies the value
            kind = type(value)
            if kind is dict and is_sweep(value):
                continue  # a sweep: each of its values is checked by nodeflow.check.sweeps
            seen = (name, kind, value) if kind in _PLAIN and param.validate is None else None
            if seen is not None and seen in passed:
                continue  # the same plain value passed this check before (a graph's many alike nodes)
            try:
                param.check(value)
            except ParamError as exc:
                if isinstance(value, list):  # most likely meant as a sweep
                    _add_problem(problems, node, f'{exc}; to run once per value write {{"sweep": {json.dumps(value, default=str)[:40]}}}', name)
                else:
                    _add_problem(problems, node, str(exc), name)
            else:
                if seen is not None:
                    if len(passed) >= PASSED_MEMO:
                        passed.clear()
                    passed.add(seen)

        if spec.estimate is not None and not any(p.node == node.id for p in problems):
            too_big = memory_problem(spec, node.params, set(node.inputs))
            if too_big is not None:
                _add_problem(problems, node, *too_big)

        for port, (source_id, output_name) in node.inputs.items():
            spec_input = spec.inputs.get(port)
            if spec_input is not None:
                target_type = spec_input.type
            elif port in spec.params:
                target_type = spec.params[port].port_type
            else:
                _add_problem(problems, node, f"no input or param of this name{did_you_mean(port, [*spec.inputs, *spec.params])}", port)
                continue
            source = nodes.get(source_id)
            if source is None:
                _add_problem(problems, node, f"linked to missing node {source_id!r}", port)
                continue
            source_spec = specs.get(source.type)
            if source_spec is None:
                continue  # the source's own problem is reported on the source
            output = source_spec.outputs.get(output_name)
            if output is None:
                have = ", ".join(source_spec.outputs) or "none"
                _add_problem(problems, node, f"linked to missing output {output_name!r} of {source_id} (its outputs: {have})", port)
                continue
            if output.type != target_type and not compatible(output.type, target_type):
                _add_problem(problems, node, f"type mismatch: {source_id}.{output_name} gives {output.type}, this port takes {target_type}", port)
                continue
            if source.mode == "bypass":
                passthrough = bypass_source(source_spec, output.type)
                if passthrough is None:
                    _add_problem(
                        problems, node,
                        f"{source_id} is bypassed and has no {output.type} input to pass through; "
                        f"un-bypass it or mute it",
                        port,
                    )

        for name, port_type in spec.required_inputs:
            if name not in node.inputs:
                _add_problem(problems, node, f"missing required input ({port_type})", name)

    cycle = find_cycle(graph)
    if cycle:
        first = nodes[cycle[0]]
        path = " -> ".join(cycle + [cycle[0]])
        problems.append(Problem(first.id, first.type, None, f"cycle: {path}; a graph must not loop back on itself"))
    problems += published_problems(graph, registry)
    inactive = inactive_nodes(graph, registry)  # muted, or feeding only muted nodes: they never run
    return [p for p in problems if p.node is None or p.node not in inactive]


# plain values whose check depends on the value alone (a param's own ``validate`` function may not),
# remembered per node type once they pass: (name, type, value), since 1, 1.0 and True are equal
_PLAIN = frozenset((str, int, float, bool, type(None)))
PASSED_MEMO = 4096


def _add_problem(problems: list[Problem], node: Any, message: str, port: str | None = None) -> None:
    """A problem of ``node`` (on ``port``), called only where there is one: nothing is made per node."""
    problems.append(Problem(node.id, node.type, port, message))


def memory_problem(spec, params: dict[str, Any], linked: set[str]) -> tuple[str, str | None] | None:
    """(message, param) when a node's ``estimate`` says it would need more than the per-node limit.
    Linked inputs and params are unknown before the run (``...``); an estimate that fails says nothing."""
    values = {name: param.default for name, param in spec.params.items()}
    values.update(params)
    values.update({name: ... for name in linked})  # linked values are known only when the node runs
    try:
        found = spec.estimate(values)
    except Exception:  # noqa: BLE001 - the node reports a bad value itself when it runs
        return None
    if not found:
        return None
    needed, param = found
    limit = node_memory_limit()
    if needed <= limit:
        return None
    return (
        f"would need about {needed / 2**20:,.0f} MB of memory, more than the per-node limit of "
        f"{limit / 2**20:,.0f} MB (NODEFLOW_NODE_MAX_MB): lower {param}",
        param,
    )


def find_cycle(graph: Graph) -> list[str]:
    """Node ids of one cycle, in data-flow order, or an empty list."""
    return topological_order(graph)[1]


def output_name_problems(graph: Graph, registry: Registry, settings: Any = None, policy: Any = None) -> list[Problem]:
    """An output node's ``filename`` (each value of a sweep too) must name a file inside the output
    folder: ``../escape.png`` or an absolute path is refused here, before a run, rather than by the
    node once it has run for every item before it."""
    problems = []
    for node in graph.nodes.values():
        spec = registry.specs.get(node.type)
        if spec is None or not spec.output or "filename" not in spec.params or "filename" in node.inputs:
            continue
        value = node.params.get("filename")
        values = value["sweep"] if isinstance(value, dict) and isinstance(value.get("sweep"), list) else [value]
        for name in values:
            if not isinstance(name, str) or not name:
                continue
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
                problems.append(Problem(node.id, node.type, "filename",
                                        f"{name!r} leaves the output folder: give a name inside it (sub-folders allowed, no '..')"))
                break
    return problems


add_check(resolve_check)  # model sources and input files exist (with settings; nodeflow.check.resolve_checks)
add_check(output_name_problems)  # output file names stay inside the output folder
