"""Importing real ComfyUI workflows (our fixtures reproducing public ones, see comfy_corpus/SOURCES.md):
every file opens, old and new widget layouts read the same values, a PNG falls back to its API chunk,
legacy group nodes become subgraphs, placeholders keep their links, and any failure is a clear exit 2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from nodeflow.check.validate import validate
from nodeflow.comfy import ComfyImportError, import_bytes
from nodeflow.graph.model import graph_to_dict, load_graph, parse_graph
from nodeflow.graph.subgraphs import expand_subgraphs
from nodeflow.nodetypes.registry import default_registry
from tests.engine_support import nodeflow_cli

CORPUS = Path(__file__).parent / "comfy_corpus"
FILES = sorted(p.name for p in CORPUS.glob("*.json"))


def imported(name: str):
    return import_bytes((CORPUS / name).read_bytes(), name, default_registry())


def problems_of(graph) -> list[str]:
    expanded = parse_graph(graph_to_dict(graph))
    expand_subgraphs(expanded)
    return [str(p) for p in expanded.load_problems + validate(expanded, default_registry())]


def test_the_corpus_covers_both_formats_and_every_family():
    assert len(FILES) >= 50
    assert sum(name.endswith(".api.json") for name in FILES) >= 6
    for family in ("sd3", "sdxl", "flux", "wan", "wan22", "video_", "hunyuan_video", "lora", "inpaint", "template_"):
        assert any(name.startswith(family) for name in FILES), family


@pytest.mark.parametrize("name", FILES)
def test_every_file_imports_and_round_trips(name: str, tmp_path: Path):
    graph, report = imported(name)
    assert graph.nodes and report.nodes > 0
    path = tmp_path / "g.json"
    path.write_text(json.dumps(graph_to_dict(graph)))
    assert graph_to_dict(load_graph(path)) == json.loads(json.dumps(graph_to_dict(graph)))


def test_old_boolean_control_after_generate_reads_every_later_widget():
    """Older ComfyUI saved the seed's "control after generate" as true/false: ComfyUI's own LoRA example."""
    graph, _ = imported("lora_lora.json")
    sampler = next(n for n in graph.nodes.values() if n.type == "diffusion.sampler")
    assert sampler.params == {"seed": 851616030078638, "steps": 20, "guidance": 8.0, "sampler": "euler",
                              "scheduler": "normal", "denoise": 1.0}
    # the same picture saved in the API format gives the same values
    api, _ = imported("lora_lora_multiple.api.json")
    old, _ = imported("lora_lora_multiple.json")
    def params(g):
        return sorted(json.dumps(n.params, sort_keys=True) for n in g.nodes.values() if n.type == "diffusion.sampler")
    assert params(api) == params(old)


def test_missing_trailing_widgets_take_our_defaults():
    """Older ComfyUI saved fewer widgets (KSampler before denoise, an image save without its prefix)."""
    document = json.loads((CORPUS / "img2img_img2img_workflow.json").read_text())
    sampler = next(n for n in document["nodes"] if n["type"] == "KSampler")
    sampler["widgets_values"] = sampler["widgets_values"][:-1]  # no denoise
    save = next(n for n in document["nodes"] if n["type"] == "SaveImage")
    save["widgets_values"] = []
    graph, _ = import_bytes(json.dumps(document).encode(), "old.json", default_registry())
    ours = next(n for n in graph.nodes.values() if n.type == "diffusion.sampler")
    assert "denoise" not in ours.params and ours.params["steps"] == sampler["widgets_values"][2]
    assert next(n for n in graph.nodes.values() if n.type == "image.save").params == {"filename": "ComfyUI.png"}
    assert problems_of(graph) == [p for p in problems_of(graph) if "not found" in p or "single-file" in p]


def test_the_ui_and_api_chunks_of_one_picture_agree():
    # (the SDXL example is left out: its primitives are nodes in the workflow and inlined in the prompt)
    for stem in ("inpaint_inpaint_example", "lora_lora_multiple", "sd3_sd3.5_simple_example", "upscale_models_esrgan_example"):
        ui, _ = imported(stem + ".json")
        api, _ = imported(stem + ".api.json")
        def shape(g):
            return sorted((n.type, json.dumps(n.params, sort_keys=True)) for n in g.nodes.values())
        assert shape(ui) == shape(api), stem


def test_a_widget_value_that_does_not_fit_is_exit_2_naming_the_node(tmp_path: Path):
    document = json.loads((CORPUS / "lora_lora.json").read_text())
    sampler = next(n for n in document["nodes"] if n["type"] == "KSampler")
    sampler["widgets_values"][2] = "twenty"
    source = tmp_path / "odd.json"
    source.write_text(json.dumps(document))
    done = nodeflow_cli("import", str(source), "-o", str(tmp_path / "out.json"))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"node {sampler['id']} (KSampler)" in done.stderr and "'twenty'" in done.stderr
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("values, message", [
    ('["\\ud800"]', "lone surrogate"),
    ("[" * 120 + "]" * 120, "nested more than"),
])
def test_values_no_graph_can_hold_are_exit_2(values: str, message: str, tmp_path: Path):
    source = tmp_path / "odd.json"
    source.write_text('{"nodes": [{"id": 1, "type": "Foo", "widgets_values": ' + values + '}], "links": []}')
    done = nodeflow_cli("import", str(source), "-o", str(tmp_path / "out.json"))
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "out.json").exists()


def test_damaged_copies_of_the_corpus_never_crash_the_importer():
    """Hundreds of corpus files with values swapped for others of the wrong shape: each imports or is a
    ComfyImportError (exit 2, 400), never another exception."""
    import copy
    import random

    rng = random.Random(19)
    documents = [json.loads((CORPUS / name).read_text()) for name in FILES]
    odd = [None, True, 0, -1, 1e308, "", "x", [], {}, [1, 2], {"a": 1}, "randomize", 2**70]

    def damage(value):
        if isinstance(value, (dict, list)) and value:
            key = rng.choice(list(value)) if isinstance(value, dict) else rng.randrange(len(value))
            if rng.random() < 0.3:
                value[key] = copy.deepcopy(rng.choice(odd))
            else:
                damage(value[key])

    for _ in range(400):
        document = copy.deepcopy(rng.choice(documents))
        for _ in range(rng.randint(1, 3)):
            damage(document)
        try:
            import_bytes(json.dumps(document).encode(), "damaged.json", default_registry())
        except ComfyImportError:
            pass


def png_with(chunks: dict[str, str]) -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, text in chunks.items():
        info.add_text(key, text)
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


@pytest.mark.parametrize("broken", ['{"nodes": [', '{"nodes": [{"id": 1}], "links": []}', '{"nodes": "none"}'])
def test_a_png_whose_workflow_chunk_fails_falls_back_to_its_prompt_chunk(broken: str, tmp_path: Path):
    prompt = (CORPUS / "lora_lora_multiple.api.json").read_text()
    png = tmp_path / "ComfyUI_00042_.png"
    png.write_bytes(png_with({"workflow": broken, "prompt": prompt}))
    done = nodeflow_cli("import", str(png), "-o", str(tmp_path / "g.json"))
    assert done.returncode == 0, done.stderr
    assert "imported a ComfyUI API prompt (png)" in done.stderr
    assert "the 'workflow' chunk could not be read" in done.stderr
    graph = load_graph(tmp_path / "g.json")
    assert sum(n.type == "diffusion.lora_parts" for n in graph.nodes.values()) == 2
    # both broken: the error names the workflow chunk's fault
    png.write_bytes(png_with({"workflow": broken, "prompt": "[1, 2"}))
    done = nodeflow_cli("import", str(png), "-o", str(tmp_path / "h.json"))
    assert done.returncode == 2 and "Traceback" not in done.stderr and "workflow" in done.stderr


def test_png_text_is_read_from_its_chunks_without_decoding_pixels(tmp_path: Path):
    """iTXt (a prompt in any script) and compressed chunks read; a huge picture's header costs nothing;
    a compressed chunk that inflates past the limit is refused."""
    import struct
    import zlib

    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    prompt = json.loads((CORPUS / "lora_lora_multiple.api.json").read_text())
    prompt["6"]["inputs"]["text"] = "一只猫 au clair de lune"
    info = PngInfo()
    info.add_text("prompt", json.dumps(prompt, ensure_ascii=False), zip=True)
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG", pnginfo=info)
    graph, report = import_bytes(out.getvalue(), "x.png", default_registry())
    assert report.kind == "prompt" and any(n.params.get("text") == "一只猫 au clair de lune" for n in graph.nodes.values())

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 200_000, 200_000, 8, 2, 0, 0, 0))
    huge = header + chunk(b"tEXt", b"prompt\0" + json.dumps(prompt).encode()) + chunk(b"IEND", b"")
    graph, _ = import_bytes(huge, "huge.png", default_registry())  # 4e10 pixels: never decoded
    assert graph.nodes
    bomb = header + chunk(b"zTXt", b"prompt\0\0" + zlib.compress(b" " * (70 * 2**20), 9)) + chunk(b"IEND", b"")
    with pytest.raises(ComfyImportError, match="inflates past"):
        import_bytes(bomb, "bomb.png")
    with pytest.raises(ComfyImportError, match="damaged PNG"):
        import_bytes(huge[:60], "cut.png")


def test_widgets_a_template_shows_on_its_subgraph_become_params():
    """The workflow templates' subgraphs promote inner widgets (properties.proxyWidgets): the prompt and
    the seed show on our subgraph node too, their values staying those of the inner nodes."""
    graph, _ = imported("template_z_image_turbo_subgraph.json")
    definition = graph.definitions["z_image_turbo_text_to_image"]
    assert definition["params"]["text"] == [["positive", "text"]]
    assert definition["params"]["seed"] == [["sampler", "seed"]]
    assert definition["nodes"]["sampler"]["params"]["seed"] == 528562900154240
    instance = graph.nodes["z_image_turbo_text_to_image"]
    assert instance.params == {} and graph.nodes["save"].inputs == {"image": (instance.id, "image")}
    data = graph_to_dict(graph)
    data["nodes"][instance.id]["params"] = {"seed": 7, "text": "a red kite"}
    expanded = parse_graph(data)
    expand_subgraphs(expanded)
    inner = {n.type: n for n in expanded.nodes.values()}
    assert inner["diffusion.sampler"].params["seed"] == 7 and inner["diffusion.encode_prompt"].params["text"] == "a red kite"


def test_a_legacy_group_node_expands_into_a_subgraph():
    graph, report = imported("edit_models_sdxl_edit_model.json")
    group = next(n for n in graph.nodes.values() if n.type.startswith("subgraph."))
    assert group.type == "subgraph.ip2psampler" and not any(u["class_type"].startswith("workflow") for u in report.unknown)
    definition = graph.definitions["ip2psampler"]
    classes = {n["ui"]["comfy"]["class_type"] for n in definition["nodes"].values()}
    assert classes == {"KSamplerSelect", "RandomNoise", "BasicScheduler", "InstructPixToPixConditioning",
                       "DualCFGGuider", "SamplerCustomAdvanced"}  # nine inner nodes, the three reroutes dissolved
    # the instance's links: model, positive, negative, vae and pixels in, the latent out to the decoder
    assert set(group.inputs) == {"model", "positive", "negative", "vae", "pixels"}
    assert group.inputs["model"][0] == "checkpoint"
    decode = next(n for n in graph.nodes.values() if n.type == "diffusion.vae_decode")
    assert decode.inputs["latent"][0] == group.id
    # the instance's widget values went into the inner nodes
    values = json.dumps(definition["nodes"])
    assert "11652752290163" in values and "1.5" in values


def test_the_new_group_node_separator_also_expands():
    document = json.loads((CORPUS / "edit_models_sdxl_edit_model.json").read_text())
    for node in document["nodes"]:
        if node["type"] == "workflow/IP2PSampler":
            node["type"] = "workflow>IP2PSampler"
    graph, _ = import_bytes(json.dumps(document).encode(), "wf.json", default_registry())
    assert any(n.type == "subgraph.ip2psampler" for n in graph.nodes.values())


def test_placeholders_keep_their_links_in_and_out(tmp_path: Path):
    done = nodeflow_cli("import", str(CORPUS / "custom_nodes_placeholders.json"), "-o", str(tmp_path / "g.json"))
    assert done.returncode == 0, done.stderr
    graph = load_graph(tmp_path / "g.json")
    upscale = graph.nodes["ultimatesdupscale"]
    assert upscale.type == "comfy.UltimateSDUpscale"
    assert upscale.inputs == {"image": ("decode", "image"), "model": ("checkpoint", "model"),
                              "positive": ("positive", "conditioning"), "negative": ("negative", "conditioning"),
                              "vae": ("checkpoint", "vae"), "upscale_model": upscale.inputs["upscale_model"]}
    assert graph.nodes[upscale.inputs["upscale_model"][0]].ui["comfy"]["class_type"] == "UpscaleModelLoader"
    resize = graph.nodes["imageresize"]
    assert resize.inputs == {"image": ("ultimatesdupscale", "image")}
    assert graph.nodes["save"].inputs == {"image": ("imageresize", "image")}
    assert graph.nodes["sampler"].inputs["seed"] == ("seed_rgthree", "seed")
    # validation stays honest: each placeholder is named, and nothing claims the links are fine
    problems = problems_of(graph)
    assert "ultimatesdupscale (comfy.UltimateSDUpscale): unknown node type" in problems
    assert any(p.startswith("imageresize (comfy.ImageResize+): unknown node type") for p in problems)
    # the ComfyUI ports are kept so the editor can draw them for the user to reconnect to a replacement
    assert upscale.ui["comfy"]["outputs"] == ["IMAGE"]
    assert upscale.ui["comfy"]["inputs"][:2] == ["image", "model"]
