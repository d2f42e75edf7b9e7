"""ControlNets of every family (SD 1.x, SDXL, SD3, Flux) on tiny random-init models: a hint steers the
picture, a ControlNet of another family is refused, ComfyUI's ControlNet nodes import and run."""

from __future__ import annotations

import numpy as np
import pytest

from nodeflow.graph.model import parse_graph
from tests.models.family_support import (
    AGREEMENT,
    comfy_workflow,
    failure,
    pixels,
    run,
    step_graph,
)


def controlled_graph(hint: str, strength: float, family: str = "sd") -> dict:
    from tests.models.step_graphs import text_to_image_steps

    if family == "sd":
        graph = text_to_image_steps("tiny-sd", steps=3)
    else:
        guidance, options = AGREEMENT[family]
        graph = step_graph(f"tiny-{family}", **options)
    nodes = graph["nodes"]
    nodes["hint"] = {"type": "image.load", "params": {"path": hint}}
    nodes["cn"] = {"type": "diffusion.load_controlnet", "params": {"name": f"tiny-{family}-controlnet"}}
    nodes["apply"] = {"type": "diffusion.apply_controlnet",
                      "inputs": {"positive": ["pos", "conditioning"], "negative": ["neg", "conditioning"],
                                 "control_net": ["cn", "control_net"], "image": ["hint", "image"]},
                      "params": {"strength": strength}}
    nodes["sample"]["inputs"]["positive"] = ["apply", "positive"]
    nodes["sample"]["inputs"]["negative"] = ["apply", "negative"]
    return graph


def test_a_controlnet_steers_the_picture_by_its_hint(family_executor):
    from tests.models.step_graphs import text_to_image_steps

    base = pixels(run(family_executor, text_to_image_steps("tiny-sd", steps=3), ["decode"]), "decode")
    square = pixels(run(family_executor, controlled_graph("hint-square.png", 1.0), ["decode"]), "decode")
    bar = pixels(run(family_executor, controlled_graph("hint-bar.png", 1.0), ["decode"]), "decode")
    assert np.abs(square - base).mean() > 1  # the ControlNet changes the picture
    assert np.abs(square - bar).mean() > 1  # and another hint, another picture
    off = pixels(run(family_executor, controlled_graph("hint-square.png", 0.0), ["decode"]), "decode")
    assert np.abs(off - base).max() <= 1  # strength 0 is the model alone


@pytest.mark.parametrize("family", sorted(AGREEMENT))
def test_a_controlnet_steers_sdxl_sd3_and_flux_by_its_hint(family_executor, family):
    """diffusers' ControlNetModel (SDXL), SD3ControlNetModel and FluxControlNetModel through the family's own
    ControlNet pipeline: the hint changes the picture, another hint another picture, strength 0 none."""
    _, options = AGREEMENT[family]
    base = pixels(run(family_executor, step_graph(f"tiny-{family}", **options), ["decode"]), "decode")
    square = pixels(run(family_executor, controlled_graph("hint-square.png", 1.0, family), ["decode"]), "decode")
    bar = pixels(run(family_executor, controlled_graph("hint-bar.png", 1.0, family), ["decode"]), "decode")
    assert square.shape == base.shape == (64, 64, 3)
    assert np.abs(square - base).mean() > 1
    assert np.abs(square - bar).mean() > 1
    off = pixels(run(family_executor, controlled_graph("hint-square.png", 0.0, family), ["decode"]), "decode")
    assert np.abs(off - base).max() <= 1  # strength 0 is the model alone: the same noise, no residuals
    family_executor.memory.clear()
    again = pixels(run(family_executor, controlled_graph("hint-square.png", 1.0, family), ["decode"]), "decode")
    assert np.array_equal(again, square)  # same seed, same picture


def test_a_controlnet_of_another_family_is_refused_by_name(family_executor):
    graph = controlled_graph("hint-square.png", 1.0, "sdxl")
    graph["nodes"]["cn"]["params"]["name"] = "tiny-flux-controlnet"
    message = failure(family_executor, graph, ["decode"])
    assert "FluxControlNetModel" in message and "Stable Diffusion XL" in message
    graph = controlled_graph("hint-square.png", 1.0, "sd")
    graph["nodes"]["cn"]["params"]["name"] = "tiny-sd3-controlnet"
    assert "SD3ControlNetModel" in failure(family_executor, graph, ["decode"])


