"""Custom sampling (ComfyUI's SamplerCustomAdvanced and friends) on the tiny random-init SD pipeline:
it paints what the sampler node paints for the same choices, and each choice changes the picture."""

from __future__ import annotations

import numpy as np
import pytest

from nodeflow.graph.model import parse_graph
from tests.models.step_graphs import text_to_image_steps


def run(executor, graph: dict, *, only=("decode",)):
    result = executor.run(parse_graph(graph), only=list(only))
    assert result.status == "ok", result.error
    return result


def pixels(result, node: str = "decode") -> np.ndarray:
    return np.asarray(result.outputs[node]["image"]).astype(int)


def custom_graph(*, seed: int = 1, steps: int = 5, cfg: float = 7.5, sampler: str = "euler",
                 scheduler: str = "normal", sigmas: str = "basic", first_sigma: float | None = None) -> dict:
    """text_to_image_steps with its sampler node replaced by the custom-sampling nodes."""
    graph = text_to_image_steps(seed=seed, steps=steps, guidance=cfg)
    nodes = graph["nodes"]
    del nodes["sample"]
    nodes["noise"] = {"type": "diffusion.random_noise", "params": {"noise_seed": seed}}
    nodes["guider"] = {"type": "diffusion.cfg_guider", "params": {"cfg": cfg},
                       "inputs": {"model": ["ckpt", "model"], "positive": ["pos", "conditioning"],
                                  "negative": ["neg", "conditioning"]}}
    nodes["select"] = {"type": "diffusion.sampler_select", "params": {"sampler_name": sampler}}
    if sigmas == "basic":
        nodes["sigmas"] = {"type": "diffusion.scheduler_sigmas", "inputs": {"model": ["ckpt", "model"]},
                           "params": {"scheduler": scheduler, "steps": steps, "denoise": 1.0}}
    elif sigmas == "turbo":
        nodes["sigmas"] = {"type": "diffusion.turbo_sigmas", "inputs": {"model": ["ckpt", "model"]},
                           "params": {"steps": steps}}
    else:
        nodes["sigmas"] = {"type": "diffusion.align_your_steps", "params": {"model_type": "SD1", "steps": steps}}
    source = ["sigmas", "sigmas"]
    if first_sigma is not None:
        nodes["first"] = {"type": "diffusion.set_first_sigma", "inputs": {"sigmas": source}, "params": {"sigma": first_sigma}}
        source = ["first", "sigmas"]
    nodes["sample"] = {"type": "diffusion.sample_custom",
                       "inputs": {"noise": ["noise", "noise"], "guider": ["guider", "guider"], "sampler": ["select", "sampler"],
                                  "sigmas": source, "latent": ["empty", "latent"]}}
    nodes["decode"]["inputs"]["latent"] = ["sample", "output"]
    return graph


@pytest.mark.parametrize("sampler,scheduler", [("euler", "normal"), ("euler", "karras")])
def test_custom_sampling_paints_what_the_sampler_node_paints(executor, sampler, scheduler):
    reference = pixels(run(executor, text_to_image_steps(sampler=sampler, scheduler=scheduler)))
    custom = pixels(run(executor, custom_graph(sampler=sampler, scheduler=scheduler)))
    assert custom.shape == reference.shape == (64, 64, 3)
    # the same noise, sigmas and solver: only float timesteps (from sigmas) differ from the integer ones
    assert np.abs(custom - reference).mean() < 1.0
    assert np.abs(custom - reference).max() <= 8


def test_seed_sigmas_and_cfg_each_change_the_picture(executor):
    base = pixels(run(executor, custom_graph()))
    executor.memory.clear()
    assert np.array_equal(base, pixels(run(executor, custom_graph())))
    changes = {"seed": custom_graph(seed=2), "cfg": custom_graph(cfg=2.0),
               "first sigma": custom_graph(first_sigma=20.0), "align your steps": custom_graph(sigmas="ays")}
    differences = {name: np.abs(pixels(run(executor, graph)) - base).mean() for name, graph in changes.items()}
    assert all(value > 1.0 for value in differences.values()), differences


def test_sampler_custom_in_one_node_and_the_denoised_output(executor):
    graph = custom_graph()
    nodes = graph["nodes"]
    reference = pixels(run(executor, graph))
    nodes["sample"] = {"type": "diffusion.sampler_custom",
                       "inputs": {"model": ["ckpt", "model"], "positive": ["pos", "conditioning"],
                                  "negative": ["neg", "conditioning"], "sampler": ["select", "sampler"],
                                  "sigmas": ["sigmas", "sigmas"], "latent": ["empty", "latent"]},
                       "params": {"noise_seed": 1, "cfg": 7.5, "add_noise": True}}
    nodes["decode_denoised"] = {"type": "diffusion.vae_decode",
                                "inputs": {"vae": ["ckpt", "vae"], "latent": ["sample", "denoised"]}}
    result = run(executor, graph, only=("decode", "decode_denoised"))
    assert np.array_equal(pixels(result), reference)
    # the last step lands on sigma 0, where the solver's guess of the clean latent is the result
    assert np.abs(pixels(result, "decode_denoised") - reference).mean() < 1.0


