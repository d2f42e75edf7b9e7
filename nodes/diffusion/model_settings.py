"""Settings that ride on a model or a conditioning into the sampler: the noise schedule's shift
(ComfyUI's ModelSampling* nodes) and Flux's distilled guidance (FluxGuidance).

Flux's shift is one number for the whole run, the same in the sampler node and in custom sampling's
sigmas (which do not know the picture's size): the model's largest (for 1024x1024) unless
ModelSamplingFlux sets it for a width and height, as in ComfyUI."""

from __future__ import annotations

from dataclasses import replace

from nodeflow import Conditioning, ConditioningValue, Denoiser, Param, node

__all__ = ["flux_guidance", "flux_shift", "model_sampling"]


def flux_shift(width: int, height: int, *, base_shift: float, max_shift: float) -> float:
    """Flux's shift (diffusers' ``mu``) for a picture of ``width`` x ``height``: linear in its packed token
    count, from ``base_shift`` at 256 tokens to ``max_shift`` at 4096 (a 1024x1024 picture), as both
    ComfyUI's ModelSamplingFlux and diffusers' Flux pipeline compute it."""
    tokens = width * height / (16 * 16)  # 8 pixels per latent cell, 2x2 cells per token
    slope = (max_shift - base_shift) / (4096 - 256)
    return float(base_shift + slope * (tokens - 256))


@node("diffusion.model_sampling", category="Diffusion / Steps", outputs=("model",), title="Model sampling (shift)")
def model_sampling(
    model: Denoiser,
    *,
    kind: str = Param("sd3", choices=("sd3", "auraflow", "flux", "discrete"),
                      description="sd3/auraflow: a fixed shift; flux: the shift for a picture of width x height; "
                                  "discrete: the prediction type of a UNet"),
    shift: float = Param(3.0, min=0, max=100, step=0.01, description="sd3 and auraflow: how far the schedule leans to noise"),
    max_shift: float = Param(1.15, min=0, max=100, step=0.01, description="flux: the shift at the largest size"),
    base_shift: float = Param(0.5, min=0, max=100, step=0.01, description="flux: the shift at the smallest size"),
    width: int = Param(1024, min=16, max=16384, step=16, description="flux: the picture's width the shift is for"),
    height: int = Param(1024, min=16, max=16384, step=16, description="flux: the picture's height the shift is for"),
    prediction: str = Param("eps", choices=("eps", "v_prediction"), description="discrete: what the UNet predicts"),
) -> Denoiser:
    """Change how the sampler spaces its steps for this model (flow-matching shift, or the prediction type)."""
    if kind in ("sd3", "auraflow"):
        return model.with_options(shift=float(shift))
    if kind == "flux":
        return model.with_options(mu=flux_shift(width, height, base_shift=base_shift, max_shift=max_shift))
    return model.with_options(prediction_type="epsilon" if prediction == "eps" else "v_prediction")


@node("diffusion.flux_guidance", category="Diffusion / Steps", outputs=("conditioning",), title="Flux guidance")
def flux_guidance(
    conditioning: Conditioning,
    *,
    guidance: float = Param(3.5, min=0, max=100, step=0.1, description="Flux dev's distilled guidance"),
) -> Conditioning:
    """Set the guidance a Flux model is told to follow (it is distilled into the model, so the sampler's
    own guidance, CFG, usually stays 1)."""
    return ConditioningValue(tuple(replace(p, guidance=float(guidance)) for p in conditioning.parts))
