"""One set of HTTP rules in front of the whole app, Gradio's mounted routes included.

``secure(app, host=..., auth=...)`` wraps an ASGI app (the editor's, ``serve``'s) so that every request:

- names one well-formed Host (``name[:port]``; ``127.0.0.1:7880@evil.example`` or ``a, b`` are refused),
  and, when the server listens on a local address without auth, a local name (DNS rebinding);
- carries no Origin, or the Origin of this very server (another site's page cannot drive it);
- carries credentials when auth is on (see :mod:`nodeflow.app.auth`);
- has a body no larger than ``NODEFLOW_MAX_UPLOAD_MB`` (512 by default), counted as it arrives.

JSON routes call :func:`require_json`: a cross-site form can post ``text/plain`` without a preflight,
never ``application/json``, and read their body with :func:`read_json_body`: counted against
``NODEFLOW_MAX_JSON_MB`` (32 by default: a 50,000-node graph is a few MB) before a byte is parsed, then
parsed strictly (:func:`parse_json`: no ``NaN``/``1e400``, no 5,000-digit numbers, no deep nesting), so
a careless or hostile body gets a 4xx naming what is wrong, never a 500 or gigabytes of parsed objects.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import LOCAL_HOSTS, AuthConfig, AuthMiddleware

__all__ = ["BodyTooLarge", "HttpGuard", "JsonBodyError", "max_body_bytes", "max_json_bytes", "parse_json",
           "read_json_body", "require_json", "secure"]

# a host name or an IPv4 address, or a bracketed IPv6 address; an optional port
_HOST = re.compile(r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?))(?::[0-9]{1,5})?")
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def max_body_bytes() -> int:
    """The largest request body accepted (uploads included): ``NODEFLOW_MAX_UPLOAD_MB``, 512 by default."""
    try:
        megabytes = float(os.environ.get("NODEFLOW_MAX_UPLOAD_MB", "512"))
    except ValueError:
        megabytes = 512.0
    return int(max(megabytes, 0.001) * 2**20)


def max_json_bytes() -> int:
    """The largest JSON body a route parses: ``NODEFLOW_MAX_JSON_MB``, 32 by default (never above the
    upload limit)."""
    try:
        megabytes = float(os.environ.get("NODEFLOW_MAX_JSON_MB", "32"))
    except ValueError:
        megabytes = 32.0
    return min(int(max(megabytes, 0.001) * 2**20), max_body_bytes())


class JsonBodyError(ValueError):
    """A body that is not the JSON a route takes; ``status`` is the answer's (400 or 413)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def parse_json(data: bytes | str) -> Any:
    """The JSON value of ``data``, parsed strictly. Raises JsonBodyError (400) naming the problem: not
    UTF-8, malformed, nested too deeply, ``NaN``/``Infinity``, a number too large for a float
    (``1e400``) or an integer of more than 4,300 digits."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise JsonBodyError(f"the request body is not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise JsonBodyError(f"the request body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise JsonBodyError("the request body is nested too deeply") from None
    except ValueError as exc:  # a number of more than 4,300 digits, or one of the refusals above
        raise JsonBodyError(f"the request body must be JSON ({str(exc)[:200]})") from None


async def read_json_body(request: Any, limit: int | None = None) -> Any:
    """The parsed JSON body of a Starlette ``request``: refused with 413 once it passes ``limit``
    (:func:`max_json_bytes`) as it arrives, before any of it is parsed; parsed off the event loop
    when large. Raises JsonBodyError."""
    limit = max_json_bytes() if limit is None else limit
    declared = request.headers.get("content-length", "")
    too_large = f"the JSON body is larger than the limit of {_megabytes(limit)} (NODEFLOW_MAX_JSON_MB)"
    if declared.isdigit() and int(declared) > limit:
        raise JsonBodyError(too_large, 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise JsonBodyError(too_large, 413)
        chunks.append(chunk)
    data = b"".join(chunks)
    if len(data) > 2**20:  # parsing megabytes takes a while: keep the loop answering other requests
        return await asyncio.to_thread(parse_json, data)
    return parse_json(data)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body passes the limit; FastAPI and Gradio answer it with a 413."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than the limit of {_megabytes(limit)} (NODEFLOW_MAX_UPLOAD_MB)")


def host_problem(host: str | None, local_only: bool) -> tuple[int, str] | None:
    """(status, message) when a Host header must be refused, else None."""
    if not host:
        return 400, "the request has no Host header"
    match = _HOST.fullmatch(host)
    if match is None:
        return 400, f"malformed Host header {host[:100]!r}"
    name = (match["ip6"] or match["name"]).lower()
    if local_only and name not in LOCAL_HOSTS:
        return 403, f"this server answers on 127.0.0.1 only, not {host}"
    return None


def origin_problem(origin: str, host: str, scheme: str = "http") -> str | None:
    """A message when the Origin is another site than the server the request was sent to: another
    host, port or scheme (an https page is another origin than this http server)."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != scheme or parts.netloc.lower() != host.lower():
        return f"requests from {origin[:100]} are not allowed"
    return None


