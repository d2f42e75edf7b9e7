"""Model families (SDXL base and refiner, SD3, Flux) with tiny random-init models built by diffusers' own
classes: detection, the pipeline node and the step nodes painting the same picture, single-file
components loaded offline, and the ComfyUI-style component loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nodeflow.graph.model import parse_graph
from nodeflow.models import ModelManager
from nodeflow.problems import GraphInvalid
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.models.tiny_models import (
    build_tiny_flux,
    build_tiny_sd,
    build_tiny_sd3,
    build_tiny_sdxl,
    build_tiny_svd,
    build_tiny_wan,
    build_tiny_wan_i2v,
    save_components,
    save_single_file_sdxl,
    save_tiny_controlnet,
    save_tiny_denoiser_lora,
)

FAMILY_BUILDERS = {"sdxl": build_tiny_sdxl, "sd3": build_tiny_sd3, "flux": build_tiny_flux}


@pytest.fixture(scope="module")
def family_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny-sdxl/``, ``tiny-sdxl-refiner/``, ``tiny-sd3/`` and ``tiny-flux/`` diffusers folders, the SDXL
    base as one original-layout checkpoint ``tiny-sdxl.safetensors``, and every family's parts as separate
    files in ComfyUI's folders (``diffusion_models/tiny-flux-transformer.safetensors``, ...)."""
    root = tmp_path_factory.mktemp("family-models")
    for name, build in FAMILY_BUILDERS.items():
        build(root / f"tiny-{name}")
        save_components(root / f"tiny-{name}", root, f"tiny-{name}")
        save_tiny_denoiser_lora(root / f"tiny-{name}", root / "loras" / f"tiny-{name}-lora.safetensors")
    build_tiny_sdxl(root / "tiny-sdxl-refiner", refiner=True, seed=1)
    save_single_file_sdxl(root / "tiny-sdxl", root / "tiny-sdxl.safetensors")
    build_tiny_sd(root / "tiny-sd")
    build_tiny_wan(root / "tiny-wan")
    save_components(root / "tiny-wan", root, "tiny-wan")
    build_tiny_svd(root / "tiny-svd")
    build_tiny_wan_i2v(root / "tiny-wan21-i2v")  # sorts after tiny-wan/, the text-to-video configs parts take
    for name in ("sd", *FAMILY_BUILDERS):
        save_tiny_controlnet(root / f"tiny-{name}", root / "controlnet" / f"tiny-{name}-controlnet")
    from PIL import Image as PILImage
    from PIL import ImageDraw

    for name, box in (("hint-square.png", (16, 16, 48, 48)), ("hint-bar.png", (0, 24, 64, 40))):
        hint = PILImage.new("RGB", (64, 64))
        ImageDraw.Draw(hint).rectangle(box, fill=(255, 255, 255))
        hint.save(root / name)
    return root


@pytest.fixture
def family_executor(tmp_path: Path, family_models: Path) -> Executor:
    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(home=home, output_dir=tmp_path / "out", extra_input_dirs=[family_models], allow_cwd_inputs=False)
    return Executor(settings=settings, models=ModelManager(device_override="cpu"))


def run(executor: Executor, graph: dict, only: list[str]):
    result = executor.run(parse_graph(graph), only=only)
    assert result.status == "ok", result.error
    return result


def invalid(executor: Executor, graph: dict, only: list[str]) -> str:
    """The one problem validation finds, as its message."""
    with pytest.raises(GraphInvalid) as caught:
        executor.run(parse_graph(graph), only=only)
    return " ".join(p.message for p in caught.value.problems)


def failure(executor: Executor, graph: dict, only: list[str]) -> str:
    result = executor.run(parse_graph(graph), only=only)
    assert result.status == "error"
    return str(result.error)


def pixels(result, node: str) -> np.ndarray:
    return np.asarray(result.outputs[node]["image"], dtype=np.int16)


def pipeline_graph(source: str, *, guidance: float, size: int = 64, steps: int = 2, seed: int = 1,
                   negative: str = "blurry") -> dict:
    return {"nodeflow": 1, "nodes": {
        "load": {"type": "diffusion.load", "params": {"source": source}},
        "paint": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["load", "pipeline"]},
                  "params": {"prompt": "a red square", "negative_prompt": negative, "width": size, "height": size,
                             "steps": steps, "seed": seed, "guidance": guidance}},
    }}


