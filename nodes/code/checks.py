"""Checking code without running it: Python syntax with ``ast``, and a size/complexity summary.

``ast.parse`` only parses; no code is compiled to run, imported or executed.
"""

from __future__ import annotations

import ast
from typing import Any, NamedTuple

from nodeflow import JSON, Boolean, Code, Context, Param, SourceCode, extract_code, node

__all__ = ["syntax_problem", "summarize"]


def syntax_problem(code: SourceCode) -> dict[str, Any] | None:
    """None when ``code`` parses as Python, else ``{line, column, message, text}``."""
    try:
        ast.parse(code.text, filename="<generated>")
    except SyntaxError as exc:
        return {"line": exc.lineno, "column": exc.offset, "message": exc.msg, "text": (exc.text or "").rstrip("\n")}
    except ValueError as exc:  # source with NUL bytes
        return {"line": None, "column": None, "message": str(exc), "text": ""}
    return None


_BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith, ast.IfExp,
             ast.ExceptHandler, ast.comprehension, ast.Match)


def _depth(node: ast.AST, level: int = 0) -> int:
    nested = isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith, ast.Match))
    here = level + nested
    return max([here, *(_depth(child, here) for child in ast.iter_child_nodes(node))])


def _complexity(function: ast.AST) -> int:
    """McCabe-style: 1 + branches + boolean operators, nested functions not counted twice."""
    count = 1
    for part in ast.walk(function):
        if isinstance(part, _BRANCHES):
            count += 1
        elif isinstance(part, ast.BoolOp):
            count += len(part.values) - 1
    return count


def summarize(code: SourceCode) -> dict[str, Any]:
    """Lines, and for Python that parses: functions, classes, imports, complexity and nesting."""
    lines = code.text.splitlines()
    summary: dict[str, Any] = {
        "language": code.language or "unknown",
        "lines": len(lines),
        "code_lines": sum(1 for line in lines if line.strip() and not line.strip().startswith(("#", "//"))),
        "characters": len(code.text),
    }
    if code.language != "python" or syntax_problem(code) is not None:
        return summary
    tree = ast.parse(code.text)
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    complexity = {f.name: _complexity(f) for f in functions}
    summary.update(
        functions=len(functions),
        classes=sum(isinstance(n, ast.ClassDef) for n in ast.walk(tree)),
        imports=sorted({alias.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                        for alias in (n.names if isinstance(n, ast.Import) else [ast.alias(n.module or ".")])}),
        max_complexity=max(complexity.values(), default=_complexity(tree)),
        most_complex=max(complexity, key=complexity.get) if complexity else None,
        max_nesting=_depth(tree),
    )
    return summary


@node("code.from_text", category="Code", outputs=("code",))
def from_text(
    text: str,
    ctx: Context = None,
    *,
    language: str = Param("python", description="the language; fenced blocks tagged so are preferred"),
) -> Code:
    """Code from text: the fenced code blocks of a Markdown reply, or the whole text when it has none."""
    code = extract_code(text, language)
    if not code.text.strip():
        raise ValueError("the text holds no code")
    if ctx is not None:
        ctx.preview(code.text[:2000])
    return code


class SyntaxResult(NamedTuple):
    ok: Boolean
    report: JSON


@node("code.check_python", category="Code", title="Python syntax check")
def check_python(code: Code, ctx: Context = None, *, fail: bool = Param(False, description="fail the node on a syntax error")) -> SyntaxResult:
    """Parse the code as Python (with ast; never run). ok is false on a syntax error, which the
    report and the node show with its line."""
    problem = syntax_problem(code)
    if problem is None:
        report = {"ok": True, "message": "valid Python"}
    else:
        where = f"line {problem['line']}, column {problem['column']}" if problem["line"] else "the source"
        report = {"ok": False, **problem, "message": f"syntax error at {where}: {problem['message']}"}
        if fail:
            raise ValueError(f"{report['message']}\n    {problem['text']}")
    if ctx is not None:
        ctx.log(report["message"] + (f"\n    {problem['text']}" if problem and problem["text"] else ""))
    return SyntaxResult(problem is None, report)


@node("code.summary", category="Code", outputs=("summary",))
def summary(code: Code, ctx: Context = None) -> JSON:
    """Size and complexity: lines, functions, classes, imports, the most complex function, nesting."""
    facts = summarize(code)
    if ctx is not None:
        ctx.log(", ".join(f"{k} {v}" for k, v in facts.items()))
    return facts
