"""What ``serve`` makes of a submission (``POST /v1/runs``, ``/v1/batch/retry``): the JSON body read
and checked (kind, size, fields), the graph found (inline or a served file, with its policy), ``set``
and ``sweep`` applied, the run queued; each refusal a :class:`RequestError` naming the field at fault,
with the engine's problems in the API's words."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from nodeflow.app.editor.routes import example_names
from nodeflow.app.request_limits import JsonBodyError, parse_json
from nodeflow.app.runs import RunManager
from nodeflow.graph.model import Graph, parse_graph
from nodeflow.problems import GraphInvalid, Problem

from .models import RunRequest

__all__ = ["MAX_BODY_BYTES", "RequestError", "read_json", "submit_run", "retry_run", "say_problems"]

MAX_BODY_BYTES = 8 * 2**20  # a graph is a few KB; a request this large is a mistake or an attack


class RequestError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None, problems: list[Problem] | None = None):
        super().__init__(message)
        self.status, self.message, self.field, self.problems = status, message, field, problems

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"detail": self.message, "field": self.field}
        if self.problems:
            body["problems"] = [p.to_json() for p in self.problems]
        return JSONResponse(body, status_code=self.status)


def retry_run(runs: RunManager, run_id: str, client: str | None) -> str:
    request = runs.queue.request_of(run_id) or {}
    job = runs.queue.get(run_id) or {}
    return runs.submit(request.get("graph") or {}, only=request.get("only") or None, overrides=request.get("set") or [],
                       sweeps=request.get("sweep") or [], source="http", policy=request.get("policy"),
                       priority=int(job.get("priority") or 0), client=client, graph_name=job.get("graph"),
                       extra={k: request[k] for k in ("callback_url",) if request.get(k)})


def _attached_policy(body: dict[str, Any], graphs_dir: Path | None) -> str | None:
    """A served graph file's own policy (NAME.policy.toml beside it), which its runs must obey. A
    graph sent inline obeys every policy of the graphs folder (merged), so sending a served graph's
    JSON instead of its name does not step around its policy."""
    from nodeflow.check.policy import policy_beside

    if graphs_dir is None:
        return None
    if "graph_name" not in body:
        return str(graphs_dir) if any(graphs_dir.glob("*.policy.toml")) else None
    try:
        found = policy_beside(graphs_dir / body["graph_name"])
    except (OSError, TypeError, ValueError):  # a name no file can have: _graph_of answers it with a 404
        return None
    return str(found) if found is not None else None


def submit_run(runs: RunManager, body: dict[str, Any], graphs_dir: Path | None, client: str | None = None,
            idempotency_key: str | None = None) -> str:
    graph, _title = _graph_of(body, graphs_dir)
    both = sorted(set(body.get("set") or {}) & set(body.get("sweep") or {}))
    if both:
        raise RequestError(422, f"{both[0]!r} is both set and swept: give it in one of \"set\" or \"sweep\"", "sweep")
    overrides = _overrides(body.get("set"))
    _apply_sweeps(graph, body.get("sweep"))
    policy = _attached_policy(body, graphs_dir)
    only = body.get("only")
    try:
        return runs.submit(graph, only=only, overrides=overrides, source="http", policy=policy,
                           priority=int(body.get("priority") or 0), client=client, idempotency_key=idempotency_key,
                           graph_name=body.get("graph_name"),
                           extra={k: body[k] for k in ("callback_url", "graph_name") if body.get(k)})
    except GraphInvalid as invalid:
        problems = [_in_api_words(p) for p in invalid.problems]
        raise RequestError(422, say_problems(problems), _field_of(invalid.problems, body), problems) from None


_CLI_OPTION = re.compile(r"--(set|sweep|only)\b")


def _in_api_words(problem: Problem) -> Problem:
    """The engine speaks of the command line's --set/--sweep/--only; the API's fields are set/sweep/only."""
    return Problem(problem.node, problem.type, problem.port, _CLI_OPTION.sub(r'"\1"', problem.message))


# --- reading a request -----------------------------------------------------------------------------


async def read_json(request: Request, model: type[BaseModel] = RunRequest) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":  # a cross-site form can send text/plain without asking, never JSON
        raise RequestError(415, f"send the body as Content-Type: application/json, not {kind or 'none'}", "Content-Type")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestError(413, f"the request body is {int(declared)} bytes; the limit is {MAX_BODY_BYTES}", "body")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise RequestError(413, f"the request body is over the limit of {MAX_BODY_BYTES} bytes", "body")
        chunks.append(chunk)
    try:  # strict: 1e400, NaN and 5,000-digit numbers are malformed too (they were answered with a 500)
        body = parse_json(b"".join(chunks) or b"null")
    except JsonBodyError as exc:
        raise RequestError(400, f"malformed JSON: {exc}", "body") from None
    if not isinstance(body, dict):
        raise RequestError(400, 'the body must be a JSON object like {"graph": {...}} or {"graph_name": "..."}', "body")
    fields = list(model.model_fields)
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise RequestError(422, f"unknown field {unknown[0]!r} (fields: {', '.join(fields)})", unknown[0])
    only = body.get("only")
    if only is not None and (not isinstance(only, list) or not all(isinstance(n, str) for n in only)):
        raise RequestError(422, '"only" must be a list of node ids', "only")
    try:
        model.model_validate(body)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RequestError(422, f"{where}: {first['msg']}", str(first["loc"][0]) if first["loc"] else "body") from None
    return body


def _graph_of(body: dict[str, Any], graphs_dir: Path | None) -> tuple[Graph, str]:
    has_graph, has_name = "graph" in body, "graph_name" in body
    if has_graph == has_name:
        raise RequestError(422, 'give exactly one of "graph" (the graph itself) or "graph_name" (a served file)',
                           "graph" if not has_graph else "graph_name")
    if has_graph:
        if not isinstance(body["graph"], dict):
            raise RequestError(422, '"graph" must be a graph object ({"nodeflow": 1, "nodes": {...}})', "graph")
        graph = parse_graph(body["graph"])
        return graph, str(graph.meta.get("title") or "")
    name = body["graph_name"]
    plain = (isinstance(name, str) and name.endswith(".json") and "/" not in name and "\\" not in name
             and len(name.encode("utf-8", "surrogatepass")) <= 255)  # longer: no file system holds the name
    if not plain or graphs_dir is None or name.startswith(".") or not (graphs_dir / name).is_file():
        names = example_names(graphs_dir) if graphs_dir is not None else []  # only to say what there is
        shown = ", ".join(names[:20]) or "none"
        raise RequestError(404, f"no graph named {name!r} in the served folder (graphs: {shown})", "graph_name")
    try:
        data = json.loads((graphs_dir / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RequestError(422, f"{name} cannot be read: {exc}", "graph_name") from None
    graph = parse_graph(data)
    return graph, str(graph.meta.get("title") or name)


def _overrides(given: Any) -> list[str]:
    """``{"NODE.PARAM": value}`` as ``--set`` texts (each value parsed by its param's kind)."""
    if given is None:
        return []
    if not isinstance(given, dict):
        raise RequestError(422, '"set" must be an object of "NODE.PARAM": value', "set")
    texts = []
    for address, value in given.items():
        text = value if isinstance(value, str) else json.dumps(value)
        texts.append(f"{address}={text}")
    return texts


def _apply_sweeps(graph: Graph, given: Any) -> None:
    """``{"NODE.PARAM": [values]}`` written into the graph as sweeps; the engine validates the values."""
    if given is None:
        return
    if not isinstance(given, dict):
        raise RequestError(422, '"sweep" must be an object of "NODE.PARAM": [values]', "sweep")
    for address, values in given.items():
        node_id, dot, param = address.rpartition(".")
        node = graph.nodes.get(node_id)
        if not dot or node is None:
            raise RequestError(422, f"sweep {address!r}: no node {node_id or address!r} in the graph", "sweep")
        if isinstance(values, list):
            node.params[param] = {"sweep": values}
        elif isinstance(values, dict) and "sweep" in values:
            node.params[param] = values
        else:
            raise RequestError(422, f"sweep {address!r}: expected a list of values", "sweep")
        node.inputs.pop(param, None)


def _field_of(problems: list[Problem], body: dict[str, Any]) -> str:
    """Which request field a problem comes from: a ``set``, ``sweep`` or ``only`` entry, else the graph."""
    for problem in problems:
        option = _CLI_OPTION.match(problem.message)
        if option:
            return option[1]
    for problem in problems:  # a value of "set" that its param refuses
        if problem.node and f"{problem.node}.{problem.port}" in (body.get("set") or {}):
            return "set"
    swept = {a.rpartition(".")[0] for a in (body.get("sweep") or {})}
    if any(p.node in swept for p in problems):
        return "sweep"
    return "graph_name" if "graph_name" in body else "graph"


def say_problems(problems: list[Problem]) -> str:
    first = str(problems[0])
    more = len(problems) - 1
    return first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
