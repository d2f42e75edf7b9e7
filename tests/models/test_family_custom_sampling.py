"""ComfyUI's custom sampling (RandomNoise, guiders, KSamplerSelect, BasicScheduler, SamplerCustom and
SamplerCustomAdvanced) on SDXL, SD3 and Flux: the pipeline node's picture, the flow models' sigmas,
ComfyUI's Flux custom-sampling workflow."""

from __future__ import annotations

import numpy as np
import pytest

from nodeflow.graph.model import parse_graph
from tests.models.family_support import (
    CUSTOM_SAMPLING,
    comfy_workflow,
    custom_sampling_graph,
    failure,
    pipeline_graph,
    pixels,
    run,
)


@pytest.mark.parametrize("family", sorted(CUSTOM_SAMPLING))
def test_custom_sampling_of_sdxl_sd3_and_flux_paints_what_the_pipeline_node_paints(family_executor, family):
    size, guidance, options = CUSTOM_SAMPLING[family]
    reference = pixels(run(family_executor, pipeline_graph(f"tiny-{family}", guidance=guidance, size=size), ["paint"]), "paint")
    custom = pixels(run(family_executor, custom_sampling_graph(family, size=size, **options), ["decode"]), "decode")
    assert custom.shape == reference.shape == (size, size, 3)
    assert reference.std() > 1
    if family == "sdxl":  # our UNet loop: float timesteps from the sigmas stand for the pipeline's integer ones
        assert np.abs(custom - reference).mean() < 1.0
        assert np.abs(custom - reference).max() <= 8
    else:  # the family's own pipeline, stepping through the same sigmas
        assert np.abs(custom - reference).max() <= 1
    other = pixels(run(family_executor, custom_sampling_graph(family, size=size, seed=2, **options), ["decode"]), "decode")
    assert np.abs(other - custom).mean() > 1  # another seed, another picture


@pytest.mark.parametrize("family", ["sdxl", "sd3"])
def test_sampler_custom_in_one_node_paints_what_the_advanced_nodes_paint(family_executor, family):
    size, _, options = CUSTOM_SAMPLING[family]
    advanced = pixels(run(family_executor, custom_sampling_graph(family, size=size, **options), ["decode"]), "decode")
    one_node = pixels(run(family_executor, custom_sampling_graph(family, size=size, advanced=False, **options), ["decode"]), "decode")
    assert np.abs(advanced - one_node).max() <= 1


def test_flow_sigmas_carry_the_models_shift(family_executor):
    """BasicScheduler on SD3 gives the levels diffusers' SD3 pipeline steps through: evenly spaced from 1
    to the scheduler's smallest level (the shift of 1/1000), each shifted by the model's shift (s -> shift * s
    / (1 + (shift - 1) * s)), then zero; ModelSamplingSD3 changes the shift; a lower first sigma samples,
    disabled noise is refused by name."""
    def levels(shift: float) -> list[float]:
        def shifted(s):
            return shift * s / (1 + (shift - 1) * s)
        return [*shifted(np.linspace(1, shifted(0.001), 4)), 0.0]

    graph = custom_sampling_graph("sd3", size=64, steps=4)
    nodes = graph["nodes"]
    sigmas = run(family_executor, graph, ["sigmas"]).outputs["sigmas"]["sigmas"]
    assert np.allclose(sigmas.numpy(), levels(3.0), atol=1e-4)
    nodes["shift"] = {"type": "diffusion.model_sampling", "inputs": {"model": ["ckpt", "model"]}, "params": {"kind": "sd3", "shift": 1.5}}
    nodes["sigmas"]["inputs"]["model"] = ["shift", "model"]
    other = run(family_executor, graph, ["sigmas"]).outputs["sigmas"]["sigmas"]
    assert np.allclose(other.numpy(), levels(1.5), atol=1e-4)
    nodes["split"] = {"type": "diffusion.set_first_sigma", "inputs": {"sigmas": ["sigmas", "sigmas"]}, "params": {"sigma": 0.9}}
    nodes["sample"]["inputs"]["sigmas"] = ["split", "sigmas"]
    assert run(family_executor, graph, ["decode"]).ok  # starting lower works (noise scaled to the first sigma)
    nodes["noise"] = {"type": "diffusion.disable_noise"}
    assert "disabled noise" in failure(family_executor, graph, ["decode"])


