"""Trained models as port types: each saves as safetensors plus config in its library's own format.

A checkpoint folder reloads with diffusers or transformers directly (``UNet2DModel.from_pretrained``,
``AutoencoderKL.from_pretrained``, ``AutoModelForCausalLM.from_pretrained`` + ``AutoTokenizer``), so a
model trained in a graph also works outside it. What nodeflow adds (the loss history, the conditioning,
the class captions) sits beside it in ``nodeflow.json`` and ``conditioning.safetensors``. No pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nodeflow import PortType, register_type

__all__ = [
    "History",
    "DiffusionCheckpoint",
    "VAECheckpoint",
    "GANCheckpoint",
    "LMCheckpoint",
    "DiffusionModel",
    "VAEModel",
    "GANModel",
    "TrainedLM",
]


@dataclass
class History:
    """What training did so far: loss curves (one value per step) and the settings of each run."""

    curves: dict[str, list[float]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return max((len(v) for v in self.curves.values()), default=0)

    def to_json(self) -> dict[str, Any]:
        return {"curves": self.curves, "runs": self.runs}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> History:
        return cls(curves={k: list(v) for k, v in data.get("curves", {}).items()}, runs=list(data.get("runs", [])))

    def extended(self, run: dict[str, Any]) -> History:
        """A copy to continue training in (an earlier checkpoint's history is never changed)."""
        return History({k: list(v) for k, v in self.curves.items()}, [*self.runs, run])


def _write_meta(folder: Path, kind: str, history: History, **fields: Any) -> None:
    meta = {"kind": kind, "history": history.to_json(), **fields}
    (folder / "nodeflow.json").write_text(json.dumps(meta))


def _read_meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "nodeflow.json").read_text())


def _torch_nbytes(*modules: Any) -> int:
    return sum(p.element_size() * p.nelement() for m in modules for p in m.parameters())


# --- diffusion --------------------------------------------------------------------------------


@dataclass
class DiffusionCheckpoint:
    """A denoising UNet with its noise schedule, and how it is conditioned.

    ``conditioning`` is ``none``, ``class`` (class labels; the extra last class is "no class", for
    classifier-free guidance) or ``caption`` (a sentence embedding; zeros mean "no caption").
    ``class_embeddings`` holds, for caption models trained on labelled data, the mean caption
    embedding of each class, so a sampler can ask for a class without an embedder.
    """

    unet: Any
    scheduler_config: dict[str, Any]
    conditioning: str
    class_names: list[str]
    history: History
    class_embeddings: np.ndarray | None = None

    @property
    def channels(self) -> int:
        return int(self.unet.config.in_channels)

    @property
    def size(self) -> int:
        return int(self.unet.config.sample_size)

    @property
    def nbytes(self) -> int:
        return _torch_nbytes(self.unet)


def _save_diffusion(value: DiffusionCheckpoint, folder: Path) -> None:
    from diffusers import DDPMScheduler, __version__

    value.unet.save_pretrained(folder / "unet", safe_serialization=True)
    DDPMScheduler.from_config(value.scheduler_config).save_pretrained(folder / "scheduler")
    if value.conditioning == "none":  # then the folder is a whole DDPMPipeline
        index = {"_class_name": "DDPMPipeline", "_diffusers_version": __version__,
                 "scheduler": ["diffusers", "DDPMScheduler"], "unet": ["diffusers", type(value.unet).__name__]}
        (folder / "model_index.json").write_text(json.dumps(index, indent=2))
    if value.class_embeddings is not None:
        from safetensors.numpy import save_file

        save_file({"class_embeddings": value.class_embeddings}, str(folder / "conditioning.safetensors"))
    _write_meta(folder, "diffusion", value.history, conditioning=value.conditioning,
                class_names=value.class_names, unet_class=type(value.unet).__name__)


