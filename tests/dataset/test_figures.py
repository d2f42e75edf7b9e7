"""Quality figures in a real run: a varied and a repetitive text set, a noisy and a near-constant image
set; the figures land in the card's evaluation."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import run_graph  # noqa: E402

VARIED = ["the red fox sleeps under an old oak", "rain fell on the quiet harbour all night",
          "seven engineers argued about a broken pump", "a violin played somewhere behind the museum"]
SAME = ["the red fox sleeps under an old oak tree"] * 3 + ["the red fox sleeps under an old oak"]


def _graph(texts: list[str], fill: str) -> dict:
    return {"nodeflow": 1, "nodes": {
        "line": {"type": "core.text", "params": {"text": {"sweep": texts, "zip": "i"}}},
        "picture": {"type": "image.new", "params": {"width": 32, "height": 32, "fill": fill,
                                                     "seed": {"sweep": [0, 1, 2, 3], "zip": "i"}}},
        "words": {"type": "dataset.text_figures", "inputs": {"items": ["line", "text"]}},
        "looks": {"type": "dataset.image_figures", "inputs": {"items": ["picture", "image"]}},
        "writer": {"type": "dataset.write", "params": {"folder": "set", "shard_size": 10},
                   "inputs": {"text": ["line", "text"], "image": ["picture", "image"]}},
        "finish": {"type": "dataset.finish", "inputs": {"receipts": ["writer", "receipt"], "evaluation": ["words", "figures"]}},
    }}


def _card_figures(tmp_path: Path, texts: list[str], fill: str) -> dict:
    from huggingface_hub import DatasetCard

    graph = _graph(texts, fill)
    graph["nodes"]["both"] = {"type": "core.template", "params": {"template": "{a}|{b}"},
                              "inputs": {"a": ["words", "figures"], "b": ["looks", "figures"]}}
    result = run_graph(graph, tmp_path / "out", tmp_path, only=["finish", "both"])
    assert result.returncode == 0, result.stderr[-2000:]
    card = DatasetCard.load(tmp_path / "out" / "set" / "README.md")
    return card.data.to_dict()["nodeflow"]["evaluation"], card.text


def test_figures_tell_varied_from_repetitive(tmp_path):
    from PIL import Image

    from nodes.dataset.figures import image_figures, text_figures

    class Quiet:
        def progress(self, *args):
            pass

    varied = text_figures(VARIED, Quiet(), sample=200, seed=0)
    same = text_figures(SAME, Quiet(), sample=200, seed=0)
    assert varied["distinct_2"] == 1.0 and same["distinct_2"] < 0.4
    assert varied["self_bleu"] < 10 < 80 < same["self_bleu"]

    def noise(seed: int) -> Image.Image:
        import numpy as np

        return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (32, 32), dtype=np.uint8))

    noisy = image_figures([noise(s) for s in range(4)], Quiet(), pairs=500, seed=0)
    flat = image_figures([Image.new("L", (32, 32), 120 + s) for s in range(4)], Quiet(), pairs=500, seed=0)
    assert noisy["pairs"] == flat["pairs"] == 6
    assert noisy["pairwise_ssim"] < 0.1 < 0.9 < flat["pairwise_ssim"]
    assert noisy["pairwise_psnr_db"] < 15 < 40 < flat["pairwise_psnr_db"]


def test_figures_go_into_the_card(tmp_path):
    figures, text = _card_figures(tmp_path, VARIED, "noise")
    assert figures["distinct_2"] == 1.0 and figures["texts"] == 4
    assert "- distinct_2: 1.0" in text
