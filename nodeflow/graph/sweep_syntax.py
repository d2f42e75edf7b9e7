"""Sweeps as a graph file writes them: one param (or unlinked input) takes several values.

In a graph file, a swept param holds an object instead of a value::

    "seed":   {"sweep": [1, 2, 3]}
    "prompt": {"sweep": {"file": "prompts.txt"}}          # one value per non-empty line
    "scale":  {"sweep": {"from": 1, "to": 2, "step": 0.5}} # 1, 1.5, 2 (ends included)
    "steps":  {"sweep": [10, 20], "zip": "a"}             # zipped with every sweep of group "a"
    "prompt": {"sweep": {"each": ["lines", "json"]}}      # each item of a list an upstream node makes

This module reads those objects into :class:`Sweep` values, each value read as its param's kind.
What a sweep means for a run is elsewhere: the graph-wide sweep problems (``each`` sources, item
counts) in ``nodeflow.check.sweeps``, the command line's ``--sweep`` in
``nodeflow.check.param_edits``, and the mapping of what depends on a sweep in ``nodeflow.plan.sweeps``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nodeflow.files import PathNotAllowed, resolve_inside
from nodeflow.nodetypes.params import ParamError
from nodeflow.problems import Problem
from nodeflow.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.graph.model import Graph
    from nodeflow.nodetypes.decorator import NodeSpec
    from nodeflow.nodetypes.registry import Registry

__all__ = ["MAX_ITEMS", "Sweep", "Bad", "EachCheck", "is_sweep", "is_each", "read_sweeps"]

MAX_ITEMS = 10_000  # items of one node; more is almost surely a mistake (a product of long lists)

_FORMS = 'a sweep is a list of values, {"file": NAME}, or {"from": A, "to": B, "step": C}'

Bad = Callable[[str], None]  # reports one problem of the sweep being read
# called for each ``each`` sweep: (the sweeping node's id, the value of "each", bad)
EachCheck = Callable[[str, Any, Bad], None]


@dataclass
class Sweep:
    """One swept param: its values (read as the param's kind) and its zip group, if any."""

    node: str
    param: str
    values: list[Any]
    group: str | None


def is_sweep(value: Any) -> bool:
    """Whether a param's value in a graph file is a sweep (an object with a ``sweep`` key)."""
    return isinstance(value, dict) and "sweep" in value


def is_each(value: Any) -> bool:
    """Whether a param's value sweeps over a list an upstream node makes (``{"sweep": {"each": ...}}``)."""
    return is_sweep(value) and isinstance(value["sweep"], dict) and "each" in value["sweep"]


def read_sweeps(graph: Graph, registry: Registry, settings: Any, problems: list[Problem],
                each: EachCheck | None = None) -> list[Sweep]:
    """Every sweep of ``graph`` with its values read, in node order. What cannot be read (an unknown
    key, a missing file, a value its param refuses, an empty sweep, zip groups of unequal lengths, a
    sweep on a linked port) is added to ``problems`` and left out. ``each`` sweeps are left out too
    (their values exist only once the upstream node has run); the ``each`` callback checks them."""
    sweeps: list[Sweep] = []
    specs = registry.specs
    for node in graph.nodes.values():
        spec = specs.get(node.type)
        if spec is None:
            continue
        for name, value in node.params.items():
            if not is_sweep(value):
                continue
            if name not in spec.params and name not in spec.inputs:
                continue  # reported by validate as an unknown param

            def bad(message: str) -> None:
                problems.append(Problem(node.id, node.type, name, message))  # noqa: B023  (called in this same iteration)

            sweep = _read_one(node.id, name, value, spec, name in node.inputs, settings, bad, each)
            if sweep is not None:
                sweeps.append(sweep)
    problems += _zip_problems(graph, sweeps)
    return sweeps


def _read_one(node_id: str, name: str, value: dict[str, Any], spec: NodeSpec, linked: bool, settings: Any,
              bad: Bad, each: EachCheck | None) -> Sweep | None:
    if linked:
        bad("swept and linked at once: remove the link or the sweep")
        return None
    extra = set(value) - {"sweep", "zip"}
    if extra:
        bad(f"unknown sweep key {sorted(extra)[0]!r} (a sweep has \"sweep\" and optionally \"zip\")")
        return None
    if is_each(value):
        if each is not None:
            each(node_id, value["sweep"]["each"], bad)
        return None
    values = _values(value["sweep"], settings, bad)
    if values is None:
        return None
    if not values:
        bad("empty sweep: give it at least one value")
        return None
    if len(values) > MAX_ITEMS:
        bad(f"the sweep has {len(values):,} values, more than {MAX_ITEMS:,}")
        return None
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
            return None
    group = value.get("zip")
    if group is not None and not isinstance(group, str):
        bad('"zip" must name a group (a string)')
        return None
    return Sweep(node_id, name, checked, group)


def _zip_problems(graph: Graph, sweeps: list[Sweep]) -> list[Problem]:
    """Sweeps of one zip group advance together, so their lengths must match the group's first."""
    problems = []
    groups: dict[str, Sweep] = {}
    for sweep in sweeps:
        if sweep.group is None:
            continue
        first = groups.setdefault(sweep.group, sweep)
        if len(first.values) != len(sweep.values):
            problems.append(Problem(sweep.node, graph.nodes[sweep.node].type, sweep.param,
                                    f"zip group {sweep.group!r}: {sweep.node}.{sweep.param} has {len(sweep.values)} values "
                                    f"but {first.node}.{first.param} has {len(first.values)}; zipped sweeps need equal lengths"))
    return problems


def _values(sweep: Any, settings: Any, bad: Bad) -> list[Any] | None:
    """The raw values of a sweep's ``sweep`` key: a list as it is, a file's lines, a range's numbers."""
    if isinstance(sweep, list):
        return sweep
    if not isinstance(sweep, dict):
        bad(_FORMS)
        return None
    if "file" in sweep:
        return _file_lines(sweep["file"], settings, bad)
    if "from" in sweep and "to" in sweep:
        return _range(sweep["from"], sweep["to"], sweep.get("step", 1), bad)
    bad(_FORMS)
    return None


def _range(start: Any, stop: Any, step: Any, bad: Bad) -> list[Any] | None:
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


def _fits_float(*values: Any) -> bool:
    """Whether every value converts to a float (a 400-digit integer does not)."""
    try:
        for value in values:
            float(value)
    except OverflowError:
        return False
    return True


def _file_lines(name: Any, settings: Any, bad: Bad) -> list[str] | None:
    """The non-empty lines of a text file in the input folders, stripped."""
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


def _input_value(spec: NodeSpec, name: str, value: Any) -> Any:
    """A swept input's value (an input has no param to check it): only plain JSON kinds fit a file."""
    if spec.inputs[name].type in ("Any", "JSON"):
        return value
    kinds: dict[str, type | tuple[type, ...]] = {"String": str, "Int": int, "Float": (int, float), "Boolean": bool}
    expected = kinds.get(spec.inputs[name].type)
    if expected is None:
        raise ValueError(f"input {name!r} takes {spec.inputs[name].type}, which a graph file cannot hold; sweep a param")
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
        raise ValueError(f"expected {spec.inputs[name].type}")
    return value