class HttpGuard:
    """The rules above as pure ASGI middleware (no request object is built for refused requests)."""

    def __init__(self, app: ASGIApp, *, local_only: bool, max_body: int | None = None):
        self.app = app
        self.local_only = local_only
        self.max_body = max_body if max_body is not None else max_body_bytes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._check(scope)
        if refusal is not None:
            await _refuse(scope, receive, send, *refusal)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        limit = self.max_body
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as too_large:
            if not started:
                await _refuse(scope, receive, send, 413, str(too_large.detail))

    def _check(self, scope: Scope) -> tuple[int, str] | None:
        headers: dict[bytes, list[bytes]] = {}
        for key, value in scope.get("headers", ()):
            headers.setdefault(key.lower(), []).append(value)
        hosts = headers.get(b"host", [])
        if len(hosts) > 1:
            return 400, "the request has more than one Host header"
        host = hosts[0].decode("latin-1") if hosts else None
        problem = host_problem(host, self.local_only)
        if problem is not None:
            return problem
        assert host is not None
        origins = headers.get(b"origin", [])
        if len(origins) > 1:
            return 403, "the request has more than one Origin header"
        if origins:
            scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
            message = origin_problem(origins[0].decode("latin-1"), host, scheme)
            if message is not None:
                return 403, message
        lengths = headers.get(b"content-length", [])
        if lengths:
            text = lengths[0].decode("latin-1").strip()
            if len(lengths) > 1 or not text.isascii() or not text.isdigit() or len(text) > 18:
                return 400, "malformed Content-Length header"
            if int(text) > self.max_body:
                return 413, f"the request body is larger than the limit of {_megabytes(self.max_body)} (NODEFLOW_MAX_UPLOAD_MB)"
        return None


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"detail": message}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": body})


def require_json(request: Any) -> None:
    """Refuse a body that is not declared ``application/json`` (415): a web page on another site
    can send ``text/plain`` or a form without asking first, never JSON."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(415, f"send the body as Content-Type: application/json, not {kind or 'no content type'}")


def secure(
    app: Any,
    *,
    host: str = "127.0.0.1",
    auth: AuthConfig | None = None,
    local_only: bool | None = None,
    max_body: int | None = None,
) -> Any:
    """Put ``app`` behind the rules above; returns the app to serve.

    ``host`` is the address the server listens on: on a local one without ``auth``, only local Host
    names are answered (``local_only`` overrides that choice). A Starlette/FastAPI app gets the rules
    as its outermost middleware (so ``app.state`` stays reachable); any other ASGI app is wrapped.
    """
    if local_only is None:
        local_only = auth is None and host in LOCAL_HOSTS
    if hasattr(app, "add_middleware"):
        if auth is not None:
            app.add_middleware(AuthMiddleware, config=auth)
        app.add_middleware(HttpGuard, local_only=local_only, max_body=max_body)  # added last: runs first
        return app
    inner = AuthMiddleware(app, auth) if auth is not None else app
    return HttpGuard(inner, local_only=local_only, max_body=max_body)


def _megabytes(limit: int) -> str:
    return f"{limit / 2**20:g} MB"
