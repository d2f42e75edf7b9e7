"""What the commands of the command line share: exit codes, pack warnings, the run history."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.nodetypes.registry import Registry
    from nodeflow.record.listeners import HistoryListener

__all__ = ["EXIT_OK", "EXIT_NODE_FAILED", "EXIT_INVALID", "EXIT_CANCELLED", "warn_pack_errors", "history_listeners"]

EXIT_OK, EXIT_NODE_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130


def warn_pack_errors(registry: Registry) -> None:
    """Packs that failed to import are reported on stderr; the rest of the catalog still works."""
    for error in registry.errors:
        print(f"warning: {error}", file=sys.stderr)


def history_listeners() -> list[HistoryListener]:
    """A listener recording runs in the data folder's history; none when it cannot be opened (a run
    goes on unrecorded)."""
    from nodeflow.record.history import RunHistory
    from nodeflow.record.listeners import HistoryListener
    from nodeflow.settings import Settings

    try:
        return [HistoryListener(RunHistory.in_folder(Settings().home))]
    except Exception as exc:  # a read-only or corrupt data folder must not stop a run
        print(f"warning: run history unavailable: {exc}", file=sys.stderr)
        return []