def step_graph(source: str, *, guidance: float, size: int = 64, steps: int = 2, seed: int = 1,
               negative: str = "blurry", flux_guidance: float | None = None) -> dict:
    nodes = {
        "ckpt": {"type": "diffusion.load_checkpoint", "params": {"source": source}},
        "pos": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}, "params": {"text": "a red square"}},
        "neg": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}, "params": {"text": negative}},
        "empty": {"type": "diffusion.empty_latent", "params": {"width": size, "height": size}},
        "sample": {"type": "diffusion.sampler",
                   "inputs": {"model": ["ckpt", "model"], "positive": ["pos", "conditioning"],
                              "negative": ["neg", "conditioning"], "latent": ["empty", "latent"]},
                   "params": {"seed": seed, "steps": steps, "guidance": guidance}},
        "decode": {"type": "diffusion.vae_decode", "inputs": {"vae": ["ckpt", "vae"], "latent": ["sample", "latent"]}},
    }
    if flux_guidance is not None:
        nodes["fg"] = {"type": "diffusion.flux_guidance", "inputs": {"conditioning": ["pos", "conditioning"]},
                       "params": {"guidance": flux_guidance}}
        nodes["sample"]["inputs"]["positive"] = ["fg", "conditioning"]
    return {"nodeflow": 1, "nodes": nodes}


# family -> (pipeline node guidance, step graph options): Flux's pipeline guidance is the distilled one,
# which a step graph sets with FluxGuidance while the sampler's CFG stays 1, as in ComfyUI
AGREEMENT = {
    "sdxl": (5.0, {"guidance": 5.0}),
    "sd3": (5.0, {"guidance": 5.0}),
    "flux": (3.5, {"guidance": 1.0, "flux_guidance": 3.5}),
}


@pytest.mark.parametrize("family", sorted(AGREEMENT))
def test_pipeline_node_and_step_nodes_paint_the_same_picture(family_executor, family):
    guidance, options = AGREEMENT[family]
    source = f"tiny-{family}"
    reference = pixels(run(family_executor, pipeline_graph(source, guidance=guidance), ["paint"]), "paint")
    steps = pixels(run(family_executor, step_graph(source, **options), ["decode"]), "decode")
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


# family -> text encoder files in ComfyUI's order (CLIPLoader / DualCLIPLoader / TripleCLIPLoader)
ENCODERS = {
    "sdxl": ("text_encoder", "text_encoder_2"),
    "sd3": ("text_encoder", "text_encoder_2", "text_encoder_3"),
    "flux": ("text_encoder_2", "text_encoder"),  # T5 first: the loader sorts T5 from CLIP by the keys
}


def component_graph(family: str, **options) -> dict:
    """The step graph with the model, the text encoders and the VAE each loaded from its own file."""
    graph = step_graph(f"tiny-{family}", **options)
    nodes = graph["nodes"]
    del nodes["ckpt"]
    names = [f"tiny-{family}-{slot}.safetensors" for slot in ENCODERS[family]] + ["", ""]
    nodes["unet"] = {"type": "diffusion.load_denoiser",
                     "params": {"name": f"tiny-{family}-{'unet' if family == 'sdxl' else 'transformer'}.safetensors"}}
    nodes["clip"] = {"type": "diffusion.load_text_encoder",
                     "params": {"name": names[0], "name2": names[1], "name3": names[2]}}
    nodes["vae"] = {"type": "diffusion.load_vae", "params": {"name": f"tiny-{family}-vae.safetensors", "family": family}}
    nodes["pos"]["inputs"]["clip"] = nodes["neg"]["inputs"]["clip"] = ["clip", "clip"]
    nodes["sample"]["inputs"]["model"] = ["unet", "model"]
    nodes["decode"]["inputs"]["vae"] = ["vae", "vae"]
    return graph


@pytest.mark.parametrize("family", sorted(ENCODERS))
def test_parts_from_separate_files_paint_what_the_checkpoint_paints(family_executor, family):
    options = AGREEMENT[family][1]
    whole = pixels(run(family_executor, step_graph(f"tiny-{family}", **options), ["decode"]), "decode")
    parts = pixels(run(family_executor, component_graph(family, **options), ["decode"]), "decode")
    assert np.abs(whole - parts).max() <= 1


