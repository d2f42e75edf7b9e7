"""Sweeps: one param (or unlinked input) takes several values, and what depends on it is mapped.

In a graph file, a swept param holds an object instead of a value::

    "seed":   {"sweep": [1, 2, 3]}
    "prompt": {"sweep": {"file": "prompts.txt"}}          # one value per non-empty line
    "scale":  {"sweep": {"from": 1, "to": 2, "step": 0.5}} # 1, 1.5, 2 (ends included)
    "steps":  {"sweep": [10, 20], "zip": "a"}             # zipped with every sweep of group "a"
    "prompt": {"sweep": {"each": ["lines", "json"]}}      # each item of a list an upstream node makes

Sweeps combine as a product; sweeps in the same ``zip`` group advance together (their lengths must
match). The command line adds sweeps with ``--sweep NODE.PARAM=1,2,3`` or ``=@file.txt`` (and
``--zip`` zips all of them). Planning maps every node downstream of a sweep over its items: each item
is a planned copy ``NODE[i]`` with its own params, cache key, outputs and provenance (the graph as
that item saw it, with ``item``). A node input declared as a list (``list[Image]``) collects every item
of what it reads into one list instead of being mapped.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from nodeflow.cache_keys import static_part
from nodeflow.nodetypes.params import ParamError
from nodeflow.problems import Problem

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from nodeflow.graph.model import Graph
    from nodeflow.nodetypes.registry import Registry

    from .planner import Plan, PlannedNode

__all__ = ["apply_sweeps", "sweep_problems", "expand_sweeps", "first_items", "is_sweep", "list_sources", "resolve_lists",
           "MAX_ITEMS"]

MAX_ITEMS = 10_000  # items of one node; more is almost surely a mistake (a product of long lists)


def is_sweep(value: Any) -> bool:
    return isinstance(value, dict) and "sweep" in value


@dataclass
class _Sweep:
    node: str
    param: str
    values: list[Any]
    group: str | None


# --- command line --------------------------------------------------------------------------------


def apply_sweeps(graph: Graph, registry: Registry, texts: Iterable[str], settings: Any = None) -> list[Problem]:
    """Write ``NODE.PARAM=A,B,C`` / ``NODE.PARAM=@FILE`` sweeps into the graph (``zip`` when a text is
    prefixed ``zip:``). Values are parsed by the param's kind."""
    problems = []
    for text in texts:
        group = None
        if text.startswith("zip:"):
            group, text = "cli", text[4:]
        target, sep, raw = text.partition("=")
        node_id, dot, name = target.rpartition(".")
        if not sep or not dot or not node_id or not name:
            problems.append(Problem.graph(f"--sweep {text!r}: expected NODE.PARAM=A,B,C or NODE.PARAM=@FILE"))
            continue
        node = graph.nodes.get(node_id)
        if node is None:
            problems.append(Problem.graph(f"--sweep {text!r}: no node {node_id!r}"))
            continue
        spec = registry.get(node.type)
        if spec is None:
            continue
        param = spec.params.get(name)
        if param is None and name not in spec.inputs:
            problems.append(Problem(node_id, node.type, name, f"--sweep: no param {name!r}"))
            continue
        if raw.startswith("@"):
            sweep: Any = {"file": raw[1:]}
        else:
            sweep = []
            for part in raw.split(","):
                try:
                    sweep.append(param.parse(part.strip()) if param is not None else part.strip())
                except ParamError as exc:
                    problems.append(Problem(node_id, node.type, name, f"--sweep: {exc}"))
        entry: dict[str, Any] = {"sweep": sweep}
        if group:
            entry["zip"] = group
        node.params[name] = entry
        node.inputs.pop(name, None)
    return problems


# --- validation ----------------------------------------------------------------------------------


def sweep_problems(graph: Graph, registry: Registry, settings: Any = None) -> list[Problem]:
    """Every problem of the graph's sweeps: unreadable values, values a param refuses, an empty
    sweep, zip groups of unequal lengths, sweeps on linked ports."""
    problems: list[Problem] = []
    sweeps = _collect(graph, registry, settings, problems)
    if sweeps and not problems:
        problems += _item_count_problems(graph, registry, sweeps)
    return problems


