"""Webhooks: when a ``serve`` job ends, its ``run_finished`` event is POSTed to the job's
``callback_url`` (and to ``NODEFLOW_WEBHOOK_URL``, every job's), signed so the receiver can tell it
came from this server.

The body is the event as JSON. Headers: ``X-Nodeflow-Timestamp`` (Unix seconds) and
``X-Nodeflow-Signature: sha256=HEX``, the HMAC-SHA256 of ``TIMESTAMP.BODY`` with the secret
``NODEFLOW_WEBHOOK_SECRET`` (when it is not set, one is made at start and printed with the first delivery). A receiver checks::

    expected = hmac.new(secret, f"{timestamp}.".encode() + body, "sha256").hexdigest()
    hmac.compare_digest(f"sha256={expected}", signature)

A delivery that fails (no answer, or not a 2xx) is tried again after 1, 2, 4 and 8 seconds (five tries
in all), off the job's thread. Only ``http(s)`` URLs are taken, and never this server's own address
unless ``NODEFLOW_WEBHOOK_ALLOW_SELF=1``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import socket
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Webhooks", "webhook_problem", "sign"]

RETRY_DELAYS_S = (1.0, 2.0, 4.0, 8.0)
TIMEOUT_S = 10.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def webhook_problem(url: Any, server_port: int | None) -> str | None:
    """Why ``url`` may not be a callback (None when it may)."""
    if not isinstance(url, str) or len(url) > 2000:
        return "callback_url must be an http(s) URL"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"callback_url must be an http(s) URL, not {url[:100]!r}"
    if os.environ.get("NODEFLOW_WEBHOOK_ALLOW_SELF") == "1" or server_port is None:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if port == server_port and _is_this_machine(parts.hostname):
        return "callback_url points at this server itself (NODEFLOW_WEBHOOK_ALLOW_SELF=1 allows it)"
    return None


def _is_this_machine(host: str) -> bool:
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    own = {"0.0.0.0", "::"}
    try:
        own |= {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:
        pass
    return any(ipaddress.ip_address(a.split("%")[0]).is_loopback or a in own for a in addresses)


class Webhooks:
    """Delivers ``run_finished`` events to the callbacks of their jobs, in background threads."""

    def __init__(self, secret: str, server_url: str | None = None):
        self.secret = secret
        self.server_url = server_url  # every job's callback (NODEFLOW_WEBHOOK_URL), or None
        self._threads: list[threading.Thread] = []
        # a secret made at start is printed once, when it is first used, so receivers can be told it
        self._announce = not os.environ.get("NODEFLOW_WEBHOOK_SECRET")

    def job_finished(self, job_id: str, event: dict[str, Any], callback: str | None) -> None:
        urls = {u for u in (callback, self.server_url) if u}
        if urls and self._announce:
            self._announce = False
            print(f"webhooks are signed with NODEFLOW_WEBHOOK_SECRET={self.secret} (set it to keep one)",
                  file=sys.stderr, flush=True)
        for url in urls:
            thread = threading.Thread(target=self._deliver, args=(url, event), name="nodeflow-webhook", daemon=True)
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _deliver(self, url: str, event: dict[str, Any]) -> None:
        import httpx

        body = json.dumps(event, default=str).encode()
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS_S)):
            time.sleep(delay)
            stamp = str(int(time.time()))
            headers = {"content-type": "application/json", "x-nodeflow-timestamp": stamp,
                       "x-nodeflow-signature": sign(self.secret, stamp, body), "x-nodeflow-attempt": str(attempt + 1)}
            try:
                answer = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_S, follow_redirects=False)
                if 200 <= answer.status_code < 300:
                    return
                why = f"HTTP {answer.status_code}"
            except httpx.HTTPError as exc:
                why = f"{type(exc).__name__}: {exc}"
        print(f"webhook for run {event.get('run')} to {url} failed after {len(RETRY_DELAYS_S) + 1} tries: {why}",
              file=sys.stderr)

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for deliveries under way (at shutdown)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
