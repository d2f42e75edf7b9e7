"""ComfyUI's ``ComfyMathExpression`` (a formula over inputs ``a``, ``b``...) as our ``core.math`` node,
when the formula is one operation that node does: ``a + b``, ``a * 0.5``, ``2 ** a``... ``min(a, b)``.
Longer formulas have no counterpart: the node stays a placeholder that says so."""

from __future__ import annotations

import ast
from typing import Any

from .mapping_types import Note, Unmappable

__all__ = ["math_expression"]

_OPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide", ast.Pow: "power"}
_COMMUTATIVE = {"add", "multiply"}
_CALLS = {"min", "max"}


def _number(node: ast.AST) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    return None


def _name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _operation(op: str, left: ast.AST, right: ast.AST) -> dict[str, Any] | None:
    if _name(left, "a") and _name(right, "b"):
        return {"op": op}
    if _name(left, "a") and (value := _number(right)) is not None:
        return {"op": op, "value": value}
    if op in _COMMUTATIVE and _name(right, "a") and (value := _number(left)) is not None:
        return {"op": op, "value": value}
    if op in _COMMUTATIVE and _name(left, "b") and _name(right, "a"):
        return {"op": op}
    return None


def math_expression(values: dict[str, Any], note: Note) -> dict[str, Any]:
    """``core.math`` params for ComfyUI's expression, or Unmappable when it is not one operation."""
    text = str(values.get("expression", "")).strip()
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise Unmappable(f"expression {text!r} is not a formula we can read") from None
    found = None
    if isinstance(tree, ast.BinOp) and type(tree.op) in _OPS:
        found = _operation(_OPS[type(tree.op)], tree.left, tree.right)
    elif isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id in _CALLS \
            and len(tree.args) == 2 and not tree.keywords:
        found = _operation(tree.func.id, *tree.args)
    elif _name(tree, "a"):
        found = {"op": "add", "value": 0.0}
    if found is None:
        raise Unmappable(f"expression {text!r} is more than one operation of our math node (+ - * / ** min max "
                         "between a and b or a number)")
    return found