# --- a ComfyUI workflow with the component loaders --------------------------------------------------
# Laid out as ComfyUI's own Flux example with separate files is (UNETLoader, DualCLIPLoader, VAELoader,
# FluxGuidance, EmptySD3LatentImage, ModelSamplingFlux, KSampler at cfg 1), written here node by node in
# the editor's format (schema 0.4); the structure follows the flux examples of comfyanonymous/ComfyUI_examples.

def comfy_workflow(nodes: list[tuple], links: list[tuple]) -> dict:
    """``nodes``: (id, class, widgets, [(input, type)], [(output, type)]); ``links``: (from, slot, to, input)."""
    out = []
    for order, (node_id, cls, widgets, inputs, outputs) in enumerate(nodes):
        out.append({"id": node_id, "type": cls, "pos": [order * 320, 0], "size": [315, 100], "flags": {},
                    "order": order, "mode": 0, "properties": {"Node name for S&R": cls},
                    "inputs": [{"name": n, "type": t, "link": None} for n, t in inputs],
                    "outputs": [{"name": n, "type": t, "links": [], "slot_index": i} for i, (n, t) in enumerate(outputs)],
                    "widgets_values": widgets})
    by_id = {n["id"]: n for n in out}
    table = []
    for link_id, (source, slot, target, name) in enumerate(links, start=1):
        port = next(i for i, p in enumerate(by_id[target]["inputs"]) if p["name"] == name)
        by_id[target]["inputs"][port]["link"] = link_id
        by_id[source]["outputs"][slot]["links"].append(link_id)
        table.append([link_id, source, slot, target, port, by_id[source]["outputs"][slot]["type"]])
    return {"last_node_id": max(by_id), "last_link_id": len(table), "nodes": out, "links": table, "groups": [],
            "config": {}, "extra": {}, "version": 0.4}


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
    reference = pixels(run(family_executor, component_graph("flux", **AGREEMENT["flux"][1]), ["decode"]), "decode")
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


def test_wan_text_to_video_from_the_pipeline_node_and_from_step_nodes_agree(family_executor):
    size, frames = 16, 9
    pipeline = {"nodeflow": 1, "nodes": {
        "load": {"type": "diffusion.load", "params": {"source": "tiny-wan"}},
        "video": {"type": "diffusion.text_to_video", "inputs": {"pipeline": ["load", "pipeline"]},
                  "params": {"prompt": "a red square", "negative_prompt": "blurry", "width": size, "height": size,
                             "frames": frames, "steps": 2, "seed": 1, "guidance": 5.0}},
    }}
    steps = step_graph("tiny-wan", guidance=5.0)
    steps["nodes"]["empty"] = {"type": "diffusion.empty_video_latent",
                               "params": {"width": size, "height": size, "length": frames}}
    steps["nodes"]["decode"]["type"] = "diffusion.vae_decode_video"
    reference = run(family_executor, pipeline, ["video"]).outputs["video"]["frames"]
    ours = run(family_executor, steps, ["decode"]).outputs["decode"]["frames"]
    assert len(reference) == len(ours) == frames
    assert reference[0].size == (size, size)
    for a, b in zip(reference, ours, strict=False):
        assert np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).max() <= 1
    assert family_executor.models.loads == 1


def test_wan_parts_from_separate_files_make_the_checkpoints_video(family_executor):
    size, frames = 16, 9
    graph = step_graph("tiny-wan", guidance=5.0)
    nodes = graph["nodes"]
    nodes["empty"] = {"type": "diffusion.empty_video_latent", "params": {"width": size, "height": size, "length": frames}}
    nodes["decode"]["type"] = "diffusion.vae_decode_video"
    whole = run(family_executor, graph, ["decode"]).outputs["decode"]["frames"]
    del nodes["ckpt"]
    nodes["unet"] = {"type": "diffusion.load_denoiser", "params": {"name": "tiny-wan-transformer.safetensors"}}
    nodes["clip"] = {"type": "diffusion.load_text_encoder", "params": {"name": "tiny-wan-text_encoder.safetensors"}}
    nodes["vae"] = {"type": "diffusion.load_vae", "params": {"name": "tiny-wan-vae.safetensors"}}
    nodes["pos"]["inputs"]["clip"] = nodes["neg"]["inputs"]["clip"] = ["clip", "clip"]
    nodes["sample"]["inputs"]["model"] = ["unet", "model"]
    nodes["decode"]["inputs"]["vae"] = ["vae", "vae"]
    parts = run(family_executor, graph, ["decode"]).outputs["decode"]["frames"]
    assert len(parts) == len(whole) == frames
    for a, b in zip(whole, parts, strict=False):
        assert np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).max() <= 1


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


