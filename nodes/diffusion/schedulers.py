"""Sampler and scheduler names (ComfyUI's) mapped onto diffusers schedulers.

ComfyUI splits a sampler into the solver (``euler``, ``dpmpp_2m``, ...) and the noise schedule
(``normal``, ``karras``, ...); diffusers has one scheduler class per solver, with the schedule as
options. ``exact`` says whether the pair reproduces the same algorithm; approximate ones are the
nearest diffusers has (the README's table lists both). ``model default`` keeps the checkpoint's own
scheduler, which is what the pipeline nodes use, so step-level graphs can match them exactly.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["SAMPLERS", "SCHEDULES", "make_scheduler"]

# sampler -> (diffusers class, options, exact)
SAMPLERS: dict[str, tuple[str, dict[str, Any], bool]] = {
    "model default": ("", {}, True),
    "euler": ("EulerDiscreteScheduler", {}, True),
    "euler_ancestral": ("EulerAncestralDiscreteScheduler", {}, True),
    "heun": ("HeunDiscreteScheduler", {}, True),
    "dpm_2": ("KDPM2DiscreteScheduler", {}, True),
    "dpm_2_ancestral": ("KDPM2AncestralDiscreteScheduler", {}, True),
    "lms": ("LMSDiscreteScheduler", {}, True),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}, True),
    "dpmpp_2m_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}, True),
    "dpmpp_3m_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 3}, False),
    "dpmpp_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}, False),
    "dpmpp_2s_ancestral": ("DPMSolverSinglestepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}, False),
    "ddim": ("DDIMScheduler", {}, True),
    "ddpm": ("DDPMScheduler", {}, True),
    "uni_pc": ("UniPCMultistepScheduler", {}, True),
    "uni_pc_bh2": ("UniPCMultistepScheduler", {"solver_type": "bh2"}, True),
    "deis": ("DEISMultistepScheduler", {}, True),
    "lcm": ("LCMScheduler", {}, True),
}

# schedule -> (options, exact)
SCHEDULES: dict[str, tuple[dict[str, Any], bool]] = {
    "normal": ({}, True),
    "karras": ({"use_karras_sigmas": True}, True),
    "exponential": ({"use_exponential_sigmas": True}, True),
    "beta": ({"use_beta_sigmas": True}, True),
    "sgm_uniform": ({"timestep_spacing": "trailing"}, True),
    "simple": ({"timestep_spacing": "trailing"}, False),
    "ddim_uniform": ({"timestep_spacing": "leading"}, False),
}


def make_scheduler(config: Any, sampler: str, schedule: str, current: Any = None) -> Any:
    """A fresh scheduler for ``sampler`` + ``schedule`` from a checkpoint's scheduler ``config``.

    Options a scheduler class does not take (Karras sigmas on DDIM) are left out: that pair is then
    approximate, as the table says.
    """
    import diffusers

    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown scheduler {schedule!r}; known: {', '.join(SCHEDULES)}")
    class_name, options, _ = SAMPLERS[sampler]
    if not class_name:
        if current is None or schedule != "normal":
            class_name = type(current).__name__ if current is not None else "DDIMScheduler"
        else:
            return type(current).from_config(current.config)  # a fresh copy: schedulers keep state
    scheduler_class = getattr(diffusers, class_name)
    accepted = inspect.signature(scheduler_class.__init__).parameters
    wanted = {**options, **SCHEDULES[schedule][0]}
    return scheduler_class.from_config(config, **{k: v for k, v in wanted.items() if k in accepted})


def is_exact(sampler: str, schedule: str) -> bool:
    """Whether this pair reproduces the named algorithm (see the module docstring)."""
    class_name, _, exact = SAMPLERS.get(sampler, ("", {}, False))
    options, schedule_exact = SCHEDULES.get(schedule, ({}, False))
    if not class_name:
        return schedule == "normal"
    import diffusers

    accepted = inspect.signature(getattr(diffusers, class_name).__init__).parameters
    return exact and schedule_exact and all(k in accepted for k in options)