def _item_count_problems(graph: Graph, registry: Registry, sweeps: list[_Sweep]) -> list[Problem]:
    """What ``expand_sweeps`` would refuse, said by validation: a node mapped over more than
    MAX_ITEMS items (the product of the sweeps it reads, a zip group counting once)."""
    from nodeflow.graph.order import topological_order

    lengths: dict[str, int] = {}  # axis (a zip group or one sweep) -> its length
    own: dict[str, set[str]] = {}
    for sweep in sweeps:
        axis = f"zip:{sweep.group}" if sweep.group is not None else f"{sweep.node}.{sweep.param}"
        lengths[axis] = len(sweep.values)
        own.setdefault(sweep.node, set()).add(axis)
    order, cycle = topological_order(graph)
    if cycle:
        return []  # validation reports the cycle
    specs = registry.specs
    axes_of: dict[str, set[str]] = {}
    for nid in order:
        node = graph.nodes[nid]
        spec = specs.get(node.type)
        found = set(own.get(nid, ()))
        for arg, (src, _) in node.inputs.items():
            spec_input = spec.inputs.get(arg) if spec is not None else None
            if src in axes_of and not getattr(spec_input, "many", False):  # a list input gathers the items
                found |= axes_of[src]
        axes_of[nid] = found
        count = 1
        for axis in found:
            count *= lengths[axis]
            if count > MAX_ITEMS:
                sizes = " x ".join(str(lengths[a]) for a in sorted(found))
                return [Problem(nid, node.type, None,
                                f"mapped over {sizes} = {_product(lengths[a] for a in found):,} items, more than "
                                f"{MAX_ITEMS:,}: shorten the sweeps (or zip them)")]
    return []


def _product(values: Any) -> int:
    total = 1
    for value in values:
        total *= value
    return total


def _collect(graph: Graph, registry: Registry, settings: Any, problems: list[Problem]) -> list[_Sweep]:
    sweeps: list[_Sweep] = []
    specs = registry.specs
    for node in graph.nodes.values():
        spec = specs.get(node.type)
        for name, value in node.params.items():
            if spec is None:
                break
            if not is_sweep(value):
                continue

            def bad(message: str) -> None:
                problems.append(Problem(node.id, node.type, name, message))  # noqa: B023  (called in this same iteration)

            if name not in spec.params and name not in spec.inputs:
                continue  # reported by validate as an unknown param
            if name in node.inputs:
                bad("swept and linked at once: remove the link or the sweep")
                continue
            extra = set(value) - {"sweep", "zip"}
            if extra:
                bad(f"unknown sweep key {sorted(extra)[0]!r} (a sweep has \"sweep\" and optionally \"zip\")")
                continue
            if isinstance(value["sweep"], dict) and "each" in value["sweep"]:
                _check_each(graph, registry, node.id, value["sweep"]["each"], bad)
                continue  # its values exist only once the upstream node has run
            values = _values(value["sweep"], settings, bad)
            if values is None:
                continue
            if not values:
                bad("empty sweep: give it at least one value")
                continue
            if len(values) > MAX_ITEMS:
                bad(f"the sweep has {len(values):,} values, more than {MAX_ITEMS:,}")
                continue
            param = spec.params.get(name)
            checked = []
            from_file = isinstance(value["sweep"], dict) and "file" in value["sweep"]
            for index, item in enumerate(values):
                try:
                    if from_file and param is not None:  # lines are text: read them as --set reads values
                        item = param.parse(item)
                    checked.append(param.check(item) if param is not None else _input_value(spec, name, item))
                except (ParamError, ValueError) as exc:
                    bad(f"sweep value {index + 1} ({json.dumps(item, default=str)[:40]}): {exc}")
                    break
            else:
                group = value.get("zip")
                if group is not None and not isinstance(group, str):
                    bad('"zip" must name a group (a string)')
                    continue
                sweeps.append(_Sweep(node.id, name, checked, group))
    groups: dict[str, _Sweep] = {}
    for sweep in sweeps:
        if sweep.group is None:
            continue
        first = groups.setdefault(sweep.group, sweep)
        if len(first.values) != len(sweep.values):
            problems.append(Problem(sweep.node, graph.nodes[sweep.node].type, sweep.param,
                                    f"zip group {sweep.group!r}: {sweep.node}.{sweep.param} has {len(sweep.values)} values "
                                    f"but {first.node}.{first.param} has {len(first.values)}; zipped sweeps need equal lengths"))
    return sweeps


