"""Safe by default: on 127.0.0.1 the editor needs no login; on any other address every request must
carry credentials. ``NODEFLOW_AUTH=user:password`` asks for HTTP basic auth; otherwise a random token
is made at start and printed in the URL (``?token=...``), which sets a cookie for the session.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["AuthConfig", "AuthMiddleware", "ClientToken", "LocalHostOnly", "auth_for_host", "load_client_tokens",
           "LOCAL_HOSTS", "SCOPES"]

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
COOKIE = "nodeflow_token"


SCOPES = ("submit", "read", "admin")


@dataclass(frozen=True)
class ClientToken:
    """A client of ``serve`` with a token of its own (``NODEFLOW_TOKENS``): it sees only its own runs,
    and may do what its scopes say: ``submit`` (queue runs, upload inputs, retry), ``read`` (its runs,
    their events and files), ``admin`` (everything, every client's runs)."""

    name: str
    token: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class AuthConfig:
    token: str
    user: str | None = None
    password: str | None = None
    clients: tuple[ClientToken, ...] = ()

    @property
    def basic(self) -> bool:
        return self.user is not None


def load_client_tokens(path: str | os.PathLike) -> tuple[ClientToken, ...]:
    """Read a token file (TOML)::

        [clients.studio]
        token = "a long random string"
        scopes = ["submit", "read"]

    Raises ValueError naming the file and the entry at fault."""
    import tomllib

    try:
        data = tomllib.loads(open(path, encoding="utf-8").read())
    except (OSError, ValueError) as exc:
        raise ValueError(f"NODEFLOW_TOKENS {path}: {exc}") from None
    clients = data.get("clients")
    if not isinstance(clients, dict) or not clients:
        raise ValueError(f"NODEFLOW_TOKENS {path}: no [clients.NAME] entries")
    found, seen = [], set()
    for name, entry in clients.items():
        token, scopes = (entry or {}).get("token"), (entry or {}).get("scopes", ["submit", "read"])
        if not isinstance(token, str) or len(token) < 16:
            raise ValueError(f"NODEFLOW_TOKENS {path}: clients.{name}.token must be a string of 16 characters or more")
        if token in seen:
            raise ValueError(f"NODEFLOW_TOKENS {path}: clients.{name}.token is another client's token")
        if not isinstance(scopes, list) or not scopes or any(s not in SCOPES for s in scopes):
            raise ValueError(f"NODEFLOW_TOKENS {path}: clients.{name}.scopes must list some of {', '.join(SCOPES)}")
        seen.add(token)
        found.append(ClientToken(str(name), token, frozenset(scopes)))
    return tuple(found)


def auth_for_host(host: str) -> AuthConfig | None:
    """None on a local address (unless NODEFLOW_TOKENS names a token file: then tokens are asked
    everywhere); otherwise basic auth from NODEFLOW_AUTH, else a fresh token."""
    tokens = os.environ.get("NODEFLOW_TOKENS", "").strip()
    if tokens:
        return AuthConfig(token=secrets.token_urlsafe(24), clients=load_client_tokens(tokens))
    if host in LOCAL_HOSTS:
        return None
    pair = os.environ.get("NODEFLOW_AUTH", "")
    if pair:
        user, sep, password = pair.partition(":")
        if not sep or not user or not password:
            raise ValueError("NODEFLOW_AUTH must look like user:password")
        return AuthConfig(token=secrets.token_urlsafe(24), user=user, password=password)
    return AuthConfig(token=secrets.token_urlsafe(24))


class AuthMiddleware:
    def __init__(self, app: ASGIApp, config: AuthConfig):
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = self.check(request)
        if response is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await response(scope, receive, send)
        else:  # a websocket without credentials: refuse the handshake
            await send({"type": "websocket.close", "code": 1008})

    def check(self, request: Request) -> Response | None:
        config = self.config
        if _same(request.cookies.get(COOKIE), config.token):
            return None
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer ") and _same(header[7:], config.token):
            return None
        if header.startswith("Bearer "):
            for client in config.clients:  # every one compared, in constant time each
                if _same(header[7:], client.token):
                    request.scope.setdefault("state", {})["client"] = client
                    return None
        if config.basic and header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user = password = ""
            if _same(user, config.user) and _same(password, config.password):
                return None
        query_token = request.query_params.get("token")
        if query_token is not None and _same(query_token, config.token):
            # drop the token from the address bar; the cookie carries it from now on
            target = request.url.remove_query_params("token")
            response = RedirectResponse(str(target.path) + (f"?{target.query}" if target.query else ""), status_code=303)
            response.set_cookie(COOKIE, config.token, httponly=True, samesite="strict")
            return response
        # the API's error shape, and the header that tells a client which credentials to send
        if config.basic:
            return JSONResponse({"detail": "log in to use nodeflow (HTTP basic auth, NODEFLOW_AUTH)", "field": "Authorization"},
                                status_code=401, headers={"WWW-Authenticate": 'Basic realm="nodeflow"'})
        said = "a wrong token" if header.startswith("Bearer ") or query_token is not None else "no credentials"
        return JSONResponse({"detail": f"{said}: send the header Authorization: Bearer TOKEN with the token the server "
                                       "printed at start (a browser: open the printed address with ?token=TOKEN)",
                             "field": "Authorization"},
                            status_code=401, headers={"WWW-Authenticate": 'Bearer realm="nodeflow"'})


def _same(given: str | None, expected: str | None) -> bool:
    return given is not None and expected is not None and hmac.compare_digest(given.encode(), expected.encode())


class LocalHostOnly:
    """Without auth the editor answers only requests addressed to a local name: a web page whose
    domain is made to resolve to 127.0.0.1 (DNS rebinding) cannot reach it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = Request(scope).headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
            if name not in LOCAL_HOSTS:
                if scope["type"] == "http":
                    response = PlainTextResponse(f"this editor answers on 127.0.0.1 only, not {host}", status_code=403)
                    await response(scope, receive, send)
                else:
                    await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)
