"""Large ComfyUI workflows: import is linear in their size (timings are in bench/comfy_import.py, not
here) and bounded: past MAX_NODES the importer refuses with a clear error instead of working for minutes."""

from __future__ import annotations

import json
import random
from pathlib import Path

from nodeflow.comfy import ComfyImportError, import_bytes
from nodeflow.comfy.convert import MAX_NODES
from nodeflow.graph.layout import _inversions
from nodeflow.nodetypes.registry import default_registry
from tests.engine_support import nodeflow_cli


def chains(count: int) -> dict:
    """``count`` loader -> sampler pairs, every sampler behind a reroute, in the editor's format."""
    nodes, links = [], []
    for c in range(count):
        loader, reroute, sampler = 3 * c + 1, 3 * c + 2, 3 * c + 3
        nodes.append({"id": loader, "type": "CheckpointLoaderSimple", "pos": [c * 10, 0], "widgets_values": ["m.safetensors"],
                      "outputs": [{"name": "MODEL", "type": "MODEL", "links": [2 * c + 1]}]})
        nodes.append({"id": reroute, "type": "Reroute", "pos": [c * 10, 100], "inputs": [{"name": "", "type": "*", "link": 2 * c + 1}],
                      "outputs": [{"name": "", "type": "*", "links": [2 * c + 2]}]})
        nodes.append({"id": sampler, "type": "KSampler", "pos": [c * 10, 200], "widgets_values": [c, "fixed", 20, 8, "euler", "normal", 1],
                      "inputs": [{"name": "model", "type": "MODEL", "link": 2 * c + 2}]})
        links += [[2 * c + 1, loader, 0, reroute, 0, "MODEL"], [2 * c + 2, reroute, 0, sampler, 0, "MODEL"]]
    return {"nodes": nodes, "links": links, "groups": [{"title": "all", "bounding": [0, 0, count * 10, 300]}]}


def test_a_workflow_of_thousands_of_nodes_imports_whole():
    graph, report = import_bytes(json.dumps(chains(2500)).encode(), "big.json", default_registry())
    assert report.nodes == 5000  # the reroutes dissolve
    samplers = [n for n in graph.nodes.values() if n.type == "diffusion.sampler"]
    assert len(samplers) == 2500 and len({n.id for n in samplers}) == 2500
    assert graph.nodes["sampler_2500"].params["seed"] == 2499
    assert graph.nodes["sampler_2500"].inputs == {"model": ("checkpoint_2500", "model")}
    assert len(graph.groups[0]["nodes"]) == 5000


def test_past_the_bound_import_is_refused_with_the_reason(tmp_path: Path):
    document = chains(MAX_NODES // 3 + 1)
    source = tmp_path / "huge.json"
    source.write_text(json.dumps(document))
    done = nodeflow_cli("import", str(source), "-o", str(tmp_path / "out.json"))
    assert done.returncode == 2, done.stderr
    assert f"the workflow has {len(document['nodes']):,} nodes, more than the {MAX_NODES:,} an import takes" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out.json").exists()
    # nodes inside subgraph definitions count too
    small = chains(10)
    small["definitions"] = {"subgraphs": [{"id": "s", "name": "big", "nodes": chains(MAX_NODES // 3)["nodes"], "links": []}]}
    try:
        import_bytes(json.dumps(small).encode(), "nested.json")
    except ComfyImportError as exc:
        assert "more than the" in str(exc)
    else:
        raise AssertionError("a workflow past the bound in its subgraphs was imported")


def test_past_the_bound_of_groups_import_is_refused():
    from nodeflow.comfy.convert import MAX_GROUPS

    document = chains(2)
    document["groups"] = [{"title": f"g{i}", "bounding": [0, 0, 10, 10]} for i in range(MAX_GROUPS + 1)]
    try:
        import_bytes(json.dumps(document).encode(), "groups.json")
    except ComfyImportError as exc:
        assert f"{MAX_GROUPS + 1:,} groups, more than the {MAX_GROUPS:,}" in str(exc)
    else:
        raise AssertionError("a workflow past the bound of groups was imported")


def test_crossings_are_counted_as_before():
    """The arrangement's crossing count (n log n now) agrees with counting every pair of edges."""
    rng = random.Random(7)
    for _ in range(500):
        pairs = [(rng.randint(0, 6), rng.randint(0, 6)) for _ in range(rng.randint(0, 15))]
        ordered = sorted(pairs)
        brute = sum(1 for i, (a1, b1) in enumerate(ordered) for a2, b2 in ordered[i + 1:] if a2 > a1 and b2 < b1)
        assert _inversions(pairs) == brute
