"""Model families (SDXL base and refiner, SD3, Flux) with tiny random-init models built by diffusers' own
classes: detection, the pipeline node and the step nodes painting the same picture, single-file
components loaded offline, the ComfyUI-style component loaders, LoRAs and second passes. ControlNets,
video and custom sampling of the families are in test_family_controlnets.py, test_family_video.py
and test_family_custom_sampling.py; the tiny models are built in conftest.py."""

from __future__ import annotations

import numpy as np
import pytest

from nodeflow.graph.model import parse_graph
from tests.models.family_support import (
    AGREEMENT,
    ENCODERS,
    comfy_workflow,
    component_graph,
    flux_shift_for,
    invalid,
    pipeline_graph,
    pixels,
    run,
    step_graph,
)


@pytest.mark.parametrize("family", sorted(AGREEMENT))
def test_pipeline_node_and_step_nodes_paint_the_same_picture(family_executor, family):
    guidance, options = AGREEMENT[family]
    source = f"tiny-{family}"
    reference = pixels(run(family_executor, pipeline_graph(source, guidance=guidance), ["paint"]), "paint")
    graph = step_graph(source, **options)
    if family == "flux":
        # the pipeline's shift is the picture size's: ModelSamplingFlux sets that on the model. The tiny Flux's
        # VAE has 2 pixels per latent cell, not 8: its 64-pixel picture has the tokens of a 256-pixel one
        graph = flux_shift_for(graph, 256, 256)
    steps = pixels(run(family_executor, graph, ["decode"]), "decode")
    assert reference.shape == steps.shape == (64, 64, 3)
    assert reference.std() > 1  # a picture, not a flat colour
    assert np.abs(reference - steps).max() <= 1
    assert family_executor.models.loads == 1  # both graphs share the one resident pipeline
    other = pixels(run(family_executor, step_graph(source, seed=2, **options), ["decode"]), "decode")
    assert np.abs(other - steps).mean() > 1  # another seed, another picture


@pytest.mark.parametrize("source", ["tiny-sdxl", "tiny-sd3", "tiny-flux", "tiny-sdxl-refiner"])
def test_family_is_read_from_the_folder(family_models, source):
    from nodes.diffusion.families import family_of_folder

    expected = {"tiny-sdxl": "sdxl", "tiny-sd3": "sd3", "tiny-flux": "flux", "tiny-sdxl-refiner": "sdxl"}[source]
    assert family_of_folder(family_models / source).name == expected


def test_family_and_part_are_read_from_a_files_keys(family_models):
    from nodes.diffusion.families import family_of_file

    assert family_of_file(family_models / "tiny-sdxl.safetensors") == ("sdxl", "checkpoint")
    assert family_of_file(family_models / "diffusion_models" / "tiny-flux-transformer.safetensors") == ("flux", "denoiser")
    assert family_of_file(family_models / "diffusion_models" / "tiny-sd3-transformer.safetensors") == ("sd3", "denoiser")
    assert family_of_file(family_models / "diffusion_models" / "tiny-sdxl-unet.safetensors") == ("sdxl", "denoiser")
    assert family_of_file(family_models / "text_encoders" / "tiny-flux-text_encoder_2.safetensors") == ("", "t5")
    assert family_of_file(family_models / "text_encoders" / "tiny-sd3-text_encoder.safetensors") == ("", "clip")
    assert family_of_file(family_models / "vae" / "tiny-sd3-vae.safetensors") == ("", "vae")


def test_sdxl_single_file_checkpoint_paints_what_its_folder_paints_offline(family_executor):
    folder = pixels(run(family_executor, pipeline_graph("tiny-sdxl", guidance=5.0), ["paint"]), "paint")
    graph = pipeline_graph("tiny-sdxl.safetensors", guidance=5.0)
    graph["nodes"]["load"]["params"]["config"] = "tiny-sdxl"
    single = pixels(run(family_executor, graph, ["paint"]), "paint")
    assert np.array_equal(folder, single)
    steps = step_graph("tiny-sdxl.safetensors", guidance=5.0)
    steps["nodes"]["ckpt"]["params"]["config"] = "tiny-sdxl"
    assert np.abs(pixels(run(family_executor, steps, ["decode"]), "decode") - single).max() <= 1


def test_single_file_errors_name_the_family(family_executor):
    graph = pipeline_graph("tiny-sdxl.safetensors", guidance=5.0)
    assert "single-file Stable Diffusion XL checkpoint" in invalid(family_executor, graph, ["paint"])
    graph["nodes"]["load"]["params"]["config"] = "tiny-sd3"
    message = invalid(family_executor, graph, ["paint"])
    assert "Stable Diffusion XL checkpoint" in message and "Stable Diffusion 3/3.5 folder" in message
    lone = pipeline_graph("diffusion_models/tiny-flux-transformer.safetensors", guidance=3.5)
    assert "diffusion.load_denoiser" in invalid(family_executor, lone, ["paint"])


