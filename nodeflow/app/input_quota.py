"""The input folder's quota: how much all uploaded (and other) input files may take together.

``NODEFLOW_INPUTS_MAX_MB`` (10240, 10 GB, by default) bounds the total size of the files in the input
folder, as counted when an upload starts (other uploads still arriving count with their part written so
far). An upload that alone is larger than the quota is answered 413; one that fits the quota but not
the room left is answered 507 (Insufficient Storage). The editor's ``POST /api/upload`` and ``serve``'s
``POST /v1/uploads`` both ask :func:`room_for`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ENV", "QuotaRefused", "inputs_quota_bytes", "folder_bytes", "Room"]

ENV = "NODEFLOW_INPUTS_MAX_MB"
DEFAULT_MB = 10240.0
MB = 2**20


class QuotaRefused(Exception):
    """An upload the quota has no room for; ``status`` is 413 (larger than the quota) or 507 (no room left)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def inputs_quota_bytes() -> int:
    """``NODEFLOW_INPUTS_MAX_MB`` in bytes; a malformed value counts as the default."""
    try:
        megabytes = float(os.environ.get(ENV, DEFAULT_MB))
    except ValueError:
        megabytes = DEFAULT_MB
    if not megabytes == megabytes or megabytes <= 0:  # NaN or not positive: the default
        megabytes = DEFAULT_MB
    return int(min(megabytes, 2**40) * MB)


def folder_bytes(folder: Path, *, skip: Path | None = None) -> int:
    """The apparent size of every file under ``folder`` (links not followed), ``skip`` excepted: a
    file an upload is about to replace does not count against it."""
    total = 0
    pending = [folder]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:  # missing, unreadable: nothing to count there
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False) and (skip is None or Path(entry.path) != skip):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:  # gone while counting
                continue
    return total


class Room:
    """The room an upload into ``folder`` has: ``Room(folder).check(size)`` raises QuotaRefused once
    ``size`` bytes (declared, or counted as they arrive) do not fit."""

    def __init__(self, folder: Path, *, replacing: Path | None = None):
        self.quota = inputs_quota_bytes()
        self.used = folder_bytes(folder, skip=replacing)

    @property
    def left(self) -> int:
        return max(self.quota - self.used, 0)

    def check(self, size: int) -> None:
        if size > self.quota:
            raise QuotaRefused(413, f"the file is larger than the input folder's quota of {_mb(self.quota)} ({ENV})")
        if size > self.left:
            raise QuotaRefused(
                507,
                f"the input folder is full: {_mb(self.used)} of its quota of {_mb(self.quota)} used, "
                f"{_mb(self.left)} left ({ENV}); delete input files or raise the quota",
            )


def _mb(size: int) -> str:
    return f"{size / MB:.0f} MB" if size >= MB or size == 0 else f"{size / MB:.2f} MB"
