"""ComfyUI's custom-sampling, conditioning and image-op nodes and the nodes they become.

Kept apart from ``mapping.py`` so this table can grow without touching the core one; ``mapping.py``
merges ``SAMPLING_MAPPINGS`` into ``MAPPINGS``. Converters note where our node only approximates
ComfyUI's.
"""

from __future__ import annotations

from typing import Any

from .mapping_types import Mapping, Note

__all__ = ["SAMPLING_MAPPINGS"]


def _sampler_name(value: Any, note: Note) -> str:
    from .mapping import _sampler_name as known  # mapping.py imports this module first

    return known(value, note)


def _scheduler_name(value: Any, note: Note) -> str:
    from .mapping import _scheduler_name as known

    return known(value, note)


def _seed(value: Any, note: Note) -> int:
    from .mapping import _seed as known

    return known(value, note)


def _sampler_select(values: dict[str, Any], note: Note) -> dict[str, Any]:
    return {"sampler_name": _sampler_name(values.get("sampler_name", "euler"), note)} if "sampler_name" in values else {}


def _basic_scheduler(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "scheduler" in values:
        params["scheduler"] = _scheduler_name(values["scheduler"], note)
    if "steps" in values:
        params["steps"] = int(values["steps"])
    if "denoise" in values:
        params["denoise"] = float(values["denoise"])
    return params


def _numbers(**kinds: type) -> Any:
    """A converter that keeps the named widgets, cast to their kinds."""

    def convert(values: dict[str, Any], note: Note) -> dict[str, Any]:
        return {name: kind(values[name]) for name, kind in kinds.items() if name in values and values[name] is not None}

    return convert


def _random_noise(values: dict[str, Any], note: Note) -> dict[str, Any]:
    return {"noise_seed": _seed(values["noise_seed"], note)} if "noise_seed" in values else {}


def _sampler_custom(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "add_noise" in values:
        params["add_noise"] = values["add_noise"] in (True, "enable", "true")
    if "noise_seed" in values:
        params["noise_seed"] = _seed(values["noise_seed"], note)
    if "cfg" in values:
        params["cfg"] = float(values["cfg"])
    return params


SAMPLING_MAPPINGS: dict[str, Mapping] = {
    # --- custom sampling ---
    "KSamplerSelect": Mapping("diffusion.sampler_select", ("sampler_name",), convert=_sampler_select,
                              params={"sampler_name": "sampler_name"}, outputs=("sampler",), base_id="sampler_select"),
    "BasicScheduler": Mapping("diffusion.scheduler_sigmas", ("scheduler", "steps", "denoise"), convert=_basic_scheduler,
                              params={"scheduler": "scheduler", "steps": "steps", "denoise": "denoise"},
                              inputs={"model": "model"}, outputs=("sigmas",), base_id="scheduler"),
    "SDTurboScheduler": Mapping("diffusion.turbo_sigmas", ("steps", "denoise"), convert=_numbers(steps=int, denoise=float),
                                params={"steps": "steps", "denoise": "denoise"}, inputs={"model": "model"},
                                outputs=("sigmas",), base_id="scheduler"),
    "AlignYourStepsScheduler": Mapping(
        "diffusion.align_your_steps", ("model_type", "steps", "denoise"),
        convert=_numbers(model_type=str, steps=int, denoise=float),
        params={"model_type": "model_type", "steps": "steps", "denoise": "denoise"}, outputs=("sigmas",),
        base_id="scheduler",
    ),
    "SetFirstSigma": Mapping("diffusion.set_first_sigma", ("sigma",), convert=_numbers(sigma=float),
                             params={"sigma": "sigma"}, inputs={"sigmas": "sigmas"}, outputs=("sigmas",),
                             base_id="first_sigma"),
    "RandomNoise": Mapping("diffusion.random_noise", ("noise_seed",), convert=_random_noise,
                           params={"noise_seed": "noise_seed"}, outputs=("noise",), base_id="noise"),
    "DisableNoise": Mapping("diffusion.disable_noise", outputs=("noise",), base_id="noise"),
    "BasicGuider": Mapping("diffusion.basic_guider", inputs={"model": "model", "conditioning": "conditioning"},
                           outputs=("guider",), base_id="guider"),
    "CFGGuider": Mapping("diffusion.cfg_guider", ("cfg",), convert=_numbers(cfg=float), params={"cfg": "cfg"},
                         inputs={"model": "model", "positive": "positive", "negative": "negative"},
                         outputs=("guider",), base_id="guider"),
    "SamplerCustomAdvanced": Mapping(
        "diffusion.sample_custom",
        inputs={"noise": "noise", "guider": "guider", "sampler": "sampler", "sigmas": "sigmas", "latent_image": "latent"},
        outputs=("output", "denoised"), base_id="sampler",
    ),
    "SamplerCustom": Mapping(
        "diffusion.sampler_custom", ("add_noise", "noise_seed", "cfg"), convert=_sampler_custom,
        params={"add_noise": "add_noise", "noise_seed": "noise_seed", "cfg": "cfg"},
        inputs={"model": "model", "positive": "positive", "negative": "negative", "sampler": "sampler",
                "sigmas": "sigmas", "latent_image": "latent"},
        outputs=("output", "denoised"), base_id="sampler",
    ),
}
