"""Safe, unique names inside the output folder."""

from __future__ import annotations

from pathlib import Path

from nodeflow import Context
from nodeflow.files import PathNotAllowed, resolve_inside

__all__ = ["output_target", "unique"]


def output_target(ctx: Context, filename: str, suffixes: tuple[str, ...], *, overwrite: bool) -> Path:
    """Where to write ``filename``: inside the output folder whatever the name says, with a known ending.

    Sub-folders are allowed (``renders/a.png``); ``..``, absolute paths and links that lead out of the
    output folder are refused. Unless ``overwrite``, an existing file gets a numbered sibling instead.
    """
    if not filename or not filename.strip():
        raise ValueError("the file name is empty")
    if "\0" in filename:
        raise PathNotAllowed("the file name contains a NUL character")
    out_dir = Path(ctx.output_dir).resolve()
    target = resolve_inside(filename, [out_dir])
    if target == out_dir or target.name.startswith("."):
        raise PathNotAllowed(f"{filename!r} is not a file name inside the output folder")
    if target.suffix.lower() not in suffixes:
        raise ValueError(f"cannot write {target.name}: the name must end in {', '.join(suffixes)}")
    return target if overwrite else unique(target)


def unique(target: Path) -> Path:
    if not target.exists():
        return target
    for number in range(1, 100_000):
        candidate = target.with_name(f"{target.stem}_{number:05d}{target.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"too many files named like {target.name}")
