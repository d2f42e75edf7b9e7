"""Saving code as a source file (.py, .js, ...) with its provenance in a header comment.

Written through the engine's one save helper (``nodeflow.delivery.deliver``), which also puts the
record in a ``.provenance.json`` beside the file. The header is two comment lines in the language's own syntax: a note, then ``nodeflow-provenance:``
followed by the provenance record as one line of JSON (see nodeflow.delivery), which
:func:`read_code_provenance` reads back. The file is written whole or not at all, inside the output
folder. Saving never runs the code.
"""

from __future__ import annotations

import json
from typing import Any

from nodeflow import Code, Context, File, Param, SourceCode, deliver, node, overwrite_param

__all__ = ["EXTENSIONS", "with_header", "read_code_provenance"]

MARKER = "nodeflow-provenance:"
EXTENSIONS = {
    "python": ".py", "javascript": ".js", "typescript": ".ts", "bash": ".sh", "c": ".c", "cpp": ".cpp",
    "java": ".java", "go": ".go", "rust": ".rs", "ruby": ".rb", "sql": ".sql", "html": ".html", "css": ".css",
    "lua": ".lua", "r": ".r", "yaml": ".yaml", "toml": ".toml", "kotlin": ".kt", "swift": ".swift",
    "php": ".php", "csharp": ".cs", "markdown": ".md", "": ".txt",
}
_HASH = ("python", "bash", "ruby", "r", "yaml", "toml", "")
_DASHES = ("sql", "lua")
_BLOCK = {"html": ("<!--", "-->"), "markdown": ("<!--", "-->"), "css": ("/*", "*/")}


def _comment(language: str, text: str) -> str:
    if language in _BLOCK:
        start, end = _BLOCK[language]
        return f"{start} {text} {end}"
    prefix = "#" if language in _HASH else "--" if language in _DASHES else "//"
    return f"{prefix} {text}"


def with_header(code: SourceCode, record: dict[str, Any]) -> str:
    """The file's text: the header comment (after a ``#!`` line, which must stay first), then the code."""
    data = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    # inside JSON strings these escapes mean the same characters, and no comment is closed early
    data = data.replace("--", "-\\u002d").replace("*/", "*\\u002f")
    header = [_comment(code.language, "Generated with nodeflow; how it was made is on the next line (JSON)."),
              _comment(code.language, f"{MARKER} {data}")]
    lines = code.text.splitlines(keepends=True)
    shebang = lines.pop(0) if lines and lines[0].startswith("#!") else ""
    return shebang + "\n".join(header) + "\n" + "".join(lines)


def read_code_provenance(text: str) -> dict[str, Any] | None:
    """The provenance record in a saved source file's header, or None."""
    for line in text.splitlines()[:4]:
        at = line.find(MARKER)
        if at < 0:
            continue
        data = line[at + len(MARKER):].strip()
        for closing in ("-->", "*/"):
            if data.endswith(closing):
                data = data[: -len(closing)].rstrip()
        try:
            record = json.loads(data)
        except ValueError:
            return None
        return record if isinstance(record, dict) else None
    return None


@node("code.save", category="Output", output=True, outputs=("path",), title="Save code")
def save(
    code: Code,
    ctx: Context,
    *,
    filename: str = Param("code", description="inside the output folder; the extension follows the language when left out"),
    overwrite: bool = overwrite_param(),
) -> File:
    """Save code as a source file with its provenance in a header comment (the code is never run)."""
    extension = EXTENSIONS.get(code.language)
    if extension is None:
        raise ValueError(f"no file type known for {code.language!r} code; known: {', '.join(k for k in EXTENSIONS if k)}")
    if not filename.lower().endswith(extension):
        filename = f"{filename}{extension}"

    def write(out) -> None:  # the record goes into the header (and, by delivery, a sidecar beside it)
        out.path.write_text(with_header(code, out.record), encoding="utf-8")

    return deliver(ctx, filename, write, kind="code", suffixes=(extension,), overwrite=overwrite,
                   preview=code.text[:2000])
