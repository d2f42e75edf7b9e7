"""Sampling nodes: text-to-image, image-to-image and inpainting, and decoding latents.

Every sampler shows a cheap latent preview and reports progress at each step, and stops between
steps when the run is cancelled. Seeds are drawn on the CPU, one generator per batch item, so a seed
gives the same image on the same device whatever the batch size around it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from PIL import Image as PILImage

from nodeflow import Context, Image, Param, node
from nodes.diffusion.previews import latents_to_rgb
from nodes.diffusion.types import DiffusionPipeline, Latents, PipelineHandle

__all__ = ["SCHEDULERS", "sample", "decode_latents", "latent_scale", "text_to_image", "image_to_image", "inpaint", "decode"]

# choice -> (diffusers scheduler class, options); None keeps the pipeline's own scheduler
SCHEDULERS: dict[str, tuple[str, dict[str, Any]] | None] = {
    "model default": None,
    "ddim": ("DDIMScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {}),
    "euler ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "dpm++ 2m": ("DPMSolverMultistepScheduler", {}),
    "dpm++ 2m karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "pndm": ("PNDMScheduler", {}),
}


class Sampled(NamedTuple):
    image: Image  # the picture (a grid when batch > 1)
    latents: Latents  # every batch item, before decoding


def _scheduler(pipe: Any, name: str) -> Any:
    import diffusers

    choice = SCHEDULERS[name]
    if choice is None:
        return pipe.scheduler
    class_name, options = choice
    return getattr(diffusers, class_name).from_config(pipe.scheduler.config, **options)


def _task_pipeline(base: Any, task: str, scheduler: Any) -> Any:
    """A pipeline for ``task`` that shares the resident pipeline's modules (no copies of weights)."""
    import diffusers
    from diffusers.pipelines.auto_pipeline import AUTO_TEXT2IMAGE_PIPELINES_MAPPING

    if task == "text" and scheduler is base.scheduler and type(base) in AUTO_TEXT2IMAGE_PIPELINES_MAPPING.values():
        return base  # already the right kind: no new pipeline object at all
    auto = {
        "text": diffusers.AutoPipelineForText2Image,
        "image": diffusers.AutoPipelineForImage2Image,
        "inpaint": diffusers.AutoPipelineForInpainting,
    }[task]
    pipe = auto.from_pipe(base, scheduler=scheduler)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def sample(
    handle: PipelineHandle,
    task: str,
    ctx: Context | None,
    *,
    prompt: str,
    negative_prompt: str = "",
    steps: int = 20,
    guidance: float = 7.5,
    seed: int = 0,
    batch: int = 1,
    scheduler: str = "model default",
    **task_args: Any,
) -> Sampled:
    """Run one sampling task and decode it; ``task`` is ``text``, ``image`` or ``inpaint``."""
    import torch

    base = handle.pipeline()
    if hasattr(base, "vae_scale_factor_temporal"):
        raise ValueError(f"{type(base).__name__} makes videos, not pictures: use diffusion.text_to_video")
    pipe = _task_pipeline(base, task, _scheduler(base, scheduler))
    generators = [torch.Generator("cpu").manual_seed(seed + i) for i in range(batch)]

    def on_step(running: Any, index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        if ctx is not None:
            total = getattr(running, "num_timesteps", None) or steps
            ctx.progress(index + 1, total)  # raises Cancelled between steps when asked to stop
            if ctx.previews_wanted:  # nobody listening: no picture to make
                ctx.preview(latents_to_rgb(_unpacked(running, tensors["latents"], task_args)))
        return {}

    if ctx is not None:
        ctx.check()
    result = pipe(
        prompt=prompt,
        negative_prompt=negative_prompt or None,
        num_inference_steps=steps,
        guidance_scale=guidance,
        num_images_per_prompt=batch,
        generator=generators,
        callback_on_step_end=on_step,
        callback_on_step_end_tensor_inputs=["latents"],
        output_type="latent",
        **task_args,
    )
    latents = _unpacked(pipe, result.images, task_args)
    images = decode_latents(base, latents)
    return Sampled(grid(images), latents)


def _unpacked(pipe: Any, latents: Any, task_args: dict[str, Any]) -> Any:
    """Flux samples packed latents (batch, tokens, channels); the rest of the pack keeps (batch, channels, h, w)."""
    if latents.ndim != 3 or not hasattr(pipe, "_unpack_latents"):
        return latents
    if "height" in task_args:
        height, width = task_args["height"], task_args["width"]
    else:
        width, height = task_args["image"].size
    return pipe._unpack_latents(latents, height, width, pipe.vae_scale_factor)


def latent_scale(pipe: Any) -> tuple[float, float] | None:
    """(scaling factor, shift) of the latent space ``pipe``'s model samples in: its VAE's, or for a model
    loaded alone, the one its family's config folder gave (``components.assemble``)."""
    vae = getattr(pipe, "vae", None)
    if vae is not None:
        factor = getattr(vae.config, "scaling_factor", None)  # video VAEs normalise per channel instead
        return None if factor is None else (float(factor), float(getattr(vae.config, "shift_factor", None) or 0.0))
    return getattr(pipe, "latent_scale", None)


def decode_latents(pipe: Any, latents: Any, scale: tuple[float, float] | None = None) -> list[PILImage.Image]:
    """Decode latents with the pipeline's VAE into PIL images; ``scale`` is the latent space's (scaling
    factor, shift) when the model that made them says (else the VAE's config)."""
    import torch

    vae = pipe.vae
    factor, shift = scale if scale is not None else (vae.config.scaling_factor, getattr(vae.config, "shift_factor", None))
    scaled = latents.to(vae.device, vae.dtype) / factor
    if shift:
        scaled = scaled + shift
    with torch.inference_mode():
        pixels = vae.decode(scaled, return_dict=False)[0]
    return pipe.image_processor.postprocess(pixels, output_type="pil")


def grid(images: list[PILImage.Image]) -> PILImage.Image:
    """Images side by side in rows of up to four; one image is returned as it is."""
    if len(images) == 1:
        return images[0]
    columns = min(4, len(images))
    rows = (len(images) + columns - 1) // columns
    width, height = images[0].size
    sheet = PILImage.new("RGB", (columns * width, rows * height))
    for index, image in enumerate(images):
        sheet.paste(image, ((index % columns) * width, (index // columns) * height))
    return sheet


# --- widgets shared by the samplers -------------------------------------------------------------


def _prompt() -> Param:
    return Param("a lighthouse on a cliff at dawn, oil painting", kind="text")


def _negative() -> Param:
    return Param("", kind="text", description="what the picture should not have")


def _steps() -> Param:
    return Param(20, min=1, max=200)


def _guidance() -> Param:
    return Param(7.5, min=0, max=30, step=0.5, display="slider", description="how closely to follow the prompt")


def _seed() -> Param:
    return Param(0, kind="seed", description="batch item i uses seed + i")


def _batch() -> Param:
    return Param(1, min=1, max=16)


def _scheduler_param() -> Param:
    return Param("model default", choices=tuple(SCHEDULERS))


_SIZE = dict(min=16, max=4096, step=8, description="a multiple of 8 (of the VAE's scale)")


def text_to_image_batch(calls: list[dict[str, Any]], ctx: Context) -> list[Sampled]:
    """Sweep items of text_to_image in one pipeline call per group of items that differ only in
    prompt, negative prompt and seed (one image each); any other item is sampled on its own."""
    import torch

    results: dict[int, Sampled] = {}
    groups: dict[tuple, list[int]] = {}
    for index, call in enumerate(calls):
        if call["batch"] != 1:
            results[index] = text_to_image(ctx=ctx, **call)
            continue
        shape = (id(call["pipeline"]), call["width"], call["height"], call["steps"], call["guidance"], call["scheduler"])
        groups.setdefault(shape, []).append(index)
    for members in groups.values():
        first = calls[members[0]]
        base = first["pipeline"].pipeline()
        pipe = _task_pipeline(base, "text", _scheduler(base, first["scheduler"]))
        steps = first["steps"]
        size = {"width": first["width"], "height": first["height"]}

        def on_step(running: Any, index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            ctx.progress(index + 1, getattr(running, "num_timesteps", None) or steps)  # noqa: B023  (called in this same iteration)
            if ctx.previews_wanted:  # nobody listening: no picture to make
                ctx.preview(latents_to_rgb(_unpacked(running, tensors["latents"], size)))  # noqa: B023  (called in this same iteration)
            return {}

        ctx.check()
        negatives = [calls[i]["negative_prompt"] for i in members]
        output = pipe(
            prompt=[calls[i]["prompt"] for i in members],
            negative_prompt=negatives if any(negatives) else None,
            num_inference_steps=steps,
            guidance_scale=first["guidance"],
            generator=[torch.Generator("cpu").manual_seed(calls[i]["seed"]) for i in members],
            callback_on_step_end=on_step,
            callback_on_step_end_tensor_inputs=["latents"],
            output_type="latent",
            width=first["width"],
            height=first["height"],
        )
        latents = _unpacked(pipe, output.images, size)
        images = decode_latents(base, latents)
        for position, index in enumerate(members):
            results[index] = Sampled(images[position], latents[position : position + 1])
    return [results[index] for index in range(len(calls))]


@node("diffusion.text_to_image", category="Diffusion", title="Text to image", batch=text_to_image_batch)
def text_to_image(
    pipeline: DiffusionPipeline,
    ctx: Context,
    *,
    prompt: str = _prompt(),
    negative_prompt: str = _negative(),
    width: int = Param(512, **_SIZE),
    height: int = Param(512, **_SIZE),
    steps: int = _steps(),
    guidance: float = _guidance(),
    seed: int = _seed(),
    batch: int = _batch(),
    scheduler: str = _scheduler_param(),
) -> Sampled:
    """Paint a picture from a prompt. Previews show at every step; same seed, same picture."""
    return sample(
        pipeline, "text", ctx, prompt=prompt, negative_prompt=negative_prompt, steps=steps,
        guidance=guidance, seed=seed, batch=batch, scheduler=scheduler, width=width, height=height,
    )


@node("diffusion.image_to_image", category="Diffusion", title="Image to image")
def image_to_image(
    pipeline: DiffusionPipeline,
    image: Image,
    ctx: Context,
    *,
    prompt: str = _prompt(),
    negative_prompt: str = _negative(),
    strength: float = Param(0.6, min=0.01, max=1, step=0.01, display="slider", description="0 keeps the image, 1 repaints it"),
    steps: int = _steps(),
    guidance: float = _guidance(),
    seed: int = _seed(),
    batch: int = _batch(),
    scheduler: str = _scheduler_param(),
) -> Sampled:
    """Repaint an image after a prompt; strength says how far from the original it may go."""
    return sample(
        pipeline, "image", ctx, prompt=prompt, negative_prompt=negative_prompt, steps=steps,
        guidance=guidance, seed=seed, batch=batch, scheduler=scheduler, image=image.convert("RGB"),
        strength=strength,
    )


@node("diffusion.inpaint", category="Diffusion", title="Inpaint")
def inpaint(
    pipeline: DiffusionPipeline,
    image: Image,
    mask: Image,
    ctx: Context,
    *,
    prompt: str = _prompt(),
    negative_prompt: str = _negative(),
    strength: float = Param(1.0, min=0.01, max=1, step=0.01, display="slider"),
    steps: int = _steps(),
    guidance: float = _guidance(),
    seed: int = _seed(),
    batch: int = _batch(),
    scheduler: str = _scheduler_param(),
) -> Sampled:
    """Repaint the white part of the mask after a prompt; the black part stays as it is."""
    if mask.size != image.size:
        raise ValueError(f"mask is {mask.size[0]}x{mask.size[1]} but image is {image.size[0]}x{image.size[1]}: they must match")
    width, height = image.size
    return sample(
        pipeline, "inpaint", ctx, prompt=prompt, negative_prompt=negative_prompt, steps=steps,
        guidance=guidance, seed=seed, batch=batch, scheduler=scheduler, image=image.convert("RGB"),
        mask_image=mask.convert("L"), strength=strength, width=width, height=height,
    )


@node("diffusion.decode", category="Diffusion")
def decode(
    pipeline: DiffusionPipeline,
    latents: Latents,
    *,
    index: int = Param(-1, min=-1, max=1023, description="which batch item; -1 for all, as a grid"),
) -> Image:
    """Decode latents into a picture with the pipeline's VAE."""
    count = latents.shape[0]
    if index >= count:
        raise ValueError(f"index {index} is past the last batch item ({count - 1})")
    chosen = latents if index < 0 else latents[index : index + 1]
    return grid(decode_latents(pipeline.pipeline(), chosen))