def _check_each(graph: Graph, registry: Registry, node_id: str, each: Any, bad: Any) -> None:
    if not (isinstance(each, list) and len(each) == 2 and all(isinstance(p, str) and p for p in each)):
        bad('"each" names a list an upstream node makes: ["NODE", "OUTPUT"]')
        return
    source_id, output = each
    source = graph.nodes.get(source_id)
    if source is None or source_id == node_id:
        bad(f"\"each\": no node {source_id!r} to take the list from")
        return
    spec = registry.get(source.type)
    if spec is None:
        return
    if output not in spec.outputs:
        bad(f"\"each\": {source_id} has no output {output!r} (its outputs: {', '.join(spec.outputs) or 'none'})")
    elif spec.outputs[output].type not in ("JSON", "Any", "Frames"):
        bad(f"\"each\": {source_id}.{output} gives {spec.outputs[output].type}, not a list")
    elif any(is_sweep(v) for v in source.params.values()) or _reads_a_sweep(graph, source_id):
        bad(f"\"each\": {source_id} is itself mapped over a sweep; map over a list made once")


def _reads_a_sweep(graph: Graph, node_id: str, seen: set[str] | None = None) -> bool:
    seen = seen if seen is not None else set()
    for src, _ in graph.nodes[node_id].inputs.values():
        if src in seen or src not in graph.nodes:
            continue
        seen.add(src)
        if any(is_sweep(v) for v in graph.nodes[src].params.values()) or _reads_a_sweep(graph, src, seen):
            return True
    return False


def list_sources(graph: Graph) -> list[str]:
    """The nodes whose lists an ``each`` sweep maps over (they run before the sweep is planned)."""
    found = []
    for node in graph.nodes.values():
        for value in node.params.values():
            if is_sweep(value) and isinstance(value["sweep"], dict) and "each" in value["sweep"]:
                found.append(value["sweep"]["each"][0])
    return sorted(set(found))


def resolve_lists(graph: Graph, outputs: dict[str, dict[str, Any]]) -> Graph:
    """A copy of ``graph`` with each ``each`` sweep replaced by the list its node made."""
    resolved = copy.copy(graph)
    resolved.nodes = dict(graph.nodes)
    for node_id, node in graph.nodes.items():
        for name, value in node.params.items():
            if is_sweep(value) and isinstance(value["sweep"], dict) and "each" in value["sweep"]:
                source, output = value["sweep"]["each"]
                items = outputs[source][output]
                entry = {**value, "sweep": list(items) if isinstance(items, (list, tuple)) else [items]}
                target = resolved.nodes[node_id]
                if target is node:
                    target = resolved.nodes[node_id] = replace(node, params=dict(node.params))
                target.params[name] = entry
    return resolved


def _values(sweep: Any, settings: Any, bad: Any) -> list[Any] | None:
    if isinstance(sweep, list):
        return sweep
    if not isinstance(sweep, dict):
        bad('a sweep is a list of values, {"file": NAME}, or {"from": A, "to": B, "step": C}')
        return None
    if "file" in sweep:
        return _file_lines(sweep["file"], settings, bad)
    if "from" in sweep and "to" in sweep:
        start, stop, step = sweep["from"], sweep["to"], sweep.get("step", 1)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop, step)) or step <= 0:
            bad('a range sweep needs numbers "from", "to" and a positive "step"')
            return None
        if not all(math.isfinite(float(v)) for v in (start, stop, step)) if _fits_float(start, stop, step) else True:
            bad('a range sweep needs finite numbers "from", "to" and "step" (no infinity, nothing past 1e308)')
            return None
        span = (float(stop) - float(start)) / float(step)
        if not math.isfinite(span) or span > MAX_ITEMS:
            bad(f"the range has more than {MAX_ITEMS:,} values")
            return None
        count = int(span + 1e-9) + 1
        if count > MAX_ITEMS:
            bad(f"the range has {count} values, more than {MAX_ITEMS}")
            return None
        return [start + i * step for i in range(max(0, count))]
    bad('a sweep is a list of values, {"file": NAME}, or {"from": A, "to": B, "step": C}')
    return None


def _fits_float(*values: Any) -> bool:
    """Whether every value converts to a float (a 400-digit integer does not)."""
    try:
        for value in values:
            float(value)
    except OverflowError:
        return False
    return True


