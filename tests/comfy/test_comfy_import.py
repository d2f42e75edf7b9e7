"""`nodeflow import`: ComfyUI workflows (the editor's format, the API prompt, PNGs carrying them) open as
graphs: core nodes mapped, reroutes dissolved, notes as comments, looks and modes kept, unknown nodes
kept as placeholders that validation flags, malformed files refused with nothing written."""

from __future__ import annotations

import io
import json
from pathlib import Path

from nodeflow.check.validate import validate
from nodeflow.comfy import ComfyImportError, import_bytes
from nodeflow.graph.layout import overlaps
from nodeflow.graph.model import graph_to_dict, load_graph
from nodeflow.nodetypes.registry import default_registry
from tests.comfy.comfy_workflows import Workflow, text_to_image
from tests.engine_support import nodeflow_cli


def imported(document: dict, name: str = "workflow.json"):
    return import_bytes(json.dumps(document).encode(), name, default_registry())


def problems_of(graph) -> list[str]:
    return [str(p) for p in validate(graph, default_registry())]


def test_the_default_text_to_image_workflow_maps_node_for_node():
    graph, report = imported(text_to_image().to_json())
    nodes = graph.nodes
    assert {nid: n.type for nid, n in nodes.items()} == {
        "checkpoint": "diffusion.load_checkpoint", "positive": "diffusion.encode_prompt",
        "negative": "diffusion.encode_prompt", "empty_latent": "diffusion.empty_latent",
        "sampler": "diffusion.sampler", "decode": "diffusion.vae_decode", "save": "image.save",
    }
    sampler = nodes["sampler"]
    assert sampler.params == {"seed": 156680208700286, "steps": 20, "guidance": 8.0, "sampler": "euler",
                              "scheduler": "normal", "denoise": 1.0}  # "randomize" is not a value
    assert sampler.inputs == {"model": ("checkpoint", "model"), "positive": ("positive", "conditioning"),
                              "negative": ("negative", "conditioning"), "latent": ("empty_latent", "latent")}
    assert nodes["decode"].inputs["latent"] == ("sampler", "latent")  # through the reroute
    assert nodes["positive"].params["text"].startswith("beautiful scenery")
    assert nodes["empty_latent"].params == {"width": 512, "height": 512, "batch": 1}
    assert nodes["save"].params == {"filename": "ComfyUI.png"}
    assert nodes["sampler"].ui["pos"] == [863, 186] and nodes["sampler"].ui["title"] == "Main sampler"
    assert nodes["positive"].ui["colour"] == "#353"
    assert graph.ui["comments"] == [{"text": "Change the prompt, then Queue.", "pos": [26, 80], "size": [300, 80]}]
    assert graph.groups == [{"title": "Prompt", "nodes": ["negative", "positive"], "colour": "#3f789e"}] or \
        graph.groups == [{"title": "Prompt", "nodes": ["positive", "negative"], "colour": "#3f789e"}]
    assert report.models == [{"node": "checkpoint", "param": "source", "file": "v1-5-pruned-emaonly.safetensors"}]
    assert report.unknown == [] and problems_of(graph) == []


def test_the_api_prompt_maps_the_same_and_is_arranged():
    workflow = text_to_image()
    from_ui, _ = imported(workflow.to_json())
    graph, report = imported(workflow.to_prompt(), "prompt.json")
    assert {n: (g.type, g.params, g.inputs) for n, g in graph.nodes.items()} == \
        {n: (g.type, g.params, g.inputs) for n, g in from_ui.nodes.items()}
    assert report.kind == "prompt" and report.arranged
    assert overlaps(graph, default_registry()) == []
    assert problems_of(graph) == []


def test_mute_and_bypass_modes_are_kept():
    workflow = text_to_image()
    workflow.node(8)["mode"] = 4
    workflow.node(9)["mode"] = 2
    graph, _ = imported(workflow.to_json())
    assert graph.nodes["decode"].mode == "bypass" and graph.nodes["save"].mode == "mute"


