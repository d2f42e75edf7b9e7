"""graphs/synthetic_data.json in a fast configuration: the generator trains briefly on the real 70%,
draws a labelled synthetic set, and the report scores both classifiers on the real 30% it never saw."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
FAST = ["generator.steps=40", "generator.batch_size=64", "draw.per_class=8", "draw.steps=6"]


def test_synthetic_data_graph_runs_fast_and_reports_both_accuracies(executor, settings):
    from nodeflow.graph.model import load_graph

    graph = load_graph(REPO / "graphs" / "synthetic_data.json")
    result = executor.run(graph, overrides=FAST, only=["save", "split", "draw", "usefulness"])
    assert result.ok, result.error
    report = result.outputs["usefulness"]["report"]
    assert report["synthetic_images"] == 80 and report["real_test_images"] == 539
    assert report["real_accuracy"] > 0.9  # the bar: a classifier trained on real digits
    assert 0.0 <= report["synthetic_accuracy"] <= 1.0
    saved = json.loads(Path(result.outputs["save"]["path"]).read_text())
    assert saved["usefulness"] == report["usefulness"]

    # the generator learnt from the training 70% only: none of the test images were in its data
    split = result.outputs["split"]
    train, held = split["train"].pixels.reshape(len(split["train"]), -1), split["validation"].pixels
    assert len(train) + len(held) == 1797
    seen = {row.tobytes() for row in train}
    assert sum(row.tobytes() in seen for row in held.reshape(len(held), -1)) < 10  # (a few digits repeat exactly)
    assert np.array_equal(np.unique(result.outputs["draw"]["dataset"].labels), np.arange(10))
