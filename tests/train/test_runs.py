"""Trainers inside real runs: live previews, cancellation, and the disk cache reused by a second process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from nodeflow.events import EventLog  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _digit_graph(steps: int) -> dict:
    return {
        "nodeflow": 1,
        "meta": {"title": "tiny digit model"},
        "nodes": {
            "digits": {"type": "data.digits", "params": {"digits": "01", "captions": "single"}},
            "train": {"type": "train.diffusion", "inputs": {"dataset": ["digits", "dataset"]},
                      "params": {"conditioning": "class", "steps": steps, "batch_size": 16, "width": 8, "seed": 1}},
            "draw": {"type": "train.diffusion_sample", "inputs": {"model": ["train", "model"]},
                     "params": {"label": 1, "steps": 3, "seed": 2}},
            "save": {"type": "image.save", "inputs": {"image": ["draw", "image"]}, "params": {"filename": "one.png"}},
        },
    }


def test_training_shows_progress_a_loss_curve_and_samples(executor):
    from nodeflow.graph.model import parse_graph

    log = EventLog()
    result = executor.run(parse_graph(_digit_graph(steps=12)), on_event=log)
    assert result.ok, result.error
    progress = [e for e in log.of("progress") if e["node"] == "train"]
    assert progress and progress[-1]["value"] == progress[-1]["max"] == 12
    pictures = [e for e in log.of("preview") if e["node"] == "train" and e["kind"] == "image"]
    assert len(pictures) >= 2  # the loss curve and a grid of samples, at least at the end
    assert all(Path(e["path"]).is_file() for e in pictures)
    texts = [e["text"] for e in log.of("preview") if e["node"] == "train" and e["kind"] == "text"]
    assert any("trained 12 steps" in t for t in texts)


def test_cancelling_stops_training_promptly_and_stores_nothing(executor, settings):
    from nodeflow.graph.model import parse_graph

    cancel = threading.Event()
    seen: list[dict] = []

    def on_event(event: dict) -> None:
        seen.append(event)
        if event["event"] == "progress" and event["node"] == "train":
            cancel.set()

    result = executor.run(parse_graph(_digit_graph(steps=1_000_000)), on_event=on_event, cancel=cancel)
    assert result.status == "cancelled"
    assert "train" not in result.ran
    steps_done = max(e["value"] for e in seen if e["event"] == "progress" and e["node"] == "train")
    assert steps_done < 100
    assert not [p for p in settings.cache_dir.rglob("entry.json") if "train.diffusion" in p.read_text()]


def test_a_second_process_reuses_the_trained_model_from_disk(tmp_path):
    graph_file = tmp_path / "digit.json"
    graph_file.write_text(json.dumps(_digit_graph(steps=20)))
    env = {**os.environ, "NODEFLOW_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}

    def run(name: str) -> list[dict]:
        events = tmp_path / f"{name}.jsonl"
        done = subprocess.run(
            [sys.executable, "-m", "nodeflow", "run", str(graph_file), "--out", str(tmp_path / name), "--events", str(events)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in events.read_text().splitlines()]

    first = run("first")
    second = run("second")
    assert "train" in [e["node"] for e in first if e["event"] == "node_started"]
    assert "train" in [e["node"] for e in second if e["event"] == "node_cached"]
    assert "train" not in [e["node"] for e in second if e["event"] == "node_started"]
    assert (tmp_path / "first" / "one.png").read_bytes() == (tmp_path / "second" / "one.png").read_bytes()
    entries = list((tmp_path / "home" / "cache").rglob("unet/diffusion_pytorch_model.safetensors"))
    assert len(entries) == 1
    assert not list((tmp_path / "home" / "cache").rglob("*.pkl")) and not list((tmp_path / "home" / "cache").rglob("*.bin"))


def test_the_example_graphs_validate():
    from nodeflow.check.validate import migrate_nodes, validate
    from nodeflow.graph.model import load_graph
    from nodeflow.nodetypes.registry import default_registry

    registry = default_registry()
    for name in ("prompt_to_digit.json", "char_lm.json"):
        graph = load_graph(REPO / "graphs" / name)
        problems = migrate_nodes(graph, registry) + validate(graph, registry)
        assert not problems, [p.to_json() for p in problems]


def test_a_trained_language_model_works_in_the_llm_pack(executor, make_graph):
    if "llm.generate" not in executor.registry:
        pytest.skip("the llm pack is not installed")
    g = make_graph(
        text=("data.pydoc_text", {"topics": "if,while"}),
        chars=("data.char_tokenizer", {}, {"corpus": ("text", "corpus")}),
        train=("train.language_model", {"steps": 5, "layers": 1, "width": 32, "heads": 2, "context": 32},
               {"corpus": ("text", "corpus"), "tokenizer": ("chars", "tokenizer")}),
        handle=("train.lm_as_language_model", {}, {"model": ("train", "model")}),
        write=("llm.generate", {"prompt": "while", "system": "", "chat": False, "max_tokens": 12, "seed": 1},
               {"model": ("handle", "model")}),
        show=("core.show_text", {}, {"text": ("write", "text")}),
    )
    result = executor.run(g)
    assert result.ok, result.error
    assert isinstance(result.outputs["show"]["text"], str)


def test_every_sampler_and_evaluation_node_runs_in_a_graph(executor, make_graph):
    digits = ("digits", "dataset")
    g = make_graph(
        digits=("data.digits", {"digits": "0123", "captions": "single"}),
        vae=("train.vae", {"steps": 3, "batch_size": 8, "width": 8}, {"dataset": digits}),
        walk=("train.vae_interpolate", {"first": 0, "second": 3, "frames": 5}, {"model": ("vae", "model"), "dataset": digits}),
        dream=("train.vae_sample", {"count": 4, "size": 8}, {"model": ("vae", "model")}),
        gan=("train.gan", {"steps": 3, "batch_size": 8, "width": 8}, {"dataset": digits}),
        fake=("train.gan_sample", {"count": 6, "columns": 3}, {"model": ("gan", "model")}),
        diffusion=("train.diffusion", {"conditioning": "class", "steps": 3, "batch_size": 8, "width": 8},
                   {"dataset": digits}),
        grade=("train.evaluate_digits", {"per_class": 2, "steps": 2}, {"model": ("diffusion", "model"), "real": digits}),
        text=("data.pydoc_text", {"topics": "if,while"}),
        split=("data.split_text", {"validation": 0.2}, {"corpus": ("text", "corpus")}),
        chars=("data.char_tokenizer", {}, {"corpus": ("text", "corpus")}),
        lm=("train.language_model", {"steps": 3, "layers": 1, "width": 32, "heads": 2, "context": 32},
            {"corpus": ("split", "train"), "tokenizer": ("chars", "tokenizer")}),
        score=("train.lm_evaluate", {"max_windows": 4}, {"model": ("lm", "model"), "corpus": ("split", "validation")}),
        write=("train.lm_generate", {"prompt_text": "while ", "max_new_tokens": 10}, {"model": ("lm", "model")}),
        peek=("data.preview_text", {"chars": 50}, {"corpus": ("text", "corpus")}),
    )
    result = executor.run(g, only=["walk", "dream", "fake", "grade", "score", "write", "peek"])
    assert result.ok, result.error
    out = result.outputs
    assert out["walk"]["image"].size[0] > 5 * 64 and out["dream"]["image"].mode == "RGB"
    assert out["fake"]["image"].size[0] > out["fake"]["image"].size[1]  # 3 columns, 2 rows
    assert out["grade"]["report"]["generated"] == 8 and 0 <= out["grade"]["report"]["adherence"] <= 1
    assert out["score"]["report"]["perplexity"] > 1
    assert out["write"]["text"].startswith("while ") and len(out["peek"]["text"]) == 50
