"""Video families on tiny random-init models: Wan 2.1 text to video and image to video, from the pipeline
node and from step nodes, parts from separate files, ComfyUI's Wan workflows; Stable Video Diffusion's
pipeline node (its step nodes are in test_svd_steps.py)."""

from __future__ import annotations

import numpy as np

from nodeflow.graph.model import parse_graph
from tests.models.family_support import (
    failure,
    run,
    step_graph,
)


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
