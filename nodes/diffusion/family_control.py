"""ControlNets for SDXL, SD3 and Flux: the family's own diffusers ControlNet pipeline runs the sampler.

``family_sampling.sample_with_pipeline`` asks :func:`controlled_runner` for a pipeline when a prompt
carries ControlNet hints. The runner shares every module of the resident pipeline and adds the
ControlNets (several become diffusers' multi-ControlNet), so the denoising loop is the one diffusers
maintains for that family: SDXL's UNet residuals from the hint at pixel size, SD3's and Flux's
transformer residuals from the hint encoded by the model's VAE. With denoise below 1 (a latent with
content) SDXL takes its ControlNet image-to-image pipeline. Diffusers has none for SD3, and Flux's
encodes a picture itself rather than taking a latent, so those two run their text-to-image ControlNet
pipeline from the latent noised to the first of the denoise-cut sigmas (:func:`noised_latent`), which
is how ComfyUI starts any second pass and what their image-to-image pipelines do to a latent.

As in diffusers, a ControlNet steers both halves of classifier-free guidance; ComfyUI's plain
ControlNetApply, which steers the positive prompt only, is run the same way for these families.
"""

from __future__ import annotations

from typing import Any

from nodeflow import Context, ControlHint
from nodes.diffusion.families import Family

__all__ = ["CONTROL_IMG2IMG_PIPELINES", "CONTROL_PIPELINES", "RESTARTED_FAMILIES", "controlled_runner",
           "noised_latent", "predrawn_noise"]

# family -> (diffusers ControlNet pipeline, the argument its hint image goes in)
CONTROL_PIPELINES = {
    "sdxl": ("StableDiffusionXLControlNetPipeline", "image"),
    "sd3": ("StableDiffusion3ControlNetPipeline", "control_image"),
    "flux": ("FluxControlNetPipeline", "control_image"),
}
# family -> the diffusers ControlNet pipeline that repaints a latent (denoise below 1). SD3 has none; Flux's
# (FluxControlNetImg2ImgPipeline) takes pictures only, which it encodes itself, never a latent
CONTROL_IMG2IMG_PIPELINES = {
    "sdxl": ("StableDiffusionXLControlNetImg2ImgPipeline", "control_image"),
}
# families whose ControlNet second pass starts the text-to-image ControlNet pipeline from a noised latent
RESTARTED_FAMILIES = ("sd3", "flux")
# the ControlNet model class each family's pipeline takes
_CONTROLNET_CLASSES = {"sdxl": ("ControlNetModel",), "sd3": ("SD3ControlNetModel",), "flux": ("FluxControlNetModel",)}


def controlled_runner(pipe: Any, family: Family, hints: list[ControlHint], ctx: Context | None, *,
                      repaint: bool = False) -> tuple[Any, dict[str, Any]]:
    """``(pipeline, call arguments)`` that sample ``pipe``'s model steered by ``hints``; ``repaint``: from a
    latent with content (denoise below 1), through the family's ControlNet image-to-image pipeline."""
    import diffusers

    from nodes.diffusion.controlnet import resident_controlnet

    if family.name not in CONTROL_PIPELINES:
        raise ValueError(f"ControlNets steer Stable Diffusion 1.x/2.x, SDXL, SD3 and Flux models, not {family.title}")
    if repaint and family.name not in CONTROL_IMG2IMG_PIPELINES:
        raise ValueError(f"a ControlNet with denoise below 1 is done for Stable Diffusion 1.x/2.x, SDXL, SD3 and Flux "
                         f"pictures, not for {family.title}")
    if family.name in ("sd3", "flux") and getattr(pipe, "vae", None) is None:
        raise ValueError(
            f"a {family.title} ControlNet reads its hint through the model's VAE, and this model was loaded alone: "
            "load the whole checkpoint (diffusion.load_checkpoint) to use a ControlNet with it"
        )
    denoiser = getattr(pipe, family.denoiser)
    models = []
    for hint in hints:
        model = resident_controlnet(ctx, hint, denoiser.device, denoiser.dtype)
        if type(model).__name__ not in _CONTROLNET_CLASSES[family.name]:
            raise ValueError(
                f"{hint.model.rsplit('/', 1)[-1]} is a {type(model).__name__}, which does not steer {family.title} models "
                f"(they take a {' or '.join(_CONTROLNET_CLASSES[family.name])})"
            )
        models.append(model)
    class_name, image_arg = (CONTROL_IMG2IMG_PIPELINES if repaint else CONTROL_PIPELINES)[family.name]
    one = len(hints) == 1
    runner = getattr(diffusers, class_name).from_pipe(pipe, controlnet=models[0] if one else models)
    runner.set_progress_bar_config(disable=True)
    images = [hint.image.to(denoiser.device, denoiser.dtype) for hint in hints]

    def each(values: list[Any]) -> Any:
        return values[0] if one else values

    args = {
        image_arg: each(images),
        "controlnet_conditioning_scale": each([float(h.strength) for h in hints]),
        "control_guidance_start": each([float(h.start) for h in hints]),
        "control_guidance_end": each([float(h.end) for h in hints]),
    }
    return runner, args


