"""The preview's grid in the editor: "▶ first K" on a graph that judges and deduplicates its items opens
the dataset writer's items, each with the judge's score and whether the dedup filter kept it or dropped it
as a duplicate (and of which item). A real editor, a real run, a tiny random-init judge built here."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import open_graph, run_and_wait

ITEMS = ["a red kite over the hill", "two boats in a harbour", "a red kite over the hill", "snow on a pine", "rain"]
FIRST = 4  # the first four: the third repeats the first, and the fifth is not made
CRITERIA = "The caption names what is in the picture."


def _expected_scores(folder) -> list[float]:
    """What the judge says of each previewed item, worked out here from the same model and rubric."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from nodeflow import LanguageModelHandle
    from nodes.dataset.judge import DEFAULT_RUBRIC, score_text

    handle = LanguageModelHandle("tiny", model=AutoModelForCausalLM.from_pretrained(folder).eval(),
                                 tokenizer=AutoTokenizer.from_pretrained(folder))
    return [score_text(handle, DEFAULT_RUBRIC.format(item=text, criteria=CRITERIA, scale=5), 5)[0]
            for text in ITEMS[:FIRST]]


def test_the_preview_grid_shows_each_items_score_and_dedup_decision(page, editor_server):
    from tests.models.tiny_models import build_tiny_llama

    model = editor_server.settings.models_dir / "tiny-judge"
    if not model.exists():
        build_tiny_llama(model)
    scores = _expected_scores(model)
    graph = {"nodeflow": 1, "meta": {"title": "Judged captions"}, "nodes": {
        "caption": {"type": "core.text", "params": {"text": {"sweep": ITEMS}}},
        "dedup": {"type": "dataset.dedup_exact", "inputs": {"items": ["caption", "text"]}},
        "llm": {"type": "llm.load", "params": {"source": "tiny-judge", "device": "cpu"}},
        "judge": {"type": "dataset.judge", "params": {"criteria": CRITERIA},
                  "inputs": {"text": ["caption", "text"], "model": ["llm", "model"]}},
        "writer": {"type": "dataset.write", "params": {"folder": "judged", "format": "jsonl", "shard_size": 2},
                   "inputs": {"text": ["caption", "text"], "scores": ["judge", "verdict"],
                              "filter": ["dedup", "result"]}},
        "finish": {"type": "dataset.finish", "inputs": {"receipts": ["writer", "receipt"],
                                                        "reports": ["dedup", "result"]}},
    }}
    for i, node in enumerate(graph["nodes"].values()):
        node["ui"] = {"pos": [60 + 260 * (i % 3), 80 + 220 * (i // 3)]}

    open_graph(page, graph)
    page.fill("[data-testid=preview-count]", str(FIRST))
    run_and_wait(page, button="btn-preview", timeout=120_000)

    panel = page.locator("[data-testid=items-panel]")  # the preview opened the writer's items
    panel.wait_for()
    assert panel.locator("[data-testid^=items-panel-item-]").count() == FIRST
    for index in range(FIRST):
        assert page.inner_text(f"[data-testid=items-panel-score-{index}]") == f"judge_score {scores[index]:.3g}"
        assert page.inner_text(f"[data-testid=items-panel-item-{index}] .nf-item-text") == ITEMS[index]
    decisions = [page.inner_text(f"[data-testid=items-panel-decision-{i}]") for i in range(FIRST)]
    assert decisions == ["kept", "kept", "dropped: duplicate of item 1 (exact: a copy of 000000)", "kept"]
    assert "nf-item-dropped" in (page.get_attribute("[data-testid=items-panel-item-2]", "class") or "")

    # the grid says what the dataset holds: the duplicate is not in it, the judge's scores are
    (manifest_path,) = editor_server.settings.output_dir.rglob("judged/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    assert [i for s in manifest["shards"] for i in s["items"]] == ["000000", "000001", "000003"]
    rows = [json.loads(line) for shard in sorted((manifest_path.parent / "data").glob("*.jsonl"))
            for line in shard.read_text().splitlines()]
    assert [round(r["judge_score"], 4) for r in rows] == [round(scores[i], 4) for i in (0, 1, 3)]
