"""The step-level sampler for SDXL, SD3 and Flux: the family's own diffusers pipeline, fed with the
encoded prompts and the latent a graph made.

The pipeline's denoising loop is the one diffusers maintains for that family (SDXL's size and crop
time ids, SD3's flow matching, Flux's packed latents, image ids and guidance embedding), so a graph
of step nodes gives the pipeline node's picture for the same seed and settings. An empty latent is
painted from the pipeline's own noise; a latent with content and ``denoise`` below 1 goes through the
family's image-to-image pipeline (hires fix, a refiner pass) with ComfyUI's step count (``denoise_cut``);
ControlNet hints on a prompt pick the family's ControlNet pipeline (``family_control.py``). Split
sampling (KSamplerAdvanced's start and end steps, add_noise off) of a flow-matching model runs the
text-to-image pipeline with a scheduler pinned to that part of the schedule (``split_sigmas``,
``pinned``), from the latent at the start step's noise level. Latents come back unpacked, in the
VAE's scaled space, as ComfyUI keeps them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from nodeflow import ConditioningValue, Context, LatentImage
from nodes.diffusion.families import Family, family_of_pipeline
from nodes.diffusion.family_control import RESTARTED_FAMILIES, controlled_runner, noised_latent, predrawn_noise
from nodes.diffusion.previews import latents_to_rgb
from nodes.diffusion.sampling import latent_scale
from nodes.diffusion.schedulers import make_scheduler
from nodes.diffusion.svd import sample_stable_video
from nodes.diffusion.wan_i2v import first_frame_start, sample_wan_image_to_video

__all__ = ["denoise_cut", "family_scheduler", "flow_sigmas", "pinned", "sample_with_pipeline", "split_sigmas"]

_FLOW_SCHEDULES = {"karras": "use_karras_sigmas", "exponential": "use_exponential_sigmas", "beta": "use_beta_sigmas"}


def family_scheduler(pipe: Any, family: Family, sampler: str, schedule: str, options: dict[str, Any]) -> Any:
    """A fresh scheduler for a step-level run; ``options`` are the model's sampling settings (shift)."""
    import diffusers

    if not family.flow:
        scheduler = make_scheduler(pipe.scheduler.config, sampler, schedule, current=pipe.scheduler)
        if "prediction_type" in options:
            scheduler = type(scheduler).from_config(scheduler.config, prediction_type=options["prediction_type"])
        return scheduler
    # flow-matching models: diffusers' flow-matching Euler, the solver ComfyUI users run them with; other
    # solver names fall back to it (the README's sampler table says so)
    config = dict(pipe.scheduler.config)
    extra = {flag: True for name, flag in _FLOW_SCHEDULES.items() if name == schedule}
    if "shift" in options:
        config.update(shift=options["shift"], use_dynamic_shifting=False)
    if "mu" in options:  # ModelSamplingFlux: the shift for its width and height
        config.update(base_shift=options["mu"], max_shift=options["mu"], use_dynamic_shifting=True)
    elif config.get("use_dynamic_shifting"):
        # one shift for every size, the model's largest, as ComfyUI samples Flux and as custom sampling's
        # sigmas (which do not know the size) take it: a pipeline computes it from base and max shift
        # by the picture's size, and equal ones give the same at every size
        config.update(base_shift=config["max_shift"])
    return diffusers.FlowMatchEulerDiscreteScheduler.from_config(config, **extra)


def flow_sigmas(pipe: Any, options: dict[str, Any], schedule: str, steps: int, denoise: float) -> Any:
    """ComfyUI's BasicScheduler for a flow-matching model (SD3, Flux): the noise levels its diffusers
    pipeline steps through, with the model's shift; the last ``steps + 1`` of a ``steps / denoise``
    schedule. A shift that grows with the picture's size (Flux) is the one :func:`family_scheduler`
    fixes for every size (the sampler node takes the same)."""
    import numpy as np
    import torch

    if denoise <= 0:
        return torch.zeros(0)
    family = family_of_pipeline(pipe)
    total = steps if denoise >= 1 else int(steps / denoise)
    scheduler = family_scheduler(pipe, family, "euler", schedule, options)
    extra: dict[str, Any] = {}
    if scheduler.config.use_dynamic_shifting:
        extra["mu"] = float(scheduler.config.max_shift)
    if family.name == "flux":  # Flux's pipeline hands its scheduler evenly spaced sigmas; SD3's a step count
        scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / total, total), **extra)
    else:
        scheduler.set_timesteps(total, **extra)
    return scheduler.sigmas.float().cpu()[-(steps + 1):].clone()