def predrawn_noise(pipe: Any, family: Family, batch: int, height: int, width: int, generators: list[Any], *,
                   frames: int = 1) -> Any | None:
    """The starting noise the plain pipeline of ``pipe`` draws for these generators, for SD3, Flux and Wan
    (``frames`` long); None for the other families. Their ControlNet pipelines draw from the same
    generators to encode the hint first, which would shift the noise; custom sampling scales it to its
    first sigma."""
    import torch

    if family.name == "wan":
        denoiser = pipe.transformer or pipe.transformer_2
        return pipe.prepare_latents(batch, denoiser.config.in_channels, height, width, frames, torch.float32,
                                    denoiser.device, generators)
    if family.name not in ("sd3", "flux"):
        return None
    denoiser = getattr(pipe, family.denoiser)
    channels = denoiser.config.in_channels // (4 if family.name == "flux" else 1)  # Flux packs 2x2 cells
    drawn = pipe.prepare_latents(batch, channels, height, width, denoiser.dtype, denoiser.device, generators)
    return drawn[0] if isinstance(drawn, tuple) else drawn  # Flux gives (latents, image ids)


def noised_latent(runner: Any, family: Family, samples: Any, sigma: float, generators: list[Any], *,
                  add_noise: bool = True, size: tuple[int, int, int] = (0, 0, 1)) -> Any:
    """``samples`` noised to flow-matching level ``sigma`` as SD3's and Flux's image-to-image pipelines noise
    a latent (``sigma * noise + (1 - sigma) * latent``, the noise drawn the same way), packed into 2x2 cells
    for Flux: the ``latents`` a pipeline starts from. An empty latent becomes the pipeline's own noise for
    that picture or video ``size`` (height, width, frames) scaled to ``sigma``; ``add_noise`` off keeps
    ``samples`` as they are (a later part of a split run)."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    denoiser = getattr(runner, family.denoiser) or runner.transformer_2  # a Wan 2.2 low-noise expert alone
    dtype = torch.float32 if family.name == "wan" else denoiser.dtype  # Wan's pipeline keeps its latents in float32
    latent = samples.to(denoiser.device, dtype)
    if add_noise and not torch.any(latent):
        height, width, frames = size
        drawn = predrawn_noise(runner, family, latent.shape[0], height, width, generators, frames=frames)
        if drawn is not None:
            return drawn * sigma
    if add_noise:
        noise = randn_tensor(tuple(latent.shape), generator=generators, device=denoiser.device, dtype=dtype)
        latent = sigma * noise + (1.0 - sigma) * latent
    if family.name == "flux":
        batch, channels, height, width = latent.shape
        latent = runner._pack_latents(latent, batch, channels, height, width)
    return latent
