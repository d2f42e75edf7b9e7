"""The editor's routes for whole-graph tools: import a dropped ComfyUI file, Arrange, subgraph entries.

| route | body | answer |
|---|---|---|
| POST /api/import | `{"name": "x.png", "base64": "..."}` or `{"name": "x.json", "text": "..."}` | `{"graph", "report"}`; 400 `{"error"}` for a malformed file |
| POST /api/arrange | `{"graph": {...}, "selection": [ids]}` (selection optional) | `{"positions": {id: [x, y]}}` |
| POST /api/subgraphs | `{"graph": {...}}` | `{"nodes": [catalog entries of the file's own definitions and the library's]}` |
| POST /api/subgraphs/definition | `{"graph", "name"}` | `{"definition", "source", "version"}`: a definition as stored (the file's own, else the library's), to look inside or copy |
| POST /api/subgraphs/make | `{"graph", "selection": [ids], "name", "params": [[node, param]]}` | `{"graph"}`: the selection folded into a subgraph node, exposing those params |
| POST /api/subgraphs/unpack | `{"graph", "node"}` | `{"graph"}`: the subgraph node replaced by its inner nodes |
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from nodeflow.graph.model import graph_to_dict, parse_graph
from nodeflow.nodetypes.registry import Registry

from .routes import _json_body as _body

__all__ = ["make_graph_tools_router"]

# seconds /api/arrange searches for fewer crossings; past it the best order found so far is used (a
# 50,000-node graph held the editor for 600 s when arranging ran on the event loop, quadratically)
ARRANGE_SECONDS = 5.0


def make_graph_tools_router(registry: Registry) -> APIRouter:
    router = APIRouter()

    @router.post("/api/import")
    async def import_comfy(request: Request) -> Any:
        from nodeflow.comfy import ComfyImportError, import_bytes

        body = await _body(request)
        given = body.get("name")
        name = given if isinstance(given, str) else "workflow.json"
        if isinstance(body.get("text"), str):
            data = body["text"].encode("utf-8")
        elif isinstance(body.get("base64"), str):
            try:
                data = base64.b64decode(body["base64"], validate=True)
            except (binascii.Error, ValueError):
                return JSONResponse({"error": '"base64" is not valid base64'}, status_code=400)
        else:
            return JSONResponse({"error": 'send the file as "text" (JSON) or "base64" (PNG)'}, status_code=400)
        try:
            graph, report = await asyncio.to_thread(import_bytes, data, name, registry)
        except ComfyImportError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return {"graph": graph_to_dict(graph), "report": report.to_json()}

    @router.post("/api/arrange")
    async def arrange_graph(request: Request) -> Any:
        from nodeflow.graph.group_layout import arrange_with_groups
        from nodeflow.graph.layout import arrange

        body = await _body(request)
        selection = body.get("selection")
        if selection is not None and (not isinstance(selection, list) or not all(isinstance(s, str) for s in selection)):
            return JSONResponse({"error": '"selection" must be a list of node ids'}, status_code=400)

        def laid_out() -> dict[str, list[int]]:  # parsing 50,000 nodes takes seconds too: off the loop with it
            graph = parse_graph(body.get("graph"))
            if selection is None:  # the whole graph: groups stay together and their frames apart
                return arrange_with_groups(graph, registry, time_limit=ARRANGE_SECONDS)
            return arrange(graph, registry, selection, time_limit=ARRANGE_SECONDS)

        return {"positions": await asyncio.to_thread(laid_out)}

    @router.post("/api/subgraphs")
    async def subgraphs(request: Request) -> Any:
        from nodeflow.graph.catalog import subgraph_entry
        from nodeflow.graph.subgraphs import available_definitions

        graph = parse_graph((await _body(request)).get("graph"))

        def listing() -> dict[str, Any]:  # reads the library folder: off the event loop
            definitions = available_definitions(graph)
            entries = [subgraph_entry(d, definitions, registry) for _, d in sorted(definitions.items()) if not d.problems]
            return {"nodes": entries, "problems": {name: d.problems for name, d in definitions.items() if d.problems}}

        return await asyncio.to_thread(listing)

    @router.post("/api/subgraphs/definition")
    async def definition(request: Request) -> Any:
        from nodeflow.graph.subgraphs import available_definitions

        body = await _body(request)
        name = body.get("name")
        if not isinstance(name, str):
            return JSONResponse({"error": 'send {"graph": {...}, "name": "subgraph name"}'}, status_code=400)
        found = (await asyncio.to_thread(available_definitions, parse_graph(body.get("graph")))).get(name)
        if found is None:
            return JSONResponse({"error": f"no subgraph {name!r} in the file or the library"}, status_code=404)
        if found.problems:
            return JSONResponse({"error": f"subgraph {name!r}: {'; '.join(found.problems)}"}, status_code=400)
        return {"definition": found.data, "source": found.source, "version": found.version}

    @router.post("/api/subgraphs/make")
    async def make(request: Request) -> Any:
        from nodeflow.graph.subgraph_edit import SubgraphEditError, make_subgraph

        body = await _body(request)
        graph, selection = body.get("graph"), body.get("selection")
        if not isinstance(graph, dict) or not isinstance(selection, list) or not all(isinstance(s, str) for s in selection):
            return JSONResponse({"error": 'send {"graph": {...}, "selection": [node ids], "name": "..."}'}, status_code=400)
        given = body.get("name")
        name = given if isinstance(given, str) else "subgraph"
        params = body.get("params") or []
        if not isinstance(params, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) for v in p) for p in params
        ):
            return JSONResponse({"error": '"params" must be a list of [node, param] pairs'}, status_code=400)
        malformed = _malformed(graph)
        if malformed is not None:
            return malformed
        try:
            return {"graph": await asyncio.to_thread(make_subgraph, graph, selection, name, params)}
        except SubgraphEditError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except _SHAPE_ERRORS as exc:  # a part the load check does not look into (a group, a definition)
            return JSONResponse({"error": f"the graph is malformed: {type(exc).__name__}: {str(exc)[:200]}"}, status_code=400)

    @router.post("/api/subgraphs/unpack")
    async def unpack(request: Request) -> Any:
        from nodeflow.graph.subgraph_edit import SubgraphEditError, unpack_subgraph

        body = await _body(request)
        if not isinstance(body.get("graph"), dict) or not isinstance(body.get("node"), str):
            return JSONResponse({"error": 'send {"graph": {...}, "node": "subgraph node id"}'}, status_code=400)
        malformed = _malformed(body["graph"])
        if malformed is not None:
            return malformed
        try:
            return {"graph": await asyncio.to_thread(unpack_subgraph, body["graph"], body["node"])}
        except SubgraphEditError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except _SHAPE_ERRORS as exc:  # a part the load check does not look into (a group, a definition)
            return JSONResponse({"error": f"the graph is malformed: {type(exc).__name__}: {str(exc)[:200]}"}, status_code=400)

    return router


_SHAPE_ERRORS = (AttributeError, TypeError, KeyError, IndexError, ValueError)


def _malformed(graph: dict[str, Any]) -> JSONResponse | None:
    """A 400 naming every structural problem of ``graph`` (a node that is not an object, a type that is
    not a string...) as loading the file finds them; None when its structure can be edited."""
    problems = parse_graph(graph).load_problems
    if not problems:
        return None
    shown = "; ".join(str(p) for p in problems[:5]) + ("; ..." if len(problems) > 5 else "")
    return JSONResponse({"error": f"the graph is malformed: {shown}", "problems": [p.to_json() for p in problems[:50]]},
                        status_code=400)
