"""Custom sampling, as ComfyUI draws it: pick the solver, the noise levels (sigmas), the noise and the
guider apart, then sample with all four (``diffusion.sample_custom``, ComfyUI's SamplerCustomAdvanced).

The solvers are diffusers' schedulers. Custom sigmas reach them in one of three ways, by what the
scheduler class takes: ``set_timesteps(sigmas=...)`` (Euler), ``set_timesteps(timesteps=...)`` with the
timesteps those sigmas stand for (Heun, DDPM, LCM), or the sigma table set after a plain
``set_timesteps`` (the solvers that read only ``sigmas[i]`` and ``sigmas[i+1]``: Euler ancestral, LMS,
DPM-Solver++, UniPC). Solvers that take none of these stand in for the nearest (``SUBSTITUTES``);
ComfyUI's own ``ddim`` is Euler too. Noise, the start from an empty latent and the noise mask follow
``diffusion.sampler``, so the same choices paint its picture.

Models: UNet denoisers of Stable Diffusion 1.x/2.x (epsilon and v-prediction) and SDXL (with its size
and crop time ids, and the refiner's aesthetic score) run in this module's loop. Flow-matching models
(SD3, Flux) run through their family's diffusers pipeline with the sigmas as given
(``family_sampling.sample_with_pipeline``): the flow-matching Euler solver, from an empty latent or a
latent noised to the first sigma (image to image), down to zero noise; a Flux guidance on the conditioning is the distilled guidance, the guider's CFG true CFG.
"""

from __future__ import annotations

import inspect
from itertools import pairwise
from typing import Any, NamedTuple

from nodeflow import Conditioning, Context, Denoiser, Latent, LatentImage, Param, node
from nodes.diffusion.families import family_of_pipeline
from nodes.diffusion.family_sampling import sample_with_pipeline
from nodes.diffusion.latents import as_latent
from nodes.diffusion.parts import use_part
from nodes.diffusion.previews import latents_to_rgb
from nodes.diffusion.sampling_types import Guider, GuiderValue, Noise, NoiseSource, Sampler, SamplerChoice, Sigmas
from nodes.diffusion.schedulers import SAMPLERS, make_scheduler
from nodes.diffusion.sigmas import CUSTOM_SAMPLING as _CATEGORY
from nodes.diffusion.sigmas import sigma_to_timestep

__all__ = ["SUBSTITUTES", "sample_with_sigmas"]

SAMPLER_NAMES = tuple(name for name in SAMPLERS if name != "model default")

# solvers whose diffusers class takes no custom schedule -> the one that runs in their place
SUBSTITUTES = {"ddim": "euler", "dpm_2": "heun", "dpm_2_ancestral": "euler_ancestral", "deis": "uni_pc"}
_SIGMA_TABLE = {"EulerAncestralDiscreteScheduler", "LMSDiscreteScheduler", "DPMSolverMultistepScheduler",
                "DPMSolverSinglestepScheduler", "UniPCMultistepScheduler"}

# --- sampler, noise, guiders ---------------------------------------------------------------------


@node("diffusion.sampler_select", category=_CATEGORY, outputs=("sampler",), title="Sampler select")
def sampler_select(*, sampler_name: str = Param("euler", choices=SAMPLER_NAMES, description="ComfyUI's names")) -> Sampler:
    """Choose the solver for custom sampling (ComfyUI's KSamplerSelect)."""
    return SamplerChoice(sampler_name)


@node("diffusion.random_noise", category=_CATEGORY, outputs=("noise",), title="Random noise")
def random_noise(*, noise_seed: int = Param(0, kind="seed", description="batch item i uses seed + i")) -> Noise:
    """Starting noise from a seed."""
    return NoiseSource(noise_seed)


@node("diffusion.disable_noise", category=_CATEGORY, outputs=("noise",), title="Disable noise")
def disable_noise() -> Noise:
    """No starting noise: the latent is already noisy (a later pass of a split run)."""
    return NoiseSource(None)


