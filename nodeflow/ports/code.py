"""The ``Code`` port type: source code as text together with its language.

Generated code is data in nodeflow: nodes check, measure and save it, and nothing ever runs it.
A value is a :class:`SourceCode`; :func:`extract_code` pulls the fenced blocks out of a model's reply.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .core import PortType, register_type

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["SourceCode", "CodeType", "extract_code", "normal_language"]

# common names and fence tags for the same language
_ALIASES = {
    "py": "python", "python3": "python", "js": "javascript", "node": "javascript", "ts": "typescript",
    "sh": "bash", "shell": "bash", "zsh": "bash", "c++": "cpp", "cxx": "cpp", "rs": "rust", "golang": "go",
    "yml": "yaml", "md": "markdown", "htm": "html",
}


def normal_language(name: str) -> str:
    """``"Py"`` -> ``"python"``: lower case, common aliases resolved; empty stays empty."""
    name = name.strip().lower()
    return _ALIASES.get(name, name)


@dataclass(frozen=True)
class SourceCode:
    """Source code and the language it is written in (``python``, ``javascript``, ...; may be empty)."""

    text: str
    language: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "language", normal_language(self.language))

    def __str__(self) -> str:
        return self.text

    @property
    def nbytes(self) -> int:
        return len(self.text.encode("utf-8")) + 64


_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)


def extract_code(text: str, language: str = "") -> SourceCode:
    """The fenced code blocks of a Markdown reply, joined (those tagged ``language`` when any are).

    Without a fence the reply is taken as code itself, less any unclosed opening fence a model
    stopped in the middle of.
    """
    wanted = normal_language(language)
    blocks = [(normal_language(tag), body) for _, tag, body in _FENCE.findall(text)]
    if blocks:
        tagged = [b for b in blocks if wanted and b[0] == wanted]
        chosen = tagged or blocks
        found_language = wanted or chosen[0][0]
        return SourceCode("\n\n".join(body.rstrip("\n") for _, body in chosen) + "\n", found_language)
    opened = re.match(r"^\s*(```+|~~~+)[ \t]*([\w+#.-]*)[^\n]*\n", text)
    if opened:  # cut off before its closing fence (max_tokens ran out)
        return SourceCode(text[opened.end():].rstrip() + "\n", wanted or normal_language(opened.group(2)))
    return SourceCode(text.strip() + "\n" if text.strip() else "", wanted)


def _save(value: SourceCode, folder: Path) -> None:
    (folder / "code.json").write_text(json.dumps({"text": value.text, "language": value.language}))


def _load(folder: Path) -> SourceCode:
    data = json.loads((folder / "code.json").read_text())
    return SourceCode(data["text"], data["language"])


CodeType = register_type(
    PortType("Code", "#80cbc4", "Source code with its language (checked and saved, never run)",
             py=SourceCode, save=_save, load=_load, size_of=lambda v: v.nbytes)
)
