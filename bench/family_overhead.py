"""The per-family rows of bench/pipeline_overhead.py (SD 1.x, SDXL, SD3, Flux, Wan, Stable Video Diffusion,
tiny random-init models): the pipeline node and the step graph against the family's plain diffusers
pipeline, and load times from a diffusers folder and from single files. nodeflow runs headless, as the
plain pipeline does; ``--previews`` times it with a listener taking the live previews, as the editor does."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from pathlib import Path

from overhead_timing import PROMPT, row, side_by_side, timed

from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph
from nodeflow.models import ModelManager
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings


def listener(args: argparse.Namespace) -> EventLog | None:
    """What nodeflow's runs report to: nothing by default, as the plain pipeline (a headless run makes no
    step previews); with ``--previews`` every event, as the editor takes them (a picture at every step)."""
    return EventLog() if args.previews else None


def time_graphs(executor: Executor, plain: Callable[[int], None], graphs: dict[str, dict], family: str,
                args: argparse.Namespace, notes: dict[str, str]) -> None:
    """A row per graph: nodeflow running it against ``plain``, side by side, seed by seed."""
    for label, graph in graphs.items():
        def ours(seed: int, graph: dict = graph) -> None:
            result = executor.run(parse_graph(graph), overrides=[f"paint.seed={seed}"], on_event=listener(args))
            assert result.ok, result.error

        plain(0), ours(0)
        plain_times, our_times = side_by_side(plain, ours, args.repeats)
        row(f"{family} {label}, {args.steps} steps", plain_times, our_times, notes.get(label, ""))


def _family_graphs(source: str, family: str, args: argparse.Namespace) -> tuple[dict, dict]:
    guidance = 3.5 if family == "flux" else 5.0
    pipeline = {"nodeflow": 1, "nodes": {
        "load": {"type": "diffusion.load", "params": {"source": source}},
        "paint": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["load", "pipeline"]},
                  "params": {"prompt": PROMPT, "negative_prompt": "blurry", "steps": args.steps, "width": args.size,
                             "height": args.size, "guidance": guidance}},
        "save": {"type": "image.save", "inputs": {"image": ["paint", "image"]}, "params": {"filename": "ours.png"}},
    }}
    steps = {"nodeflow": 1, "nodes": {
        "ckpt": {"type": "diffusion.load_checkpoint", "params": {"source": source}},
        "pos": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}, "params": {"text": PROMPT}},
        "neg": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}, "params": {"text": "blurry"}},
        "empty": {"type": "diffusion.empty_latent", "params": {"width": args.size, "height": args.size}},
        "paint": {"type": "diffusion.sampler",
                  "inputs": {"model": ["ckpt", "model"], "positive": ["pos", "conditioning"],
                             "negative": ["neg", "conditioning"], "latent": ["empty", "latent"]},
                  "params": {"steps": args.steps, "guidance": 1.0 if family == "flux" else guidance}},
        "decode": {"type": "diffusion.vae_decode", "inputs": {"vae": ["ckpt", "vae"], "latent": ["paint", "latent"]}},
        "save": {"type": "image.save", "inputs": {"image": ["decode", "image"]}, "params": {"filename": "steps.png"}},
    }}
    if family == "flux":
        steps["nodes"]["fg"] = {"type": "diffusion.flux_guidance", "inputs": {"conditioning": ["pos", "conditioning"]},
                                "params": {"guidance": guidance}}
        steps["nodes"]["paint"]["inputs"]["positive"] = ["fg", "conditioning"]
    return pipeline, steps


def families_bench(home: Path, args: argparse.Namespace) -> list[tuple[str, float, float]]:
    """Rows for SD 1.x, SDXL, SD3, Flux, Wan and SVD; returns (family, folder load s, single-file load s,
    what the single files are) for the load table."""
    import torch
    from diffusers import DiffusionPipeline
    from tiny_families import build_tiny_flux, build_tiny_sd3, build_tiny_sdxl, save_components, save_single_file_sdxl
    from tiny_models import build_tiny_sd, save_single_file

    models = home / "models"
    builders = {"sd1": build_tiny_sd, "sdxl": build_tiny_sdxl, "sd3": build_tiny_sd3, "flux": build_tiny_flux}
    out = home / "out"
    out.mkdir(parents=True, exist_ok=True)
    loads = []
    for family, build in builders.items():
        folder = build(models / f"fam-{family}")
        plain_pipe = DiffusionPipeline.from_pretrained(folder)
        plain_pipe.set_progress_bar_config(disable=True)
        guidance = 3.5 if family == "flux" else 5.0

        def plain(seed: int) -> None:
            image = plain_pipe(  # noqa: B023  (called in this same iteration)
                PROMPT, negative_prompt="blurry", num_inference_steps=args.steps, height=args.size, width=args.size,
                guidance_scale=guidance, generator=[torch.Generator("cpu").manual_seed(seed)],  # noqa: B023  (called in this same iteration)
            ).images[0]
            image.save(out / "plain.png")

        executor = Executor(settings=Settings(home=home, output_dir=out), models=ModelManager(device_override="cpu"))
        pipeline, steps = _family_graphs(f"fam-{family}", family, args)
        time_graphs(executor, plain, {"pipeline node": pipeline, "step graph": steps}, family, args,
                    {"step graph": "prompts encoded once, cached"})
        loads.append((family, *load_times(family, folder, models, home, save_single_file, save_single_file_sdxl,
                                          save_components)))
    wan_folder = wan_bench(home, args)
    loads.append(("wan", *load_times("wan", wan_folder, models, home, save_single_file, save_single_file_sdxl,
                                      save_components)))
    svd_bench(home, args)
    from nodes.diffusion.loading import open_pipeline

    svd_folder = str(models / "fam-svd")
    svd_s = statistics.median(
        timed(lambda: open_pipeline("folder", svd_folder, None, "cpu", torch.float32, Settings(home=home)))[0]
        for _ in range(3))
    loads.append(("svd", svd_s, None, "none: diffusers loads SVD from a folder only"))
    return loads


def wan_bench(home: Path, args: argparse.Namespace) -> Path:
    """The Wan row: text_to_video and the step graph against plain WanPipeline (16 px, 9 frames)."""
    import torch
    from diffusers import DiffusionPipeline
    from tiny_video import build_tiny_wan

    folder = build_tiny_wan(home / "models" / "fam-wan")
    plain_pipe = DiffusionPipeline.from_pretrained(folder)
    plain_pipe.set_progress_bar_config(disable=True)
    size, frames = 16, 9

    def plain(seed: int) -> None:
        plain_pipe(PROMPT, negative_prompt="blurry", height=size, width=size, num_frames=frames,
                   num_inference_steps=args.steps, guidance_scale=5.0,
                   generator=[torch.Generator("cpu").manual_seed(seed)], output_type="pil")

    executor = Executor(settings=Settings(home=home, output_dir=home / "out"), models=ModelManager(device_override="cpu"))
    pipeline, steps = _family_graphs("fam-wan", "wan", args)
    pipeline["nodes"] = {
        "load": pipeline["nodes"]["load"],
        "paint": {"type": "diffusion.text_to_video", "inputs": {"pipeline": ["load", "pipeline"]},
                  "params": {"prompt": PROMPT, "negative_prompt": "blurry", "width": size, "height": size,
                             "frames": frames, "steps": args.steps, "guidance": 5.0}},
    }
    del steps["nodes"]["save"]
    steps["nodes"]["empty"] = {"type": "diffusion.empty_video_latent", "params": {"width": size, "height": size, "length": frames}}
    steps["nodes"]["decode"]["type"] = "diffusion.vae_decode_video"
    time_graphs(executor, plain, {"pipeline node": pipeline, "step graph": steps}, "wan", args,
                {"pipeline node": "9 frames", "step graph": "9 frames; prompts encoded once, cached"})
    return folder


def svd_bench(home: Path, args: argparse.Namespace) -> None:
    """The Stable Video Diffusion rows: image_to_video and the step graph (image-only checkpoint, SVD
    conditioning, linear CFG, sampler, video decode) against plain StableVideoDiffusionPipeline (32 px,
    3 frames)."""
    import torch
    from diffusers import DiffusionPipeline
    from PIL import Image as PILImage
    from tiny_video import build_tiny_svd

    models = home / "models"
    folder = build_tiny_svd(models / "fam-svd")
    PILImage.new("RGB", (32, 32), (200, 60, 40)).save(models / "start.png")
    start = PILImage.open(models / "start.png").convert("RGB")
    plain_pipe = DiffusionPipeline.from_pretrained(folder)
    plain_pipe.set_progress_bar_config(disable=True)
    size, frames = 32, 3
    video = dict(width=size, height=size, fps=7, motion=127, augmentation=0.02)

    def plain(seed: int) -> None:
        plain_pipe(start, height=size, width=size, num_frames=frames, num_inference_steps=args.steps,
                   min_guidance_scale=1.0, max_guidance_scale=2.5, fps=7, motion_bucket_id=127, noise_aug_strength=0.02,
                   decode_chunk_size=frames, generator=[torch.Generator("cpu").manual_seed(seed)], output_type="pil")

    settings = Settings(home=home, output_dir=home / "out", extra_input_dirs=[models])
    executor = Executor(settings=settings, models=ModelManager(device_override="cpu"))
    pipeline = {"nodeflow": 1, "nodes": {
        "load": {"type": "diffusion.load", "params": {"source": "fam-svd"}},
        "start": {"type": "image.load", "params": {"path": "start.png"}},
        "paint": {"type": "diffusion.image_to_video", "inputs": {"pipeline": ["load", "pipeline"], "image": ["start", "image"]},
                  "params": {**video, "frames": frames, "steps": args.steps, "min_guidance": 1.0, "max_guidance": 2.5}},
    }}
    steps = {"nodeflow": 1, "nodes": {
        "ckpt": {"type": "diffusion.load_image_only_checkpoint", "params": {"source": "fam-svd"}},
        "start": {"type": "image.load", "params": {"path": "start.png"}},
        "condition": {"type": "diffusion.svd_conditioning",
                      "inputs": {"clip_vision": ["ckpt", "clip_vision"], "init_image": ["start", "image"], "vae": ["ckpt", "vae"]},
                      "params": {**video, "frames": frames}},
        "cfg": {"type": "diffusion.video_linear_cfg", "inputs": {"model": ["ckpt", "model"]}, "params": {"min_cfg": 1.0}},
        "paint": {"type": "diffusion.sampler",
                  "inputs": {"model": ["cfg", "model"], "positive": ["condition", "positive"],
                             "negative": ["condition", "negative"], "latent": ["condition", "latent"]},
                  "params": {"steps": args.steps, "guidance": 2.5, "sampler": "euler", "scheduler": "karras"}},
        "decode": {"type": "diffusion.vae_decode_video", "inputs": {"vae": ["ckpt", "vae"], "latent": ["paint", "latent"]}},
    }}
    time_graphs(executor, plain, {"pipeline node": pipeline, "step graph": steps}, "svd", args,
                {"pipeline node": "3 frames", "step graph": "3 frames; the picture conditioned once, cached"})


def load_times(family: str, folder: Path, models: Path, home: Path, *savers) -> tuple[float, float, str]:
    """Median seconds of 3 loads from the diffusers folder and from single files (one checkpoint for
    SD 1.x and SDXL; for SD3 and Flux, as they are shared: diffusion model, text encoders and VAE apart)."""
    import torch

    from nodes.diffusion.components import open_denoiser, open_text_encoders, open_vae
    from nodes.diffusion.families import family_of_file
    from nodes.diffusion.loading import open_pipeline

    save_single_file, save_single_file_sdxl, save_components = savers
    settings = Settings(home=home)
    folder_s = statistics.median(
        timed(lambda: open_pipeline("folder", str(folder), None, "cpu", torch.float32, settings))[0] for _ in range(3))
    if family in ("sd1", "sdxl"):
        target = models / f"fam-{family}.safetensors"
        (save_single_file if family == "sd1" else save_single_file_sdxl)(folder, target)
        single = lambda: open_pipeline("single_file", str(target), str(folder), "cpu", torch.float32, settings)  # noqa: E731
        how = "one checkpoint file"
    else:
        names = save_components(folder, models, f"fam-{family}")
        encoders = [models / "text_encoders" / names[k] for k in sorted(names) if k.startswith("text_encoder")]
        kinds = [family_of_file(p)[1] for p in encoders]

        def single() -> None:
            open_denoiser(models / "diffusion_models" / names["denoiser"], folder, "cpu", torch.float32)
            open_text_encoders(encoders, kinds, folder, "cpu", torch.float32)
            open_vae(models / "vae" / names["vae"], folder, "cpu", torch.float32)

        how = "model, text encoders, VAE apart"
    single_s = statistics.median(timed(single)[0] for _ in range(3))
    return folder_s, single_s, how


def print_family_loads(loads: list[tuple[str, float, float | None, str]]) -> None:
    print("\n| family | diffusers folder s | single files s | single files are |\n|---|---|---|---|")
    for family, folder_s, single_s, how in loads:
        single = "-" if single_s is None else f"{single_s:.2f}"
        print(f"| {family} | {folder_s:.2f} | {single} | {how} |")
