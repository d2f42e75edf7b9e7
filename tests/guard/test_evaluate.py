"""Evaluation nodes on real data: scikit-learn's digits, texts written here, the bundled MiniLM."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from nodeflow.events import EventLog
from nodes.evaluate.bias import bias_report, divergences
from nodes.evaluate.report import summarise
from nodes.evaluate.synthetic import usefulness_report
from nodes.evaluate.text import text_report
from tests.guard.guard_support import graph_of


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    from nodeflow import ImageSet

    bunch = load_digits()
    return ImageSet(pixels=(bunch.images / 16.0)[:, None], labels=bunch.target, class_names=[str(i) for i in range(10)])


def test_train_on_synthetic_in_a_graph_reports_numbers_on_the_node_and_in_the_record(executor):
    nodes = {
        "digits": {"type": "data.digits"},
        "split": {"type": "data.split", "params": {"validation": 0.5}, "inputs": {"dataset": ["digits", "dataset"]}},
        "tstr": {
            "type": "evaluate.synthetic_usefulness",
            "inputs": {"synthetic": ["split", "train"], "real": ["split", "validation"]},
        },
    }
    log = EventLog()
    result = executor.run(graph_of(nodes), on_event=log, only=["tstr"])
    out = result.outputs["tstr"]
    assert out["synthetic_accuracy"] > 0.85 and out["real_accuracy"] > 0.85
    assert 0.9 < out["usefulness"] < 1.1  # images from the same source teach as well as real ones
    assert out["report"]["real_test_images"] == round(0.3 * 898)  # 30% of the held-out half
    finished = next(e for e in log.of("node_finished") if e["node"] == "tstr")
    assert finished["outputs"]["usefulness"] == repr(out["usefulness"])  # the number is in the run record
    assert any("usefulness" in e.get("text", "") for e in log.of("preview"))


def test_synthetic_data_with_wrong_labels_is_useless(digits):
    rng = np.random.default_rng(0)
    half = digits.subset(np.arange(0, len(digits), 2))
    wrong = half.subset(np.arange(len(half)))
    wrong.labels = rng.permutation(wrong.labels)
    noisy = half.with_pixels(np.clip(half.pixels + rng.normal(0, 0.1, half.pixels.shape), 0, 1))
    real = digits.subset(np.arange(1, len(digits), 2))
    good = usefulness_report(noisy, real)
    bad = usefulness_report(wrong, real)
    assert good["usefulness"] > 0.85
    assert bad["usefulness"] < 0.3


def test_bias_amplification_finds_the_overdrawn_class(digits):
    ones = np.flatnonzero(digits.labels == 1)
    others = np.flatnonzero(digits.labels != 1)[:60]
    skewed = digits.subset(np.concatenate([ones, others]))
    skewed.labels = None  # an unconditional model's samples carry no label
    report = bias_report(skewed, digits)
    assert report["most_amplified"] == "1"
    assert report["max_amplification"] > 4
    assert report["js_divergence"] > 0.2

    fair = digits.subset(np.arange(0, len(digits), 2))
    assert bias_report(fair, digits)["js_divergence"] < 0.02
    conditional = bias_report(digits.subset(np.arange(1, len(digits), 2)), digits)
    assert conditional["drawn_as_asked"] > 0.9  # the labels are what was asked for


def test_divergence_of_identical_and_disjoint_distributions():
    assert divergences([1, 1], [1, 1])["js_divergence"] == 0
    assert divergences([1, 0], [0, 1])["js_divergence"] == 1  # bits: disjoint is the maximum
    assert divergences([1, 0], [0, 1])["total_variation"] == 1


def test_text_metrics_tell_a_loop_from_varied_text():
    loop = "the cat sat on the mat " * 8
    varied = "A lighthouse stands on a cliff at dawn, gulls circle, waves break on dark rocks below."
    assert text_report([loop])["repetition"] > 0.7
    assert text_report([varied])["repetition"] == 0
    assert text_report([varied])["distinct_2"] == 1.0
    assert text_report([loop])["distinct_2"] < 0.2
    assert text_report(["a red cat", "a red cat"])["distinct_1"] == 0.5  # the set repeats itself


def test_prompt_adherence_with_minilm_in_a_graph(executor):
    def adherence(answer: str) -> float:
        nodes = {
            "mini": {"type": "embed.load", "params": {"device": "cpu"}},
            "prompt": {"type": "core.text", "params": {"text": "Describe a lighthouse on a cliff at dawn."}},
            "answer": {"type": "core.text", "params": {"text": answer}},
            "score": {
                "type": "evaluate.text_metrics",
                "inputs": {"text": ["answer", "text"], "prompt": ["prompt", "text"], "embedder": ["mini", "model"]},
            },
        }
        return executor.run(graph_of(nodes), only=["score"]).outputs["score"]["adherence"]

    on_topic = adherence("A white lighthouse on a rocky cliff glows in the pink light of sunrise.")
    off_topic = adherence("Quarterly revenue grew by four percent on strong software sales.")
    assert on_topic > 0.5 > off_topic


def test_report_writes_json_and_a_table_for_several_items(executor, tmp_path, settings):
    items = [{"adherence": 0.5, "repetition": 0.0}, {"adherence": 0.7, "repetition": 0.2}, {"adherence": 0.9}]
    summary = summarise(items)
    assert summary["mean"] == {"adherence": 0.7, "repetition": 0.1}

    nodes = {
        "text": {"type": "core.text", "params": {"text": "a red cat on a red mat"}},
        "score": {"type": "evaluate.text_metrics", "inputs": {"text": ["text", "text"]}},
        "picture": {"type": "image.new", "params": {"width": 64, "height": 64}},
        "report": {"type": "evaluate.report", "inputs": {"metrics": ["score", "report"], "images": ["picture", "image"]}},
    }
    result = executor.run(graph_of(nodes))
    out = result.outputs["report"]
    written = json.loads(out["json"].read_text())
    assert written["count"] == 1 and written["mean"]["distinct_1"] == pytest.approx(5 / 7, abs=1e-3)
    with Image.open(out["table"]) as table:
        assert table.width > 200 and table.height >= 64


def test_report_collects_every_item_of_a_sweep(executor):
    texts = ["a red cat on a red mat", "the the the the the the", "a lighthouse on a cliff at dawn"]
    nodes = {
        "text": {"type": "core.text", "params": {"text": {"sweep": texts}}},
        "score": {"type": "evaluate.text_metrics", "inputs": {"text": ["text", "text"]}},
        "report": {"type": "evaluate.report", "params": {"filename": "sweep"}, "inputs": {"metrics": ["score", "report"]}},
    }
    result = executor.run(graph_of(nodes))
    written = json.loads(result.outputs["report"]["json"].read_text())
    assert written["count"] == 3
    assert [round(i["repetition"], 2) for i in written["items"]] == [0.0, 0.67, 0.0]
    assert all(i["item"] for i in written["items"])  # each row says which item it is
    with Image.open(result.outputs["report"]["table"]) as table:
        assert table.height >= 22 * 5  # header, three items, the mean