def test_stable_video_diffusion_animates_its_start_picture(family_executor):
    def graph(hint: str, seed: int = 1) -> dict:
        return {"nodeflow": 1, "nodes": {
            "load": {"type": "diffusion.load", "params": {"source": "tiny-svd"}},
            "start": {"type": "image.load", "params": {"path": hint}},
            "video": {"type": "diffusion.image_to_video", "inputs": {"pipeline": ["load", "pipeline"], "image": ["start", "image"]},
                      "params": {"width": 32, "height": 32, "frames": 3, "steps": 2, "seed": seed}},
        }}

    def frames(hint: str, seed: int = 1) -> list[np.ndarray]:
        out = run(family_executor, graph(hint, seed), ["video"]).outputs["video"]["frames"]
        return [np.asarray(f, dtype=np.int16) for f in out]

    first = frames("hint-square.png")
    assert len(first) == 3 and first[0].shape == (32, 32, 3)
    family_executor.memory.clear()
    assert all(np.array_equal(a, b) for a, b in zip(first, frames("hint-square.png"), strict=False))  # same seed, same video
    other = frames("hint-bar.png")
    assert np.mean([np.abs(a - b).mean() for a, b in zip(first, other, strict=False)]) > 1  # another picture, another video


def custom_sampling_graph(family: str, *, size: int, steps: int = 2, seed: int = 1, cfg: float = 5.0,
                          flux_guidance: float | None = None, advanced: bool = True) -> dict:
    """step_graph with its sampler replaced by ComfyUI's custom-sampling nodes: RandomNoise, a guider
    (CFGGuider, or BasicGuider for Flux with FluxGuidance), KSamplerSelect, BasicScheduler and
    SamplerCustomAdvanced; or SamplerCustom in one node (``advanced=False``)."""
    graph = step_graph(f"tiny-{family}", guidance=cfg, size=size, steps=steps, seed=seed, flux_guidance=flux_guidance)
    nodes = graph["nodes"]
    sample = nodes.pop("sample")
    positive, negative = sample["inputs"]["positive"], sample["inputs"]["negative"]
    nodes["select"] = {"type": "diffusion.sampler_select", "params": {"sampler_name": "euler"}}
    nodes["sigmas"] = {"type": "diffusion.scheduler_sigmas", "inputs": {"model": ["ckpt", "model"]},
                       "params": {"scheduler": "normal", "steps": steps, "denoise": 1.0}}
    if not advanced:
        nodes["sample"] = {"type": "diffusion.sampler_custom", "params": {"noise_seed": seed, "cfg": cfg},
                           "inputs": {"model": ["ckpt", "model"], "positive": positive, "negative": negative,
                                      "sampler": ["select", "sampler"], "sigmas": ["sigmas", "sigmas"],
                                      "latent": ["empty", "latent"]}}
    else:
        nodes["noise"] = {"type": "diffusion.random_noise", "params": {"noise_seed": seed}}
        if flux_guidance is not None:
            nodes["guider"] = {"type": "diffusion.basic_guider",
                               "inputs": {"model": ["ckpt", "model"], "conditioning": positive}}
        else:
            nodes["guider"] = {"type": "diffusion.cfg_guider", "params": {"cfg": cfg},
                               "inputs": {"model": ["ckpt", "model"], "positive": positive, "negative": negative}}
        nodes["sample"] = {"type": "diffusion.sample_custom",
                           "inputs": {"noise": ["noise", "noise"], "guider": ["guider", "guider"],
                                      "sampler": ["select", "sampler"], "sigmas": ["sigmas", "sigmas"],
                                      "latent": ["empty", "latent"]}}
    nodes["decode"]["inputs"]["latent"] = ["sample", "output"]
    return graph


# family -> (picture size, pipeline node guidance, custom graph options). Flux's sigmas take the shift of a
# 1024x1024 picture (ComfyUI's default): the tiny Flux reaches it at 256 pixels (4096 packed latent cells)
CUSTOM_SAMPLING = {
    "sdxl": (64, 5.0, {"cfg": 5.0}),
    "sd3": (64, 5.0, {"cfg": 5.0}),
    "flux": (256, 3.5, {"cfg": 1.0, "flux_guidance": 3.5}),
}


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


