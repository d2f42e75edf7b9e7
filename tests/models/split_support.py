"""Split sampling in tests: a step graph cut in two KSamplerAdvanced-like halves, an imported two-sampler
template joined back into one uninterrupted sampler, and a video's frames to compare."""

from __future__ import annotations

import copy

import numpy as np


def split_in_two(graph: dict, at: int) -> dict:
    """``graph``'s ``sample`` node stopped at step ``at`` and a copy (``rest``) taking its latent, with no
    new noise, to the last step; ``decode`` decodes the rest."""
    halves = copy.deepcopy(graph)
    nodes = halves["nodes"]
    nodes["sample"]["params"]["end_step"] = at
    nodes["rest"] = copy.deepcopy(nodes["sample"])
    nodes["rest"]["inputs"]["latent"] = ["sample", "latent"]
    nodes["rest"]["params"].update(start_step=at, end_step=-1, add_noise=False)
    nodes["decode"]["inputs"]["latent"] = ["rest", "latent"]
    return halves


def uninterrupted(graph: dict) -> dict:
    """An imported two-sampler template with its first sampler over every step and the second gone."""
    one = copy.deepcopy(graph)
    nodes = one["nodes"]
    nodes["sampler"]["params"].update(start_step=0, end_step=-1, add_noise=True)
    nodes["decode"]["inputs"]["latent"] = ["sampler", "latent"]
    del nodes["sampler_2"]
    return one


def frames(result) -> np.ndarray:
    """The frames ``decode`` made, as one int16 array (so differences do not wrap)."""
    return np.stack([np.asarray(frame, dtype=np.int16) for frame in result.outputs["decode"]["frames"]])
