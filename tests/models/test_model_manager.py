"""The model manager: models stay resident by key, within a per-device budget, least recently used out."""

from __future__ import annotations

import pytest

from nodeflow.models import ModelManager, model_nbytes, pick_device, pick_dtype


def linear(width: int):
    import torch

    return torch.nn.Linear(width, width, bias=False)  # width*width float32 weights


def test_same_key_is_loaded_once():
    manager = ModelManager(device_override="cpu")
    first = manager.get(("a",), lambda: linear(8))
    assert manager.get(("a",), lambda: linear(8)) is first
    assert manager.loads == 1 and manager.load_counts[("a",)] == 1


def test_small_budget_evicts_the_least_recently_used():
    size = model_nbytes(linear(64))
    manager = ModelManager(device_override="cpu", budgets={"cpu": int(size * 2.5)})
    manager.get(("a",), lambda: linear(64))
    manager.get(("b",), lambda: linear(64))
    manager.get(("a",), lambda: linear(64))  # a is now the most recently used
    manager.get(("c",), lambda: linear(64))  # three do not fit: b goes
    assert ("a",) in manager and ("c",) in manager and ("b",) not in manager
    assert manager.used_bytes("cpu") <= int(size * 2.5)
    assert manager.evictions == 1
    manager.get(("b",), lambda: linear(64))  # asked for again: loaded again
    assert manager.load_counts[("b",)] == 2 and manager.loads == 4


def test_a_model_larger_than_the_budget_still_loads_alone():
    size = model_nbytes(linear(64))
    manager = ModelManager(device_override="cpu", budgets={"cpu": size // 2})
    manager.get(("small",), lambda: linear(8))
    big = manager.get(("big",), lambda: linear(64))
    assert big is not None and [m.key for m in manager.resident()] == [("big",)]


def test_known_size_makes_room_before_loading():
    size = model_nbytes(linear(64))
    manager = ModelManager(device_override="cpu", budgets={"cpu": int(size * 1.5)})
    manager.get(("a",), lambda: linear(64))
    seen_resident = []
    manager.get(("b",), lambda: seen_resident.append(len(manager.resident())) or linear(64), nbytes=size)
    assert seen_resident == [0]  # a was dropped before b's loader ran


def test_device_and_dtype_are_chosen_and_can_be_overridden(monkeypatch):
    import torch

    monkeypatch.delenv("NODEFLOW_DEVICE", raising=False)
    monkeypatch.delenv("NODEFLOW_DTYPE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device() in (expected, "mps")
    assert pick_device("cpu") == "cpu"
    monkeypatch.setenv("NODEFLOW_DEVICE", "cpu")
    assert ModelManager().device == "cpu"
    assert pick_dtype("cpu") == torch.float32
    assert pick_dtype("mps") == torch.float16
    monkeypatch.setenv("NODEFLOW_DTYPE", "bfloat16")
    assert pick_dtype("cpu") == torch.bfloat16
    monkeypatch.setenv("NODEFLOW_DTYPE", "float13")
    with pytest.raises(ValueError, match="NODEFLOW_DTYPE"):
        pick_dtype("cpu")


def test_budget_from_the_environment(monkeypatch):
    monkeypatch.setenv("NODEFLOW_MODEL_MB_CPU", "1.5")
    assert ModelManager(device_override="cpu").budget("cpu") == int(1.5 * 2**20)


@pytest.mark.skipif("not __import__('torch').cuda.is_available()")
def test_gpu_models_over_budget_are_offloaded_then_brought_back():
    size = model_nbytes(linear(64))
    manager = ModelManager(device_override="cuda", budgets={"cuda": int(size * 1.5)})
    a = manager.get(("a",), lambda: linear(64).to("cuda"))
    manager.get(("b",), lambda: linear(64).to("cuda"))
    assert a.weight.device.type == "cpu" and manager.offloads == 1 and ("a",) in manager
    assert manager.get(("a",), lambda: linear(64)).weight.device.type == "cuda"
    assert manager.loads == 2
