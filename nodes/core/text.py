"""Text nodes: templates, concatenation and showing text."""

from __future__ import annotations

from typing import Any

from nodeflow import Context, Param, check_template, fill_template, node


@node("core.template", category="Text")
def template(
    a: Any = None,
    b: Any = None,
    c: Any = None,
    *,
    template: str = Param("{a}", kind="text", validate=check_template,
                          description="Text with {a}, {b} and {c} placeholders (names only: no attributes or indexes)"),
) -> str:
    """Fill a text template: {a}, {b} and {c} are replaced by the linked values."""
    return fill_template(template, {"a": "" if a is None else a, "b": "" if b is None else b, "c": "" if c is None else c})


@node("core.concat", category="Text")
def concat(a: str, b: str | None = None, *, separator: str = Param(" ")) -> str:
    """Join two texts with a separator."""
    return a if b is None else f"{a}{separator}{b}"


@node("core.show_text", category="Text", output=True)
def show_text(text: Any, ctx: Context) -> str:
    """Show a result as text (in the editor, and in the command line's summary): text as it is, any
    other value (a number, a list...) written out."""
    shown = text if isinstance(text, str) else str(text)
    ctx.preview(shown)
    return shown