@node("diffusion.basic_guider", category=_CATEGORY, outputs=("guider",), title="Basic guider")
def basic_guider(model: Denoiser, conditioning: Conditioning) -> Guider:
    """Steer the model by one conditioning, without classifier-free guidance."""
    return GuiderValue(model, conditioning)


@node("diffusion.cfg_guider", category=_CATEGORY, outputs=("guider",), title="CFG guider")
def cfg_guider(
    model: Denoiser,
    positive: Conditioning,
    negative: Conditioning,
    *,
    cfg: float = Param(8.0, min=0, max=100, step=0.1, description="how closely to follow the prompt"),
) -> Guider:
    """Steer the model towards positive and away from negative (classifier-free guidance)."""
    return GuiderValue(model, positive, negative, cfg)


# --- the sampling loop ---------------------------------------------------------------------------


def _denoiser(pipe: Any) -> Any:
    """The UNet that predicts noise (Stable Diffusion 1.x/2.x, or SDXL with its size and crop time ids)."""
    unet = getattr(pipe, "unet", None)
    if unet is None:
        raise ValueError(f"custom sampling of this loop runs UNet models; {type(pipe).__name__} is not one")
    if getattr(unet.config, "addition_embed_type", None) not in (None, "text_time"):
        raise ValueError(f"custom sampling runs Stable Diffusion 1.x/2.x and SDXL UNets; this one needs "
                         f"{unet.config.addition_embed_type!r} embeddings")
    return unet


def _time_ids(unet: Any, pooled_width: int, height: int, width: int, aesthetic: float, device: Any, dtype: Any) -> Any:
    """SDXL's micro-conditioning for a picture of ``height`` x ``width`` pixels, as its pipelines make it:
    (original size, crop corner, target size) for the base model, (original size, crop corner, aesthetic
    score) for the refiner (6 for the positive prompt, 2.5 for the negative: diffusers' defaults). The
    UNet's class embedding takes the pooled text embedding and the ids: what is left says how many ids."""
    import torch

    count = (unet.config.projection_class_embeddings_input_dim - pooled_width) // unet.config.addition_time_embed_dim
    values = [height, width, 0, 0, height, width] if count == 6 else [height, width, 0, 0, aesthetic]
    return torch.tensor([values], dtype=dtype, device=device)


def _set_sigmas(scheduler: Any, sigmas: Any, config: Any, device: Any) -> None:
    """Make ``scheduler`` step through ``sigmas`` (see the module docstring for the three ways)."""
    import torch

    accepted = inspect.signature(scheduler.set_timesteps).parameters
    name = type(scheduler).__name__
    values = sigmas.float().cpu()
    if name == "EulerDiscreteScheduler":
        scheduler.set_timesteps(sigmas=values.tolist(), device=device)
    elif name in _SIGMA_TABLE:
        scheduler.set_timesteps(len(values) - 1, device=device)
        scheduler.sigmas = values.clone()
        timesteps = torch.from_numpy(sigma_to_timestep(values[:-1], config)).float()
        scheduler.timesteps = timesteps.to(device)
    elif "timesteps" in accepted:
        if float(values[-1]) != 0:  # these schedulers always end at zero noise
            raise ValueError(f"{name} can only sample down to zero noise; these sigmas end at {float(values[-1]):.4g}: "
                             "use euler, euler_ancestral, lms, dpmpp_* or uni_pc for a partial schedule")
        timesteps = [round(float(t)) for t in sigma_to_timestep(values[:-1], config)]
        if any(a <= b for a, b in pairwise(timesteps)):
            raise ValueError(f"{name} needs sigmas that fall by at least one training step each; got {values.tolist()}")
        scheduler.set_timesteps(timesteps=timesteps, device=device)
    else:  # pragma: no cover - every name in SAMPLER_NAMES is handled above or substituted
        raise ValueError(f"{name} cannot take custom sigmas")


