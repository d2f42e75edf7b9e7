"""Settings that ride on a model or a conditioning into the sampler: the noise schedule's shift
(ComfyUI's ModelSampling* nodes) and Flux's distilled guidance (FluxGuidance)."""

from __future__ import annotations

from dataclasses import replace

from nodeflow import Conditioning, ConditioningValue, Denoiser, Param, node

__all__ = ["flux_guidance", "model_sampling"]


@node("diffusion.model_sampling", category="Diffusion / Steps", outputs=("model",), title="Model sampling (shift)")
def model_sampling(
    model: Denoiser,
    *,
    kind: str = Param("sd3", choices=("sd3", "auraflow", "flux", "discrete"),
                      description="sd3/auraflow: a fixed shift; flux: a shift that grows with the picture's size; "
                                  "discrete: the prediction type of a UNet"),
    shift: float = Param(3.0, min=0, max=100, step=0.01, description="sd3 and auraflow: how far the schedule leans to noise"),
    max_shift: float = Param(1.15, min=0, max=100, step=0.01, description="flux: the shift at the largest size"),
    base_shift: float = Param(0.5, min=0, max=100, step=0.01, description="flux: the shift at the smallest size"),
    prediction: str = Param("eps", choices=("eps", "v_prediction"), description="discrete: what the UNet predicts"),
) -> Denoiser:
    """Change how the sampler spaces its steps for this model (flow-matching shift, or the prediction type)."""
    if kind in ("sd3", "auraflow"):
        return model.with_options(shift=float(shift))
    if kind == "flux":
        return model.with_options(base_shift=float(base_shift), max_shift=float(max_shift))
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