def _load_diffusion(folder: Path) -> DiffusionCheckpoint:
    import diffusers
    from diffusers import DDPMScheduler

    meta = _read_meta(folder)
    unet_class = getattr(diffusers, meta["unet_class"])
    unet = unet_class.from_pretrained(folder / "unet").eval()
    class_embeddings = None
    if (folder / "conditioning.safetensors").exists():
        from safetensors.numpy import load_file

        class_embeddings = load_file(str(folder / "conditioning.safetensors"))["class_embeddings"]
    return DiffusionCheckpoint(
        unet=unet,
        scheduler_config=dict(DDPMScheduler.load_config(folder / "scheduler")),
        conditioning=meta["conditioning"],
        class_names=meta["class_names"],
        history=History.from_json(meta["history"]),
        class_embeddings=class_embeddings,
    )


DiffusionModel = register_type(
    PortType("DiffusionModel", "#e57373", "A denoising diffusion model trained in a graph (diffusers UNet + scheduler)",
             py=DiffusionCheckpoint, save=_save_diffusion, load=_load_diffusion,
             size_of=lambda v: v.nbytes)
)


# --- variational autoencoder --------------------------------------------------------------------


@dataclass
class VAECheckpoint:
    """A diffusers ``AutoencoderKL`` trained in a graph."""

    vae: Any
    history: History

    @property
    def nbytes(self) -> int:
        return _torch_nbytes(self.vae)


def _save_vae(value: VAECheckpoint, folder: Path) -> None:
    value.vae.save_pretrained(folder / "vae", safe_serialization=True)
    _write_meta(folder, "vae", value.history)


def _load_vae(folder: Path) -> VAECheckpoint:
    from diffusers import AutoencoderKL

    return VAECheckpoint(AutoencoderKL.from_pretrained(folder / "vae").eval(), History.from_json(_read_meta(folder)["history"]))


VAEModel = register_type(
    PortType("VAEModel", "#f06292", "A variational autoencoder trained in a graph (diffusers AutoencoderKL)",
             py=VAECheckpoint, save=_save_vae, load=_load_vae, size_of=lambda v: v.nbytes)
)


# --- GAN ----------------------------------------------------------------------------------------


@dataclass
class GANCheckpoint:
    """A DCGAN generator and discriminator (diffusers ``ModelMixin`` classes from gan_nets.py)."""

    generator: Any
    discriminator: Any
    history: History

    @property
    def nbytes(self) -> int:
        return _torch_nbytes(self.generator, self.discriminator)


def _save_gan(value: GANCheckpoint, folder: Path) -> None:
    value.generator.save_pretrained(folder / "generator", safe_serialization=True)
    value.discriminator.save_pretrained(folder / "discriminator", safe_serialization=True)
    _write_meta(folder, "gan", value.history)


def _load_gan(folder: Path) -> GANCheckpoint:
    from nodes.train.gan_nets import DCGANDiscriminator, DCGANGenerator

    return GANCheckpoint(
        DCGANGenerator.from_pretrained(folder / "generator").eval(),
        DCGANDiscriminator.from_pretrained(folder / "discriminator").eval(),
        History.from_json(_read_meta(folder)["history"]),
    )


GANModel = register_type(
    PortType("GANModel", "#ff8a65", "A DCGAN-style generator and discriminator trained in a graph",
             py=GANCheckpoint, save=_save_gan, load=_load_gan, size_of=lambda v: v.nbytes)
)


# --- language model -----------------------------------------------------------------------------


@dataclass
class LMCheckpoint:
    """A small transformers causal LM (GPT-2 architecture) with the tokenizer it was trained with."""

    model: Any
    tokenizer: Any
    history: History

    @property
    def nbytes(self) -> int:
        return _torch_nbytes(self.model)


def _save_lm(value: LMCheckpoint, folder: Path) -> None:
    value.model.save_pretrained(folder, safe_serialization=True)
    value.tokenizer.save_pretrained(folder)
    _write_meta(folder, "language_model", value.history)


def _load_lm(folder: Path) -> LMCheckpoint:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return LMCheckpoint(
        AutoModelForCausalLM.from_pretrained(folder).eval(),
        AutoTokenizer.from_pretrained(folder),
        History.from_json(_read_meta(folder)["history"]),
    )


TrainedLM = register_type(
    PortType("TrainedLM", "#9575cd", "A small language model trained in a graph (transformers GPT-2 + tokenizer)",
             py=LMCheckpoint, save=_save_lm, load=_load_lm, size_of=lambda v: v.nbytes)
)
