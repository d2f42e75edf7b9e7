"""The graph file: one JSON format for editing and running.

Loading is forgiving about shape and strict about meaning: anything malformed becomes a
:class:`~nodeflow.problems.Problem` tied to the node it concerns, and the rest of the file still loads,
so that validation can report every problem at once. Saving writes sorted, indented keys so files diff
cleanly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nodeflow.files import write_atomic
from nodeflow.problems import Problem

from .published_syntax import parse_published, published_to_json

if TYPE_CHECKING:
    import os
    from collections.abc import Callable

__all__ = [
    "FILE_VERSION",
    "MODES",
    "Graph",
    "GraphNode",
    "parse_graph",
    "load_graph",
    "graph_to_dict",
    "dumps_graph",
    "save_graph",
    "FILE_MIGRATIONS",
]

FILE_VERSION = 1
MODES = ("run", "bypass", "mute")

# file version -> function that upgrades a whole file dict from that version by one step
FILE_MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


@dataclass
class GraphNode:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, tuple[str, str]] = field(default_factory=dict)
    mode: str = "run"
    version: int = 1
    ui: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    groups: list[dict[str, Any]] = field(default_factory=list)
    ui: dict[str, Any] = field(default_factory=dict)
    # params offered as a form (``nodeflow app``): [{"param": "NODE.PARAM", "label"?: ...}], see published_syntax.py
    published: list[dict[str, str]] = field(default_factory=list)
    # subgraph definitions carried by the file: name -> definition (see nodeflow.graph.subgraphs)
    definitions: dict[str, Any] = field(default_factory=dict)
    # problems found while reading the file; validation reports them with its own
    load_problems: list[Problem] = field(default_factory=list)
    # after subgraph expansion: (subgraph node path, exposed param) -> the inner params it sets
    exposed: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The graph as the file holds it (see :func:`graph_to_dict`)."""
        return graph_to_dict(self)


def parse_graph(data: Any) -> Graph:
    """Build a Graph from decoded JSON. Never raises: malformed parts become load problems."""
    graph = Graph()
    problems = graph.load_problems
    if not isinstance(data, dict):
        problems.append(Problem.graph(f"the file must hold a JSON object, not {_kind(data)}"))
        return graph
    version = data.get("nodeflow")
    if version is None:
        problems.append(Problem.graph('missing "nodeflow" file version (expected "nodeflow": 1)'))
        return graph
    if isinstance(version, bool) or not isinstance(version, int):
        problems.append(Problem.graph(f'"nodeflow" file version must be a whole number, not {version!r}'))
        return graph
    if version > FILE_VERSION:
        problems.append(
            Problem.graph(
                f"unknown file version {version}: this nodeflow reads versions up to {FILE_VERSION}; "
                "upgrade nodeflow to open it"
            )
        )
        return graph
    if version < 1:
        problems.append(Problem.graph(f"unknown file version {version}"))
        return graph
    while version < FILE_VERSION:
        data = FILE_MIGRATIONS[version](data)
        version += 1
    data = _without_flawed_sections(data, problems)

    meta = data.get("meta", {})
    graph.meta = meta if isinstance(meta, dict) else {}
    if not isinstance(meta, dict):
        problems.append(Problem.graph('"meta" must be an object'))
    groups = data.get("groups", [])
    if isinstance(groups, list) and all(isinstance(g, dict) for g in groups):
        graph.groups = groups
    else:
        problems.append(Problem.graph('"groups" must be a list of objects'))
    ui = data.get("ui", {})
    graph.ui = ui if isinstance(ui, dict) else {}
    if not isinstance(ui, dict):
        problems.append(Problem.graph('"ui" must be an object'))


    graph.published = parse_published(data.get("published"), problems)
    definitions = data.get("definitions", {})
    if isinstance(definitions, dict):
        graph.definitions = definitions
    else:
        problems.append(Problem.graph('"definitions" must be an object of subgraph name -> definition'))

    nodes = data.get("nodes", {})
    if not isinstance(nodes, dict):
        problems.append(Problem.graph(f'"nodes" must be an object of node id -> node, not {_kind(nodes)}'))
        return graph
    for node_id, entry in nodes.items():
        parsed = _parse_node(node_id, entry, problems)
        if parsed is not None:
            graph.nodes[node_id] = parsed
    return graph


def parse_node(node_id: str, entry: Any, problems: list[Problem]) -> GraphNode | None:
    """One node entry of a file (also used for the nodes inside subgraph definitions)."""
    return _parse_node(node_id, entry, problems)


