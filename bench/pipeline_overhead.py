"""What nodeflow adds on top of plain diffusers and plain transformers, measured side by side.

    python bench/pipeline_overhead.py [--repeats 5] [--steps 20] [--size 128] [--tokens 24] [--threads 1]
                                      [--families-only] [--previews] [--clock wall|process]

1. The same tiny text-to-image run (a random-init pipeline built here, test-size configs) through a
   nodeflow graph (load -> text_to_image -> save, with a preview at every step and events collected)
   and through a plain diffusers script (load, call, save), interleaved run by run.
2. The same SmolLM2-135M-Instruct generation (same seeds, same settings, so the same tokens) through
   a nodeflow graph (load -> generate, streaming every token as a preview) and through plain
   ``model.generate``.
   The same for each model family (SD 1.x, SDXL, SD3, Flux, Wan, Stable Video Diffusion; tiny random-init
   models): the pipeline node graph and the step graph (load checkpoint -> encode -> empty latent ->
   sampler -> decode; SVD: image-only checkpoint -> SVD conditioning -> linear CFG -> sampler -> video
   decode) against the family's plain diffusers pipeline, and each family's load time from its diffusers
   folder and from single files (``--families-only`` runs just these). nodeflow runs these headless, as
   the plain pipeline does; ``--previews`` adds a listener that takes a preview picture at every step.
3. Model loads: a second graph run with only the seed changed must load nothing.
4. The bundled SmolLM2: first conversion of its GGUF file to safetensors, then a load from the cache.

Targets: ratios of 1.03 or less (1.05 for the family rows); zero loads on the second run; cached loads well under a second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "models"), str(ROOT / "bench")]

from family_overhead import families_bench, print_family_loads  # noqa: E402
from overhead_timing import PROMPT, header, row, set_clock, side_by_side, timed  # noqa: E402

from nodeflow.events import EventLog  # noqa: E402
from nodeflow.graph.model import parse_graph  # noqa: E402
from nodeflow.models import ModelManager  # noqa: E402
from nodeflow.run.executor import Executor  # noqa: E402
from nodeflow.settings import Settings  # noqa: E402

# --- 1. tiny text-to-image ------------------------------------------------------------------------


def diffusion_bench(home: Path, args: argparse.Namespace) -> dict:
    import torch
    from diffusers import DiffusionPipeline
    from tiny_models import build_tiny_sd

    folder = build_tiny_sd(home / "models" / "tiny-sd")
    plain_pipe = DiffusionPipeline.from_pretrained(folder)
    plain_pipe.set_progress_bar_config(disable=True)
    out = home / "out"
    out.mkdir(parents=True, exist_ok=True)

    def plain(seed: int) -> None:
        image = plain_pipe(
            PROMPT, num_inference_steps=args.steps, height=args.size, width=args.size,
            generator=torch.Generator("cpu").manual_seed(seed),
        ).images[0]
        image.save(out / "plain.png")

    executor = Executor(settings=Settings(home=home, output_dir=out), models=ModelManager(device_override="cpu"))
    graph = {
        "nodeflow": 1,
        "nodes": {
            "sd": {"type": "diffusion.load", "params": {"source": "tiny-sd"}},
            "paint": {
                "type": "diffusion.text_to_image",
                "inputs": {"pipeline": ["sd", "pipeline"]},
                "params": {"prompt": PROMPT, "steps": args.steps, "width": args.size, "height": args.size},
            },
            "save": {"type": "image.save", "inputs": {"image": ["paint", "image"]}, "params": {"filename": "ours.png"}},
        },
    }
    events = EventLog()

    def ours(seed: int) -> None:
        result = executor.run(parse_graph(graph), overrides=[f"paint.seed={seed}"], on_event=events)
        assert result.ok, result.error

    plain(0), ours(0)  # warm up both (first calls allocate)
    loads_before = executor.models.loads
    plain_times, our_times = side_by_side(plain, ours, args.repeats)
    previews = len([e for e in events.of("preview") if e["node"] == "paint"])
    row(f"tiny txt2img {args.size}px, {args.steps} steps", plain_times, our_times,
        f"{previews // (args.repeats + 1)} previews per run")
    own = own_work(executor, graph, args)
    share = own / statistics.median(plain_times)
    print(f"| {'  nodeflow own work, measured apart':<34} | {'':>10} | {own * 1000:11.1f} | {1 + share:6.3f} | "
          f"{'':>6} | {args.steps} previews + events + validate/plan/key (noise-free estimate of the ratio)")
    return {"loads_first": loads_before, "loads_after_seed_runs": executor.models.loads}


def own_work(executor: Executor, graph: dict, args: argparse.Namespace) -> float:
    """Seconds per run that nodeflow adds around the sampler: per-step previews and the engine's
    bookkeeping (a fully cached run is only validate, plan, keys and lookups)."""
    import threading

    from nodeflow.nodetypes.context import Context
    from nodes.diffusion.previews import latents_to_rgb

    latents = executor.run(parse_graph(graph), only=["paint"], overrides=["paint.seed=1"]).outputs["paint"]["latents"]
    ctx = Context(
        run_id="bench", node_id="paint", node_type="diffusion.text_to_image", emit=EventLog(),
        cancel_event=threading.Event(), settings=executor.settings, models=executor.models,
        output_dir=executor.settings.output_dir,
    )
    repeats = 10
    started = time.perf_counter()
    for _ in range(repeats):
        for step in range(args.steps):
            ctx.progress(step + 1, args.steps)
            ctx.preview(latents_to_rgb(latents))
    previews = (time.perf_counter() - started) / repeats
    engine = min(timed(lambda: executor.run(parse_graph(graph), overrides=["paint.seed=1"], on_event=EventLog()))[0]
                 for _ in range(repeats))
    return previews + engine



# --- 2. SmolLM2 generation ------------------------------------------------------------------------


def llm_bench(home: Path, args: argparse.Namespace) -> dict:
    import torch

    from nodes.llm.loading import bundled_gguf, converted_folder, load_causal_lm

    settings = Settings(home=home, output_dir=home / "out")
    executor = Executor(settings=settings, models=ModelManager(device_override="cpu"))
    graph = {
        "nodeflow": 1,
        "nodes": {
            "llm": {"type": "llm.load"},
            "gen": {
                "type": "llm.generate",
                "inputs": {"model": ["llm", "model"]},
                "params": {"prompt": "Describe a lighthouse at dawn.", "max_tokens": args.tokens, "temperature": 0.8, "top_p": 0.9},
            },
        },
    }
    texts: dict[str, list[str]] = {"plain": [], "ours": []}

    def ours(seed: int) -> None:
        result = executor.run(parse_graph(graph), overrides=[f"gen.seed={seed}"], on_event=EventLog())
        assert result.ok, result.error
        texts["ours"].append(result.outputs["gen"]["text"])

    ours(0)  # converts (first time) and loads the bundled model
    loaded = load_causal_lm(converted_folder(bundled_gguf(), settings))
    model, tokenizer = loaded.model, loaded.tokenizer
    messages = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "Describe a lighthouse at dawn."}]

    def plain(seed: int) -> None:
        inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        torch.manual_seed(seed)
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=args.tokens, do_sample=True, temperature=0.8,
                                    top_p=0.9, top_k=0, pad_token_id=tokenizer.eos_token_id)
        texts["plain"].append(tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip())

    plain(0)
    texts["plain"].clear(), texts["ours"].clear()
    plain_times, our_times = side_by_side(plain, ours, args.repeats)
    same = sorted(texts["plain"]) == sorted(texts["ours"])
    row(f"SmolLM2 generate, {args.tokens} tokens", plain_times, our_times,
        f"same text as plain: {'yes' if same else 'NO'}")
    return {"llm_loads": executor.models.loads}


# --- 4. GGUF conversion and cached loads ------------------------------------------------------------


def conversion_bench() -> None:
    from nodes.llm.loading import bundled_gguf, convert_gguf, load_causal_lm

    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "smollm2"
        convert_s, _ = timed(lambda: convert_gguf(bundled_gguf(), target))
        loads = [timed(lambda: load_causal_lm(target))[0] for _ in range(3)]
    print(f"| {'SmolLM2 GGUF -> safetensors, once':<34} | {convert_s:9.2f}s |")
    print(f"| {'SmolLM2 load from safetensors cache':<34} | {statistics.median(loads):9.2f}s | (median of 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--skip-conversion", action="store_true", help="skip the (slow) GGUF conversion timing")
    parser.add_argument("--families-only", action="store_true", help="only the per-family rows and load times")
    parser.add_argument("--previews", action="store_true",
                        help="family rows with a listener taking live previews, as the editor (default: headless)")
    parser.add_argument("--clock", choices=("wall", "process"), default="wall",
                        help="wall time, or this process's CPU time (steadier on a machine other work shares)")
    args = parser.parse_args()
    set_clock(args.clock)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, cpu, {args.clock} clock; {args.repeats} runs "
        "each, alternating; "
        "ratio = nodeflow / plain of the medians, min = of the fastest runs\n"
    )
    if args.families_only:
        with tempfile.TemporaryDirectory() as scratch:
            header()
            family_loads = families_bench(Path(scratch), args)
        print_family_loads(family_loads)
        return
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        header()
        loads = diffusion_bench(home, args)
        family_loads = families_bench(home / "families", args)
        llm_home = Path(os.environ.get("NODEFLOW_HOME", "~/.nodeflow")).expanduser()
        loads.update(llm_bench(llm_home, args))
    print("\n| model loads | count |\n|---|---|")
    print(f"| pipeline loads after the warm-up run | {loads['loads_first']} |")
    print(f"| pipeline loads after {args.repeats} more runs, only the seed changed | {loads['loads_after_seed_runs']} |")
    print(f"| SmolLM2 loads after {args.repeats + 1} runs | {loads['llm_loads']} |")
    print_family_loads(family_loads)
    if not args.skip_conversion:
        print("\n| step | time |\n|---|---|")
        conversion_bench()


if __name__ == "__main__":
    main()