def _file_lines(name: Any, settings: Any, bad: Any) -> list[str] | None:
    from nodeflow.files import PathNotAllowed, resolve_inside
    from nodeflow.settings import Settings

    if not isinstance(name, str) or not name:
        bad('"file" must name a text file')
        return None
    folders = (settings or Settings()).input_dirs()
    try:
        path = resolve_inside(name, folders, must_exist=True)
        text = path.read_text(encoding="utf-8")
    except PathNotAllowed as exc:
        looped = "loop of symbolic links" in str(exc)
        bad(f"sweep file {name!r} is {'a loop of symbolic links' if looped else 'outside the input folders'}")
        return None
    except (OSError, UnicodeDecodeError):
        where = ", ".join(str(f) for f in folders[:3])
        bad(f"sweep file {name!r} not found (looked in {where})")
        return None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _input_value(spec: Any, name: str, value: Any) -> Any:
    if spec.inputs[name].type in ("Any", "JSON"):
        return value
    kinds: dict[str, type | tuple[type, ...]] = {"String": str, "Int": int, "Float": (int, float), "Boolean": bool}
    expected = kinds.get(spec.inputs[name].type)
    if expected is None:
        raise ValueError(f"input {name!r} takes {spec.inputs[name].type}, which a graph file cannot hold; sweep a param")
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
        raise ValueError(f"expected {spec.inputs[name].type}")
    return value


# --- planning ------------------------------------------------------------------------------------


def expand_sweeps(plan: Plan, registry: Registry, settings: Any = None) -> Plan:
    """Map every node downstream of a sweep over its items (see the module docstring)."""
    from .planner import Plan

    graph = plan.graph
    assert graph is not None
    problems: list[Problem] = []
    sweeps = _collect(graph, registry, settings, problems)
    if problems:  # validation passed with other settings (a sweep file since removed, say)
        from nodeflow.problems import GraphInvalid

        raise GraphInvalid(problems)
    # 1. axes: a zip group is one axis, any other sweep is an axis of its own
    axes: list[list[_Sweep]] = []
    by_group: dict[str, int] = {}
    for sweep in sweeps:
        if sweep.group is not None and sweep.group in by_group:
            axes[by_group[sweep.group]].append(sweep)
            continue
        if sweep.group is not None:
            by_group[sweep.group] = len(axes)
        axes.append([sweep])
    own: dict[str, set[int]] = {}
    for index, axis in enumerate(axes):
        for sweep in axis:
            own.setdefault(sweep.node, set()).add(index)
    lengths = [len(axis[0].values) for axis in axes]

    # 2. the axes of each planned node: its own and those of what it reads (not through a list input)
    node_axes: dict[str, tuple[int, ...]] = {}
    for planned in plan.order:
        found = set(own.get(planned.id, ()))
        for arg, src, _, _ in planned.links:
            if not _gathers(planned, arg):
                found.update(node_axes[src])
        node_axes[planned.id] = tuple(sorted(found))

    # 3. one planned copy per item
    order: list[PlannedNode] = []
    copies: dict[str, list[PlannedNode]] = {}
    for planned in plan.order:
        mine = node_axes[planned.id]
        count = 1
        for axis_index in mine:
            count *= lengths[axis_index]
        if count > MAX_ITEMS:
            raise _too_many(planned, count)
        made = []
        for item, combo in enumerate(itertools.product(*(range(lengths[a]) for a in mine))):
            at = dict(zip(mine, combo, strict=False))
            made.append(_copy(planned, item if mine else None, at, axes, node_axes, copies, lengths, graph))
        copies[planned.id] = made
        order.extend(made)
    for seq, planned in enumerate(order):
        planned.seq = seq
    targets = [p.id for t in plan.targets for p in copies[t]]
    return Plan(order=order, targets=targets, muted=plan.muted, graph=graph)


