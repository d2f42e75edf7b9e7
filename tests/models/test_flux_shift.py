"""Flux's timestep shift is the same in the sampler node (KSampler) and in custom sampling (BasicScheduler
+ SamplerCustomAdvanced), at any picture size, as in ComfyUI: the model's shift (its largest, the
1024x1024 one) unless ModelSamplingFlux sets it for a width and height."""

from __future__ import annotations

import numpy as np
import pytest

from tests.models.family_support import custom_sampling_graph, flux_shift_for, pixels, run, step_graph

SIZE = 64  # far from the size whose shift the model's default is (256 pixels for the tiny Flux)


def sampler_graph() -> dict:
    return step_graph("tiny-flux", guidance=1.0, flux_guidance=3.5, size=SIZE)


def custom_graph() -> dict:
    return custom_sampling_graph("flux", size=SIZE, cfg=1.0, flux_guidance=3.5)


@pytest.mark.parametrize("shift", [None, (SIZE, SIZE), (1024, 1024)])
def test_flux_sampler_and_custom_sampling_paint_the_same_picture_at_any_size(family_executor, shift):
    sampler, custom = sampler_graph(), custom_graph()
    if shift is not None:
        sampler, custom = flux_shift_for(sampler, *shift), flux_shift_for(custom, *shift)
    by_sampler = pixels(run(family_executor, sampler, ["decode"]), "decode")
    by_custom = pixels(run(family_executor, custom, ["decode"]), "decode")
    assert by_sampler.std() > 1
    assert np.abs(by_sampler - by_custom).max() <= 1


def test_model_sampling_flux_sets_the_shift_by_its_width_and_height(family_executor):
    """The shift for a 64-pixel picture is not the default's; 1024x1024 is the default's."""
    default = run(family_executor, custom_graph(), ["sigmas"]).outputs["sigmas"]["sigmas"]
    small = run(family_executor, flux_shift_for(custom_graph(), SIZE, SIZE), ["sigmas"]).outputs["sigmas"]["sigmas"]
    large = run(family_executor, flux_shift_for(custom_graph(), 1024, 1024), ["sigmas"]).outputs["sigmas"]["sigmas"]
    assert np.allclose(default.numpy(), large.numpy(), atol=1e-6)
    assert float(small[1]) < float(default[1]) - 0.05  # a smaller shift leans less to noise