def split_sigmas(pipe: Any, family: Family, options: dict[str, Any], schedule: str, steps: int, denoise: float,
                 start_step: int, end_step: int, sigmas: Any, *, finish: bool = False) -> Any:
    """KSamplerAdvanced's part of the schedule: the noise levels of a ``steps`` schedule from ``start_step``
    to ``end_step`` (-1 or past the last: to the end), for a flow-matching model. The latent comes back at
    the end step's level (ComfyUI's return_with_leftover_noise), for the next sampler to go on from, or,
    with ``finish``, denoised to zero at that step."""
    if not family.flow:
        raise ValueError(f"start and end steps and add_noise off (split sampling) are done for Stable Diffusion "
                         f"1.x/2.x and flow-matching models (SD3, Flux, Wan), not yet for {family.title}")
    if sigmas is not None or denoise < 1:
        raise ValueError("start and end steps take a whole schedule: set denoise to 1 (ComfyUI's KSamplerAdvanced "
                         "has none) and use them without custom sigmas")
    full = flow_sigmas(pipe, options, schedule, steps, 1.0)
    end = steps if end_step < 0 or end_step >= steps else end_step
    part = full[start_step:end + 1].clone()
    if finish and len(part):
        part[-1] = 0
    return part


def pinned(pipe: Any, sigmas: Any) -> Any:
    """A flow-matching Euler scheduler that steps from ``sigmas[0]`` through each to ``sigmas[-1]``, whatever
    step count or levels the pipeline asks of it: Wan's pipeline takes no sigmas, and a split run stops
    above zero noise, where a scheduler given sigmas always ends."""
    schedule = _as_given(pipe)
    given = schedule.set_timesteps
    levels = [float(value) for value in sigmas]

    def set_timesteps(num_inference_steps: Any = None, device: Any = None, sigmas: Any = None, mu: Any = None,
                      timesteps: Any = None) -> None:
        given(sigmas=levels[:-1], device=device)
        schedule.sigmas[-1] = levels[-1]

    schedule.set_timesteps = set_timesteps  # the pipelines read set_timesteps' parameters: they are kept
    return schedule


def denoise_cut(steps: int, denoise: float, *, flow: bool) -> tuple[int, float]:
    """``(num_inference_steps, strength)`` for which a diffusers image-to-image pipeline runs what ComfyUI's
    KSampler runs at this denoise: the last ``steps`` of a schedule made for ``int(steps / denoise)`` steps.
    The pipelines run ``int(total * strength)`` steps (UNet families) or ``total - int(total * (1 - strength))``
    (flow matching); half a step off ``steps / total`` lands on ``steps`` whatever the float rounding."""
    total = steps if denoise >= 1 else max(steps, int(steps / denoise))
    if total == steps:
        return total, 1.0
    return total, (steps - 0.5 if flow else steps + 0.5) / total


def _as_given(pipe: Any) -> Any:
    """A flow-matching Euler scheduler that steps through the sigmas it is given as they are (no shift)."""
    import diffusers

    return diffusers.FlowMatchEulerDiscreteScheduler.from_config(
        pipe.scheduler.config, shift=1.0, use_dynamic_shifting=False, shift_terminal=None, use_karras_sigmas=False,
        use_exponential_sigmas=False, use_beta_sigmas=False, invert_sigmas=False,
    )


def _one(conditioning: ConditioningValue, which: str, family: Family) -> Any:
    if len(conditioning.parts) != 1:
        raise ValueError(
            f"the {which} conditioning holds {len(conditioning.parts)} prompts; combining prompts is done for "
            f"Stable Diffusion 1.x/2.x only, not for {family.title}: link one encoded prompt"
        )
    return conditioning.parts[0]


def _prompt_args(family: Family, pipe: Any, positive: Any, negative: Any, guidance: float, device: Any, dtype: Any) -> dict[str, Any]:
    def put(tensor: Any) -> Any:
        return None if tensor is None else tensor.to(device, dtype)

    if family.name == "wan":
        return {"prompt_embeds": put(positive.embeds), "negative_prompt_embeds": put(negative.embeds),
                "guidance_scale": guidance}
    if positive.pooled is None and family.name != "sd1":
        raise ValueError(f"the conditioning has no pooled embedding: encode the prompt with a {family.title} text encoder")
    args: dict[str, Any] = {"prompt_embeds": put(positive.embeds)}
    if family.name in ("sdxl", "sd3"):
        args.update(
            pooled_prompt_embeds=put(positive.pooled), negative_prompt_embeds=put(negative.embeds),
            negative_pooled_prompt_embeds=put(negative.pooled), guidance_scale=guidance,
        )
    elif family.name == "flux":
        # the distilled guidance rides on the conditioning (FluxGuidance); the sampler's guidance is true CFG
        distilled = positive.guidance if positive.guidance is not None else 3.5
        args.update(pooled_prompt_embeds=put(positive.pooled), guidance_scale=distilled, true_cfg_scale=guidance)
        if guidance > 1:
            args.update(negative_prompt_embeds=put(negative.embeds), negative_pooled_prompt_embeds=put(negative.pooled))
    return args


