"""The command line's view of a run: progress bars in a terminal, plain lines elsewhere."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nodeflow.plan.planner import Plan

__all__ = ["ProgressDisplay"]


class ProgressDisplay:
    """An event sink. In a terminal: an overall bar and a bar for the running node (rich)."""

    def __init__(self, plan: Plan, stream: IO[str]):
        self.stream = stream
        self.total = sum(1 for p in plan.order if p.mode != "bypass")
        self.done = 0
        self.live = stream.isatty()
        self._progress: Any = None
        self._overall: Any = None
        self._node_task: Any = None
        self._reasons: dict[str, str] = {}

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=False,
            )
            self._progress.start()
            self._overall = self._progress.add_task("graph", total=self.total)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, event: dict[str, Any]) -> None:
        name = event["event"]
        if name == "node_started":
            self._reasons[event["node"]] = event["reason"]
            self._node(event["node"], f"{event['node']} ({event['reason']})")
        elif name == "progress" and self._progress is not None and self._node_task is not None:
            self._progress.update(self._node_task, completed=event["value"], total=event["max"])
        elif name in ("node_finished", "node_cached"):
            self.done += 1
            if name == "node_finished":
                reason = self._reasons.get(event["node"], "")
                self._line(f"  {event['node']}: ran in {event['duration_s']:.3f} s ({reason})")
            else:
                self._line(f"  {event['node']}: cached")
            if self._progress is not None:
                self._progress.update(self._overall, completed=self.done)
                if self._node_task is not None:
                    self._progress.remove_task(self._node_task)
                    self._node_task = None
        elif name == "node_blocked":
            self._line(f"  {event['node']}: blocked ({event.get('reason', '')})")
            if self._node_task is not None and self._progress is not None:
                self._progress.remove_task(self._node_task)
                self._node_task = None
        elif name == "node_error":
            if self._node_task is not None and self._progress is not None:
                self._progress.remove_task(self._node_task)
                self._node_task = None

    def _node(self, node_id: str, description: str) -> None:
        if self._progress is not None:
            if self._node_task is not None:
                self._progress.remove_task(self._node_task)
            self._node_task = self._progress.add_task(f"  {description}", total=None)

    def _line(self, text: str) -> None:
        """A permanent line: above the bars in a terminal, plain elsewhere."""
        if self._progress is not None:
            self._progress.console.print(text, highlight=False)
        else:
            print(text, file=self.stream, flush=True)
