"""The typed contract of ``serve``'s ``/v1`` API: request and response bodies as pydantic models.

They are what the OpenAPI schema at ``/openapi.json`` declares (a client generated from it, e.g. with
openapi-python-client, gets these names) and what ``nodeflow.client`` reads answers into. The routes
(``nodeflow/app/serve/routes.py``) check requests against them and answer with them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ErrorBody", "GraphListing", "NodeCatalog", "Output", "Problem", "QueueState", "RunAccepted",
    "RunEvent", "RunList", "RunRequest", "RunState", "RunSummary", "BatchRequest", "BatchResult", "Upload",
    "MODELS", "Status",
]

# interrupted: the server stopped or died while the job ran (a graceful stop queues it again)
Status = Literal["queued", "running", "ok", "error", "cancelled", "interrupted"]


class RunRequest(BaseModel):
    """What to run: exactly one of ``graph`` (the graph itself) or ``graph_name`` (a file of the
    served folder), with optional param changes."""

    model_config = ConfigDict(extra="forbid")

    graph: dict[str, Any] | None = Field(None, description='a graph object, as in a graph file: {"nodeflow": 1, "nodes": {...}}')
    graph_name: str | None = Field(None, description="the name of a graph file of the served folder (GET /v1/graphs)")
    set: dict[str, Any] | None = Field(
        None, description='param values, "NODE.PARAM": value; a file param may name an upload by its ref ("uploads/NAME", POST /v1/uploads)')
    sweep: dict[str, list[Any] | dict[str, Any]] | None = Field(
        None, description='params to sweep, "NODE.PARAM": [values] (or a sweep object as in a graph file, '
                          '{"sweep": [values], "zip": GROUP}): one item per value; a param may not be both set and swept')
    only: list[str] | None = Field(None, description="run only these nodes (and what they need)")
    priority: int = Field(0, ge=-100, le=100, description="higher runs sooner among queued jobs; equal ones in order")
    callback_url: str | None = Field(
        None, description="an http(s) URL that gets the job's run_finished event as a signed POST (a webhook)")


class Problem(BaseModel):
    """One thing wrong with a graph or a request, where it is."""

    node: str | None = Field(None, description="the node at fault; null for the graph as a whole")
    type: str = Field("", description="that node's type")
    port: str | None = Field(None, description="the param or input at fault")
    message: str


class ErrorBody(BaseModel):
    """Every 4xx answer of ``/v1``."""

    detail: str = Field(description="what is wrong, in words")
    field: str | None = Field(None, description="the request field (or header) at fault")
    problems: list[Problem] | None = Field(None, description="every problem, for a graph that does not validate")


class RunAccepted(BaseModel):
    id: str = Field(description="the run (job) id")
    status: Literal["queued", "running", "ok", "error", "cancelled", "interrupted", "deleted"] = "queued"


class Output(BaseModel):
    """One output of a run. ``name`` is the output port of the node (``path`` for a save node);
    ``artifact`` the file's name under ``/v1/runs/{id}/artifacts/`` (what ``url`` points at). In a
    sweep, ``node`` is ``NODE[ITEM]`` (``save[0]``, ``save[1]``...), ``item`` the item's index."""

    node: str = Field(description='the node id; for a sweep item "NODE[ITEM]"')
    name: str = Field(description="the output port's name")
    item: int | None = Field(None, description="the sweep item's index (0-based); null outside a sweep")
    kind: str | None = Field(None, description="image, audio, video, text, json, file or value")
    artifact: str | None = Field(None, description="the file's name for GET /v1/runs/{id}/artifacts/{artifact}")
    url: str | None = Field(None, description="the file's URL on this server, or null for a value")
    value: Any = Field(None, description="the value itself, for an output that is not a file")


class RunState(BaseModel):
    id: str
    client: str | None = Field(None, description="the client (token name) that submitted it")
    status: Status
    title: str | None = None
    graph: str | None = Field(None, description="the graph_name it was submitted with, if any")
    priority: int = 0
    created: float | None = None
    started: float | None = None
    finished: float | None = None
    error: dict[str, Any] | None = Field(None, description="{node, type, message, item} when it failed")
    outputs: list[Output] = Field(default_factory=list)


class RunSummary(BaseModel):
    id: str
    status: Status
    title: str | None = None
    graph: str | None = None
    priority: int = 0
    created: float | None = None
    started: float | None = None
    finished: float | None = None


class RunList(BaseModel):
    runs: list[RunSummary]
    next_cursor: str | None = Field(None, description="give it as ?cursor= for the next page; null on the last")


class QueueState(BaseModel):
    running: list[RunSummary]
    queued: list[RunSummary]


class RunEvent(BaseModel):
    """One server-sent event's data (``GET /v1/runs/{id}/events``). Every event has ``event``,
    ``run``, ``t`` and ``seq``; ``run_finished`` also has ``status``, ``error`` and ``outputs`` (as
    ``GET /v1/runs/{id}`` shows them, and sent only once that agrees)."""

    model_config = ConfigDict(extra="allow")

    event: str
    run: str | None = None
    seq: int
    t: float | None = None


class Upload(BaseModel):
    name: str = Field(description="the stored file's name (the start of its hash, then its cleaned name)")
    size: int
    kind: str = Field(description="image, audio, video, text or json")
    ref: str = Field(description='the value to give a file param in "set": "uploads/NAME"')


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=1000)


class BatchResult(BaseModel):
    done: list[str] = Field(description="runs cancelled, or the new ids of runs queued again")
    skipped: dict[str, str] = Field(default_factory=dict, description="id -> why it was left alone")


class NodeCatalog(BaseModel):
    model_config = ConfigDict(extra="allow")


class GraphListing(BaseModel):
    graphs: list[dict[str, Any]]


MODELS = (RunRequest, ErrorBody, RunAccepted, RunState, RunList, QueueState, RunEvent, Upload, BatchRequest,
          BatchResult, GraphListing)
