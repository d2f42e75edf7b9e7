"""Subgraphs: a group of nodes used as one node type, expanded into flat namespaced nodes.

A graph file may carry a ``definitions`` section; library folders (``NODEFLOW_SUBGRAPHS`` and the
data folder's ``subgraphs/``) hold files of the same shape, and their subgraphs appear in the catalog
like node types. A definition lists its inner nodes and what it exposes::

    "definitions": {
      "upscaler": {
        "version": 1, "title": "Upscaler", "description": "Resize, then sharpen",
        "nodes":   {"resize": {"type": "image.resize", ...}, "sharpen": {...}},
        "inputs":  {"image": [["resize", "image"]]},          # exposed input -> inner ports it feeds
        "params":  {"width": [["resize", "width"]]},          # exposed param -> inner params it sets
        "outputs": {"image": ["sharpen", "image"]}            # exposed output -> inner output
      }
    }

A node of type ``subgraph.upscaler`` links its exposed inputs, sets exposed params (``width``) and
inner params by path (``"sharpen.amount"``, nested ``"inner.node.param"``). Expansion runs after loading
and before ``--set``, validation and planning: each subgraph node becomes its inner nodes with ids that
name their path (``upscaler/resize``, nested ``a/b/c``), so validation names the path, cache keys see
the inner nodes, and the executor and sweeps only ever see flat nodes.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nodeflow.problems import Problem

from .model import Graph, GraphNode, parse_node

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "PREFIX",
    "Definition",
    "is_subgraph",
    "parse_definition",
    "library_folders",
    "load_library",
    "expand_subgraphs",
]

PREFIX = "subgraph."
MAX_NODES = 200_000  # a definition used twice at each of 20 levels would otherwise make a million nodes
Link = tuple[str, str]


def is_subgraph(type_name: str) -> bool:
    return type_name.startswith(PREFIX)


@dataclass
class Definition:
    name: str
    version: int = 1
    title: str = ""
    description: str = ""
    category: str = "Subgraphs"
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    inputs: dict[str, list[Link]] = field(default_factory=dict)
    params: dict[str, list[Link]] = field(default_factory=dict)
    outputs: dict[str, Link] = field(default_factory=dict)
    source: str = "graph"  # "graph" (the file's definitions) or the library file it came from
    problems: list[str] = field(default_factory=list)
    data: Any = field(default=None, repr=False)  # the JSON it was read from (the editor copies it into a graph)


def parse_definition(name: str, data: Any, source: str = "graph") -> Definition:
    """Read one definition. Never raises: what is malformed is listed in ``problems``."""
    found = Definition(name, source=source, data=data)
    bad = found.problems.append
    if not isinstance(data, dict):
        bad("a definition must be an object with nodes, inputs, params and outputs")
        return found
    version = data.get("version", 1)
    if isinstance(version, int) and not isinstance(version, bool) and version >= 1:
        found.version = version
    else:
        bad(f"version must be a whole number of 1 or more, not {version!r}")
    for key in ("title", "description", "category"):
        if isinstance(data.get(key), str):
            setattr(found, key, data[key])
    nodes = data.get("nodes", {})
    if not isinstance(nodes, dict):
        bad('"nodes" must be an object of node id -> node')
        nodes = {}
    node_problems: list[Problem] = []
    for node_id, entry in nodes.items():
        if "/" in str(node_id):
            bad(f"node id {node_id!r} must not contain '/' (it separates subgraph paths)")
            continue
        parsed = parse_node(node_id, entry, node_problems)
        if parsed is not None:
            found.nodes[node_id] = parsed
    bad_nodes = [f"{p.node or 'node'}: {p.message}" for p in node_problems]
    found.problems += bad_nodes
    for section in ("inputs", "params"):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            bad(f'"{section}" must be an object of exposed name -> list of [node, port]')
            continue
        for exposed, targets in entries.items():
            if not isinstance(targets, list) or not targets or not all(_is_link(t) for t in targets):
                bad(f"{section[:-1]} {exposed!r} must list the [node, port] pairs it feeds")
                continue
            links = [(t[0], t[1]) for t in targets]
            missing = [n for n, _ in links if n not in found.nodes]
            if missing:
                bad(f"{section[:-1]} {exposed!r} feeds {missing[0]!r}, which is not a node of the subgraph")
                continue
            getattr(found, section)[exposed] = links
    outputs = data.get("outputs", {})
    if not isinstance(outputs, dict):
        bad('"outputs" must be an object of exposed name -> [node, output]')
        outputs = {}
    for exposed, source_link in outputs.items():
        if not _is_link(source_link) or source_link[0] not in found.nodes:
            bad(f"output {exposed!r} must name [node, output] of a node of the subgraph")
            continue
        found.outputs[exposed] = (source_link[0], source_link[1])
    clash = set(found.inputs) & set(found.params)
    if clash:
        bad(f"{min(clash)!r} is exposed both as an input and as a param")
    return found


def _is_link(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, str) and v for v in value)


# --- the library -----------------------------------------------------------------------------------


def library_folders() -> list[Path]:
    """``NODEFLOW_SUBGRAPHS`` (separated by the OS path separator), then the data folder's ``subgraphs``."""
    from nodeflow.settings import Settings

    env = os.environ.get("NODEFLOW_SUBGRAPHS", "")
    folders = [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    return folders + [Settings().home / "subgraphs"]


_LIBRARY_CACHE: dict[tuple, tuple[dict[str, Definition], list[str]]] = {}


def load_library(folders: Iterable[Path] | None = None) -> tuple[dict[str, Definition], list[str]]:
    """Definitions from ``*.json`` files (each shaped like a graph file's ``definitions`` section, under
    a ``"definitions"`` key) and the errors of unreadable files. Earlier folders win a name."""
    files: list[Path] = []
    refused: list[str] = []
    for folder in library_folders() if folders is None else folders:
        if Path(folder).is_dir():
            kept, errors_here = _library_files(Path(folder))
            files += kept
            refused += errors_here
    stamp = (tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files), tuple(refused))
    cached = _LIBRARY_CACHE.get(stamp)
    if cached is not None:
        return cached
    found: dict[str, Definition] = {}
    errors: list[str] = list(refused)
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            errors.append(f"{path}: not a readable JSON file ({exc})")
            continue
        definitions = data.get("definitions") if isinstance(data, dict) else None
        if not isinstance(definitions, dict):
            errors.append(f'{path}: expected {{"nodeflow": 1, "definitions": {{name: definition}}}}')
            continue
        for name, entry in definitions.items():
            if name not in found:
                found[name] = parse_definition(name, entry, source=str(path))
    _LIBRARY_CACHE.clear()
    _LIBRARY_CACHE[stamp] = (found, errors)
    return found, errors