def _cells(area: tuple[int, int, int, int] | None, factor: int, height: int, width: int) -> tuple[int, int, int, int]:
    """A part's area (pixels) in latent cells, inside the latent; no area is the whole latent."""
    if area is None:
        return height, width, 0, 0
    h, w, y, x = (max(0, round(v / factor)) for v in area)
    y, x = min(y, height - 1), min(x, width - 1)
    return max(1, min(h, height - y)), max(1, min(w, width - x)), y, x


def _group_prediction(unet: Any, scaled: Any, t: Any, parts: tuple, dtype: Any, factor: int, aesthetic: float = 6.0) -> Any:
    """The noise predicted for one conditioning: each part's prediction (over its area, with its extra
    channels) weighted by its strength, like diffusion.sampler mixes combined prompts. An area is a
    hard-edged rectangle (ComfyUI feathers its edges a little). SDXL's time ids describe the whole picture."""
    import torch

    batch, _, height, width = scaled.shape
    extra = unet.config.in_channels - scaled.shape[1]
    text_time = getattr(unet.config, "addition_embed_type", None) == "text_time"

    if getattr(unet.config, "class_embed_type", None) == "projection" and not text_time:
        raise ValueError("an unCLIP model is sampled by diffusion.sampler (KSampler, KSamplerAdvanced without start "
                         "and end steps), not yet by custom sampling, areas or extra channels")

    def added(part: Any) -> dict[str, Any]:
        if not text_time:
            return {}
        if part.pooled is None:
            raise ValueError("the conditioning has no pooled embedding: encode the prompt with the SDXL model's text encoders")
        pooled = part.pooled.to(scaled.device, dtype)
        ids = _time_ids(unet, pooled.shape[-1], height * factor, width * factor, aesthetic, scaled.device, dtype)
        return {"added_cond_kwargs": {"text_embeds": pooled.repeat(batch, 1), "time_ids": ids.repeat(batch, 1)}}

    def predict(part: Any) -> Any:
        x = scaled
        if extra > 0:
            if part.concat is None or part.concat.shape[1] != extra:
                raise ValueError(
                    f"this model takes {extra} extra input channels (an inpainting or instruct-pix2pix model): "
                    "condition it with diffusion.inpaint_conditioning or diffusion.instruct_pix2pix_conditioning"
                )
            concat = part.concat.to(x.device, dtype)
            if concat.shape[-2:] != x.shape[-2:]:
                raise ValueError(f"the conditioning's picture is {tuple(concat.shape[-2:])} latent cells but the latent is {tuple(x.shape[-2:])}")
            x = torch.cat([x, concat.expand(batch, -1, -1, -1)], dim=1)
        embeds = part.embeds.to(x.device, dtype).repeat(batch, 1, 1)
        if part.area is not None:
            h, w, y, x0 = _cells(part.area, factor, height, width)
            x = x[:, :, y : y + h, x0 : x0 + w]
        return unet(x, t, encoder_hidden_states=embeds, return_dict=False, **added(part))[0]

    if len(parts) == 1 and parts[0].area is None:
        return predict(parts[0])  # the plain case: no arithmetic, as diffusion.sampler does it
    total = torch.zeros(batch, unet.config.out_channels, height, width, device=scaled.device, dtype=dtype)
    weight = torch.zeros(1, 1, height, width, device=scaled.device, dtype=dtype)
    for part in parts:
        h, w, y, x0 = _cells(part.area, factor, height, width)
        total[:, :, y : y + h, x0 : x0 + w] += part.strength * predict(part)
        weight[:, :, y : y + h, x0 : x0 + w] += part.strength
    return total / weight.clamp_min(1e-8)


