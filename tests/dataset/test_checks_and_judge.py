"""Per-item checks and the LLM judge in a real run: a JSON schema, a pattern, the code pack's syntax
check and a judge threshold decide which items are written; scores land in a column; the card counts
each failure by the check that failed first."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import run_graph  # noqa: E402

ITEMS = [
    '{"name": "ann", "age": 31}',
    '{"name": "bob"}',  # no age: fails the schema
    "not json at all",  # fails the schema
    '{"name": "Cy", "age": 40}',  # a capital letter: fails the pattern
    '{"name": "dee", "age": 22}',
    '{"name": "eve", "age": 57}',
    '{"name": "fay", "age": 19}',
    '{"name": "gus", "age": 63}',
]
SCHEMA = {"type": "object", "required": ["name", "age"], "properties": {"age": {"type": "integer"}}}
CRITERIA = "The record describes a plausible adult person."


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A nodeflow home whose models folder holds a tiny random-init Llama (built here, not downloaded)."""
    from tests.models.tiny_models import build_tiny_llama

    root = tmp_path_factory.mktemp("home")
    build_tiny_llama(root / "models" / "tiny-llama")
    return root


def _judge_scores(home: Path) -> dict[int, float]:
    """What the judge will say about each item that passes the rules, worked out here from the same model."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from nodeflow import LanguageModelHandle
    from nodes.dataset.judge import DEFAULT_RUBRIC, score_text

    folder = home / "models" / "tiny-llama"
    handle = LanguageModelHandle("tiny", model=AutoModelForCausalLM.from_pretrained(folder).eval(),
                                 tokenizer=AutoTokenizer.from_pretrained(folder))
    return {i: score_text(handle, DEFAULT_RUBRIC.format(item=ITEMS[i], criteria=CRITERIA, scale=5), 5)[0]
            for i in (0, 4, 5, 6, 7)}


def test_checks_and_judge_decide_what_is_written(tmp_path, home):
    import datasets
    from huggingface_hub import DatasetCard

    scores = _judge_scores(home)
    minimum = statistics.median(scores.values())  # about half of the judged items pass
    graph = {
        "nodeflow": 1,
        "nodes": {
            "record": {"type": "core.text", "params": {"text": {"sweep": ITEMS}}},
            "schema": {"type": "dataset.check_json", "params": {"schema": json.dumps(SCHEMA)},
                       "inputs": {"text": ["record", "text"]}},
            "lower": {"type": "dataset.check_regex", "params": {"pattern": '"name": "[a-z]+"'},
                      "inputs": {"text": ["record", "text"], "after": ["schema", "verdict"]}},
            "code": {"type": "code.from_text", "inputs": {"text": ["record", "text"]}},
            "syntax": {"type": "code.check_python", "inputs": {"code": ["code", "code"]}},
            "parses": {"type": "dataset.check_flag", "params": {"name": "python syntax"},
                       "inputs": {"ok": ["syntax", "ok"], "after": ["lower", "verdict"]}},
            "llm": {"type": "llm.load", "params": {"source": "tiny-llama", "device": "cpu"}},
            "judge": {"type": "dataset.judge", "params": {"criteria": CRITERIA},
                      "inputs": {"text": ["record", "text"], "model": ["llm", "model"]}},
            "gate": {"type": "dataset.check_score", "params": {"minimum": minimum},
                     "inputs": {"score": ["judge", "score"], "after": ["parses", "verdict"]}},
            "writer": {"type": "dataset.write", "params": {"folder": "people", "shard_size": 3},
                       "inputs": {"text": ["record", "text"], "scores": ["judge", "verdict"],
                                  "checks": ["gate", "verdict"]}},
            "finish": {"type": "dataset.finish", "inputs": {"receipts": ["writer", "receipt"]}},
        },
    }
    result = run_graph(graph, tmp_path / "out", tmp_path, env={"NODEFLOW_HOME": str(home)})
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / "out" / "people"

    passing = sorted(i for i, s in scores.items() if s >= minimum)
    files = sorted(str(p) for p in (folder / "data").glob("*.parquet"))
    loaded = datasets.load_dataset("parquet", data_files=files, split="train")
    assert loaded["id"] == [f"{i:06d}" for i in passing]
    assert loaded["judge_score"] == pytest.approx([scores[i] for i in passing], abs=1e-3)
    assert all(abs(sum(p) - 1) < 1e-3 for p in loaded["judge_score_probabilities"])

    card = DatasetCard.load(folder / "README.md").data.to_dict()["nodeflow"]
    (stage,) = card["filters"]
    judged_out = len(scores) - len(passing)
    assert judged_out > 0, "the judge threshold dropped items of its own"
    assert stage["why"] == {"json schema": 2, "pattern must match": 1, f"judge >= {minimum:g}": judged_out}
    assert stage["kept"] == len(passing) and stage["dropped"] == 3 + judged_out
    manifest = json.loads((folder / "manifest.json").read_text())
    reasons = manifest["filters"][0]["dropped_items"]
    assert reasons["000001"] == "json schema: at the top level: 'age' is a required property"
    assert reasons["000002"].startswith("json schema: not JSON")


def test_rule_mistakes_name_the_param(tmp_path):
    graph = {
        "nodeflow": 1,
        "nodes": {
            "record": {"type": "core.text", "params": {"text": "{}"}},
            "schema": {"type": "dataset.check_json", "params": {"schema": '{"type": 12}'},
                       "inputs": {"text": ["record", "text"]}},
        },
    }
    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 1 and "schema: not a JSON Schema" in result.stderr
    graph["nodes"]["schema"] = {"type": "dataset.check_regex", "params": {"pattern": "(unclosed"},
                                "inputs": {"text": ["record", "text"]}}
    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 1 and "pattern: not a regular expression" in result.stderr