def _library_files(folder: Path) -> tuple[list[Path], list[str]]:
    """The ``*.json`` files of a library folder, and why others are not read: a library may be a
    shared folder, so a link there is followed only while it stays inside the folder."""
    inside = folder.resolve()
    kept, refused = [], []
    for path in sorted(folder.glob("*.json")):
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):  # a loop, or a link to nothing
                refused.append(f"{path}: a link that leads nowhere (or a loop of links): not read")
                continue
            if not target.is_relative_to(inside):
                refused.append(f"{path}: a link that leads outside the library ({folder}): not read")
                continue
        if path.is_file():
            kept.append(path)
    return kept, refused


def available_definitions(graph: Graph) -> dict[str, Definition]:
    """The library's definitions, replaced by the file's own where a name is in both."""
    library, _ = load_library()
    local = {name: parse_definition(name, entry) for name, entry in graph.definitions.items()}
    return {**library, **local}


# --- expansion -------------------------------------------------------------------------------------


def expand_subgraphs(graph: Graph) -> None:
    """Replace every subgraph node by its inner nodes, in place, level by level.

    Problems (an unknown subgraph, one that contains itself, a malformed definition, an unknown
    exposed name) go to ``graph.load_problems``, tied to the subgraph node's path; such a node stays
    as it is so that nothing else is reported about it.
    """
    if graph.__dict__.get("_expanded"):
        return
    for node in graph.nodes.values():  # a plain loop: asked twice of every graph prepared, most with none
        if node.type.startswith(PREFIX):
            break
    else:
        return
    graph.__dict__["_expanded"] = True  # expanding twice would report a stuck node's problems twice
    definitions = available_definitions(graph)
    problems = graph.load_problems
    size = expanded_size(graph, definitions)
    if size > MAX_NODES:  # said before building anything: nested copies multiply
        problems.append(Problem.graph(f"subgraphs would expand to {size:,} nodes, more than {MAX_NODES:,}; "
                                      "nest fewer copies"))
        return
    lineage: dict[str, tuple[str, ...]] = {}  # flat node id -> the definitions it lies inside
    stuck: set[str] = set()
    while True:
        pending = [n for n in graph.nodes.values() if is_subgraph(n.type) and n.id not in stuck]
        if not pending:
            break
        redirect: dict[Link, Link] = {}
        flat: dict[str, GraphNode] = {}
        expanded: dict[str, Definition] = {}
        for node in graph.nodes.values():
            if not is_subgraph(node.type) or node.id in stuck:
                flat[node.id] = node
                continue
            definition = _definition_for(node, definitions, lineage.get(node.id, ()), problems)
            if definition is None:
                stuck.add(node.id)
                flat[node.id] = node
                continue
            expanded[node.id] = definition
            for inner in _instantiate(node, definition, redirect, graph, problems):
                if inner.id in graph.nodes or inner.id in flat:
                    problems.append(Problem(node.id, node.type, None, f"inner node {inner.id!r} clashes with a node of that id"))
                    continue
                lineage[inner.id] = lineage.get(node.id, ()) + (definition.name,)
                flat[inner.id] = inner
        for consumer in flat.values():
            for port, link in consumer.inputs.items():
                target = redirect.get(link)
                if target is not None:
                    while target in redirect and target != link:  # a bypassed subgraph fed by another
                        target = redirect[target]
                    consumer.inputs[port] = target
                elif link[0] in expanded:
                    have = ", ".join(expanded[link[0]].outputs) or "none"
                    problems.append(
                        Problem(consumer.id, consumer.type, port,
                                f"linked to missing output {link[1]!r} of subgraph {link[0]} (its outputs: {have})")
                    )
        graph.nodes = flat
        if len(flat) > MAX_NODES:
            problems.append(Problem.graph(f"subgraphs expand to more than {MAX_NODES:,} nodes; nest fewer copies"))
            break