def first_items(plan: Plan, count: int) -> Plan:
    """A preview of a swept plan: every mapped node makes only its first ``count`` items, and a list
    input gathers only those. Item numbers are unchanged, so a later run of the whole sweep continues it
    (an item's inputs come from items of no higher number: its sweeps' values are a subset of its own).
    ``plan.preview`` keeps how many items each mapped node has in the whole run."""
    from .planner import Plan

    whole: dict[str, int] = {}
    for planned in plan.order:
        if planned.item is not None:
            whole[planned.node.id] = whole.get(planned.node.id, 0) + 1
    dropped = {p.id for p in plan.order if p.item is not None and p.item >= count}
    order = []
    for planned in plan.order:
        if planned.id in dropped:
            continue
        if any(link[1] in dropped for link in planned.links):  # a list input: it gathers the kept items
            planned = replace(planned, links=[link for link in planned.links if link[1] not in dropped])
        order.append(planned)
    for seq, planned in enumerate(order):
        planned.seq = seq
    return Plan(order=order, targets=[t for t in plan.targets if t not in dropped], muted=plan.muted,
                graph=plan.graph, preview={"first": count, "items": whole})


def _gathers(planned: PlannedNode, arg: str) -> bool:
    spec_input = planned.spec.inputs.get(arg)
    return bool(spec_input is not None and getattr(spec_input, "many", False))


def _copy(planned, item, at, axes, node_axes, copies, lengths, graph) -> PlannedNode:
    params = dict(planned.params)
    for axis, index in at.items():
        for sweep in axes[axis]:
            if sweep.node == planned.id:
                params[sweep.param] = sweep.values[index]
    links: list[tuple[str, str, int, bool]] = []
    gathered: dict[str, list[str]] = {}
    for arg, src, out, is_param in planned.links:
        if _gathers(planned, arg):
            gathered[arg] = [c.id for c in copies[src]]
            links.extend((arg, c.id, out, is_param) for c in copies[src])
            continue
        src_axes = node_axes[src]
        src_item = 0
        for axis in src_axes:  # row-major index of the source's item
            src_item = src_item * lengths[axis] + at[axis]
        links.append((arg, copies[src][src_item].id, out, is_param))
    spec = planned.spec
    new_id = planned.id if item is None else f"{planned.id}[{item}]"
    label = {"node": planned.id} if item is None else {"node": planned.id, "item": item}
    caption = ", ".join(
        f"{sweep.param}={sweep.values[index]}" for axis, index in sorted(at.items()) for sweep in axes[axis]
    )
    item_graph = None
    if item is not None:
        if spec.output:  # one file per item: "hello.png" -> "hello-3.png"
            for name in ("filename", "name"):
                if isinstance(params.get(name), str) and "." in params[name] and not _swept(axes, planned.id, name):
                    stem, dot, suffix = params[name].rpartition(".")
                    params[name] = f"{stem}-{item}.{suffix}"
        item_graph = _graph_for(graph, axes, at)
        node = item_graph.nodes[planned.id] = replace(item_graph.nodes[planned.id])
        node.params = {**node.params, **{k: v for k, v in params.items() if k in node.params or k in ("filename", "name")}}
    return replace(
        planned,
        id=new_id,
        params=params,
        links=links,
        static_key=static_part(spec.type, spec.version, params),
        item=item,
        graph=item_graph,
        label=label,
        gathered=gathered,
        caption=caption,
    )


def _swept(axes: list[list[_Sweep]], node: str, param: str) -> bool:
    return any(sweep.node == node and sweep.param == param for axis in axes for sweep in axis)


def _graph_for(graph: Graph, axes: list[list[_Sweep]], at: dict[int, int]) -> Graph:
    """The graph as one item saw it: each sweep replaced by this item's value (the first value for
    sweeps the item does not depend on), so its provenance reproduces that item alone."""
    item_graph = copy.copy(graph)
    item_graph.nodes = dict(graph.nodes)
    for axis_index, axis in enumerate(axes):
        for sweep in axis:
            node = item_graph.nodes[sweep.node]
            if node is graph.nodes[sweep.node]:
                node = item_graph.nodes[sweep.node] = replace(node, params=dict(node.params))
            node.params[sweep.param] = sweep.values[at.get(axis_index, 0)]
    return item_graph


def _too_many(planned: PlannedNode, count: int) -> Exception:
    from nodeflow.problems import GraphInvalid

    return GraphInvalid([Problem(planned.id, planned.spec.type, None,
                                 f"mapped over {count} items, more than {MAX_ITEMS}: shorten the sweeps")])


def item_count(plan: Plan) -> dict[str, int]:
    """Node id -> how many items it makes in ``plan`` (1 for nodes that are not mapped)."""
    counts: dict[str, int] = {}
    for planned in plan.order:
        counts[planned.node.id] = counts.get(planned.node.id, 0) + 1
    return counts

