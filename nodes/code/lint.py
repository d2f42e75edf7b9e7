"""A linter pass with ruff (installed as a Python package): the code goes in on stdin, findings come
back as JSON and show on the node. ruff only reads the code; nothing runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, NamedTuple

from nodeflow import JSON, Code, Context, Int, Param, SourceCode, node

__all__ = ["ruff_findings"]


def _ruff_command() -> list[str]:
    try:
        from ruff.__main__ import find_ruff_bin

        return [os.fsdecode(find_ruff_bin())]
    except (ImportError, FileNotFoundError):
        return [sys.executable, "-m", "ruff"]


def ruff_findings(code: SourceCode, *, select: str = "", timeout: float = 30.0) -> list[dict[str, Any]]:
    """ruff's findings for Python ``code``: ``{code, message, line, column, fixable}`` each."""
    command = [*_ruff_command(), "check", "--isolated", "--no-cache", "--output-format=json",
               "--stdin-filename", "generated.py"]
    if select.strip():
        command += ["--select", select.strip()]
    try:
        done = subprocess.run([*command, "-"], input=code.text, capture_output=True, text=True, timeout=timeout,
                              cwd=os.path.expanduser("~"))
    except FileNotFoundError:
        raise RuntimeError("ruff is not installed: pip install ruff") from None
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"ruff took more than {timeout:.0f} s") from None
    if done.returncode not in (0, 1):  # 1 means findings; anything else is ruff failing
        raise RuntimeError(f"ruff failed: {done.stderr.strip()[:500]}")
    return [
        {
            "code": item.get("code") or "syntax",
            "message": item["message"],
            "line": item["location"]["row"],
            "column": item["location"]["column"],
            "fixable": item.get("fix") is not None,
        }
        for item in json.loads(done.stdout or "[]")
    ]


class LintResult(NamedTuple):
    findings: JSON
    count: Int


@node("code.lint", category="Code", title="Lint (ruff)")
def lint(
    code: Code,
    ctx: Context = None,
    *,
    select: str = Param("", description="ruff rule codes to check, comma separated (empty: ruff's defaults, E4/E7/E9/F)"),
) -> LintResult:
    """Lint Python code with ruff (the code is read, never run); the findings show on the node."""
    if code.language not in ("python", ""):
        raise ValueError(f"ruff lints Python; this code is {code.language}")
    findings = ruff_findings(code, select=select)
    if ctx is not None:
        lines = [f"{f['line']}:{f['column']} {f['code']} {f['message']}" for f in findings]
        ctx.log("\n".join(lines) if lines else "no findings")
    return LintResult({"findings": findings}, len(findings))