def test_comfyui_controlnet_nodes_import_onto_ours_and_validate(family_executor, tmp_path):
    """ControlNetLoader + ControlNetApplyAdvanced, as in ComfyUI's controlnet examples (comfyanonymous/ComfyUI_examples)."""
    import json

    from nodeflow.comfy import import_file
    from nodeflow.graph.model import graph_to_dict
    from nodeflow.nodetypes.registry import default_registry

    c, cond, lat = ("CLIP", "CLIP"), ("CONDITIONING", "CONDITIONING"), ("LATENT", "LATENT")
    nodes = [
        (4, "CheckpointLoaderSimple", ["tiny-sd"], [], [("MODEL", "MODEL"), c, ("VAE", "VAE")]),
        (6, "CLIPTextEncode", ["a red square"], [("clip", "CLIP")], [cond]),
        (7, "CLIPTextEncode", [""], [("clip", "CLIP")], [cond]),
        (11, "LoadImage", ["hint-square.png", "image"], [], [("IMAGE", "IMAGE"), ("MASK", "MASK")]),
        (12, "ControlNetLoader", ["tiny-sd-controlnet"], [], [("CONTROL_NET", "CONTROL_NET")]),
        (13, "ControlNetApplyAdvanced", [0.8, 0.0, 1.0],
         [("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("control_net", "CONTROL_NET"), ("image", "IMAGE")],
         [cond, cond]),
        (5, "EmptyLatentImage", [64, 64, 1], [], [lat]),
        (3, "KSampler", [1, "fixed", 3, 7.5, "ddim", "normal", 1.0],
         [("model", "MODEL"), ("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("latent_image", "LATENT")], [lat]),
        (8, "VAEDecode", [], [("samples", "LATENT"), ("vae", "VAE")], [("IMAGE", "IMAGE")]),
        (9, "SaveImage", ["ComfyUI"], [("images", "IMAGE")], []),
    ]
    links = [(4, 1, 6, "clip"), (4, 1, 7, "clip"), (6, 0, 13, "positive"), (7, 0, 13, "negative"),
             (12, 0, 13, "control_net"), (11, 0, 13, "image"), (4, 0, 3, "model"), (13, 0, 3, "positive"),
             (13, 1, 3, "negative"), (5, 0, 3, "latent_image"), (3, 0, 8, "samples"), (4, 2, 8, "vae"), (8, 0, 9, "images")]
    source = tmp_path / "controlnet.json"
    source.write_text(json.dumps(comfy_workflow(nodes, links)))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    apply = next(n for n in graph.nodes.values() if n.type == "diffusion.apply_controlnet")
    assert apply.params == {"strength": 0.8, "start": 0.0, "end": 1.0}
    assert set(apply.inputs) == {"positive", "negative", "control_net", "image"}
    result = family_executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error


# family -> the apply node its ComfyUI example uses (comfyanonymous/ComfyUI_examples: sd3/sd3.5_large_canny_controlnet_example
# links a VAE into ControlNetApplyAdvanced, flux/flux_controlnet_example uses ControlNetApplySD3 with a VAE)
CONTROLNET_EXAMPLES = {"sd3": "ControlNetApplyAdvanced", "flux": "ControlNetApplySD3"}


@pytest.mark.parametrize("family", sorted(CONTROLNET_EXAMPLES))
def test_a_comfyui_controlnet_workflow_of_sd3_and_flux_imports_and_paints_what_our_graph_paints(family_executor, family, tmp_path):
    import json

    from PIL import Image as PILImage

    from nodeflow.comfy import import_file
    from nodeflow.graph.model import graph_to_dict
    from nodeflow.nodetypes.registry import default_registry

    c, cond, lat = ("CLIP", "CLIP"), ("CONDITIONING", "CONDITIONING"), ("LATENT", "LATENT")
    guidance, options = AGREEMENT[family]
    nodes = [
        (4, "CheckpointLoaderSimple", [f"tiny-{family}"], [], [("MODEL", "MODEL"), c, ("VAE", "VAE")]),
        (6, "CLIPTextEncode", ["a red square"], [("clip", "CLIP")], [cond]),
        (7, "CLIPTextEncode", ["blurry"], [("clip", "CLIP")], [cond]),
        (45, "LoadImage", ["hint-square.png", "image"], [], [("IMAGE", "IMAGE"), ("MASK", "MASK")]),
        (46, "ControlNetLoader", [f"controlnet\\tiny-{family}-controlnet"], [], [("CONTROL_NET", "CONTROL_NET")]),
        (51, CONTROLNET_EXAMPLES[family], [0.66, 0.0, 1.0],
         [("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("control_net", "CONTROL_NET"), ("vae", "VAE"),
          ("image", "IMAGE")], [cond, cond]),
        (33, "EmptySD3LatentImage", [64, 64, 1], [], [lat]),
        (3, "KSampler", [1, "fixed", 2, options["guidance"], "euler", "normal", 1.0],
         [("model", "MODEL"), ("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("latent_image", "LATENT")], [lat]),
        (8, "VAEDecode", [], [("samples", "LATENT"), ("vae", "VAE")], [("IMAGE", "IMAGE")]),
        (9, "SaveImage", ["ComfyUI"], [("images", "IMAGE")], []),
    ]
    links = [(4, 1, 6, "clip"), (4, 1, 7, "clip"), (6, 0, 51, "positive"), (7, 0, 51, "negative"),
             (46, 0, 51, "control_net"), (4, 2, 51, "vae"), (45, 0, 51, "image"), (4, 0, 3, "model"),
             (51, 0, 3, "positive"), (51, 1, 3, "negative"), (33, 0, 3, "latent_image"), (3, 0, 8, "samples"),
             (4, 2, 8, "vae"), (8, 0, 9, "images")]
    if family == "flux":  # the distilled guidance rides on the prompt, as in ComfyUI's Flux examples
        nodes.append((26, "FluxGuidance", [options["flux_guidance"]], [("conditioning", "CONDITIONING")], [cond]))
        links[2] = (26, 0, 51, "positive")
        links.append((6, 0, 26, "conditioning"))
    source = tmp_path / f"{family}_controlnet.json"
    source.write_text(json.dumps(comfy_workflow(nodes, links)))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    apply = next(n for n in graph.nodes.values() if n.type == "diffusion.apply_controlnet")
    assert apply.params == {"strength": 0.66, "start": 0.0, "end": 1.0}
    loader = next(n for n in graph.nodes.values() if n.type == "diffusion.load_controlnet")
    assert loader.params["name"] == f"controlnet/tiny-{family}-controlnet"
    result = family_executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    with PILImage.open(tmp_path / "out" / "ComfyUI.png") as saved:
        painted = np.asarray(saved.convert("RGB"), dtype=np.int16)
    reference = pixels(run(family_executor, controlled_graph("hint-square.png", 0.66, family), ["decode"]), "decode")
    assert np.abs(painted - reference).max() <= 1
    plain = pixels(run(family_executor, step_graph(f"tiny-{family}", **options), ["decode"]), "decode")
    assert np.abs(painted - plain).mean() > 1  # the imported ControlNet steered it
