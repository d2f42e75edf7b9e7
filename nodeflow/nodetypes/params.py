"""Parameter specs: what a widget edits, with its kind, default, range and choices.

A parameter is a keyword-only argument of a node function. Its kind decides both the editor widget
and how a value is checked and parsed (from JSON in a graph file, or from text on the command line).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Param", "ParamError", "KINDS", "PORT_TYPE_OF_KIND"]

# kind -> the port type that may be linked into it
PORT_TYPE_OF_KIND = {
    "int": "Int",
    "float": "Float",
    "string": "String",
    "text": "String",
    "bool": "Boolean",
    "choice": "String",
    "seed": "Int",
    "file": "String",
    "colour": "String",
    "json": "JSON",
}
KINDS = tuple(PORT_TYPE_OF_KIND)

SEED_MAX = 2**63 - 1


class ParamError(ValueError):
    """A parameter value is of the wrong kind or outside its range."""


@dataclass
class Param:
    """Describes a node parameter (a widget in the editor).

    ``kind`` is inferred from the default when not given: ``int``, ``float``, ``bool`` or
    ``string``. Other kinds: ``text`` (multiline), ``choice``, ``seed``, ``file``, ``colour``, ``json``.
    ``display="slider"`` asks the editor for a slider on a bounded number.
    """

    default: Any = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] | None = None
    kind: str | None = None
    display: str | None = None
    description: str = ""
    extensions: tuple[str, ...] = ()  # for ``file`` params: accepted file endings
    optional: bool = False
    # for text kinds: a value with nothing but blanks is a validation problem; this says what to add
    nonempty: str = ""
    # how validation checks that the value names something that exists (nodeflow.nodetypes.resolve.Resolve)
    resolve: Any = field(default=None, compare=False)
    # for text kinds: a function returning what is wrong with a value (or None), e.g. a template's rules
    validate: Any = field(default=None, compare=False)
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.choices is not None:
            self.choices = tuple(self.choices)
            if self.kind is None:
                self.kind = "choice"
        if self.kind is None:
            self.kind = _infer_kind(self.default)
        if self.kind not in PORT_TYPE_OF_KIND:
            raise ValueError(f"unknown param kind {self.kind!r}; known kinds: {', '.join(KINDS)}")
        if self.kind == "seed":
            self.min = 0 if self.min is None else self.min
            self.max = SEED_MAX if self.max is None else self.max
        if self.default is None and not self.optional and self.kind != "json":
            raise ValueError("a Param needs a default (or optional=True)")
        if self.default is not None:
            self.default = self.check(self.default)

    @property
    def port_type(self) -> str:
        assert self.kind is not None  # __post_init__ always sets it
        return PORT_TYPE_OF_KIND[self.kind]

    def check(self, value: Any) -> Any:
        """Return the value normalised to this kind, or raise ParamError saying what is wrong."""
        kind = self.kind
        if value is None:
            if self.optional:
                return None
            raise ParamError("a value is required")
        if kind in ("int", "seed"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParamError(f"expected a whole number, got {_show(value)}")
            if isinstance(value, float):
                if not value.is_integer():
                    raise ParamError(f"expected a whole number, got {value!r}")
                value = int(value)
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParamError(f"expected a number, got {_show(value)}")
            value = float(value)
            if not math.isfinite(value):
                raise ParamError(f"expected a finite number, got {value!r}")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ParamError(f"expected true or false, got {_show(value)}")
        elif kind == "json":
            try:
                json.dumps(value)
            except (TypeError, ValueError) as exc:
                raise ParamError(f"expected JSON data: {exc}") from None
        else:
            if not isinstance(value, str):
                raise ParamError(f"expected text, got {_show(value)}")
            if kind == "colour" and not _is_colour(value):
                raise ParamError(f"expected a colour like #ff8800, got {value!r}")
            if self.nonempty and not value.strip():
                raise ParamError(f"is empty: {self.nonempty}")
            if self.validate is not None:
                problem = self.validate(value)
                if problem:
                    raise ParamError(problem)
        if self.choices is not None and value not in self.choices:
            shown = ", ".join(repr(c) for c in self.choices)
            raise ParamError(f"{value!r} is not one of {shown}")
        if self.min is not None and value < self.min:
            raise ParamError(f"{value!r} is below the minimum {_num(self.min)}")
        if self.max is not None and value > self.max:
            raise ParamError(f"{value!r} is above the maximum {_num(self.max)}")
        return value

    def parse(self, text: str) -> Any:
        """Parse a value given as text (``--set node.param=VALUE``) and check it."""
        kind = self.kind
        raw: Any = text
        if kind in ("int", "seed"):
            try:
                raw = int(text)
            except ValueError:
                raise ParamError(f"expected a whole number, got {text!r}") from None
        elif kind == "float":
            try:
                raw = float(text)
            except ValueError:
                raise ParamError(f"expected a number, got {text!r}") from None
        elif kind == "bool":
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                raw = True
            elif lowered in ("0", "false", "no", "off"):
                raw = False
            else:
                raise ParamError(f"expected true or false, got {text!r}")
        elif kind == "json":
            try:
                raw = json.loads(text)
            except ValueError as exc:
                raise ParamError(f"expected JSON: {exc}") from None
        elif kind == "choice" and self.choices and not isinstance(self.choices[0], str):
            try:
                raw = type(self.choices[0])(text)
            except ValueError:
                raise ParamError(f"{text!r} is not one of the choices") from None
        return self.check(raw)

    def spec(self) -> dict[str, Any]:
        """The JSON description the editor uses to draw a widget."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "default": self.default}
        for key in ("min", "max", "step", "display"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.choices is not None:
            out["choices"] = list(self.choices)
        if self.description:
            out["description"] = self.description
        if self.extensions:
            out["extensions"] = list(self.extensions)
        if self.optional:
            out["optional"] = True
        if self.nonempty:
            out["nonempty"] = True
        if self.resolve is not None:
            out["resolve"] = self.resolve.spec()
        out["type"] = self.port_type
        return out


def _infer_kind(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, (dict, list)):
        return "json"
    return "string"


def _is_colour(value: str) -> bool:
    if not value.startswith("#") or len(value) not in (4, 7, 9):
        return False
    try:
        int(value[1:], 16)
    except ValueError:
        return False
    return True


def _show(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (str, list, dict, bool)) else repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
