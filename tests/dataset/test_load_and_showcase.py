"""A written dataset read back into the graph (dataset.load_images), and the showcase graph's checks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import REPO, image_graph, zip_sweeps  # noqa: E402


def test_a_finished_dataset_loads_back_as_an_image_dataset(tmp_path):
    import numpy as np

    from nodeflow.graph.model import parse_graph
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    graph = zip_sweeps(image_graph(12, shard_size=5))
    graph["nodes"]["load"] = {"type": "dataset.load_images", "inputs": {"card": ["finish", "card"]}}
    executor = Executor(settings=Settings(home=tmp_path / "home", output_dir=tmp_path / "out", allow_cwd_inputs=False))
    result = executor.run(parse_graph(graph), only=["load"])
    assert result.ok, result.error
    loaded = result.outputs["load"]["dataset"]
    assert loaded.pixels.shape == (12, 3, 16, 16) and loaded.class_names == ["noise"]
    assert list(loaded.labels) == [0] * 12
    manifest = json.loads((tmp_path / "out" / "digits" / "manifest.json").read_text())
    assert manifest["items"] == 12 and "manifest sha256" in loaded.name
    # the pixels are the noise the graph drew: item 3 is image.new's noise for seed 3
    from nodes.image.make import new_image

    picture = new_image(width=16, height=16, fill="noise", colour_a="#1e3c72", colour_b="#f7b733", angle=0.0, seed=3)
    drawn = np.asarray(picture.convert("RGB"), dtype=np.float32) / 255
    assert np.allclose(loaded.pixels[3].transpose(1, 2, 0), drawn)


def test_the_showcase_graph_validates_and_holds_the_whole_pipeline():
    from nodeflow.check.validate import validate
    from nodeflow.graph.model import load_graph
    from nodeflow.nodetypes.registry import default_registry

    graph = load_graph(REPO / "graphs" / "synthetic_dataset.json")
    problems = validate(graph, default_registry())
    assert not problems, [p.to_json() for p in problems]
    types = {node.type for node in graph.nodes.values()}
    assert {"train.diffusion", "llm.generate", "dataset.judge", "dataset.dedup_images", "dataset.write",
            "dataset.finish", "evaluate.synthetic_usefulness"} <= types
    seeds = graph.nodes["draw"].params["seed"]["sweep"]
    digits = graph.nodes["digit"].params["value"]["sweep"]
    assert (seeds["to"] - seeds["from"] + 1) * len(digits) == 1000