def test_a_comfyui_flux_custom_sampling_workflow_imports_and_paints_what_the_pipeline_node_paints(family_executor, tmp_path):
    """The layout of comfyanonymous/ComfyUI_examples flux/flux_dev_example (RandomNoise, BasicGuider after
    FluxGuidance, KSamplerSelect, BasicScheduler, SamplerCustomAdvanced, EmptySD3LatentImage) in the UI format."""
    import json

    from nodeflow.comfy import import_file
    from nodeflow.graph.model import graph_to_dict
    from nodeflow.nodetypes.registry import default_registry

    c, m, cond, lat = ("CLIP", "CLIP"), ("MODEL", "MODEL"), ("CONDITIONING", "CONDITIONING"), ("LATENT", "LATENT")
    size, guidance, _ = CUSTOM_SAMPLING["flux"]
    nodes = [
        (4, "CheckpointLoaderSimple", ["tiny-flux"], [], [m, c, ("VAE", "VAE")]),
        (6, "CLIPTextEncode", ["a red square"], [("clip", "CLIP")], [cond]),
        (26, "FluxGuidance", [guidance], [("conditioning", "CONDITIONING")], [cond]),
        (22, "BasicGuider", [], [("model", "MODEL"), ("conditioning", "CONDITIONING")], [("GUIDER", "GUIDER")]),
        (25, "RandomNoise", [1, "fixed"], [], [("NOISE", "NOISE")]),
        (16, "KSamplerSelect", ["euler"], [], [("SAMPLER", "SAMPLER")]),
        (17, "BasicScheduler", ["simple", 2, 1.0], [("model", "MODEL")], [("SIGMAS", "SIGMAS")]),
        (27, "EmptySD3LatentImage", [size, size, 1], [], [lat]),
        (13, "SamplerCustomAdvanced", [],
         [("noise", "NOISE"), ("guider", "GUIDER"), ("sampler", "SAMPLER"), ("sigmas", "SIGMAS"), ("latent_image", "LATENT")],
         [("output", "LATENT"), ("denoised_output", "LATENT")]),
        (8, "VAEDecode", [], [("samples", "LATENT"), ("vae", "VAE")], [("IMAGE", "IMAGE")]),
        (9, "SaveImage", ["flux"], [("images", "IMAGE")], []),
    ]
    links = [(4, 1, 6, "clip"), (6, 0, 26, "conditioning"), (4, 0, 22, "model"), (26, 0, 22, "conditioning"),
             (4, 0, 17, "model"), (25, 0, 13, "noise"), (22, 0, 13, "guider"), (16, 0, 13, "sampler"),
             (17, 0, 13, "sigmas"), (27, 0, 13, "latent_image"), (13, 0, 8, "samples"), (4, 2, 8, "vae"),
             (8, 0, 9, "images")]
    source = tmp_path / "flux_custom.json"
    source.write_text(json.dumps(comfy_workflow(nodes, links)))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    result = family_executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    assert (tmp_path / "out" / "flux.png").exists()
    # the decoded picture, not the saved file: a saved picture of 256 pixels or more carries the watermark
    decode = next(n.id for n in graph.nodes.values() if n.type == "diffusion.vae_decode")
    painted = pixels(run(family_executor, graph_to_dict(graph), [decode]), decode)
    reference = pixels(run(family_executor, pipeline_graph("tiny-flux", guidance=guidance, size=size), ["paint"]), "paint")
    assert np.abs(painted - reference).max() <= 1