def _parse_node(node_id: str, entry: Any, problems: list[Problem]) -> GraphNode | None:
    if not node_id or not isinstance(node_id, str):
        problems.append(Problem.graph(f"node id {node_id!r} is empty"))
        return None
    if value_flaw(node_id) is not None:
        problems.append(Problem.graph(f"node id {node_id.encode('utf-8', 'backslashreplace').decode()[:60]!r} {value_flaw(node_id)}"))
        return None
    if not isinstance(entry, dict):
        problems.append(Problem(node_id, "?", None, f"a node must be an object, not {_kind(entry)}"))
        return None
    if value_flaw(entry.get("type")) is not None:
        problems.append(Problem(node_id, "?", None, f'"type" {value_flaw(entry.get("type"))}'))
        return None
    node_type = entry.get("type")
    if not isinstance(node_type, str) or not node_type:
        problems.append(Problem(node_id, "?", None, 'missing "type"'))
        return None
    node = GraphNode(id=node_id, type=node_type)

    def bad(message: str, port: str | None = None) -> None:
        problems.append(Problem(node_id, node_type, port, message))

    for key, value in entry.items():
        flaw = None if key == "params" else value_flaw(key) or value_flaw(value)
        if flaw is not None:
            bad(f'"{key}" {flaw}' if value_flaw(key) is None else f"a key {flaw}")
            return None
    params = entry.get("params", {})
    if isinstance(params, dict):
        node.params = {}
        for name, value in params.items():
            flaw = value_flaw(name) or value_flaw(value)
            if flaw is None:
                node.params[name] = value
            else:  # left out, so nothing downstream trips on it; validation reports the node
                bad(flaw, name if value_flaw(name) is None else None)
    else:
        bad(f'"params" must be an object, not {_kind(params)}')
    inputs = entry.get("inputs", {})
    if isinstance(inputs, dict):
        for port, link in inputs.items():
            if (
                isinstance(link, (list, tuple))
                and len(link) == 2
                and all(isinstance(part, str) and part for part in link)
            ):
                node.inputs[port] = (link[0], link[1])
            else:
                bad(f"link must be [source node id, output name], not {json.dumps(link)[:60]}", port)
    else:
        bad(f'"inputs" must be an object, not {_kind(inputs)}')
    mode = entry.get("mode", "run")
    if mode in MODES:
        node.mode = mode
    else:
        bad(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    version = entry.get("version", 1)
    if isinstance(version, int) and not isinstance(version, bool) and version >= 1:
        node.version = version
    else:
        bad(f"node version must be a whole number of 1 or more, not {version!r}")
    ui = entry.get("ui", {})
    node.ui = ui if isinstance(ui, dict) else {}
    return node


def load_graph(path: str | os.PathLike[str]) -> Graph:
    """Read a graph file. Unreadable or non-JSON files give a graph with one load problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        graph = Graph()
        graph.load_problems.append(Problem.graph(f"cannot read {path}: {exc.strerror or exc}"))
        return graph
    except UnicodeDecodeError:
        graph = Graph()
        graph.load_problems.append(Problem.graph(f"{path} is not a UTF-8 text file"))
        return graph
    return loads_graph(text, source=str(path))


def loads_graph(text: str, source: str = "graph") -> Graph:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        graph = Graph()
        graph.load_problems.append(
            Problem.graph(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        )
        return graph
    except RecursionError:
        graph = Graph()
        graph.load_problems.append(Problem.graph(f"{source} is nested too deeply to read"))
        return graph
    except ValueError as exc:  # a number of more than 4,300 digits
        graph = Graph()
        graph.load_problems.append(Problem.graph(f"{source} cannot be read: {str(exc)[:200]}"))
        return graph
    return parse_graph(data)


def graph_to_dict(graph: Graph) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for node_id, node in graph.nodes.items():
        entry: dict[str, Any] = {"type": node.type}
        if node.params:
            entry["params"] = node.params
        if node.inputs:
            entry["inputs"] = {port: list(link) for port, link in node.inputs.items()}
        if node.mode != "run":
            entry["mode"] = node.mode
        if node.version != 1:
            entry["version"] = node.version
        if node.ui:
            entry["ui"] = node.ui
        nodes[node_id] = entry
    data: dict[str, Any] = {"nodeflow": FILE_VERSION, "meta": graph.meta, "nodes": nodes}
    if graph.groups:
        data["groups"] = graph.groups
    if graph.ui:
        data["ui"] = graph.ui
    if graph.published:

        data["published"] = published_to_json(graph.published)
    if graph.definitions:
        data["definitions"] = graph.definitions
    return data


def dumps_graph(graph: Graph) -> str:
    return json.dumps(graph_to_dict(graph), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def save_graph(graph: Graph, path: str | os.PathLike[str]) -> None:
    """Write atomically: a crash never leaves a half-written graph file."""
    write_atomic(Path(path), dumps_graph(graph).encode("utf-8"))


# deeper nesting than this in a graph file is refused: JSON, hashing and copying all recurse
MAX_NESTING = 100


def value_flaw(value: Any, limit: int = MAX_NESTING) -> str | None:
    """Why a decoded JSON value cannot go into a graph, or None: nested deeper than ``limit``, or a
    string (or key) holding a lone surrogate (``"\\ud800"``), which no UTF-8 file or hash can hold."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and _has_surrogate(item):
                return "holds text with a lone surrogate (not valid Unicode); remove the \\udXXX escape"
        elif isinstance(item, (dict, list, tuple)):
            if depth > limit:
                return f"is nested more than {limit} levels deep"
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item if isinstance(key, str))
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _without_flawed_sections(data: dict, problems: list[Problem]) -> dict:
    """The file with every top-level section except "nodes" checked by :func:`value_flaw`; a flawed
    section is reported and left out. Nodes are checked one by one, so the problem names the node."""
    if value_flaw(data) is None:
        return data
    kept = {}
    for key, value in data.items():
        flaw = value_flaw(key) or (None if key == "nodes" else value_flaw(value))
        if flaw is None:
            kept[key] = value
        elif key == "nodes" or value_flaw(key) is not None:
            problems.append(Problem.graph(f"a top-level key {flaw}"))
        else:
            problems.append(Problem.graph(f'"{key}" {flaw}'))
    return kept


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)
