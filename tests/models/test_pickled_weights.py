"""No pickled language models: the LLM and embedding loaders refuse pickled weights (``pytorch_model.bin``)
themselves, with a message saying how to convert, instead of relying on a library's defaults. Real
tiny model folders written in both formats."""

from __future__ import annotations

import json

import pytest

from tests.models.tiny_models import build_tiny_llama


@pytest.fixture
def models_executor(tmp_path):
    from nodeflow.models import ModelManager
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    settings = Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[], allow_cwd_inputs=False)
    (settings.home / "models").mkdir(parents=True)
    return Executor(settings=settings, models=ModelManager(device_override="cpu"))


def _save_pickled(model, folder):
    """What older tools wrote: the state dict pickled by torch.save, no safetensors."""
    import torch

    for old in folder.glob("*.safetensors"):
        old.unlink()
    torch.save(model.state_dict(), folder / "pytorch_model.bin")


def _pickled_llama(folder):
    from transformers import AutoModelForCausalLM

    build_tiny_llama(folder)
    _save_pickled(AutoModelForCausalLM.from_pretrained(folder), folder)
    return folder


def _run_load(executor, node_type, source) -> tuple[str, str]:
    """(status, message): the refusal comes from validation (the source's resolve check) or the node."""
    from nodeflow.events import EventLog
    from nodeflow.graph.model import parse_graph
    from nodeflow.problems import GraphInvalid

    graph = parse_graph({"nodeflow": 1, "nodes": {"m": {"type": node_type, "params": {"source": source}}}})
    try:
        result = executor.run(graph, on_event=EventLog(), only=["m"])
    except GraphInvalid as invalid:
        return "invalid", str(invalid)
    return result.status, result.error.message if result.error else ""


def test_llm_load_refuses_a_pytorch_model_bin(models_executor):
    executor = models_executor
    folder = _pickled_llama(executor.settings.home / "models" / "pickled-llama")
    status, message = _run_load(executor, "llm.load", str(folder.name))
    assert status in ("invalid", "error")
    assert "pickled weights (pytorch_model.bin)" in message and "safe_serialization=True" in message
    # the same model as safetensors loads

    build_tiny_llama(folder)
    (folder / "pytorch_model.bin").unlink()
    assert _run_load(executor, "llm.load", str(folder.name))[0] == "ok"


def test_embed_load_refuses_a_pytorch_model_bin(models_executor):
    import torch
    from transformers import BertConfig, BertModel

    executor = models_executor
    folder = executor.settings.home / "models" / "pickled-bert"
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    torch.manual_seed(0)
    model = BertModel(config)
    model.save_pretrained(folder)
    _save_pickled(model, folder)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]
    (folder / "modules.json").write_text(json.dumps(modules))
    status, message = _run_load(executor, "embed.load", str(folder.name))
    assert status in ("invalid", "error")
    assert "pickled weights (pytorch_model.bin)" in message and "safe_serialization=True" in message
