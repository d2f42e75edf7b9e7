"""Telling the user the access token a server made at start, without writing it into a log.

A server on a non-local address asks for a token it makes at start. Printed to a terminal, the URL
with ``?token=`` is what the user opens. But a server's output is often a log file (a service, ``>
server.log``, a container's log), which others read and which is kept: there the token would leak.
So when the output is not a terminal, the URL is printed without the token, and the token goes into a
file only its owner can read (``NODEFLOW_HOME/NAME.token``, mode 0600), named in the output.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

__all__ = ["announce_url", "tell_token", "token_file"]


def token_file(home: Path, name: str) -> Path:
    """Where a server named ``name`` (``editor``, ``app``, ``serve``) keeps its token when it cannot print it."""
    return Path(home) / f"{name}.token"


def announce_url(label: str, url: str, token: str | None, *, home: Path, name: str, out: TextIO | None = None) -> None:
    """Print ``LABEL: URL``; with a token, ``?token=...`` is added on a terminal, or written to the
    token file (owner-only) when the output is a file or a pipe."""
    out = out or sys.stdout
    if token is None:
        print(f"{label}: {url}", file=out, flush=True)
        return
    if _is_terminal(out):
        print(f"{label}: {url}?token={token}", file=out, flush=True)
        return
    path = _write_token(home, name, token)
    print(f"{label}: {url} (open it with ?token=TOKEN: the token is in {path}, readable by you only; "
          "it is not printed because this output is not a terminal)", file=out, flush=True)


def tell_token(text: str, token: str, *, home: Path, name: str, out: TextIO | None = None) -> None:
    """Print ``text`` with ``{token}`` filled in on a terminal; elsewhere the token goes to the
    owner-only token file and ``text`` says where it is instead."""
    out = out or sys.stdout
    if _is_terminal(out):
        print(text.format(token=token), file=out, flush=True)
        return
    path = _write_token(home, name, token)
    print(text.format(token=f"TOKEN (in {path}, readable by you only; not printed because this output is "
                            "not a terminal)"), file=out, flush=True)


def _write_token(home: Path, name: str, token: str) -> Path:
    path = token_file(home, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # made afresh: never widen the rights of a file someone else made
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    return path


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False
