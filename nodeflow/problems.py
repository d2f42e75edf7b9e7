"""A validation problem: what is wrong, tied to a node and a port."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

__all__ = ["Problem", "GraphInvalid", "did_you_mean"]


@dataclass(frozen=True)
class Problem:
    node: str | None  # None for problems with the file as a whole
    type: str
    port: str | None
    message: str

    @classmethod
    def graph(cls, message: str) -> Problem:
        return cls(None, "", None, message)

    def __str__(self) -> str:
        where = "graph" if self.node is None else f"{self.node} ({self.type or '?'})"
        port = f" {self.port!r}:" if self.port else ""
        return f"{where}:{port} {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "type": self.type, "port": self.port, "message": self.message}


class GraphInvalid(ValueError):
    """Raised when asked to run a graph that does not validate; carries every problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the known name closest to a misspelt one, or an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
