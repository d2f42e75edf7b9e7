"""Widget values that several mapping tables convert the same way: seeds, sampler and scheduler names,
and the "control after generate" values that follow a seed in the editor's format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .mapping_types import Note

__all__ = ["SEED_MAX", "CONTROL_VALUES", "SEED_WIDGETS", "SAMPLER_NAMES", "SCHEDULER_NAMES", "SAMPLER_FALLBACKS",
           "is_control_value", "seed", "sampler_name", "scheduler_name"]

SEED_MAX = 2**63 - 1
CONTROL_VALUES = {"fixed", "increment", "decrement", "randomize"}
# widgets followed by a "control after generate" value in the editor's format
SEED_WIDGETS = ("seed", "noise_seed")

# our sampler node takes ComfyUI's names; these are the ones it knows (see nodes/diffusion/schedulers.py)
SAMPLER_NAMES = {
    "euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpmpp_2m", "dpmpp_2m_sde",
    "dpmpp_3m_sde", "dpmpp_sde", "dpmpp_2s_ancestral", "ddim", "ddpm", "uni_pc", "uni_pc_bh2", "deis", "lcm",
}
SCHEDULER_NAMES = {"normal", "karras", "exponential", "beta", "sgm_uniform", "simple", "ddim_uniform"}
# samplers ComfyUI has that we stand in for with the nearest one
SAMPLER_FALLBACKS = {
    "euler_cfg_pp": "euler", "euler_ancestral_cfg_pp": "euler_ancestral", "heunpp2": "heun", "dpm_fast": "dpmpp_2m",
    "dpm_adaptive": "dpmpp_2m", "dpmpp_2s_ancestral_cfg_pp": "dpmpp_2s_ancestral", "dpmpp_sde_gpu": "dpmpp_sde",
    "dpmpp_2m_sde_gpu": "dpmpp_2m_sde", "dpmpp_3m_sde_gpu": "dpmpp_3m_sde", "ipndm": "deis", "ipndm_v": "deis",
    "res_multistep": "dpmpp_2m", "gradient_estimation": "euler", "er_sde": "dpmpp_2m_sde",
}


def is_control_value(value: Any) -> bool:
    """Whether a widget value is a seed's "control after generate": a string in today's ComfyUI, a
    boolean in older versions (which saved the widget as on/off)."""
    return isinstance(value, bool) or (isinstance(value, str) and value in CONTROL_VALUES)


def seed(value: Any, note: Note) -> int:
    """A ComfyUI seed as ours (ComfyUI allows larger ones: they wrap, with a note)."""
    seed = int(value or 0)
    if not 0 <= seed <= SEED_MAX:
        note(f"seed {seed} is past our largest seed; using {seed % (SEED_MAX + 1)}")
        seed %= SEED_MAX + 1
    return seed


def sampler_name(value: Any, note: Note) -> str:
    """A ComfyUI sampler name our sampler knows, or the nearest one, with a note."""
    name = str(value)
    if name in SAMPLER_NAMES:
        return name
    fallback = SAMPLER_FALLBACKS.get(name, "euler")
    note(f"sampler {name!r} has no diffusers counterpart; using {fallback!r}")
    return fallback


def scheduler_name(value: Any, note: Note) -> str:
    """A ComfyUI scheduler name our sampler knows, or 'normal', with a note."""
    name = str(value)
    if name in SCHEDULER_NAMES:
        return name
    note(f"scheduler {name!r} has no diffusers counterpart; using 'normal'")
    return "normal"
