"""Noise levels (sigmas) for custom sampling: ComfyUI's BasicScheduler as a function and as a node, SD Turbo's,
Align Your Steps', and setting the first level; and the training timesteps that sigmas stand for."""

from __future__ import annotations

from typing import Any

from nodeflow import Denoiser, Param, node
from nodes.diffusion.families import family_of_pipeline
from nodes.diffusion.family_sampling import flow_sigmas
from nodes.diffusion.parts import use_part
from nodes.diffusion.sampling_types import Sigmas
from nodes.diffusion.schedulers import SCHEDULES, make_scheduler

__all__ = ["AYS_SIGMAS", "CUSTOM_SAMPLING", "schedule_sigmas", "sigma_to_timestep"]

CUSTOM_SAMPLING = "Diffusion / Custom sampling"  # the palette category of these nodes and custom_sampling's
_CATEGORY = CUSTOM_SAMPLING

# Align Your Steps: NVIDIA's published 10-step noise levels (Sabour et al., 2024), per model kind
AYS_SIGMAS = {
    "SD1": [14.6146412293, 6.4745760956, 3.8636745985, 2.6946151520, 1.8841921177, 1.3943805092, 0.9642583904,
            0.6523686016, 0.3977456272, 0.1515232662, 0.0291671582],
    "SDXL": [14.6146412293, 6.3184485287, 3.7681790315, 2.1811480769, 1.3405244945, 0.8620721141, 0.5550693289,
             0.3798540708, 0.2332364134, 0.1114188177, 0.0291671582],
    "SVD": [700.00, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002],
}


# --- sigmas --------------------------------------------------------------------------------------


def _alphas_cumprod(config: Any) -> Any:
    import diffusers

    return diffusers.DDPMScheduler.from_config(config).alphas_cumprod


def sigma_to_timestep(sigmas: Any, config: Any) -> Any:
    """The (fractional) training timesteps that ``sigmas`` stand for, interpolated in log sigma."""
    import numpy as np

    alphas = _alphas_cumprod(config).numpy().astype(np.float64)
    log_sigmas = np.log(((1 - alphas) / alphas) ** 0.5)
    wanted = np.log(np.clip(np.asarray(sigmas, dtype=np.float64), np.exp(log_sigmas[0]), None))
    return np.interp(wanted, log_sigmas, np.arange(len(log_sigmas)))


def schedule_sigmas(config: Any, schedule: str, steps: int, denoise: float) -> Any:
    """ComfyUI's BasicScheduler: the last ``steps + 1`` sigmas of a ``steps / denoise`` schedule."""
    import torch

    if denoise <= 0:
        return torch.zeros(0)
    total = steps if denoise >= 1 else int(steps / denoise)
    scheduler = make_scheduler(config, "euler", schedule)
    scheduler.set_timesteps(total)
    return scheduler.sigmas.float()[-(steps + 1):].clone()


def _model_config(model: Any) -> Any:
    config = use_part(model).scheduler.config
    if "FlowMatch" in config.get("_class_name", ""):
        raise ValueError("this model samples by flow matching: its noise levels come from diffusion.scheduler_sigmas")
    return config


@node("diffusion.scheduler_sigmas", category=_CATEGORY, outputs=("sigmas",), title="Scheduler sigmas")
def scheduler_sigmas(
    model: Denoiser,
    *,
    scheduler: str = Param("normal", choices=tuple(SCHEDULES), description="the noise schedule (ComfyUI's names)"),
    steps: int = Param(20, min=1, max=10000),
    denoise: float = Param(1.0, min=0, max=1, step=0.01, description="less than 1: the tail of a longer schedule"),
) -> Sigmas:
    """The noise levels of a schedule for this model (ComfyUI's BasicScheduler)."""
    pipe = use_part(model)
    if family_of_pipeline(pipe).flow:  # SD3, Flux: the family pipeline's own flow-matching schedule
        return flow_sigmas(pipe, dict(getattr(model, "options", ())), scheduler, steps, denoise)
    return schedule_sigmas(_model_config(model), scheduler, steps, denoise)


@node("diffusion.turbo_sigmas", category=_CATEGORY, outputs=("sigmas",), title="SD Turbo sigmas")
def turbo_sigmas(
    model: Denoiser,
    *,
    steps: int = Param(1, min=1, max=10),
    denoise: float = Param(1.0, min=0, max=1, step=0.01),
) -> Sigmas:
    """The few noise levels SD Turbo was distilled for: timesteps 999, 899, ... (ComfyUI's SDTurboScheduler)."""
    import torch

    start = 10 - int(10 * denoise)
    timesteps = (torch.arange(10, 0, -1) * 100 - 1)[start : start + steps]
    alphas = _alphas_cumprod(_model_config(model))[timesteps]
    return torch.cat([((1 - alphas) / alphas) ** 0.5, torch.zeros(1)]).float()


def _loglinear(values: list[float], count: int) -> list[float]:
    """``values`` (decreasing) resampled to ``count`` points, linearly in log space."""
    import numpy as np

    xs = np.linspace(0, 1, len(values))
    ys = np.log(np.asarray(values[::-1]))
    return list(np.exp(np.interp(np.linspace(0, 1, count), xs, ys))[::-1])


@node("diffusion.align_your_steps", category=_CATEGORY, outputs=("sigmas",), title="Align Your Steps sigmas")
def align_your_steps(
    *,
    model_type: str = Param("SD1", choices=tuple(AYS_SIGMAS)),
    steps: int = Param(10, min=1, max=10000),
    denoise: float = Param(1.0, min=0, max=1, step=0.01),
) -> Sigmas:
    """Noise levels optimised for few steps (NVIDIA's Align Your Steps), stretched to ``steps``."""
    import torch

    if denoise <= 0:
        return torch.zeros(0)
    total = steps if denoise >= 1 else round(steps * denoise)
    levels = list(AYS_SIGMAS[model_type])
    if steps + 1 != len(levels):
        levels = _loglinear(levels, steps + 1)
    sigmas = torch.tensor(levels, dtype=torch.float32)[-(total + 1):].clone()
    sigmas[-1] = 0
    return sigmas


@node("diffusion.set_first_sigma", category=_CATEGORY, outputs=("sigmas",), title="Set first sigma")
def set_first_sigma(sigmas: Sigmas, *, sigma: float = Param(136.0, min=0, max=20000, step=0.001)) -> Sigmas:
    """Replace the first (highest) noise level, e.g. to start from more noise than the schedule says."""
    if len(sigmas) == 0:
        raise ValueError("the sigmas are empty: there is no first sigma to set")
    changed = sigmas.clone()
    changed[0] = sigma
    return changed
