"""LoRA fine-tuning of language models in a graph: a tiny random-init Llama, and the real SmolLM2 for a
few steps. The adapter is a real file that loads back; bad data and mismatched bases are refused."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from nodeflow.check.validate import validate
from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph
from nodeflow.nodetypes.registry import default_registry

EXAMPLES = [{"prompt": f"colour {i}", "response": "the fox is blue"} for i in range(6)]


def _write_examples(folder: Path, rows=EXAMPLES, name: str = "examples.jsonl") -> Path:
    path = folder / name
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _graph(examples: Path, *, source: str = "tiny-llama", steps: int = 40, **params) -> dict:
    tune = {"steps": steps, "learning_rate": 0.01, "seed": 1, **params}
    ask = {"prompt": "colour 9", "temperature": 0, "max_tokens": 6}
    return {
        "nodeflow": 1,
        "nodes": {
            "llm": {"type": "llm.load", "params": {"source": source}},
            "data": {"type": "data.examples_file", "params": {"path": str(examples)}},
            "tune": {"type": "train.llm_lora", "params": tune,
                     "inputs": {"model": ["llm", "model"], "examples": ["data", "examples"]}},
            "after": {"type": "llm.generate", "params": ask, "inputs": {"model": ["tune", "model"]}},
            "before": {"type": "llm.generate", "params": ask, "inputs": {"model": ["llm", "model"]}},
        },
    }


def _loras(settings) -> list[Path]:
    folder = settings.models_dir / "loras"
    return sorted(folder.glob("*")) if folder.exists() else []


def test_tiny_llama_lora_learns_saves_reloads_and_is_cached(executor, settings, tiny_models):
    examples = _write_examples(tiny_models)
    log = EventLog()
    assert _loras(settings) == []  # this test's own models folder (the shared store lends only conversions)
    result = executor.run(parse_graph(_graph(examples)), on_event=log, only=["tune", "after", "before"])
    assert result.ok, result.error
    adapter = Path(result.outputs["tune"]["adapter"])
    assert adapter.parent == settings.models_dir / "loras" and adapter.suffix == ".safetensors"
    assert _loras(settings) == [adapter]  # exactly one adapter file

    from safetensors import safe_open

    with safe_open(str(adapter), framework="pt") as opened:
        meta = opened.metadata()
    losses = json.loads(meta["history"])["curves"]["loss"]
    assert len(losses) == 40 and sum(losses[-5:]) / 5 < losses[0] - 0.3  # the loss falls
    assert json.loads(meta["nodeflow_provenance"])["graph"]["nodes"]["tune"]["type"] == "train.llm_lora"
    assert json.loads(meta["base_signature"])["model_type"] == "llama"
    previews = [e for e in log.of("preview") if e["node"] == "tune"]
    assert any(e["kind"] == "image" for e in previews)  # the loss curve
    assert any(e.get("text", "").startswith("samples:") for e in previews)
    tuned, base = result.outputs["after"]["text"], result.outputs["before"]["text"]
    assert tuned != base  # the adapter changes what the model says

    # the adapter loads back into the base (llm.load's adapter param, and llm.adapter) and says the same
    reload = {
        "nodeflow": 1,
        "nodes": {
            "llm": {"type": "llm.load", "params": {"source": "tiny-llama", "adapter": str(adapter)}},
            "gen": {"type": "llm.generate", "params": {"prompt": "colour 9", "temperature": 0, "max_tokens": 6},
                    "inputs": {"model": ["llm", "model"]}},
            "base": {"type": "llm.load", "params": {"source": "tiny-llama"}},
            "merged": {"type": "llm.adapter", "params": {"path": adapter.name and str(adapter), "merge": True},
                       "inputs": {"model": ["base", "model"]}},
            "gen2": {"type": "llm.generate", "params": {"prompt": "colour 9", "temperature": 0, "max_tokens": 6},
                     "inputs": {"model": ["merged", "model"]}},
        },
    }
    again = executor.run(parse_graph(reload), only=["gen", "gen2"])
    assert again.ok, again.error
    assert again.outputs["gen"]["text"] == tuned == again.outputs["gen2"]["text"]

    # a second run (a fresh executor: nothing in memory) takes the trained model from the disk cache
    from nodeflow.models import ModelManager
    from nodeflow.run.executor import Executor

    fresh = Executor(settings=settings, models=ModelManager(device_override="cpu"))
    second = fresh.run(parse_graph(_graph(examples)), only=["tune", "after"])
    assert second.ok, second.error
    assert "tune" in second.cached
    assert second.outputs["after"]["text"] == tuned
    assert _loras(settings) == [adapter]  # the same training, cached: still the one file it wrote


def test_cancelling_lora_training_writes_no_adapter(executor, settings, tiny_models):
    examples = _write_examples(tiny_models, name="cancel.jsonl")
    cancel = threading.Event()
    before = _loras(settings)

    def on_event(event):
        if event["event"] == "progress" and event["node"] == "tune" and event["value"] >= 3:
            cancel.set()

    result = executor.run(parse_graph(_graph(examples, steps=1_000_000)), on_event=on_event, cancel=cancel,
                          only=["tune"])
    assert result.status == "cancelled"
    assert _loras(settings) == before


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "holds no examples"),
        ('{"prompt": "a", "response": "b"}\n{"prompt": "a", "response": \n', "examples.jsonl line 2: not JSON"),
        ('{"prompt": "a", "response": "b"}\n\n{"question": "a"}\n', "examples.jsonl line 3: needs prompt and response"),
        ('["a", "b"]\n', "examples.jsonl line 1: expected an object"),
    ],
)
def test_bad_example_files_are_refused_naming_the_line(executor, settings, tiny_models, content, message):
    examples = tiny_models / "examples.jsonl"
    examples.write_text(content)
    before = _loras(settings)
    result = executor.run(parse_graph(_graph(examples)), only=["tune"])
    assert result.status == "error" and result.error.node == "data"
    assert message in result.error.message
    assert _loras(settings) == before


def test_csv_examples_name_the_bad_line(executor, tiny_models):
    examples = tiny_models / "examples.csv"
    examples.write_text("prompt,response\nhi,hello\n,\n")
    result = executor.run(parse_graph(_graph(examples)), only=["data"])
    assert result.status == "error" and "examples.csv line 3" in result.error.message


def test_rank_zero_is_a_validation_problem(tiny_models):
    graph = parse_graph(_graph(tiny_models / "examples.jsonl", rank=0))
    problems = validate(graph, default_registry())
    assert any(p.node == "tune" and "rank" in str(p) for p in problems), problems


def test_an_adapter_for_another_base_is_refused_naming_both(executor, settings, tiny_models, tmp_path):
    from tests.models.tiny_models import build_tiny_llama

    examples = _write_examples(tiny_models, name="other.jsonl")
    result = executor.run(parse_graph(_graph(examples, steps=2)), only=["tune"])
    assert result.ok, result.error
    adapter = Path(result.outputs["tune"]["adapter"])
    wider = build_tiny_llama(tiny_models / "wider-llama", hidden_size=48)
    graph = {"nodeflow": 1, "nodes": {"llm": {"type": "llm.load", "params": {"source": wider.name, "adapter": str(adapter)}}}}
    failed = executor.run(parse_graph(graph))
    assert failed.status == "error" and failed.error.node == "llm"
    assert "tiny-llama (llama, width 32" in failed.error.message and "wider-llama (llama, width 48" in failed.error.message


@pytest.mark.slow
def test_smollm2_lora_for_a_few_steps(lm_executor, settings, tiny_models):
    """The real bundled SmolLM2: a few LoRA steps lower the loss and the adapter reloads."""
    rows = [{"prompt": "Say the magic word.", "response": "Abracadabra!"}] * 4
    examples = _write_examples(tiny_models, rows, name="magic.jsonl")
    graph = _graph(examples, source="", steps=4, batch_size=2, learning_rate=5e-3, rank=4)
    graph["nodes"]["after"]["params"].update(prompt="Say the magic word.", max_tokens=8)  # "Abracadabra!" is 6 tokens
    result = lm_executor.run(parse_graph(graph), only=["tune", "after"])
    assert result.ok, result.error
    from nodes.llm.adapters import read_adapter

    _, meta = read_adapter(result.outputs["tune"]["adapter"])
    losses = meta["history"] if isinstance(meta["history"], dict) else json.loads(meta["history"])
    assert losses["curves"]["loss"][-1] < losses["curves"]["loss"][0]
    assert meta["base_signature"]["num_hidden_layers"] == 30
    assert "abracadabra" in result.outputs["after"]["text"].lower()


def test_generate_puts_the_code_of_its_reply_on_a_code_output(executor):
    graph = {"nodeflow": 1, "nodes": {
        "llm": {"type": "llm.load", "params": {"source": "tiny-llama"}},
        "gen": {"type": "llm.generate", "params": {"prompt": "Write hello world.", "max_tokens": 5, "seed": 1,
                                                   "code_language": "py"},
                "inputs": {"model": ["llm", "model"]}},
    }}
    result = executor.run(parse_graph(graph), only=["gen"])
    assert result.ok, result.error
    code = result.outputs["gen"]["code"]
    assert code.language == "python" and code.text.strip() == result.outputs["gen"]["text"].strip()


def test_training_continues_from_an_earlier_adapter(executor, settings, tiny_models):
    examples = _write_examples(tiny_models, name="resume.jsonl")
    graph = _graph(examples, steps=6)
    graph["nodes"]["more"] = {"type": "train.llm_lora", "params": {"steps": 4, "learning_rate": 0.01, "seed": 2},
                              "inputs": {"model": ["llm", "model"], "examples": ["data", "examples"],
                                         "init": ["tune", "adapter"]}}
    result = executor.run(parse_graph(graph), only=["tune", "more"])
    assert result.ok, result.error
    from nodes.llm.adapters import read_adapter

    _, first = read_adapter(result.outputs["tune"]["adapter"])
    _, second = read_adapter(result.outputs["more"]["adapter"])
    history = second["history"] if isinstance(second["history"], dict) else json.loads(second["history"])
    earlier = first["history"] if isinstance(first["history"], dict) else json.loads(first["history"])
    assert len(history["curves"]["loss"]) == 10 and len(history["runs"]) == 2
    assert history["curves"]["loss"][:6] == earlier["curves"]["loss"]
    assert history["curves"]["loss"][6] < earlier["curves"]["loss"][0]  # it starts where the first left off
