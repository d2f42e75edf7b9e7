"""The step-level sampler: denoise latents with a model, guided by a positive and a negative conditioning.

It does what a diffusers pipeline does inside its ``__call__`` (same noise, same scheduler calls, same
classifier-free guidance), so a text-to-image graph built from step nodes gives the pipeline node's
picture for the same seed and settings. ``denoise`` below 1 starts part-way, from the given latents
(image to image, the second pass of a hires fix): the schedule is made for ``steps / denoise`` steps
and its last ``steps`` run, as ComfyUI's KSampler does. A noise mask keeps the latents outside it.

That loop is Stable Diffusion 1.x/2.x's. Prompts with an area or extra channels (and models that take
extra channels) go through the custom-sampling loop instead, with the schedule's sigmas, as do split
SDXL runs (start and end steps, add_noise off: a base and refiner pair). SDXL, SD3 and
Flux models are sampled by their family's own diffusers pipeline, fed with the encoded prompts
(``family_sampling.py``).
"""

from __future__ import annotations

from typing import Any

from nodeflow import Conditioning, ConditioningValue, Context, Denoiser, Latent, LatentImage, Param, node
from nodes.diffusion.families import family_of_pipeline
from nodes.diffusion.family_sampling import family_scheduler, sample_with_pipeline
from nodes.diffusion.latents import as_latent
from nodes.diffusion.parts import use_part
from nodes.diffusion.previews import latents_to_rgb
from nodes.diffusion.sampling import latent_scale
from nodes.diffusion.schedulers import SAMPLERS, SCHEDULES
from nodes.diffusion.unclip import class_labels, is_unclip

__all__ = ["sampler", "denoise_latents"]


def _controlled_unet(unet: Any, x: Any, t: Any, embeds: Any, controls: list[tuple[Any, Any, float]],
                     labels: Any = None) -> Any:
    """The UNet's prediction with the residuals of each active ControlNet added (as diffusers' ControlNet
    pipelines add them)."""
    down, mid = None, None
    for model, hint, scale in controls:
        d, m = model(x, t, encoder_hidden_states=embeds, controlnet_cond=hint.repeat(x.shape[0], 1, 1, 1),
                     conditioning_scale=scale, return_dict=False)
        down = d if down is None else [a + b for a, b in zip(down, d, strict=False)]
        mid = m if mid is None else mid + m
    extra = {} if down is None else {"down_block_additional_residuals": down, "mid_block_additional_residual": mid}
    if labels is not None:
        extra["class_labels"] = labels
    return unet(x, t, encoder_hidden_states=embeds, return_dict=False, **extra)[0]


def _guided_noise(unet: Any, latents: Any, t: Any, positive: ConditioningValue, negative: ConditioningValue,
                  guidance: float, scheduler: Any, active: dict[int, list] | None = None, *,
                  device: Any, dtype: Any, labels: dict[int, Any] | None = None) -> Any:
    """One prediction of the noise, mixing each conditioning's parts by strength, with guidance;
    ``active`` maps a part's id to the ControlNets that steer it at this step. ``device`` and ``dtype``
    are the unet's, read once by the caller: diffusers' ``unet.device`` walks every module (ms a step).
    ``labels``: an unCLIP UNet's class label for each part, by its id (``unclip.class_labels``)."""
    import torch

    batch = latents.shape[0]
    use_negative = guidance > 1 and unet.config.time_cond_proj_dim is None
    groups = ([negative.parts] if use_negative else []) + [positive.parts]
    parts = [part for group in groups for part in group]
    embeds = [p.embeds.to(device, dtype).repeat(batch, 1, 1) for p in parts]
    model_input = scheduler.scale_model_input(torch.cat([latents] * len(parts)), t)
    active = active or {}
    if len({tuple(e.shape[1:]) for e in embeds}) == 1 and not any(active.get(id(p)) for p in parts):
        extra = {} if labels is None else {"class_labels": torch.cat([labels[id(p)] for p in parts])}
        predictions = unet(model_input, t, encoder_hidden_states=torch.cat(embeds), return_dict=False,
                           **extra)[0].chunk(len(parts))
    else:  # prompts of different lengths, or ControlNets on some: one call each
        chunks = model_input.chunk(len(parts))
        predictions = [_controlled_unet(unet, x, t, e, active.get(id(p), []), None if labels is None else labels[id(p)])
                       for x, e, p in zip(chunks, embeds, parts, strict=False)]
    mixed, index = [], 0
    for group in groups:
        own = predictions[index : index + len(group)]
        index += len(group)
        if len(own) == 1:
            mixed.append(own[0])  # the pipeline's case: no arithmetic, so results match it exactly
        else:
            weights = [p.strength for p in group]
            mixed.append(sum(w * x for w, x in zip(weights, own, strict=False)) / max(sum(weights), 1e-8))
    if not use_negative:
        return mixed[0]
    return mixed[0] + guidance * (mixed[1] - mixed[0])