def expanded_size(graph: Graph, definitions: dict[str, Definition]) -> int:
    """How many nodes ``graph`` has once every subgraph is expanded, counted from the definitions
    (each counted once, however often it is used) without building anything. A subgraph that is
    unknown or contains itself counts as one node: expansion reports it."""
    sizes: dict[str, int] = {}

    def size_of(name: str, chain: tuple[str, ...]) -> int:
        if name in sizes:
            return sizes[name]
        definition = definitions.get(name)
        if definition is None or name in chain or definition.problems:
            return 1
        total = 0
        for inner in definition.nodes.values():
            total += size_of(inner.type[len(PREFIX):], chain + (name,)) if is_subgraph(inner.type) else 1
            if total > MAX_NODES:
                break  # enough to refuse; the exact number does not matter
        sizes[name] = total
        return total

    total = 0
    for node in graph.nodes.values():
        total += size_of(node.type[len(PREFIX):], ()) if is_subgraph(node.type) and node.mode != "bypass" else 1
        if total > MAX_NODES:
            return total
    return total


def _definition_for(
    node: GraphNode, definitions: dict[str, Definition], chain: tuple[str, ...], problems: list[Problem]
) -> Definition | None:
    name = node.type[len(PREFIX):]
    definition = definitions.get(name)

    def bad(message: str) -> None:
        problems.append(Problem(node.id, node.type, None, message))

    if definition is None:
        close = difflib.get_close_matches(name, list(definitions), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        folders = ", ".join(str(p) for p in library_folders())
        bad(f"unknown subgraph {name!r}{hint}: define it in the file's definitions or put it in a subgraph folder ({folders})")
        return None
    if name in chain:
        bad(f"subgraph {name} contains itself ({' -> '.join(chain + (name,))}); a subgraph must not use itself")
        return None
    if definition.problems:
        where = "" if definition.source == "graph" else f" (in {definition.source})"
        for message in definition.problems:
            bad(f"definition of {name}{where}: {message}")
        return None
    if node.version > definition.version:
        bad(f"saved with version {node.version} of subgraph {name}, newer than the definition's {definition.version}")
        return None
    return definition


def _instantiate(
    node: GraphNode, definition: Definition, redirect: dict[Link, Link], graph: Graph, problems: list[Problem]
) -> list[GraphNode]:
    """The inner nodes of one subgraph node, with its links, params and mode applied."""
    path = node.id

    def bad(message: str, port: str | None = None) -> None:
        problems.append(Problem(node.id, node.type, port, message))

    if node.mode == "bypass":
        _bypass(node, definition, redirect, bad)
        return []
    inner: dict[str, GraphNode] = {}
    for inner_id, template in definition.nodes.items():
        inner[inner_id] = GraphNode(
            id=f"{path}/{inner_id}",
            type=template.type,
            params=dict(template.params),
            inputs={port: (f"{path}/{src}", out) for port, (src, out) in template.inputs.items()},
            mode="mute" if node.mode == "mute" else template.mode,
            version=template.version,
            ui=template.ui,
        )
    for name, value in node.params.items():
        if name in definition.params:
            for target, param in definition.params[name]:
                inner[target].params[param] = value
            continue
        head, dot, rest = name.partition(".")
        if dot and head in inner and rest:
            inner[head].params[rest] = value
            continue
        bad(f"unknown param of subgraph {definition.name}{_choices(name, definition)}", name)
    for port, link in node.inputs.items():
        targets = definition.inputs.get(port) or definition.params.get(port)
        if targets is None:
            bad(f"no input or param of this name on subgraph {definition.name}{_choices(port, definition)}", port)
            continue
        for target, target_port in targets:
            inner[target].inputs[target_port] = link
    for name, targets in definition.params.items():
        graph.exposed[(path, name)] = [(f"{path}/{target}", param) for target, param in targets]
    for name, (source, output) in definition.outputs.items():
        redirect[(path, name)] = (f"{path}/{source}", output)
    return list(inner.values())


def _bypass(node: GraphNode, definition: Definition, redirect: dict[Link, Link], bad: Any) -> None:
    """A bypassed subgraph passes the same-named (else the first linked) input to each output."""
    linked = [port for port in definition.inputs if port in node.inputs]
    for name in definition.outputs:
        source = name if name in linked else (linked[0] if len(linked) == 1 else None)
        if source is None:
            bad(f"subgraph {node.id} is bypassed, but no single input can pass through to {name!r}; mute it instead")
            continue
        redirect[(node.id, name)] = node.inputs[source]


def _choices(name: str, definition: Definition) -> str:
    known = [*definition.inputs, *definition.params]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (it exposes: {', '.join(known)})" if known else " (it exposes none)"