def sample_with_pipeline(
    pipe: Any, options: dict[str, Any], positive: ConditioningValue, negative: ConditioningValue,
    latent: LatentImage, ctx: Context | None, *, seed: int, steps: int, guidance: float, sampler: str,
    scheduler: str, denoise: float, start_step: int, end_step: int, add_noise: bool, sigmas: Any = None,
    same_noise: bool = False, finish: bool = False,
) -> LatentImage:
    """Denoise ``latent`` with the family pipeline of ``pipe`` (see the module docstring). ``sigmas`` (custom
    sampling of a flow-matching model) replace the schedule: the pipeline steps through them as given,
    from noise scaled to the first; ``same_noise`` draws every batch item's noise from ``seed``."""
    import diffusers
    import torch

    family = family_of_pipeline(pipe)
    part = None  # split sampling (KSamplerAdvanced): the levels from the start step's to the end step's
    if start_step or end_step not in (-1, steps) or not add_noise:
        part = split_sigmas(pipe, family, options, scheduler, steps, denoise, start_step, end_step, sigmas, finish=finish)
        if len(part) < 2:  # no step between start and end
            return latent
    pos, neg = _one(positive, "positive", family), _one(negative, "negative", family)
    start = first_frame_start(latent) if family.name == "wan" else None
    if start is not None:  # Wan 2.2 5B from diffusion.wan22_image_to_video_latent: the picture rides on the latent
        pos, neg = replace(pos, concat=start), replace(neg, concat=start)
        latent = LatentImage(torch.zeros_like(latent.samples), None, latent.scale)
    if latent.noise_mask is not None:
        raise ValueError(f"a noise mask (inpainting) is done for Stable Diffusion 1.x/2.x only, not yet for {family.title}")
    hints = list(pos.control) or list(neg.control)  # diffusers steers both halves of CFG with one set of hints
    if family.name == "wan" and pos.concat is not None:  # a start picture (diffusion.wan_image_to_video)
        if hints or sigmas is not None or latent.samples.ndim != 5:
            raise ValueError("Wan image to video is sampled with diffusion.sampler from the latent "
                             "diffusion.wan_image_to_video makes; ControlNets and custom sigmas are not done for it")
        schedule = family_scheduler(pipe, family, sampler, scheduler, options) if part is None else pinned(pipe, part)
        return sample_wan_image_to_video(pipe, schedule, pos, neg, latent.samples, ctx, seed=seed, steps=steps,
                                         guidance=guidance, add_noise=add_noise)
    if family.name == "svd":  # a start picture (diffusion.svd_conditioning)
        if hints or sigmas is not None or denoise < 1:
            raise ValueError("Stable Video Diffusion is sampled with diffusion.sampler from the latent "
                             "diffusion.svd_conditioning makes; ControlNets, custom sigmas and denoise below 1 "
                             "are not done for it")
        return sample_stable_video(
            pipe, family_scheduler(pipe, family, sampler, scheduler, options), pos, neg, latent.samples, ctx,
            seed=seed, steps=steps, guidance=guidance, min_guidance=options.get("min_cfg"),
        )
    denoiser = getattr(pipe, family.denoiser)
    samples = latent.samples
    empty = not torch.any(samples)
    factor = getattr(pipe, "vae_scale_factor", None) or pipe.vae_scale_factor_spatial
    # an empty latent is sized for 8 pixels per cell, as ComfyUI's are; one with content has the VAE's scale
    cells = 8 if empty else factor
    height, width = (size * cells for size in samples.shape[-2:])
    batch = samples.shape[0]
    schedule = family_scheduler(pipe, family, sampler, scheduler, options) if sigmas is None else _as_given(pipe)

    img2img = not empty or "Img2Img" in type(pipe).__name__
    # SD3 and Flux have no diffusers ControlNet pipeline that repaints a latent: their ControlNet pipeline
    # starts from the latent noised to the first of BasicScheduler's denoise-cut sigmas (ComfyUI's KSampler)
    restart = bool(hints) and img2img and family.name in RESTARTED_FAMILIES and samples.ndim == 4
    if restart and sigmas is None:
        sigmas = flow_sigmas(pipe, options, scheduler, steps, denoise)
        if len(sigmas) < 2:
            return latent
    if part is not None:  # split sampling: the text-to-image pipeline from the latent at the start step's level
        restart, sigmas, img2img = True, part, False
    if restart:
        schedule = pinned(pipe, sigmas)
    control: dict[str, Any] = {}
    if hints:
        if samples.ndim == 5:
            raise ValueError(f"a ControlNet steers {family.title} pictures; on video latents it is not done yet")
        runner, control = controlled_runner(pipe, family, hints, ctx, repaint=img2img and not restart)
    elif img2img and "Img2Img" not in type(pipe).__name__:
        runner = diffusers.AutoPipelineForImage2Image.from_pipe(pipe)  # shares the modules: no copies
        runner.set_progress_bar_config(disable=True)
        runner.vae_scale_factor = factor  # a model loaded alone has no VAE to read it from (components.py sets it)
    else:
        runner = pipe
    args = _prompt_args(family, pipe, pos, neg, guidance, denoiser.device, denoiser.dtype)
    total = steps
    if img2img and not restart:
        total, strength = denoise_cut(steps, denoise, flow=family.flow)
        args.update(image=samples.to(denoiser.device, denoiser.dtype), strength=strength)
    args.update(height=height, width=width)
    if restart:
        total = len(sigmas) - 1
    elif sigmas is not None:
        # a latent with content (image to image): the sigmas start below 1 (BasicScheduler's denoise), and
        # the image-to-image pipeline noises the latent to the first of them, as ComfyUI does, then steps
        # through them all (strength 1 of the sigmas it is given)
        if not family.flow or samples.ndim == 5:
            raise ValueError(f"custom sampling of {family.title} paints pictures only so far (no video)")
        if float(sigmas[-1]) != 0:
            raise ValueError(f"custom sampling of {family.title} runs down to zero noise; these sigmas end at "
                             f"{float(sigmas[-1]):.4g}")
        args["sigmas"] = [float(value) for value in sigmas[:-1]]
        total = len(sigmas) - 1
    if samples.ndim == 5:  # video (batch, channels, frames, h, w): the VAE packs 4 frames per latent frame
        if img2img and not restart:
            raise ValueError(f"denoise below 1 on video latents is not done yet for {family.title}")
        args.update(num_frames=(samples.shape[2] - 1) * pipe.vae_scale_factor_temporal + 1)

    generators = [torch.Generator("cpu").manual_seed(seed + (0 if same_noise else i)) for i in range(batch)]
    if hints:
        args.update(control)
    if restart:
        args["latents"] = noised_latent(runner, family, samples, float(sigmas[0]), generators, add_noise=add_noise,
                                        size=(height, width, args.get("num_frames", 1)))
        if hints and not add_noise:
            # Flux's ControlNet pipeline samples the hint's latent from the generators, which the first half
            # (and an uninterrupted run) drew its noise from before: a later half draws that noise too and
            # drops it, so every half steers with the same hint latent
            predrawn_noise(pipe, family, batch, height, width, generators)
    elif (hints or sigmas is not None) and not img2img:
        drawn = predrawn_noise(pipe, family, batch, height, width, generators)
        if drawn is not None:
            # custom sigmas: the noise at the first sigma (an empty latent scaled to it, as ComfyUI starts)
            args["latents"] = drawn if sigmas is None else drawn * float(sigmas[0])

    def on_step(running: Any, index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        if ctx is not None:
            ctx.progress(index + 1, getattr(running, "num_timesteps", None) or steps)  # raises Cancelled when asked
            shown = tensors["latents"]
            if shown.ndim == 3:  # Flux's packed latents
                shown = running._unpack_latents(shown, height, width, factor)
            if ctx.previews_wanted:  # nobody listening: no picture to make
                ctx.preview(latents_to_rgb(shown))
        return {}

    if ctx is not None:
        ctx.check()
    own = runner.scheduler
    runner.scheduler = schedule  # for this call only: the resident pipeline keeps its own
    try:
        per_prompt = {"num_videos_per_prompt" if samples.ndim == 5 else "num_images_per_prompt": batch}
        # SD3's ControlNet pipeline encodes the hint with torch's global generator: seeded here, so the
        # same seed gives the same picture (and the caller's global generator is left as it was)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            result = runner(
                num_inference_steps=total, generator=generators, output_type="latent", callback_on_step_end=on_step,
                callback_on_step_end_tensor_inputs=["latents"], **per_prompt, **args,
            )
    finally:
        runner.scheduler = own
    out = result.frames if samples.ndim == 5 else result.images
    if out.ndim == 3:
        out = runner._unpack_latents(out, height, width, factor)
    return LatentImage(out.to("cpu", torch.float32), None, latent_scale(pipe))