def test_a_comfyui_wan_text_to_video_workflow_decodes_its_video_latents_into_frames(family_executor, tmp_path):
    """The layout of comfyanonymous/ComfyUI_examples wan/text_to_video_wan (UNETLoader, CLIPLoader of type wan,
    VAELoader, ModelSamplingSD3, EmptyHunyuanLatentVideo, KSampler, VAEDecode, SaveAnimatedWEBP) in the API format:
    ComfyUI's one VAEDecode becomes our video decoder, and the animation has every frame."""
    import json

    from PIL import Image as PILImage

    from nodeflow.comfy import import_file
    from nodeflow.graph.model import graph_to_dict
    from nodeflow.nodetypes.registry import default_registry

    prompt = {
        "37": {"class_type": "UNETLoader", "inputs": {"unet_name": "tiny-wan-transformer.safetensors", "weight_dtype": "default"}},
        "38": {"class_type": "CLIPLoader", "inputs": {"clip_name": "tiny-wan-text_encoder.safetensors", "type": "wan", "device": "default"}},
        "39": {"class_type": "VAELoader", "inputs": {"vae_name": "tiny-wan-vae.safetensors"}},
        "48": {"class_type": "ModelSamplingSD3", "inputs": {"model": ["37", 0], "shift": 8.0}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["38", 0], "text": "a red square"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["38", 0], "text": "blurry"}},
        "40": {"class_type": "EmptyHunyuanLatentVideo", "inputs": {"width": 16, "height": 16, "length": 9, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"model": ["48", 0], "positive": ["6", 0], "negative": ["7", 0],
                                                   "latent_image": ["40", 0], "seed": 1, "steps": 2, "cfg": 5.0,
                                                   "sampler_name": "uni_pc", "scheduler": "simple", "denoise": 1.0}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["39", 0]}},
        "28": {"class_type": "SaveAnimatedWEBP", "inputs": {"images": ["8", 0], "filename_prefix": "wan", "fps": 16.0,
                                                            "lossless": False, "quality": 90, "method": "default"}},
    }
    source = tmp_path / "wan_t2v_api.json"
    source.write_text(json.dumps(prompt))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    decode = next(n for n in graph.nodes.values() if n.type.startswith("diffusion.vae_decode"))
    assert decode.type == "diffusion.vae_decode_video"
    save = next(n for n in graph.nodes.values() if n.type == "video.save_webp")
    assert tuple(save.inputs["frames"]) == (decode.id, "frames")
    result = family_executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    written = next((tmp_path / "out").glob("wan*.webp"))
    with PILImage.open(written) as animation:
        assert animation.n_frames == 9
        assert animation.size == (16, 16)


def wan_image_to_video_graphs(hint: str, *, size: int = 16, frames: int = 9, seed: int = 1) -> tuple[dict, dict]:
    """The same Wan 2.1 image-to-video run from the pipeline node and from step nodes (ComfyUI's
    WanImageToVideo between the prompts and the sampler)."""
    pipeline = {"nodeflow": 1, "nodes": {
        "load": {"type": "diffusion.load", "params": {"source": "tiny-wan21-i2v"}},
        "start": {"type": "image.load", "params": {"path": hint}},
        "video": {"type": "diffusion.image_to_video", "inputs": {"pipeline": ["load", "pipeline"], "image": ["start", "image"]},
                  "params": {"prompt": "a red square", "negative_prompt": "blurry", "width": size, "height": size,
                             "frames": frames, "steps": 2, "seed": seed, "guidance": 5.0}},
    }}
    steps = step_graph("tiny-wan21-i2v", guidance=5.0, seed=seed)
    nodes = steps["nodes"]
    del nodes["empty"]
    nodes["start"] = {"type": "image.load", "params": {"path": hint}}
    nodes["i2v"] = {"type": "diffusion.wan_image_to_video",
                    "inputs": {"positive": ["pos", "conditioning"], "negative": ["neg", "conditioning"],
                               "vae": ["ckpt", "vae"], "start_image": ["start", "image"]},
                    "params": {"width": size, "height": size, "length": frames}}
    nodes["sample"]["inputs"].update(positive=["i2v", "positive"], negative=["i2v", "negative"], latent=["i2v", "latent"])
    nodes["decode"]["type"] = "diffusion.vae_decode_video"
    return pipeline, steps


