"""ComfyUI's own subgraphs (``definitions.subgraphs`` of its workflow format) import as our subgraph
definitions: inner nodes mapped, links across the edge as exposed inputs and outputs, promoted widgets
as params set on the subgraph node, nesting kept, and the graph expands to what the flat workflow gives."""

from __future__ import annotations

import json

from nodeflow.check.validate import validate
from nodeflow.comfy import import_bytes
from nodeflow.graph.model import graph_to_dict, parse_graph
from nodeflow.graph.subgraphs import expand_subgraphs
from nodeflow.nodetypes.registry import default_registry
from tests.comfy.comfy_workflows import text_to_image

SAMPLE = "6f1b9a52-0d1e-4c3a-9d7b-2b1f0e5a7c11"
DECODE = "a3c2d8e0-55b4-4f6e-8a1d-9e0c7b3f2d44"


def imported(document: dict):
    return import_bytes(json.dumps(document).encode(), "workflow.json", default_registry())


def problems(graph) -> list[str]:
    """What validation says of the graph once its subgraph nodes are expanded, as a run expands them."""
    expanded = parse_graph(graph_to_dict(graph))
    expand_subgraphs(expanded)
    return [str(p) for p in expanded.load_problems + validate(expanded, default_registry())]


def flat(graph) -> dict:
    """The graph as the engine runs it: subgraph nodes expanded into their inner nodes."""
    expanded = parse_graph(graph_to_dict(graph))
    expand_subgraphs(expanded)
    assert not expanded.load_problems, expanded.load_problems
    return {nid: (n.type, n.params, n.inputs) for nid, n in expanded.nodes.items()}


def test_a_subgraph_becomes_a_definition_with_its_links_and_promoted_widgets():
    plain, _ = imported(text_to_image(steps=20, seed=5).to_json())
    wf = text_to_image(steps=20, seed=5)
    wf.fold([3, 10, 8], "Sample and decode", SAMPLE, 30, promote=((3, "steps", "INT", 12),))
    graph, report = imported(wf.to_json())
    assert report.unknown == [] and not [w for w in report.warnings if "subgraph" in w]
    node = graph.nodes["sample_and_decode"]
    assert node.type == "subgraph.sample_and_decode" and node.params == {"steps": 12}
    # (the prompts are named by the sampler port they feed only when that sampler is at the same level)
    assert node.inputs == {"model": ("checkpoint", "model"), "positive": ("prompt", "conditioning"),
                           "negative": ("prompt_2", "conditioning"), "latent_image": ("empty_latent", "latent"),
                           "vae": ("checkpoint", "vae")}
    assert graph.nodes["save"].inputs == {"image": ("sample_and_decode", "image")}
    definition = graph.definitions["sample_and_decode"]
    assert definition["title"] == "Sample and decode" and set(definition["nodes"]) == {"sampler", "decode"}
    assert definition["inputs"]["latent_image"] == [["sampler", "latent"]]
    assert definition["params"] == {"steps": [["sampler", "steps"]]}
    assert definition["outputs"] == {"image": ["decode", "image"]}
    assert problems(graph) == []
    ran = flat(graph)
    assert ran["sample_and_decode/sampler"][1] == {**plain.nodes["sampler"].params, "steps": 12}
    assert ran["save"][2] == {"image": ("sample_and_decode/decode", "image")}


def test_nested_subgraphs_and_unknown_inner_nodes():
    wf = text_to_image(seed=5)
    wf.fold([10, 8], "Decode", DECODE, 31)
    wf.fold([3, 31], "Sample", SAMPLE, 30, promote=((3, "seed", "INT", 77),))
    document = wf.to_json()
    inner = document["definitions"]["subgraphs"][0]["nodes"]
    inner.append({"id": 50, "type": "FancyUpscaler", "pos": [0, 0], "inputs": [], "outputs": [], "mode": 0, "widgets_values": [2]})
    graph, report = imported(document)
    assert set(graph.definitions) == {"decode", "sample"}
    assert graph.definitions["sample"]["nodes"]["decode"]["type"] == "subgraph.decode"
    assert report.unknown == [{"id": "decode/50", "class_type": "FancyUpscaler", "node": "decode/fancyupscaler"}]
    ran = flat(graph)
    assert ran["sample/sampler"][1]["seed"] == 77
    assert ran["sample/decode/decode"][2] == {"latent": ("sample/sampler", "latent"), "vae": ("checkpoint", "vae")}
    assert ran["save"][2] == {"image": ("sample/decode/decode", "image")}
    found = problems(graph)
    assert found and all("decode/fancyupscaler" in p for p in found)  # the placeholder, by its path
