"""Conditioning: prompts encoded by a text encoder, and mixing them (combine, strength).

A Conditioning value holds one or more encoded prompts, each with a strength; the sampler predicts
the noise for each and mixes the predictions by strength. One prompt at strength 1 is exactly what
the pipeline nodes do with a prompt.
"""

from __future__ import annotations

from dataclasses import replace

from nodeflow import Conditioning, ConditioningValue, CondPart, Param, TextEncoder, node
from nodes.diffusion.families import encode_text
from nodes.diffusion.parts import use_part

__all__ = ["encode_prompt", "combine", "strength"]


@node("diffusion.encode_prompt", category="Diffusion / Steps", outputs=("conditioning",), title="Encode prompt")
def encode_prompt(
    clip: TextEncoder,
    *,
    text: str = Param("a lighthouse on a cliff at dawn, oil painting", kind="text"),
) -> Conditioning:
    """Encode a prompt with the text encoders (CLIP, and T5 for SD3 and Flux): what the sampler should
    paint, or avoid. Each model family encodes as its own pipeline does."""
    pipe = use_part(clip)
    if getattr(clip, "clip_skip", 0):  # set by diffusion.clip_skip
        from nodes.diffusion.conditioning_ops import encode_skipping_layers

        return ConditioningValue((CondPart(encode_skipping_layers(pipe, text, clip.clip_skip), 1.0),))
    embeds, pooled = encode_text(pipe, text)
    return ConditioningValue((CondPart(embeds, 1.0, pooled),))


@node("diffusion.combine_conditioning", category="Diffusion / Steps", outputs=("conditioning",), title="Combine conditioning")
def combine(a: Conditioning, b: Conditioning) -> Conditioning:
    """Both conditionings at once: the sampler mixes their predictions by each one's strength."""
    return ConditioningValue(a.parts + b.parts)


@node("diffusion.conditioning_strength", category="Diffusion / Steps", outputs=("conditioning",), title="Conditioning strength")
def strength(
    conditioning: Conditioning,
    *,
    strength: float = Param(1.0, min=0, max=10, step=0.05, display="slider", description="weight when combined with others"),
) -> Conditioning:
    """Set how much this conditioning weighs when it is combined with others."""
    return ConditioningValue(tuple(replace(p, strength=p.strength * strength) for p in conditioning.parts))
