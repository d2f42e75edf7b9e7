"""Sending the probe's requests to a server and collecting the wrong answers."""

from __future__ import annotations

from tests.probe.cases import bad_answer
from tests.probe.servers import Raw

# 5xx the probe still finds that belong to another item: issue 25.4 (file names too long for the file
# system on /files/* and /api/inputs/from-output) is the hardening work's; the suite reports them apart.
ELSEWHERE = (("GET", "/files/"), ("POST", "/api/inputs/from-output"))


def probe(server: Raw, requests: list[tuple[str, str, bytes, dict[str, str]]]) -> tuple[list[str], list[str]]:
    """(wrong answers, wrong answers of ELSEWHERE's routes), each as one line naming the request."""
    wrong, elsewhere = [], []
    for method, path, body, headers in requests:
        try:
            status, text = server.request(method, path, body, headers)
        except OSError as exc:  # the server closed the connection without an answer
            why: str | None = f"no answer: {exc}"
        else:
            why = bad_answer(status, text)
        if why is not None:
            line = f"{method} {path[:60]} {body[:60]!r}: {why}"
            (elsewhere if any(method == m and path.startswith(p) for m, p in ELSEWHERE) else wrong).append(line)
    return wrong, elsewhere
