"""Math nodes on numbers."""

from __future__ import annotations

import math
import operator

from nodeflow import Param, node

_FLOAT_OPS = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "power": operator.pow,
    "min": min,
    "max": max,
}
_INT_OPS = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "floor divide": operator.floordiv,
    "modulo": operator.mod,
    "min": min,
    "max": max,
}


@node("core.math", category="Math")
def float_math(
    a: float, b: float | None = None, *, op: str = Param("add", choices=tuple(_FLOAT_OPS)), value: float = Param(0.0, description="b when b is not linked")
) -> float:
    """Combine two numbers. When b is not linked, the value param is used."""
    other = value if b is None else b
    if op == "divide" and other == 0:
        raise ZeroDivisionError("divide by zero: b is 0")
    result = float(_FLOAT_OPS[op](a, other))
    if not math.isfinite(result):
        raise OverflowError(f"{op} of {a} and {other} is not a finite number")
    return result


@node("core.int_math", category="Math")
def int_math(
    a: int, b: int | None = None, *, op: str = Param("add", choices=tuple(_INT_OPS)), value: int = Param(1, description="b when b is not linked")
) -> int:
    """Combine two whole numbers. When b is not linked, the value param is used."""
    other = value if b is None else b
    if op in ("floor divide", "modulo") and other == 0:
        raise ZeroDivisionError(f"{op} by zero: b is 0")
    return int(_INT_OPS[op](a, other))


@node("core.round", category="Math")
def round_number(x: float, *, digits: int = Param(0, min=0, max=12)) -> float:
    """Round a number to a number of decimal digits."""
    return round(x, digits)


@node("core.to_int", category="Math")
def to_int(x: float) -> int:
    """Turn a number into a whole number (rounding to the nearest)."""
    return int(round(x))
