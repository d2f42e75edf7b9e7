"""The offline showcase, graphs/prompt_to_digit.json, end to end (slow: it trains for minutes)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_showcase_draws_the_number_in_the_idea(executor, settings):
    pytest.importorskip("diffusers")
    from PIL import Image as PILImage

    from nodeflow.graph.model import load_graph
    from nodeflow.media.image_grid import from_pil
    from nodes.train.evaluate import evaluate_diffusion, fit_classifier

    graph = load_graph(REPO / "graphs" / "prompt_to_digit.json")
    result = executor.run(graph)
    assert result.ok, result.error
    saved = Path(result.outputs["save"]["path"])
    assert saved.is_file() and PILImage.open(saved).size == (256, 256)

    # the fine-tuned writer names the number itself: the caption's fallback to the idea is not needed
    from nodes.data.captions import find_number

    written = executor.run(load_graph(REPO / "graphs" / "prompt_to_digit.json"), only=["writer", "tune"])
    assert set(written.cached) >= {"tune", "writer"}
    assert find_number(written.outputs["writer"]["text"]) == 7, written.outputs["writer"]["text"]

    # the saved digit is a seven, by a classifier trained on the real digits
    again = executor.run(load_graph(REPO / "graphs" / "prompt_to_digit.json"), only=["digits", "train", "embedder"])
    assert set(again.cached) >= {"train"}
    real = again.outputs["digits"]["dataset"]
    classifier, _ = fit_classifier(real)
    small = PILImage.open(saved).resize((8, 8), PILImage.Resampling.BOX)
    assert classifier.probabilities(from_pil(small, 1)[None]).argmax() == 7

    # and over every digit, asked as the graph asks, it draws the one asked for
    draw = graph.nodes["draw"].params
    report, _, _ = evaluate_diffusion(again.outputs["train"]["model"], real, embedder=again.outputs["embedder"]["model"],
                                      per_class=30, steps=draw["steps"], guidance=draw["guidance"], seed=3)
    assert report["adherence"] >= 0.90, report
    assert report["confidence"] >= 0.80, report
