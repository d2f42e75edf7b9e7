"""The IPTC digital source type a record (and so the C2PA manifest) gives comes from what made the
content: the planned nodes upstream of the output, as the record builder sees them."""

from __future__ import annotations

from nodeflow.delivery.record import _source_type
from nodeflow.graph.model import parse_graph
from nodeflow.nodetypes.registry import default_registry
from nodeflow.plan.planner import make_plan


def planned_upstream(nodes: dict) -> dict:
    plan = make_plan(parse_graph({"nodeflow": 1, "nodes": nodes}), default_registry())
    return {step.id: step for step in plan.order}


def test_a_model_upstream_makes_it_trained_algorithmic_media():
    llm = {"llm": {"type": "llm.load"}, "writer": {"type": "llm.generate", "inputs": {"model": ["llm", "model"]}},
           "out": {"type": "output.text", "inputs": {"text": ["writer", "text"]}}}
    assert _source_type(planned_upstream(llm), []) == "trainedAlgorithmicMedia"
    assert _source_type(planned_upstream(llm), ["photo.path"]) == "compositeWithTrainedAlgorithmicMedia"
    steps = {"ckpt": {"type": "diffusion.load_checkpoint"},
             "empty": {"type": "diffusion.empty_latent"},
             "decode": {"type": "diffusion.vae_decode", "inputs": {"vae": ["ckpt", "vae"], "latent": ["empty", "latent"]}},
             "save": {"type": "image.save", "inputs": {"image": ["decode", "image"]}}}
    assert _source_type(planned_upstream(steps), []) == "trainedAlgorithmicMedia"


def test_no_model_upstream_is_algorithmic_or_composite():
    drawn = {"pic": {"type": "image.new"}, "save": {"type": "image.save", "inputs": {"image": ["pic", "image"]}}}
    assert _source_type(planned_upstream(drawn), []) == "algorithmicMedia"
    assert _source_type(planned_upstream(drawn), ["photo.path"]) == "composite"
    bypassed = {"llm": {"type": "llm.load"},
                "writer": {"type": "llm.generate", "inputs": {"model": ["llm", "model"]}, "mode": "mute"},
                "note": {"type": "core.text"}, "out": {"type": "output.text", "inputs": {"text": ["note", "text"]}}}
    assert _source_type(planned_upstream(bypassed), []) == "algorithmicMedia"