def image_to_image(inpaint: str = "") -> Workflow:
    wf = text_to_image(size=64)
    wf.add(12, "LoadImage", ["example.png", "image"], pos=(26, 700), named={"image": "example.png", "upload": "image"})
    if inpaint == "encode":
        wf.add(13, "VAEEncodeForInpaint", [6], pos=(473, 800), named={"grow_mask_by": 6})
        wf.link(12, 0, 13, "pixels").link(4, 2, 13, "vae").link(12, 1, 13, "mask")
    else:
        wf.add(13, "VAEEncode", [], pos=(473, 800))
        wf.link(12, 0, 13, "pixels").link(4, 2, 13, "vae")
    source = 13
    if inpaint == "mask":
        wf.add(14, "SetLatentNoiseMask", [], pos=(600, 800))
        wf.link(13, 0, 14, "samples").link(12, 1, 14, "mask")
        source = 14
    sampler = wf.node(3)
    sampler["widgets_values"][-1] = 0.6
    link = next(p for p in sampler["inputs"] if p["name"] == "latent_image")
    wf.links = [each for each in wf.links if each[0] != link["link"]]
    link["link"] = None
    wf.link(source, 0, 3, "latent_image")
    return wf


def test_image_to_image_and_both_inpainting_kinds():
    graph, _ = imported(image_to_image().to_json())
    assert graph.nodes["encode"].type == "diffusion.vae_encode"
    assert graph.nodes["encode"].inputs == {"image": ("load_image", "image"), "vae": ("checkpoint", "vae")}
    assert graph.nodes["load_image"].params == {"path": "example.png"}
    assert graph.nodes["sampler"].params["denoise"] == 0.6
    assert problems_of(graph) == []

    graph, _ = imported(image_to_image("encode").to_json())
    inpaint = graph.nodes["inpaint_encode"]
    assert inpaint.type == "diffusion.vae_encode_inpaint" and inpaint.params == {"grow": 6}
    mask_source = inpaint.inputs["mask"]
    assert graph.nodes[mask_source[0]].type == "diffusion.alpha_mask"  # LoadImage's MASK output
    assert graph.nodes[mask_source[0]].inputs == {"image": ("load_image", "image")}
    assert problems_of(graph) == []

    graph, _ = imported(image_to_image("mask").to_json())
    assert graph.nodes["noise_mask"].type == "diffusion.noise_mask"
    assert graph.nodes["sampler"].inputs["latent"] == ("noise_mask", "latent")
    assert problems_of(graph) == []


def lora_hires(lora: str = "my-style.safetensors") -> Workflow:
    wf = text_to_image(size=64)
    wf.add(20, "LoraLoader", [lora, 0.8, 0.6], pos=(200, 300))
    for port in ("model",):
        entry = next(p for p in wf.node(3)["inputs"] if p["name"] == port)
        wf.links = [link for link in wf.links if link[0] != entry["link"]]
        entry["link"] = None
    for target in (6, 7):
        entry = wf.node(target)["inputs"][0]
        wf.links = [link for link in wf.links if link[0] != entry["link"]]
        entry["link"] = None
    wf.link(4, 0, 20, "model").link(4, 1, 20, "clip").link(20, 0, 3, "model").link(20, 1, 6, "clip").link(20, 1, 7, "clip")
    # hires fix: upscale the latents by 1.5 and sample again with a KSamplerAdvanced
    wf.add(21, "LatentUpscaleBy", ["nearest-exact", 1.5], pos=(1000, 500))
    wf.add(22, "KSamplerAdvanced", ["enable", 5, "fixed", 4, 7, "dpmpp_2m", "karras", 1, 10000, "disable"], pos=(1100, 500))
    decode = next(p for p in wf.node(8)["inputs"] if p["name"] == "samples")
    wf.links = [link for link in wf.links if link[0] != decode["link"]]
    decode["link"] = None
    wf.link(3, 0, 21, "samples").link(21, 0, 22, "latent_image").link(20, 0, 22, "model")
    wf.link(6, 0, 22, "positive").link(7, 0, 22, "negative").link(22, 0, 8, "samples")
    # upscale the picture by scaling, preview it, and a primitive seed for the first sampler
    wf.add(23, "ImageScaleBy", ["bicubic", 2.0], pos=(1500, 500)).add(24, "PreviewImage", [], pos=(1700, 500))
    wf.add(25, "ImageScale", ["area", 100, 80, "center"], pos=(1500, 700))
    wf.link(8, 0, 23, "image").link(23, 0, 24, "images").link(8, 0, 25, "image")
    wf.add(26, "PrimitiveNode", [42, "fixed"], pos=(600, 40), title="seed")
    wf.link(26, 0, 3, "seed", widget=True)
    return wf


