"""Tracked training: a real (tiny) training run logs to TensorBoard event files and to an MLflow SQLite
store, read back here with tensorboard's event reader and MLflow's client."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import run_graph  # noqa: E402

GRAPH = {
    "nodeflow": 1,
    "nodes": {
        "text": {"type": "data.pydoc_text", "params": {"topics": "if,while"}},
        "split": {"type": "data.split_text", "params": {"validation": 0.2}, "inputs": {"corpus": ["text", "corpus"]}},
        "chars": {"type": "data.char_tokenizer", "inputs": {"corpus": ["text", "corpus"]}},
        "lm": {"type": "train.language_model",
               "params": {"steps": 6, "layers": 1, "width": 32, "heads": 2, "context": 32, "eval_every": 3,
                          "track": "tensorboard"},
               "inputs": {"corpus": ["split", "train"], "validation": ["split", "validation"],
                          "tokenizer": ["chars", "tokenizer"]}},
        "digits": {"type": "data.digits", "params": {"digits": "0123"}},
        "diffusion": {"type": "train.diffusion",
                      "params": {"conditioning": "class", "steps": 4, "batch_size": 8, "width": 8, "track": "mlflow"},
                      "inputs": {"dataset": ["digits", "dataset"]}},
    },
}


def test_training_is_tracked_in_tensorboard_and_mlflow(tmp_path):
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    # one trainer at a time: scikit-learn's digits loader and torch imported side by side in one process
    # race (scipy reads a half-imported torch), a fault outside these trainers
    for trainer in ("lm", "diffusion"):
        result = run_graph(GRAPH, tmp_path / "out", tmp_path, only=[trainer])
        assert result.returncode == 0, result.stderr[-3000:]
    tracking = tmp_path / "out" / "tracking"

    # TensorBoard: per-step losses, the validation curve, samples, params and provenance, trained files
    (folder,) = (tracking / "tensorboard").iterdir()
    assert folder.name.startswith("lm-")
    events = EventAccumulator(str(folder), size_guidance={"tensors": 0, "scalars": 0}).Reload()
    losses = events.Scalars("train/loss")
    assert [e.step for e in losses] == [1, 2, 3, 4, 5, 6] and all(e.value > 0 for e in losses)
    assert [e.step for e in events.Scalars("train/validation")] == [3, 6]
    texts = {tag: events.Tensors(tag) for tag in events.Tags()["tensors"]}
    provenance = texts["provenance/text_summary"][0].tensor_proto.string_val[0].decode()
    graph_sha = next(line.split(": ")[1] for line in provenance.splitlines() if line.startswith("nodeflow.graph_sha256"))
    assert len(graph_sha) == 64 and "nodeflow.data_sha256" in provenance
    assert '"steps": 6' in texts["params/text_summary"][0].tensor_proto.string_val[0].decode()
    assert texts["samples/text_summary"], "the final text sample is logged"
    artifacts = folder / "artifacts"
    assert (artifacts / "model.safetensors").stat().st_size > 1000 and (artifacts / "config.json").exists()

    # MLflow: a run in the SQLite store with params, per-step metrics, samples, final metrics, the model
    client = MlflowClient(tracking_uri=f"sqlite:///{tracking / 'mlflow.db'}")
    (experiment,) = [e for e in client.search_experiments() if e.name == "nodeflow"]
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["steps"] == "4" and run.data.params["conditioning"] == "class"
    assert run.data.tags["nodeflow.node"] == "diffusion" and run.data.tags["nodeflow.node_type"] == "train.diffusion"
    assert run.data.tags["nodeflow.graph_sha256"] == graph_sha, "both runs point at the same graph"
    history = client.get_metric_history(run.info.run_id, "loss")
    assert sorted(m.step for m in history) == [1, 2, 3, 4]
    last = max(history, key=lambda m: m.step)
    assert abs(run.data.metrics["final_loss"] - last.value) < 1e-6, "the final metric is the last loss"
    listed = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"model", "samples"} <= listed
    samples = [a.path for a in client.list_artifacts(run.info.run_id, "samples")]
    assert samples and all(p.endswith(".png") for p in samples)
    model_files = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "model")}
    assert model_files, "the trained files are artifacts"