def denoise_latents(
    model: Any, positive: ConditioningValue, negative: ConditioningValue, latent: LatentImage, ctx: Context | None, *,
    seed: int, steps: int, guidance: float, sampler: str, scheduler: str, denoise: float,
    start_step: int = 0, end_step: int = -1, add_noise: bool = True, leftover_noise: bool = True,
) -> LatentImage:
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    pipe = use_part(model)
    if not positive.parts or not negative.parts:
        raise ValueError("a conditioning is empty: link an encoded prompt (an empty prompt is fine for negative)")
    options = dict(getattr(model, "options", ()))
    split = bool(start_step) or end_step not in (-1, steps) or not add_noise
    # ComfyUI's return_with_leftover_noise off: a run that stops early finishes the picture at its end step
    finish = not leftover_noise and 0 <= end_step < steps
    if split and (family_of_pipeline(pipe).name == "sdxl" or finish and family_of_pipeline(pipe).name == "sd1"):
        # diffusers' SDXL pipelines start part-way only at a fraction of the schedule: the custom-sampling
        # loop (the SDXL UNet with its size and crop ids) runs the part at the schedule's own levels
        return _through_custom_loop(model, positive, negative, latent, ctx, seed=seed, steps=steps, guidance=guidance,
                                    sampler=sampler, scheduler=scheduler, denoise=denoise,
                                    split=(start_step, end_step, add_noise, finish))
    if family_of_pipeline(pipe).name != "sd1":  # SDXL, SD3, Flux: the family's own pipeline loop
        return sample_with_pipeline(
            pipe, options, positive, negative, latent, ctx, seed=seed, steps=steps, guidance=guidance,
            sampler=sampler, scheduler=scheduler, denoise=denoise, start_step=start_step, end_step=end_step,
            add_noise=add_noise, finish=finish,
        )
    unet = pipe.unet
    if _needs_custom_loop(unet, latent, [*positive.parts, *negative.parts]):
        return _through_custom_loop(model, positive, negative, latent, ctx, seed=seed, steps=steps, guidance=guidance,
                                    sampler=sampler, scheduler=scheduler, denoise=denoise,
                                    split=(start_step, end_step, add_noise, finish) if split else None)
    samples = latent.samples
    factor = getattr(pipe, "vae_scale_factor", 8)
    if factor != 8 and latent.noise_mask is None and not torch.any(samples):
        # an empty latent is sized for the usual 8 pixels per cell; this model's VAE has another scale
        height, width = (size * 8 // factor for size in samples.shape[-2:])
        samples = torch.zeros(*samples.shape[:2], height, width)
    if samples.shape[1] != unet.config.in_channels:
        raise ValueError(f"the latent has {samples.shape[1]} channels but the model takes {unet.config.in_channels}")
    device, dtype = unet.device, unet.dtype
    schedule = family_scheduler(pipe, family_of_pipeline(pipe), sampler, scheduler, options)

    # 1. The schedule: `steps / denoise` steps, of which the last `steps` run (then start..end of them)
    total = steps if denoise >= 1 else max(steps, int(steps / denoise))
    schedule.set_timesteps(total, device=device)
    order = getattr(schedule, "order", 1)
    first = (total - steps + start_step) * order
    last = len(schedule.timesteps) if end_step < 0 or end_step >= steps else (total - steps + end_step) * order
    timesteps = schedule.timesteps[first:last]
    if len(timesteps) == 0:
        return latent
    if hasattr(schedule, "set_begin_index"):
        schedule.set_begin_index(first)

    # 2. Noise: one CPU generator per batch item (seed + i), as the pipeline nodes draw it
    batch = samples.shape[0]
    generators = [torch.Generator("cpu").manual_seed(seed + i) for i in range(batch)]
    # an unCLIP model's pictures are noised first, from the same generators, as its pipeline does
    labels = class_labels(pipe, [*negative.parts, *positive.parts], generators, device, dtype) if is_unclip(unet) else None
    noise = randn_tensor(tuple(samples.shape), generator=generators, device=device, dtype=dtype)
    original = samples.to(device, dtype)
    if not add_noise:
        latents = original
    elif first == 0 and not torch.any(original):  # text to image from an empty latent
        latents = noise * schedule.init_noise_sigma
    else:
        latents = schedule.add_noise(original, noise, timesteps[:1].repeat(batch))
    mask = None if latent.noise_mask is None else latent.noise_mask.to(device, dtype)

    # 3. The denoising loop
    step_options: dict[str, Any] = {}
    import inspect

    accepted = inspect.signature(schedule.step).parameters
    if "eta" in accepted:
        step_options["eta"] = 0.0
    if "generator" in accepted:
        step_options["generator"] = generators
    if ctx is not None:
        ctx.check()
    controls = _controls(ctx, [*positive.parts, *negative.parts], device, dtype, tuple(latents.shape[-2:]))
    with torch.no_grad():
        for index, t in enumerate(timesteps):
            at = index / len(timesteps)
            active = {part: [(m, h, hint.strength) for m, h, hint in found if hint.start <= at <= hint.end]
                      for part, found in controls.items()}
            noise_pred = _guided_noise(unet, latents, t, positive, negative, guidance, schedule, active,
                                       device=device, dtype=dtype, labels=labels)
            latents = schedule.step(noise_pred, t, latents, **step_options, return_dict=False)[0]
            if mask is not None:  # outside the mask: the original, noised to the level of the next step
                keep = original
                if index < len(timesteps) - 1:
                    keep = schedule.add_noise(original, noise, timesteps[index + 1 : index + 2].repeat(batch))
                latents = (1 - mask) * keep + mask * latents
            if ctx is not None:
                ctx.progress(index + 1, len(timesteps))  # raises Cancelled between steps when asked to stop
                if ctx.previews_wanted:  # nobody listening: no picture to make
                    ctx.preview(latents_to_rgb(latents))
    return LatentImage(latents.to("cpu", torch.float32), latent.noise_mask, latent_scale(pipe))


def _needs_custom_loop(unet: Any, latent: LatentImage, parts: list) -> bool:
    """Whether a prompt has an area (ConditioningSetArea) or extra channels (InpaintModelConditioning,
    instruct-pix2pix), or the model takes extra channels: what the custom-sampling loop reads."""
    return (any(p.area is not None or p.concat is not None for p in parts)
            or unet.config.in_channels != latent.samples.shape[1] and latent.samples.ndim == 4)


def _through_custom_loop(model: Any, positive: ConditioningValue, negative: ConditioningValue, latent: LatentImage,
                         ctx: Context | None, *, seed: int, steps: int, guidance: float, sampler: str, scheduler: str,
                         denoise: float, split: tuple[int, int, bool, bool] | None) -> LatentImage:
    """KSampler with areas or extra channels: the custom-sampling loop with the schedule's sigmas (ComfyUI's
    KSampler is BasicScheduler + SamplerCustom too). The pipeline's own solver ("model default") runs as Euler.
    ``split`` (start step, end step, add noise, finish): KSamplerAdvanced's part of the schedule, from the start
    step's level to the end step's (the latent keeps its leftover noise; ``finish``: to zero noise), noise added
    only when asked."""
    from nodes.diffusion.custom_sampling import SAMPLER_NAMES, sample_with_sigmas
    from nodes.diffusion.sampling_types import GuiderValue, NoiseSource
    from nodes.diffusion.sigmas import schedule_sigmas

    if any(p.control for p in (*positive.parts, *negative.parts)):
        what = "split SDXL runs" if split else "prompts with an area or extra channels"
        raise ValueError(f"{what} are sampled by the custom-sampling loop, which does not take ControlNets")
    if split and denoise < 1:
        raise ValueError("start and end steps take a whole schedule: set denoise to 1 (ComfyUI's KSamplerAdvanced "
                         "has none)")
    config = use_part(model).scheduler.config
    sigmas = schedule_sigmas(config, scheduler, steps, denoise)
    noise = NoiseSource(seed)
    if split:
        start, end, add_noise, finish = split
        sigmas = sigmas[start:(steps if end < 0 or end >= steps else end) + 1].clone()
        if finish:
            sigmas[-1] = 0
        noise = NoiseSource(seed if add_noise else None)
    name = sampler if sampler in SAMPLER_NAMES else "euler"
    guider = GuiderValue(model, positive, negative, guidance)
    return sample_with_sigmas(guider, name, sigmas, latent, noise, ctx).output


def _controls(ctx: Context | None, parts: list, device: Any, dtype: Any, cells: tuple[int, int]) -> dict[int, list]:
    """part id -> [(ControlNet model, hint at the size its encoder takes, hint)] for the parts that carry
    hints; ``cells`` is the latent's (h, w)."""
    import torch.nn.functional as F

    from nodes.diffusion.controlnet import resident_controlnet

    found: dict[int, list] = {}
    for part in parts:
        for hint in part.control:
            model = resident_controlnet(ctx, hint, device, dtype)
            if type(model).__name__ != "ControlNetModel":
                raise ValueError(f"{type(model).__name__} steers other model families, not Stable Diffusion 1.x/2.x: "
                                 "use a ControlNet made for this model")
            # the hint encoder halves the picture once per block after its first
            scale = 2 ** (len(model.config.conditioning_embedding_out_channels) - 1)
            size = tuple(c * scale for c in cells)
            image = F.interpolate(hint.image, size=size, mode="bilinear", align_corners=False).to(device, dtype)
            found.setdefault(id(part), []).append((model, image, hint))
    return found


@node("diffusion.sampler", category="Diffusion / Steps", outputs=("latent",), title="Sampler")
def sampler(
    model: Denoiser,
    positive: Conditioning,
    negative: Conditioning,
    latent: Latent,
    ctx: Context,
    *,
    seed: int = Param(0, kind="seed", description="batch item i uses seed + i"),
    steps: int = Param(20, min=1, max=1000),
    guidance: float = Param(7.5, min=0, max=30, step=0.5, display="slider", description="how closely to follow the prompt (CFG)"),
    sampler: str = Param("model default", choices=tuple(SAMPLERS), description="the solver (ComfyUI's names)"),
    scheduler: str = Param("normal", choices=tuple(SCHEDULES), description="the noise schedule (ComfyUI's names)"),
    denoise: float = Param(1.0, min=0.01, max=1, step=0.01, display="slider", description="1 paints from noise; less keeps more of the latent"),
    start_step: int = Param(0, min=0, max=1000, description="skip the first steps (for multi-pass sampling)"),
    end_step: int = Param(-1, min=-1, max=1000, description="stop before this step; -1 runs to the end"),
    add_noise: bool = Param(True, description="off: the latent is already noisy (a later pass of a split run)"),
    leftover_noise: bool = Param(True, description="with an end step before the last: on hands the latent on with "
                                                   "the noise left there, off finishes the picture at that step"),
) -> Latent:
    """Denoise latents step by step. Previews show at every step; same seed, same picture."""
    return denoise_latents(
        model, positive, negative, as_latent(latent), ctx, seed=seed, steps=steps, guidance=guidance, sampler=sampler,
        scheduler=scheduler, denoise=denoise, start_step=start_step, end_step=end_step, add_noise=add_noise,
        leftover_noise=leftover_noise,
    )