def test_lora_hires_fix_upscale_and_primitive():
    graph, report = imported(lora_hires().to_json())
    nodes = graph.nodes
    assert nodes["lora"].type == "diffusion.lora_parts"
    assert nodes["lora"].params == {"path": "my-style.safetensors", "strength_model": 0.8, "strength_clip": 0.6}
    assert nodes["positive"].inputs["clip"] == ("lora", "clip") and nodes["sampler"].inputs["model"] == ("lora", "model")
    assert nodes["upscale_latent"].params == {"method": "nearest-exact", "scale_by": 1.5}
    advanced = nodes["sampler_2"]
    assert advanced.params == {"add_noise": True, "seed": 5, "steps": 4, "guidance": 7.0, "sampler": "dpmpp_2m",
                               "scheduler": "karras", "start_step": 1, "end_step": -1}
    assert nodes["scale_image"].type == "diffusion.scale_image_by"
    assert nodes["scale_image_2"].params == {"method": "bilinear", "width": 100, "height": 80, "fit": "cover"}
    assert any("'area' is approximated" in line for line in report.approximate)
    assert nodes["preview"].type == "diffusion.preview_image"
    assert nodes["seed"].type == "core.int" and nodes["seed"].params == {"value": 42}
    assert nodes["sampler"].inputs["seed"] == ("seed", "value") and "seed" not in nodes["sampler"].params
    assert {m["file"] for m in report.models} == {"v1-5-pruned-emaonly.safetensors", "my-style.safetensors"}
    assert problems_of(graph) == []


def test_unknown_nodes_are_placeholders_that_validation_flags_and_the_rest_opens():
    wf = text_to_image()
    wf.add(30, "UltimateSDUpscale", [2, 42, "fixed", 20], pos=(1700, 400))
    wf.link(8, 0, 30, "image").link(4, 0, 30, "model")
    graph, report = imported(wf.to_json())
    assert report.unknown == [{"id": "30", "class_type": "UltimateSDUpscale", "node": "ultimatesdupscale"}]
    placeholder = graph.nodes["ultimatesdupscale"]
    assert placeholder.type == "comfy.UltimateSDUpscale"
    assert placeholder.inputs == {"image": ("decode", "image"), "model": ("checkpoint", "model")}
    assert placeholder.ui["comfy"]["widgets_values"] == [2, 42, "fixed", 20]
    problems = problems_of(graph)
    assert problems == ["ultimatesdupscale (comfy.UltimateSDUpscale): unknown node type"]
    assert any("unknown node 30 (UltimateSDUpscale)" in line for line in report.lines())


def test_unknown_sampler_names_fall_back_and_say_so():
    wf = text_to_image()
    wf.node(3)["widgets_values"][4:6] = ["euler_cfg_pp", "kl_optimal"]
    graph, report = imported(wf.to_json())
    assert graph.nodes["sampler"].params["sampler"] == "euler"
    assert graph.nodes["sampler"].params["scheduler"] == "normal"
    assert len(report.approximate) == 2


def png_with(chunks: dict[str, str]) -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, text in chunks.items():
        info.add_text(key, text)
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "purple").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_cli_imports_a_png_that_carries_a_workflow(tmp_path: Path):
    workflow = text_to_image()
    png = tmp_path / "ComfyUI_00001_.png"
    png.write_bytes(png_with({"prompt": json.dumps(workflow.to_prompt()), "workflow": json.dumps(workflow.to_json())}))
    done = nodeflow_cli("import", str(png), "-o", str(tmp_path / "graph.json"))
    assert done.returncode == 0, done.stderr
    graph = load_graph(tmp_path / "graph.json")
    assert graph.nodes["sampler"].ui["pos"] == [863, 186]  # the workflow chunk, with its positions
    assert "imported a ComfyUI workflow (png): 7 nodes, 1 comments" in done.stderr
    only_prompt = tmp_path / "prompt_only.png"
    only_prompt.write_bytes(png_with({"prompt": json.dumps(workflow.to_prompt())}))
    done = nodeflow_cli("import", str(only_prompt))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "prompt_only.nodeflow.json").is_file()
    assert "nodes were arranged" in done.stderr


