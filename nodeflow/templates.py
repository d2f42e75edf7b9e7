"""Text templates a graph controls: ``{name}`` placeholders and nothing more.

Python's ``str.format`` follows attributes and indexes (``{a.save.__globals__[os].environ}`` reads the
process environment) and takes any width (``{a:3000000000}`` asks for gigabytes). A graph carries
data, never code, so every template a graph holds goes through :func:`fill_template`: a placeholder
is a plain name, a format spec has no nested fields and a bounded width.
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["MAX_WIDTH", "TemplateError", "fill_template", "template_problem"]

MAX_WIDTH = 10_000  # characters one placeholder may be padded to
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WIDTHS = re.compile(r"\d+")
_CONVERSIONS: dict[str, Callable[[Any], object]] = {"r": repr, "a": ascii, "s": str}  # {x!r}, {x!a}, {x!s}


class TemplateError(ValueError):
    """A template that asks for more than a named value: the message says which placeholder."""


def template_problem(template: str) -> str | None:
    """What is wrong with ``template`` (None when it is fine): attribute or index traversal, nested
    fields, a width over :data:`MAX_WIDTH`, or malformed braces."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"template is malformed: {exc}; write literal braces as {{{{ and }}}}"
    for _, field_name, spec, conversion in parts:
        if field_name is None:
            continue
        shown = "{" + field_name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not _NAME.match(field_name):
            return (f"placeholder {shown[:60]} is not a plain name: templates fill in values by name only, "
                    "never attributes (.) or indexes ([ ])")
        if conversion not in (None, "s", "r", "a"):
            return f"placeholder {shown[:60]} has an unknown conversion !{conversion}"
        if spec and "{" in spec:
            return f"placeholder {shown[:60]} has a nested field in its format; write the format out"
        if spec and any(int(n) > MAX_WIDTH for n in _WIDTHS.findall(spec)):
            return f"placeholder {shown[:60]} asks for a width over {MAX_WIDTH:,} characters"
    return None


class _Fields(dict):
    """Leaves placeholders with no value as they are, instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill_template(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]`` (unknown names stay as written).
    Raises TemplateError when the template asks for more than a name (see :func:`template_problem`)."""
    problem = template_problem(template)
    if problem is not None:
        raise TemplateError(problem)
    fields = _Fields(values)
    out: list[str] = []
    for literal, field_name, spec, conversion in string.Formatter().parse(template):
        out.append(literal)
        if field_name is None:
            continue
        if field_name not in values:
            out.append("{" + field_name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
            continue
        value = fields[field_name]
        if conversion:
            value = _CONVERSIONS[conversion](value)
        try:
            out.append(format(value, spec or ""))
        except (ValueError, TypeError) as exc:
            raise TemplateError(f"placeholder {{{field_name}:{spec}}}: {exc}") from None
    return "".join(out)


def check_template(value: str) -> str | None:
    """A Param ``validate`` hook for template params: the problem, or None."""
    return template_problem(value)
