"""File safety: atomic writes and paths that stay inside the folders they belong to."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Container, Iterable

__all__ = [
    "write_atomic",
    "atomic_path",
    "resolve_inside",
    "files_inside",
    "is_inside",
    "output_path",
    "unique_path",
    "content_hash",
    "input_file_fingerprint",
    "PathNotAllowed",
    "clean_stale_parts",
    "pid_alive",
    "claim_name",
    "release_name",
    "name_claimed",
]


_UMASK = os.umask(0o022)  # read once (reading it means setting it), then put back
os.umask(_UMASK)


class PathNotAllowed(ValueError):
    """A path points outside the folders a node may read or write."""


def write_atomic(path: Path, data: bytes) -> None:
    """Write all of ``data`` or nothing: a crash never leaves a half-written file at ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


class atomic_path:
    """``with atomic_path(final) as tmp:`` write to ``tmp``; it replaces ``final`` only on success."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # the writer's pid in the name lets a later start tell a dead process's leftovers (clean_stale_parts)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.stem}.{os.getpid()}-", suffix=f".part{self.path.suffix}", dir=self.path.parent
        )
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        if exc_type is None:
            # mkstemp makes the file private (0600); a delivered file gets the usual permissions
            os.chmod(self.tmp, 0o666 & ~_UMASK)
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


# Claims: a writer that picks a free output name and writes it much later (encoding, provenance,
# signing) marks the name first with a hidden `.NAME.claim` holding "HOST PID", created exclusively, so a
# writer in another process sees the name taken. The marker goes once the file is in place.


def _claim_marker(path: Path) -> Path:
    return path.with_name(f".{path.name}.claim")


def claim_name(path: Path) -> bool:
    """Mark ``path`` as being written by this process; False when another writer holds it."""
    marker = _claim_marker(path)
    marker.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if name_claimed(path):
                return False
            continue  # a dead writer's marker, removed by name_claimed: try once more
        with os.fdopen(fd, "w") as file:
            file.write(f"{socket.gethostname()} {os.getpid()}")
        return True
    return False


def release_name(path: Path) -> None:
    _claim_marker(path).unlink(missing_ok=True)


def name_claimed(path: Path) -> bool:
    """Whether a live writer holds ``path`` (a dead writer's marker is removed on the way)."""
    marker = _claim_marker(path)
    try:
        text = marker.read_text()
        old = time.time() - marker.stat().st_mtime > STALE_PART_AGE_S
    except OSError:
        return False
    host, _, pid = text.rpartition(" ")
    # an empty marker: its writer is between creating and filling it; another machine's writer (a
    # shared folder) cannot be checked here, so its claim holds until it is old
    dead = bool(text) and host == socket.gethostname() and not (pid.isdigit() and pid_alive(int(pid)))
    if old or dead or (text and not host):
        marker.unlink(missing_ok=True)
        return False
    return True


# .STEM.PID-RANDOM.part.EXT as atomic_path names them; .STEM.RANDOM.part.EXT from before the pid
_PART = re.compile(r"\.(?P<stem>.*?)\.(?:(?P<pid>[0-9]{1,10})-)?[A-Za-z0-9_]{6,}\.part(?:\.[^./]*)?")
STALE_PART_AGE_S = 6 * 3600


def clean_stale_parts(folders: Iterable[Path], *, max_age_s: float = STALE_PART_AGE_S) -> list[Path]:
    """Delete the hidden ``.part`` temporaries and name claims that killed processes left behind in
    ``folders`` (and their sub-folders): those whose writer (the pid in the name) is gone, and any older than
    ``max_age_s`` (a pid can be reused; a file without one is older than this version). Returns
    what was deleted."""
    removed: list[Path] = []
    now = time.time()
    for folder in folders:
        for current, _subfolders, names in os.walk(folder):
            for name in names:
                if name.startswith(".") and name.endswith(".claim") and len(name) > 7:
                    claimed = Path(current) / name[1:-6]
                    if not name_claimed(claimed) and not _claim_marker(claimed).exists():
                        removed.append(Path(current) / name)  # a killed writer's claim: gone now
                    continue
                match = _PART.fullmatch(name) if name.startswith(".") else None
                if match is None:
                    continue
                path = Path(current) / name
                try:
                    old = now - path.lstat().st_mtime > max_age_s
                    pid = match["pid"]
                    if old or (pid is not None and not pid_alive(int(pid))):
                        path.unlink()
                        removed.append(path)
                except OSError:  # gone meanwhile, or not ours to delete
                    continue
    return removed


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id exists on this machine (ours counts)."""
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    except OverflowError:
        return False
    return True


def resolve_inside(
    path: str | os.PathLike[str], roots: Iterable[Path], *, must_exist: bool = False
) -> Path:
    """Resolve ``path`` and require it inside one of ``roots``.

    A relative path is tried against each root in turn (the first where it exists wins). Symlinks
    and ``..`` are resolved first, so neither can lead a path out of an allowed folder.
    """
    roots = [Path(r).resolve() for r in roots]
    if not roots:
        raise PathNotAllowed("no folders are allowed")
    if "\0" in os.fspath(path):
        raise PathNotAllowed("the path contains a NUL character")
    try:
        os.fsencode(os.fspath(path))
    except UnicodeEncodeError:  # a lone surrogate from JSON's "\ud800": no file name can hold it
        raise PathNotAllowed("the path has characters no file name can hold") from None
    raw = Path(os.path.expanduser(str(path)))
    try:
        candidates = [raw.resolve()] if raw.is_absolute() else [(root / raw).resolve() for root in roots]
    except RuntimeError:  # Python 3.11 says a symlink loop so: a path that leads nowhere
        raise PathNotAllowed(f"{path} is a loop of symbolic links") from None
    inside = [c for c in candidates if any(c == r or r in c.parents for r in roots)]
    if not inside:
        shown = ", ".join(str(r) for r in roots)
        raise PathNotAllowed(f"{path} is outside the allowed folders ({shown})")
    for candidate in inside:
        if candidate.exists():
            return candidate
    lexical = [raw] if raw.is_absolute() else [root / raw for root in roots]
    if any(os.path.lexists(c) and _resolved(c) not in inside for c in lexical):
        raise PathNotAllowed(f"{path} is a link that leads outside the allowed folders")
    if must_exist:
        raise FileNotFoundError(f"{path} was not found in {', '.join(str(r) for r in roots)}")
    return inside[0]


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except RuntimeError:  # a symlink loop
        return None


def is_inside(path: str | os.PathLike[str], roots: Iterable[Path]) -> bool:
    """Whether ``path``, with every link and ``..`` resolved, lies in one of ``roots``."""
    try:
        real = Path(path).resolve()
    except (OSError, ValueError, RuntimeError):  # a NUL, a link loop
        return False
    return any(real == root or root in real.parents for root in (Path(r).resolve() for r in roots))


def files_inside(
    folder: Path, roots: Iterable[Path], *, suffixes: tuple[str, ...] | None = None, recursive: bool = True,
    limit: int | None = None,
) -> list[Path]:
    """The files in ``folder`` a node may read: hidden names skipped, links to folders not followed,
    and each file (a link too) resolved and kept only when it lies in one of ``roots``, so a link
    placed in an input folder cannot lead a folder walk to ``/etc/passwd``."""
    real_roots = [Path(r).resolve() for r in roots]
    found: list[Path] = []
    for current, folders, names in os.walk(folder, followlinks=False):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(names):
            if name.startswith(".") or (suffixes is not None and Path(name).suffix.lower() not in suffixes):
                continue
            path = Path(current) / name
            if path.is_file() and is_inside(path, real_roots):
                found.append(path)
                if limit is not None and len(found) >= limit:
                    return sorted(found)
        if not recursive:
            break
    return sorted(found)


def output_path(output_dir: Path, filename: str, suffixes: tuple[str, ...], *, overwrite: bool,
                taken: Container[Path] = ()) -> Path:
    """Where an output node writes ``filename``: inside ``output_dir`` whatever the name says.

    Sub-folders are allowed (``renders/a.png``); ``..``, absolute paths and links that lead out of the
    output folder are refused, and the name must end in one of ``suffixes``. Unless ``overwrite``,
    an existing file gets a numbered sibling instead (``a_00001.png``), as does a name in ``taken``.
    """
    if not filename or not filename.strip():
        raise ValueError("the file name is empty")
    if "\0" in filename:
        raise PathNotAllowed("the file name contains a NUL character")
    out_dir = Path(output_dir).resolve()
    target = resolve_inside(filename, [out_dir])
    if target == out_dir or target.name.startswith("."):
        raise PathNotAllowed(f"{filename!r} is not a file name inside the output folder")
    if target.suffix.lower() not in suffixes:
        raise ValueError(f"cannot write {target.name}: the name must end in {', '.join(suffixes)}")
    return target if overwrite else unique_path(target, taken)


def unique_path(target: Path, taken: Container[Path] = ()) -> Path:
    """``target`` if it is free, else the first free ``stem_00001.ext``, ``stem_00002.ext``...
    A name in ``taken`` (chosen by a writer that has not finished) is not free either."""
    if target not in taken and not target.exists():
        return target
    for number in range(1, 100_000):
        candidate = target.with_name(f"{target.stem}_{number:05d}{target.suffix}")
        if candidate not in taken and not candidate.exists():
            return candidate
    raise FileExistsError(f"too many files named like {target.name}")


_HASHES: dict[tuple[str, int, int, int, int], str] = {}
REMEMBERED_HASHES = 10_000


def content_hash(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (names and contents, in sorted order).

    Remembered per (path, inode, size, modification and change times), so a large model is hashed
    once per process.
    """
    path = Path(path)
    if path.is_dir():
        digest = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(child.relative_to(path).as_posix().encode() + b"\0")
            digest.update(bytes.fromhex(content_hash(child)))
        return digest.hexdigest()
    stat = path.stat()
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    known = _HASHES.get(key)
    if known is None:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        known = _HASHES[key] = digest.hexdigest()
        if len(_HASHES) > REMEMBERED_HASHES:  # a long-lived server sees ever new files: forget the oldest
            _HASHES.pop(next(iter(_HASHES)))
    return known


def input_file_fingerprint(param: str = "path") -> Callable[[dict[str, Any], Any], str]:
    """A node ``fingerprint`` for a file param in the input folders: the file's content hash, so
    replacing the file re-runs the node (a missing file fingerprints as such; the node says why)."""
    def fingerprint(params: dict[str, Any], ctx: Any) -> str:
        try:
            return content_hash(resolve_inside(params[param], ctx.settings.input_dirs(), must_exist=True))
        except (PathNotAllowed, FileNotFoundError) as exc:
            return f"unavailable: {exc}"

    return fingerprint