def test_cli_reports_unknown_nodes_and_writes_the_rest(tmp_path: Path):
    wf = text_to_image()
    wf.add(30, "UltimateSDUpscale", [2], pos=(1700, 400)).link(8, 0, 30, "image")
    source = tmp_path / "wf.json"
    source.write_text(json.dumps(wf.to_json()))
    done = nodeflow_cli("import", str(source))
    assert done.returncode == 0, done.stderr
    assert "unknown node 30 (UltimateSDUpscale): kept as placeholder 'ultimatesdupscale'" in done.stderr
    check = nodeflow_cli("validate", str(tmp_path / "wf.nodeflow.json"), env={"NODEFLOW_HOME": str(tmp_path / "home")})
    assert check.returncode == 2 and "ultimatesdupscale (comfy.UltimateSDUpscale): unknown node type" in check.stderr
    # the checkpoint file name became the loader's source: validation says where it looked for it
    assert "checkpoint (diffusion.load_checkpoint): 'source': diffusion model 'v1-5-pruned-emaonly.safetensors' was not found" in check.stderr
    assert str(tmp_path / "home" / "models") in check.stderr


def test_malformed_files_exit_2_with_a_clear_error_and_write_nothing(tmp_path: Path):
    cases = {
        "broken.json": (b'{"nodes": [', "is not valid JSON"),
        "other.json": (b'{"hello": "world"}', "is not a ComfyUI workflow"),
        "nodes.json": (json.dumps({"nodes": [{"id": 1}], "links": []}).encode(), "node #1 of the workflow must be an object with an id and a type"),
        "links.json": (json.dumps({"nodes": [], "links": [["x"]]}).encode(), "must be [id, origin, slot, target, slot, type]"),
        "prompt.json": (json.dumps({"3": {"class_type": "KSampler", "inputs": {"model": ["9", 0]}}}).encode(), "links to node 9, which is missing"),
        "plain.png": (png_with({"Software": "GIMP"}), "without a ComfyUI 'workflow' or 'prompt' text chunk"),
        "binary.json": (b"\xff\xfe\x00garbage", "neither JSON text nor a PNG image"),
    }
    for name, (content, message) in cases.items():
        source = tmp_path / name
        source.write_bytes(content)
        out = tmp_path / f"{name}.graph.json"
        done = nodeflow_cli("import", str(source), "-o", str(out))
        assert done.returncode == 2, (name, done.stderr)
        assert message in done.stderr, (name, done.stderr)
        assert "Traceback" not in done.stderr
        assert not out.exists()
    try:
        import_bytes(json.dumps({"nodeflow": 1, "nodes": {}}).encode(), "mine.json")
    except ComfyImportError as exc:
        assert "already a nodeflow graph" in str(exc)
    else:
        raise AssertionError("a nodeflow graph is not a ComfyUI workflow")


def test_an_imported_graph_round_trips_through_the_file_format(tmp_path: Path):
    graph, _ = imported(lora_hires().to_json())
    data = graph_to_dict(graph)
    path = tmp_path / "g.json"
    path.write_text(json.dumps(data))
    assert graph_to_dict(load_graph(path)) == json.loads(json.dumps(data))


def test_an_empty_comfyui_subgraph_still_opens():
    wf = text_to_image()
    wf.nodes.append({"id": 40, "type": "0b1c-uuid", "pos": [0, 900], "inputs": [], "outputs": [], "widgets_values": [], "mode": 0})
    document = wf.to_json()
    document["definitions"] = {"subgraphs": [{"id": "0b1c-uuid", "name": "Upscale block", "nodes": [], "links": []}]}
    graph, report = imported(document)
    assert graph.nodes["upscale_block"].type == "subgraph.upscale_block"  # see test_comfy_subgraphs.py for real ones
    assert graph.definitions["upscale_block"]["nodes"] == {} and report.unknown == []


def test_return_with_leftover_noise_disabled_maps_where_it_matters():
    """Our sampler hands on the latent with the noise left at its end step unless told to finish there:
    ComfyUI's return_with_leftover_noise "disable" matters only for a run that stops before its last step."""
    def params(leftover: str, end: int) -> dict:
        prompt = {"1": {"class_type": "KSamplerAdvanced", "inputs": {
            "add_noise": "enable", "noise_seed": 1, "steps": 20, "cfg": 7.0, "sampler_name": "euler",
            "scheduler": "normal", "start_at_step": 0, "end_at_step": end, "return_with_leftover_noise": leftover}}}
        graph, report = import_bytes(json.dumps(prompt).encode(), "split.json", default_registry())
        assert report.approximate == []
        return next(iter(graph.nodes.values())).params

    assert "leftover_noise" not in params("enable", 10) and "leftover_noise" not in params("disable", 10000)
    assert params("disable", 10)["leftover_noise"] is False
