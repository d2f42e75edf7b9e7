"""Experiment tracking for trainers: one small interface, TensorBoard and MLflow built in.

    tracker = open_tracker(ctx, "mlflow", params={...}, data=dataset_hash)
    monitor = TrainingMonitor(ctx, steps, history, tracker=tracker)   # per-step losses, samples
    ...
    tracker.finish(metrics={...}, save=lambda folder: save_model(folder))  # final metrics, trained files

Each tracked run carries nodeflow's provenance as tags/params: the graph's hash (nodes without layout),
the node and its type, and the content hash of the data it trained on. Files go under the output folder:
``tracking/tensorboard/NODE-RUN/`` (event files; trained files in ``artifacts/`` beside them) and
``tracking/mlflow.db`` (MLflow's SQLite store, no server) with artifacts in ``tracking/mlflow-artifacts/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nodeflow import Context

__all__ = ["TRACKERS", "Tracker", "TensorBoardTracker", "MLflowTracker", "open_tracker", "track_param", "graph_hash"]

TRACKERS = ("setting", "none", "tensorboard", "mlflow")


def track_param():
    from nodeflow import Param

    return Param("setting", choices=TRACKERS,
                 description="log params, losses, samples, final metrics and the trained files to TensorBoard or "
                 "MLflow (under the output folder's tracking/); setting: as NODEFLOW_TRACK says (none when unset)")


def graph_hash(graph: dict[str, Any]) -> str:
    nodes = {nid: {k: v for k, v in entry.items() if k != "ui"} for nid, entry in graph.get("nodes", {}).items()}
    return hashlib.sha256(json.dumps(nodes, sort_keys=True, default=str).encode()).hexdigest()


class Tracker:
    """What a trainer tells a tracker. The base class tracks nothing (``none``)."""

    def log_metrics(self, step: int, metrics: dict[str, float]) -> None:
        pass

    def log_image(self, step: int, name: str, image: Any) -> None:
        pass

    def log_text(self, step: int, name: str, text: str) -> None:
        pass

    def finish(self, metrics: dict[str, float] | None = None, save: Callable[[Path], None] | None = None) -> None:
        pass


class TensorBoardTracker(Tracker):
    """Event files TensorBoard reads (through torch's SummaryWriter)."""

    def __init__(self, folder: Path, params: dict[str, Any], tags: dict[str, str]):
        from torch.utils.tensorboard import SummaryWriter

        self.folder = folder
        self.params = params
        self.writer = SummaryWriter(log_dir=str(folder))
        self.writer.add_text("provenance", "\n".join(f"{k}: {v}" for k, v in sorted(tags.items())), 0)
        self.writer.add_text("params", json.dumps(params, sort_keys=True, default=str), 0)

    def log_metrics(self, step: int, metrics: dict[str, float]) -> None:
        for name, value in metrics.items():
            self.writer.add_scalar(f"train/{name}", float(value), step)

    def log_image(self, step: int, name: str, image: Any) -> None:
        import numpy as np

        self.writer.add_image(name, np.asarray(image.convert("RGB")), step, dataformats="HWC")

    def log_text(self, step: int, name: str, text: str) -> None:
        self.writer.add_text(name, text, step)

    def finish(self, metrics: dict[str, float] | None = None, save: Callable[[Path], None] | None = None) -> None:
        final = {f"final/{k}": float(v) for k, v in (metrics or {}).items()}
        for name, value in final.items():
            self.writer.add_scalar(name, value, 0)
        plain = {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in self.params.items()}
        self.writer.add_hparams(plain, final or {"final/done": 1.0}, run_name=".")
        self.writer.close()
        if save is not None:
            save(self.folder / "artifacts")


class MLflowTracker(Tracker):
    """An MLflow run in a SQLite store under the output folder (no server)."""

    def __init__(self, root: Path, experiment: str, run_name: str, params: dict[str, Any], tags: dict[str, str]):
        from mlflow.tracking import MlflowClient

        root.mkdir(parents=True, exist_ok=True)
        self.uri = f"sqlite:///{(root / 'mlflow.db').resolve()}"
        self.client = MlflowClient(tracking_uri=self.uri)
        found = self.client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found else self.client.create_experiment(
            experiment, artifact_location=(root / "mlflow-artifacts").resolve().as_uri())
        self.run_id = self.client.create_run(experiment_id, run_name=run_name, tags=tags).info.run_id
        for name, value in sorted(params.items()):
            self.client.log_param(self.run_id, name, value)
        self._pending: list[Any] = []

    def log_metrics(self, step: int, metrics: dict[str, float]) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self._pending.extend(Metric(name, float(value), now, step) for name, value in metrics.items())
        if len(self._pending) >= 500:  # one database write per few hundred values, not per step
            self._flush()

    def _flush(self) -> None:
        for start in range(0, len(self._pending), 1000):
            self.client.log_batch(self.run_id, metrics=self._pending[start:start + 1000])
        self._pending = []

    def log_image(self, step: int, name: str, image: Any) -> None:
        self.client.log_image(self.run_id, image.convert("RGB"), artifact_file=f"samples/{name}-{step:07d}.png")

    def log_text(self, step: int, name: str, text: str) -> None:
        self.client.log_text(self.run_id, text, artifact_file=f"samples/{name}-{step:07d}.txt")

    def finish(self, metrics: dict[str, float] | None = None, save: Callable[[Path], None] | None = None) -> None:
        self._flush()
        for name, value in (metrics or {}).items():
            self.client.log_metric(self.run_id, f"final_{name}", float(value))
        if save is not None:
            with tempfile.TemporaryDirectory() as scratch:
                save(Path(scratch) / "model")
                self.client.log_artifacts(self.run_id, scratch)
        self.client.set_terminated(self.run_id)


def open_tracker(ctx: Context | None, choice: str, *, params: dict[str, Any], data: str = "") -> Tracker:
    """The tracker ``choice`` names (``setting``: the NODEFLOW_TRACK environment setting), tagged with
    the run's provenance: graph hash, node, node type, data hash."""
    if choice == "setting":
        choice = os.environ.get("NODEFLOW_TRACK", "none").strip().lower() or "none"
    if choice not in TRACKERS[1:]:
        raise ValueError(f"track: NODEFLOW_TRACK is {choice!r}; use none, tensorboard or mlflow")
    if choice == "none" or ctx is None:
        return Tracker()
    tags = {
        "nodeflow.graph_sha256": graph_hash(ctx.graph_dict()),
        "nodeflow.node": ctx.node_id,
        "nodeflow.node_type": ctx.node_type,
        **({"nodeflow.data_sha256": data} if data else {}),
    }
    root = Path(ctx.output_dir) / "tracking"
    name = f"{ctx.file_stem}-{ctx.run_id}"
    if choice == "tensorboard":
        return TensorBoardTracker(root / "tensorboard" / name, params, tags)
    return MLflowTracker(root, "nodeflow", name, params, tags)


def data_hash(*arrays_or_texts: Any) -> str:
    """A content hash of the training data (arrays and texts), for the tracked run's provenance."""
    digest = hashlib.sha256()
    for part in arrays_or_texts:
        if part is None:
            continue
        if isinstance(part, str):
            digest.update(part.encode("utf-8"))
        else:
            import numpy as np

            array = np.ascontiguousarray(part)
            digest.update(str(array.shape).encode() + array.tobytes())
    return digest.hexdigest()