@pytest.mark.parametrize("family", sorted(ENCODERS))
def test_parts_from_separate_files_paint_what_the_checkpoint_paints(family_executor, family):
    options = AGREEMENT[family][1]
    whole = pixels(run(family_executor, step_graph(f"tiny-{family}", **options), ["decode"]), "decode")
    parts = pixels(run(family_executor, component_graph(family, **options), ["decode"]), "decode")
    assert np.abs(whole - parts).max() <= 1


def flux_workflow() -> dict:
    c, m, v, cond, lat = ("CLIP", "CLIP"), ("MODEL", "MODEL"), ("VAE", "VAE"), ("CONDITIONING", "CONDITIONING"), ("LATENT", "LATENT")
    nodes = [
        (12, "UNETLoader", ["tiny-flux-transformer.safetensors", "default"], [], [m]),
        (11, "DualCLIPLoader", ["tiny-flux-text_encoder_2.safetensors", "tiny-flux-text_encoder.safetensors", "flux", "default"], [], [c]),
        (10, "VAELoader", ["tiny-flux-vae.safetensors"], [], [v]),
        (30, "ModelSamplingFlux", [1.15, 0.5, 64, 64], [("model", "MODEL")], [m]),
        (6, "CLIPTextEncode", ["a red square"], [("clip", "CLIP")], [cond]),
        (33, "CLIPTextEncode", ["blurry"], [("clip", "CLIP")], [cond]),
        (26, "FluxGuidance", [3.5], [("conditioning", "CONDITIONING")], [cond]),
        (27, "EmptySD3LatentImage", [64, 64, 1], [], [lat]),
        (3, "KSampler", [1, "fixed", 2, 1.0, "euler", "simple", 1.0],
         [("model", "MODEL"), ("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("latent_image", "LATENT")], [lat]),
        (8, "VAEDecode", [], [("samples", "LATENT"), ("vae", "VAE")], [("IMAGE", "IMAGE")]),
        (9, "SaveImage", ["ComfyUI"], [("images", "IMAGE")], []),
    ]
    links = [(12, 0, 30, "model"), (11, 0, 6, "clip"), (11, 0, 33, "clip"), (6, 0, 26, "conditioning"),
             (30, 0, 3, "model"), (26, 0, 3, "positive"), (33, 0, 3, "negative"), (27, 0, 3, "latent_image"),
             (3, 0, 8, "samples"), (10, 0, 8, "vae"), (8, 0, 9, "images")]
    return comfy_workflow(nodes, links)


def test_a_comfyui_flux_workflow_with_separate_files_imports_validates_and_paints(family_executor, tmp_path):
    import json

    from PIL import Image as PILImage

    from nodeflow.comfy import import_file
    from nodeflow.graph.model import graph_to_dict
    from nodeflow.nodetypes.registry import default_registry

    source = tmp_path / "flux_separate_files.json"
    source.write_text(json.dumps(flux_workflow()))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    types = {node.type for node in graph.nodes.values()}
    assert {"diffusion.load_denoiser", "diffusion.load_text_encoder", "diffusion.load_vae", "diffusion.model_sampling",
            "diffusion.flux_guidance"} <= types
    clip = next(n for n in graph.nodes.values() if n.type == "diffusion.load_text_encoder")
    assert clip.params == {"name": "tiny-flux-text_encoder_2.safetensors", "name2": "tiny-flux-text_encoder.safetensors",
                           "family": "flux"}
    result = family_executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    with PILImage.open(tmp_path / "out" / "ComfyUI.png") as saved:
        painted = np.asarray(saved.convert("RGB"), dtype=np.int16)
    # the same graph drawn by hand (VAE chosen by family there; here VAELoader's auto pick, decoding in
    # the sampling model's latent space)
    by_hand = flux_shift_for(component_graph("flux", **AGREEMENT["flux"][1]), 64, 64, denoiser="unet")
    reference = pixels(run(family_executor, by_hand, ["decode"]), "decode")
    assert np.abs(painted - reference).max() <= 1


@pytest.mark.parametrize("family", sorted(AGREEMENT))
def test_a_lora_on_the_model_only_changes_the_picture_and_strength_zero_does_not(family_executor, family):
    options = AGREEMENT[family][1]
    base = pixels(run(family_executor, component_graph(family, **options), ["decode"]), "decode")
    graph = component_graph(family, **options)
    graph["nodes"]["lora"] = {"type": "diffusion.lora_denoiser", "inputs": {"model": ["unet", "model"]},
                              "params": {"path": f"loras/tiny-{family}-lora.safetensors", "strength": 1.0}}
    graph["nodes"]["sample"]["inputs"]["model"] = ["lora", "model"]
    with_lora = pixels(run(family_executor, graph, ["decode"]), "decode")
    assert np.abs(with_lora - base).mean() > 1
    graph["nodes"]["lora"]["params"]["strength"] = 0.0
    assert np.abs(pixels(run(family_executor, graph, ["decode"]), "decode") - base).max() <= 1
    # the resident model is left without adapters for the next graph that uses it bare
    assert np.abs(pixels(run(family_executor, component_graph(family, **options), ["decode"]), "decode") - base).max() <= 1


@pytest.mark.parametrize("family", sorted(AGREEMENT))
def test_hires_fix_second_pass_through_the_familys_image_to_image_pipeline(family_executor, family):
    graph = step_graph(f"tiny-{family}", **AGREEMENT[family][1])
    nodes = graph["nodes"]
    nodes["upscale"] = {"type": "diffusion.latent_upscale", "inputs": {"latent": ["sample", "latent"]},
                        "params": {"scale_by": 1.5, "method": "bilinear"}}
    nodes["refine"] = {"type": "diffusion.sampler",
                       "inputs": {**nodes["sample"]["inputs"], "latent": ["upscale", "latent"]},
                       "params": {**nodes["sample"]["params"], "steps": 2, "denoise": 0.5}}
    nodes["decode"]["inputs"]["latent"] = ["refine", "latent"]
    image = pixels(run(family_executor, graph, ["decode"]), "decode")
    assert image.shape == (96, 96, 3)
    again = pixels(run(family_executor, graph | {"nodes": {**nodes, "refine": {**nodes["refine"], "params": {
        **nodes["refine"]["params"], "denoise": 0.9}}}}, ["decode"]), "decode")
    assert np.abs(again - image).mean() > 1  # denoise says how much is repainted


def test_sdxl_refiner_pass_on_the_base_models_latents(family_executor):
    graph = step_graph("tiny-sdxl", guidance=5.0)
    nodes = graph["nodes"]
    nodes["refiner"] = {"type": "diffusion.load_checkpoint", "params": {"source": "tiny-sdxl-refiner"}}
    nodes["rpos"] = {"type": "diffusion.encode_prompt", "inputs": {"clip": ["refiner", "clip"]}, "params": {"text": "a red square"}}
    nodes["rneg"] = {"type": "diffusion.encode_prompt", "inputs": {"clip": ["refiner", "clip"]}, "params": {"text": "blurry"}}
    nodes["refine"] = {"type": "diffusion.sampler",
                       "inputs": {"model": ["refiner", "model"], "positive": ["rpos", "conditioning"],
                                  "negative": ["rneg", "conditioning"], "latent": ["sample", "latent"]},
                       "params": {"seed": 1, "steps": 2, "guidance": 5.0, "denoise": 0.8}}
    base = pixels(run(family_executor, graph, ["decode"]), "decode")
    nodes["decode"]["inputs"]["latent"] = ["refine", "latent"]
    refined = pixels(run(family_executor, graph, ["decode"]), "decode")
    assert refined.shape == base.shape == (64, 64, 3)
    assert np.abs(refined - base).mean() > 1


def test_a_comfyui_sd3_workflow_in_the_api_format_imports_and_paints(family_executor, tmp_path):
    """TripleCLIPLoader, UNETLoader, ModelSamplingSD3, LoraLoaderModelOnly, VAELoader and EmptySD3LatentImage in
    ComfyUI's API format, laid out as the SD3.5 examples of comfyanonymous/ComfyUI_examples."""
    import json

    from nodeflow.comfy import import_file
    from nodeflow.graph.model import graph_to_dict
    from nodeflow.nodetypes.registry import default_registry

    prompt = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "tiny-sd3-transformer.safetensors", "weight_dtype": "default"}},
        "2": {"class_type": "TripleCLIPLoader", "inputs": {"clip_name1": "tiny-sd3-text_encoder.safetensors",
                                                           "clip_name2": "tiny-sd3-text_encoder_2.safetensors",
                                                           "clip_name3": "tiny-sd3-text_encoder_3.safetensors"}},
        "3": {"class_type": "VAELoader", "inputs": {"vae_name": "tiny-sd3-vae.safetensors"}},
        "4": {"class_type": "ModelSamplingSD3", "inputs": {"model": ["1", 0], "shift": 3.0}},
        "5": {"class_type": "LoraLoaderModelOnly", "inputs": {"model": ["4", 0], "lora_name": "loras\\tiny-sd3-lora.safetensors",
                                                              "strength_model": 1.0}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 0], "text": "a red square"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 0], "text": "blurry"}},
        "8": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "9": {"class_type": "KSampler", "inputs": {"model": ["5", 0], "positive": ["6", 0], "negative": ["7", 0],
                                                   "latent_image": ["8", 0], "seed": 1, "steps": 2, "cfg": 5.0,
                                                   "sampler_name": "euler", "scheduler": "sgm_uniform", "denoise": 1.0}},
        "10": {"class_type": "VAEDecode", "inputs": {"samples": ["9", 0], "vae": ["3", 0]}},
        "11": {"class_type": "SaveImage", "inputs": {"images": ["10", 0], "filename_prefix": "sd3"}},
    }
    source = tmp_path / "sd3_api.json"
    source.write_text(json.dumps(prompt))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    by_type = {node.type: node for node in graph.nodes.values()}
    assert by_type["diffusion.load_text_encoder"].params["family"] == "sd3"
    assert by_type["diffusion.model_sampling"].params == {"kind": "sd3", "shift": 3.0}
    assert by_type["diffusion.lora_denoiser"].params == {"path": "loras/tiny-sd3-lora.safetensors", "strength": 1.0}
    assert by_type["diffusion.empty_latent"].params["channels"] == 16
    result = family_executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    assert (tmp_path / "out" / "sd3.png").exists()