def test_wan_image_to_video_from_the_pipeline_node_and_from_step_nodes_agree(family_executor):
    def frames(result, node: str, port: str) -> list[np.ndarray]:
        return [np.asarray(f, dtype=np.int16) for f in result.outputs[node][port]]

    pipeline, steps = wan_image_to_video_graphs("hint-square.png")
    reference = frames(run(family_executor, pipeline, ["video"]), "video", "frames")
    ours = frames(run(family_executor, steps, ["decode"]), "decode", "frames")
    assert len(reference) == len(ours) == 9
    assert reference[0].shape == (16, 16, 3)
    assert max(np.abs(a - b).max() for a, b in zip(reference, ours, strict=False)) <= 1
    assert family_executor.models.loads == 1
    # another start picture, another video. The tiny random Wan VAE (3 base channels) encodes the two hints
    # to close latents and decodes nearly flat frames, so the sampled latents are compared: the same start
    # gives the same latents to the last bit, another start moves them far beyond float rounding
    _, other = wan_image_to_video_graphs("hint-bar.png")
    first = run(family_executor, steps, ["sample"]).outputs["sample"]["latent"].samples
    family_executor.memory.clear()
    again = run(family_executor, steps, ["sample"]).outputs["sample"]["latent"].samples
    moved = run(family_executor, other, ["sample"]).outputs["sample"]["latent"].samples
    assert (first - again).abs().max() == 0
    assert float((first - moved).abs().mean()) > 1e-3


def test_wan_image_to_video_needs_an_image_to_video_model(family_executor):
    _, steps = wan_image_to_video_graphs("hint-square.png")
    steps["nodes"]["ckpt"]["params"]["source"] = "tiny-wan"
    assert "does not animate pictures" in failure(family_executor, steps, ["decode"])


def test_a_comfyui_wan_image_to_video_workflow_imports_and_animates_its_start_picture(family_executor, tmp_path):
    """WanImageToVideo between the prompts and KSampler, as in comfyanonymous/ComfyUI_examples
    wan/image_to_video_wan_example (its optional clip_vision_output left unlinked: the model's own image
    encoder embeds the picture), in the API format; the video is the step graph's."""
    import json

    from nodeflow.comfy import import_file
    from nodeflow.graph.model import graph_to_dict
    from nodeflow.nodetypes.registry import default_registry

    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny-wan21-i2v"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "a red square"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "blurry"}},
        "52": {"class_type": "LoadImage", "inputs": {"image": "hint-square.png", "upload": "image"}},
        "50": {"class_type": "WanImageToVideo", "inputs": {"positive": ["6", 0], "negative": ["7", 0], "vae": ["1", 2],
                                                          "start_image": ["52", 0], "width": 16, "height": 16,
                                                          "length": 9, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["50", 0], "negative": ["50", 1],
                                                   "latent_image": ["50", 2], "seed": 1, "steps": 2, "cfg": 5.0,
                                                   "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["1", 2]}},
        "28": {"class_type": "SaveAnimatedWEBP", "inputs": {"images": ["8", 0], "filename_prefix": "wan_i2v", "fps": 16.0,
                                                            "lossless": True, "quality": 90, "method": "default"}},
    }
    source = tmp_path / "wan_i2v_api.json"
    source.write_text(json.dumps(prompt))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    start = next(n for n in graph.nodes.values() if n.type == "diffusion.wan_image_to_video")
    assert start.params == {"width": 16, "height": 16, "length": 9, "batch": 1}
    assert next(n for n in graph.nodes.values() if n.type.startswith("diffusion.vae_decode")).type == "diffusion.vae_decode_video"
    result = family_executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    from PIL import Image as PILImage

    _, steps = wan_image_to_video_graphs("hint-square.png")
    reference = run(family_executor, steps, ["decode"]).outputs["decode"]["frames"]
    with PILImage.open(next((tmp_path / "out").glob("wan_i2v*.webp"))) as animation:
        assert animation.n_frames == len(reference) == 9
        animation.seek(4)
        middle = np.asarray(animation.convert("RGB"), dtype=np.int16)
    assert np.abs(middle - np.asarray(reference[4], dtype=np.int16)).max() <= 1  # lossless: the same frame


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
