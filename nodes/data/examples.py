"""Examples for fine-tuning a language model: chat pairs (prompt -> response) or plain texts.

From a JSON-lines or CSV file (``data.examples_file``) or from text typed on the node
(``data.examples``). A JSON line is ``{"prompt": ..., "response": ...}`` (also ``instruction`` /
``input`` / ``output``, or ``{"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}``) or
``{"text": ...}``; a CSV has a header with those column names. A line that is neither is named in
the error, and an empty file is refused: the trainer never starts on data it cannot use.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from nodeflow import Context, ExampleSet, Param, TextExamples, input_file_fingerprint, node, resolve_inside

__all__ = ["ExampleSet", "TextExamples", "parse_jsonl", "parse_csv", "example_from_row"]


# --- reading rows ---------------------------------------------------------------------------------

_PROMPT_KEYS = ("prompt", "instruction", "question", "input", "user")
_RESPONSE_KEYS = ("response", "output", "answer", "completion", "assistant")


def _first(row: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((row[k] for k in keys if row.get(k) not in (None, "")), None)


def example_from_row(row: Any, where: str) -> dict[str, str]:
    """One example from a parsed row; ``where`` ("file.jsonl line 3") names it in errors."""
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected an object like {{\"prompt\": ..., \"response\": ...}}")
    if isinstance(row.get("messages"), list):
        turns = row["messages"]
        if not all(isinstance(t, dict) and isinstance(t.get("content"), str) for t in turns):
            raise ValueError(f"{where}: messages must be objects with role and content")
        system = [t["content"] for t in turns if t.get("role") == "system"]
        users = [t["content"] for t in turns if t.get("role") == "user"]
        answers = [t["content"] for t in turns if t.get("role") == "assistant"]
        if not users or not answers:
            raise ValueError(f"{where}: messages need a user turn and an assistant turn")
        row = {"prompt": users[-1], "response": answers[-1], "system": system[0] if system else ""}
    prompt, response = _first(row, _PROMPT_KEYS), _first(row, _RESPONSE_KEYS)
    if prompt is not None and response is not None:
        example = {"prompt": str(prompt), "response": str(response)}
        if row.get("system"):
            example["system"] = str(row["system"])
        return example
    if isinstance(row.get("text"), str) and row["text"].strip():
        return {"text": row["text"]}
    raise ValueError(
        f"{where}: needs prompt and response (or instruction/output, or messages) or a non-empty text; "
        f"it has {', '.join(sorted(map(str, row))) or 'nothing'}"
    )


def parse_jsonl(text: str, name: str) -> list[dict[str, str]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{name} line {number}: not JSON ({exc})") from None
        rows.append(example_from_row(row, f"{name} line {number}"))
    return rows


def parse_csv(text: str, name: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    # the header is line 1, so the first row is line 2 (rows with quoted newlines count as one)
    return [example_from_row(dict(row), f"{name} line {number}") for number, row in enumerate(reader, 2)]


def _checked(rows: list[dict[str, str]], name: str) -> ExampleSet:
    if not rows:
        raise ValueError(f"{name} holds no examples: add lines like {{\"prompt\": \"...\", \"response\": \"...\"}}")
    kinds = {"response" in r for r in rows}
    if len(kinds) > 1:
        first_plain = next(i for i, r in enumerate(rows, 1) if "response" not in r)
        raise ValueError(f"{name}: example {first_plain} is plain text but others are prompt/response pairs; use one kind")
    return ExampleSet(rows, name)


def _preview(ctx: Context | None, data: ExampleSet) -> None:
    if ctx is None:
        return
    first = data.rows[0]
    shown = f"{first['prompt']!r} -> {first['response']!r}" if data.chat else repr(first["text"][:200])
    ctx.log(f"{len(data)} {'chat pairs' if data.chat else 'texts'}; first: {shown}")


@node("data.examples_file", category="Data / Text", fingerprint=input_file_fingerprint("path"),
      outputs=("examples",))
def examples_file(
    ctx: Context,
    *,
    path: str = Param("", kind="file", extensions=(".jsonl", ".csv"),
                      description="JSON lines or CSV: prompt,response (or instruction,output) or text"),
) -> TextExamples:
    """Fine-tuning examples from a JSON-lines or CSV file; a bad line is named in the error."""
    if not path:
        raise ValueError("no examples file chosen: set path to a .jsonl or .csv file")
    file = resolve_inside(path, ctx.settings.input_dirs(), must_exist=True)
    if file.suffix.lower() not in (".jsonl", ".csv"):
        raise ValueError(f"{path}: expected a .jsonl or .csv file")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{file.name} is not UTF-8 text") from None
    rows = parse_jsonl(text, file.name) if file.suffix.lower() == ".jsonl" else parse_csv(text, file.name)
    data = _checked(rows, file.name)
    _preview(ctx, data)
    return data


@node("data.examples", category="Data / Text", outputs=("examples",))
def examples(
    more: TextExamples | None = None,
    ctx: Context = None,
    *,
    lines: str = Param('{"prompt": "Name a colour.", "response": "Blue."}', kind="text",
                       description="one JSON example per line, as in a .jsonl file"),
) -> TextExamples:
    """Fine-tuning examples typed here (JSON lines), added to any linked examples."""
    rows = parse_jsonl(lines, "lines")
    data = _checked([*(more.rows if more is not None else []), *rows], "examples")
    _preview(ctx, data)
    return data