def _predict_noise(unet: Any, latents: Any, t: Any, guider: GuiderValue, scheduler: Any, factor: int, dtype: Any) -> Any:
    # dtype from the caller: diffusers' ``unet.dtype`` walks every module, a few ms at each step
    scaled = scheduler.scale_model_input(latents, t)
    positive = _group_prediction(unet, scaled, t, guider.positive.parts, dtype, factor)
    use_negative = guider.negative is not None and guider.cfg != 1 and unet.config.time_cond_proj_dim is None
    if not use_negative:
        return positive
    negative = _group_prediction(unet, scaled, t, guider.negative.parts, dtype, factor, aesthetic=2.5)
    return negative + guider.cfg * (positive - negative)


class Sampled(NamedTuple):
    output: Latent
    denoised: Latent


def sample_with_sigmas(
    guider: GuiderValue, sampler: str, sigmas: Any, latent: LatentImage, noise: NoiseSource, ctx: Context | None,
) -> Sampled:
    """Denoise ``latent`` through ``sigmas`` with the solver ``sampler``, steered by ``guider``."""
    import torch

    if not guider.positive.parts or (guider.negative is not None and not guider.negative.parts):
        raise ValueError("a conditioning is empty: link an encoded prompt (an empty prompt is fine for negative)")
    if len(sigmas) < 2:
        return Sampled(latent, latent)  # nothing to step through (ComfyUI returns the latent as it is)
    pipe = use_part(guider.model)
    if family_of_pipeline(pipe).flow:  # SD3, Flux: the family's pipeline steps through the sigmas
        return _sample_flow(pipe, guider, sampler, sigmas, latent, noise, ctx)
    unet = _denoiser(pipe)
    device, dtype = unet.device, unet.dtype
    samples = latent.samples
    factor = getattr(pipe, "vae_scale_factor", 8)
    if factor != 8 and latent.noise_mask is None and not torch.any(samples):
        # an empty latent is sized for the usual 8 pixels per cell; this model's VAE has another scale
        height, width = (size * 8 // factor for size in samples.shape[-2:])
        samples = torch.zeros(*samples.shape[:2], height, width)
    if samples.shape[1] > unet.config.in_channels:
        raise ValueError(f"the latent has {samples.shape[1]} channels but the model takes {unet.config.in_channels}")

    # 1. The solver, made to step through these sigmas
    name = SUBSTITUTES.get(sampler, sampler)
    config = pipe.scheduler.config
    scheduler = make_scheduler(config, name, "normal")
    _set_sigmas(scheduler, sigmas, config, device)
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(0)
    timesteps = scheduler.timesteps

    # 2. Noise (batch item i from seed + i, or one seed for all), added at the first sigma
    batch = samples.shape[0]
    drawn = noise.draw(tuple(samples.shape), same_for_batch=getattr(latent, "same_noise", False)).to(device, dtype)
    original = samples.to(device, dtype)
    if noise.seed is None:
        latents = original
    elif not torch.any(original):  # from an empty latent, as diffusion.sampler starts
        latents = drawn * scheduler.init_noise_sigma
    else:
        latents = scheduler.add_noise(original, drawn, timesteps[:1].repeat(batch))
    mask = None if latent.noise_mask is None else latent.noise_mask.to(device, dtype)
    differential = getattr(guider.model, "differential", False)
    t_from, t_to = float(timesteps[0]), float(sigma_to_timestep([float(sigmas[-1])], config)[0])

    # 3. The denoising loop
    options: dict[str, Any] = {}
    accepted = inspect.signature(scheduler.step).parameters
    if "eta" in accepted:
        options["eta"] = 0.0
    if "generator" in accepted and noise.seed is not None:
        options["generator"] = torch.Generator("cpu").manual_seed(noise.seed)
    denoised = latents
    if ctx is not None:
        ctx.check()
    with torch.no_grad():
        for index, t in enumerate(timesteps):
            noise_pred = _predict_noise(unet, latents, t, guider, scheduler, factor, dtype)
            out = scheduler.step(noise_pred, t, latents, **options, return_dict=True)
            latents = out.prev_sample
            found = getattr(out, "pred_original_sample", None)
            denoised = found if found is not None else latents
            if mask is not None:  # outside the mask: the original, noised to the level of the next step
                step_mask = mask
                if differential:  # Differential Diffusion: grey levels join the repaint as the noise falls
                    threshold = (float(t) - t_to) / max(t_from - t_to, 1e-8)
                    step_mask = (mask >= threshold).to(dtype)
                keep = original
                if index < len(timesteps) - 1:
                    keep = scheduler.add_noise(original, drawn, timesteps[index + 1 : index + 2].repeat(batch))
                latents = (1 - step_mask) * keep + step_mask * latents
                denoised = (1 - mask) * original + mask * denoised
            if ctx is not None:
                ctx.progress(index + 1, len(timesteps))  # raises Cancelled between steps when asked to stop
                if ctx.previews_wanted:  # nobody listening: no picture to make
                    ctx.preview(latents_to_rgb(latents))
    def as_cpu(x):
        return x.to("cpu", torch.float32)
    return Sampled(LatentImage(as_cpu(latents), latent.noise_mask), LatentImage(as_cpu(denoised), latent.noise_mask))


def _sample_flow(pipe: Any, guider: GuiderValue, sampler: str, sigmas: Any, latent: LatentImage, noise: NoiseSource,
                 ctx: Context | None) -> Sampled:
    """Custom sampling of a flow-matching model through its family's pipeline (``sample_with_pipeline``):
    the flow-matching Euler solver, the one these models are run with."""
    if noise.seed is None:
        raise ValueError("disabled noise (a later pass of a split run) is done for Stable Diffusion 1.x/2.x and SDXL "
                         "only, not yet for flow-matching models (SD3, Flux)")
    cfg = guider.cfg if guider.negative is not None else 1.0
    out = sample_with_pipeline(
        pipe, dict(getattr(guider.model, "options", ())), guider.positive, guider.negative or guider.positive, latent,
        ctx, seed=noise.seed, steps=len(sigmas) - 1, guidance=cfg, sampler=sampler, scheduler="normal", denoise=1.0,
        start_step=0, end_step=-1, add_noise=True, sigmas=sigmas, same_noise=getattr(latent, "same_noise", False),
    )
    return Sampled(out, out)  # the last step lands on zero noise: the output is the model's last guess


@node("diffusion.sample_custom", category=_CATEGORY, title="Sample (custom)")
def sample_custom(noise: Noise, guider: Guider, sampler: Sampler, sigmas: Sigmas, latent: Latent, ctx: Context) -> Sampled:
    """Sample with a chosen noise, guider, solver and sigmas (ComfyUI's SamplerCustomAdvanced).
    ``denoised`` is the model's last guess of the clean latent."""
    return sample_with_sigmas(guider, sampler.name, sigmas, as_latent(latent), noise, ctx)


@node("diffusion.sampler_custom", category=_CATEGORY, title="Sampler (custom)")
def sampler_custom(
    model: Denoiser,
    positive: Conditioning,
    negative: Conditioning,
    sampler: Sampler,
    sigmas: Sigmas,
    latent: Latent,
    ctx: Context,
    *,
    add_noise: bool = Param(True, description="off: the latent is already noisy"),
    noise_seed: int = Param(0, kind="seed", description="batch item i uses seed + i"),
    cfg: float = Param(8.0, min=0, max=100, step=0.1, description="how closely to follow the prompt"),
) -> Sampled:
    """Sample with a chosen solver and sigmas, CFG and a seed in one node (ComfyUI's SamplerCustom)."""
    guider = GuiderValue(model, positive, negative, cfg)
    noise = NoiseSource(noise_seed if add_noise else None)
    return sample_with_sigmas(guider, sampler.name, sigmas, as_latent(latent), noise, ctx)