@pytest.mark.parametrize("sampler", ["euler_ancestral", "heun", "lms", "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_2s_ancestral",
                                     "uni_pc", "ddpm", "ddim", "dpm_2", "deis"])
def test_every_solver_takes_custom_sigmas(executor, sampler):
    image = pixels(run(executor, custom_graph(sampler=sampler, steps=4)))
    assert image.shape == (64, 64, 3) and image.std() > 1


def test_basic_guider_and_disabled_noise(executor):
    graph = custom_graph()
    nodes = graph["nodes"]
    nodes["guider"] = {"type": "diffusion.basic_guider",
                       "inputs": {"model": ["ckpt", "model"], "conditioning": ["pos", "conditioning"]}}
    with_cfg = pixels(run(executor, custom_graph()))
    basic = pixels(run(executor, graph))
    assert np.abs(basic - with_cfg).mean() > 1.0
    nodes["noise"] = {"type": "diffusion.disable_noise"}
    quiet = pixels(run(executor, graph))  # from an all-zero latent without noise: a flat, different picture
    assert np.abs(quiet - basic).mean() > 1.0


def test_sigma_nodes_give_comfyui_numbers(executor):
    import torch

    from nodes.diffusion.sigmas import align_your_steps, set_first_sigma

    ays = align_your_steps(model_type="SD1", steps=10, denoise=1.0)
    assert len(ays) == 11 and float(ays[0]) == pytest.approx(14.6146, abs=1e-3) and float(ays[-1]) == 0
    stretched = align_your_steps(model_type="SDXL", steps=20, denoise=0.5)
    assert len(stretched) == 11 and bool(torch.all(stretched[:-1] > stretched[1:]))
    first = set_first_sigma(ays, sigma=20.0)
    assert float(first[0]) == 20.0 and float(ays[0]) != 20.0  # the input is left as it was
    graph = custom_graph(sigmas="turbo", steps=2)
    result = run(executor, graph, only=("sigmas",))
    turbo = result.outputs["sigmas"]["sigmas"]
    assert len(turbo) == 3 and float(turbo[-1]) == 0 and float(turbo[0]) == pytest.approx(14.6, abs=0.1)
    basic = run(executor, custom_graph(steps=6), only=("sigmas",)).outputs["sigmas"]["sigmas"]
    assert len(basic) == 7 and float(basic[-1]) == 0
    # the tiny random UNet hardly minds its timestep, so a schedule shows in its sigmas, not its picture
    karras = run(executor, custom_graph(steps=6, scheduler="karras"), only=("sigmas",)).outputs["sigmas"]["sigmas"]
    assert float(karras[0]) == pytest.approx(float(basic[0]), rel=1e-3)
    assert float(torch.abs(karras[1:-1] - basic[1:-1]).max()) > 0.1



def test_sigmas_ending_above_zero_go_to_solvers_that_can_stop_there(tiny_models):
    import diffusers
    import torch

    from nodes.diffusion.custom_sampling import _set_sigmas

    config = diffusers.DDIMScheduler.load_config(str(tiny_models / "tiny-sd" / "scheduler"))
    partial = torch.tensor([14.6, 5.0, 2.0, 1.0])  # the first half of a split run
    euler = diffusers.EulerDiscreteScheduler.from_config(config)
    _set_sigmas(euler, partial, config, "cpu")
    assert torch.allclose(euler.sigmas, partial) and len(euler.timesteps) == 3
    ddpm = diffusers.DDPMScheduler.from_config(config)  # takes timesteps, and always ends at zero noise
    with pytest.raises(ValueError, match="only sample down to zero noise"):
        _set_sigmas(ddpm, partial, config, "cpu")


def test_custom_sampling_shows_progress_and_a_preview_at_every_step(executor):
    from nodeflow.events import EventLog

    log = EventLog()
    result = executor.run(parse_graph(custom_graph(steps=3)), only=["decode"], on_event=log)
    assert result.status == "ok", result.error
    previews = [e for e in log.of("preview") if e["node"] == "sample"]
    progress = [e for e in log.of("progress") if e["node"] == "sample"]
    assert len(previews) == 3 and progress[-1]["value"] == progress[-1]["max"] == 3
    finished = {e["node"]: e for e in log.of("node_finished")}
    assert {"sigmas", "noise", "guider", "select", "sample"} <= set(finished)
