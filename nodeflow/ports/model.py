"""Port types for models and model parts that more than one pack passes along.

A model value is a light handle: it asks the model manager for the weights each time it is used, so
the output cache never pins a model and an evicted one is loaded again by the same key. A handle
made around a model in hand (one trained in the graph) holds it directly.

- ``LanguageModel``: a causal LM with its tokenizer (the llm pack loads them, the train pack makes them).
- ``Embedder`` / ``Embedding``: a sentence-embedding model and its vectors (embed, data, train).
- The parts of a latent diffusion model, for step-level graphs: ``Denoiser`` (the UNet or
  transformer), ``TextEncoder`` (CLIP and its tokenizer), ``VAE``; and what flows between them:
  ``Conditioning`` (encoded prompts with strengths) and ``Latent`` (latent images, with an optional
  noise mask for inpainting).

Heavy libraries (numpy, torch, safetensors) are imported on use.
"""

from __future__ import annotations

import json
from dataclasses import KW_ONLY, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .core import PortType, register_type

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = [
    "LoadedLM",
    "LanguageModelHandle",
    "LanguageModel",
    "EmbedderHandle",
    "Embedder",
    "Embedding",
    "Adapter",
    "ModelPart",
    "Denoiser",
    "DiffusionPipeline",
    "TextEncoder",
    "VAE",
    "CondPart",
    "ControlHint",
    "ConditioningValue",
    "Conditioning",
    "LatentImage",
    "Latent",
]


# --- language models -----------------------------------------------------------------------------


@dataclass
class LoadedLM:
    """A causal LM and its tokenizer, as the model manager keeps them."""

    model: Any
    tokenizer: Any

    def to(self, device: str) -> LoadedLM:
        self.model.to(device)
        return self

    def parameters(self):  # so the model manager can measure it
        return self.model.parameters()


class LanguageModelHandle:
    """What flows along a LanguageModel link. ``.model`` and ``.tokenizer`` are transformers objects."""

    def __init__(
        self,
        name: str,
        *,
        fetch: Callable[[], LoadedLM] | None = None,
        model: Any = None,
        tokenizer: Any = None,
        base_folder: str | None = None,
        adapter_file: str | None = None,
        merged: bool = False,
    ):
        if fetch is None and (model is None or tokenizer is None):
            raise ValueError("a LanguageModelHandle needs either fetch or both model and tokenizer")
        self.name = name
        self._fetch = fetch
        self._held = LoadedLM(model, tokenizer) if fetch is None else None
        self.base_folder = base_folder  # a transformers folder with the base weights, when known
        self.adapter_file = adapter_file  # a LoRA applied to that base (nodes/llm/adapters.py)
        self.merged = merged  # whether that LoRA is merged into the weights

    def loaded(self) -> LoadedLM:
        """The model and tokenizer, loading them again if the model manager evicted them."""
        return self._held if self._held is not None else self._fetch()  # type: ignore[misc]

    @property
    def model(self) -> Any:
        return self.loaded().model

    @property
    def tokenizer(self) -> Any:
        return self.loaded().tokenizer

    @property
    def nbytes(self) -> int:
        """Bytes this handle itself keeps alive (none when the model manager holds the weights)."""
        from nodeflow.models import model_nbytes

        return model_nbytes(self._held.model) if self._held is not None else 256

    def __repr__(self) -> str:
        return f"LanguageModelHandle({self.name!r})"


# storage is given by the llm pack, which knows how to write a transformers folder (attach_storage)
LanguageModel = register_type(
    PortType(
        "LanguageModel",
        "#8e7cc3",
        "A causal language model with its tokenizer",
        py=LanguageModelHandle,
        size_of=lambda handle: handle.nbytes,
    )
)


# --- sentence embeddings ------------------------------------------------------------------------


class EmbedderHandle:
    """A sentence-embedding model. ``fetch()`` returns a sentence-transformers model."""

    def __init__(self, name: str, dim: int, fetch: Callable[[], Any]):
        self.name = name
        self.dim = dim
        self._fetch = fetch

    def encode(self, texts: list[str], *, batch_size: int = 32) -> Any:
        """Embed each text: float32 array (len(texts), dim), each row of length 1."""
        import numpy as np

        if isinstance(texts, str):
            raise TypeError("encode takes a list of texts; wrap a single text in a list")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._fetch().encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        return f"EmbedderHandle({self.name!r}, dim={self.dim})"


def _save_embedding(value: Any, folder: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"embedding": np.ascontiguousarray(value, dtype=np.float32)}, str(folder / "embedding.safetensors"))


def _load_embedding(folder: Path) -> Any:
    from safetensors.numpy import load_file

    return load_file(str(folder / "embedding.safetensors"))["embedding"]


Embedder = register_type(
    PortType(
        "Embedder",
        "#76a5af",
        "A sentence-embedding model: texts in, unit-length float32 vectors out",
        py=EmbedderHandle,
        size_of=lambda handle: 256,  # the model manager holds the weights
    )
)
Embedding = register_type(
    PortType(
        "Embedding",
        "#a2c4c9",
        "A float32 vector (dim,) or one vector per row (n, dim)",
        save=_save_embedding,
        load=_load_embedding,
    )
)


# --- diffusion pipelines and their parts ---------------------------------------------------------

# a value is the diffusion pack's PipelineHandle: ``.name``, ``.fetch()`` (the resident diffusers
# pipeline), ``.with_lora(path, scale)``, ``.pipeline()`` (with its LoRAs active); the train pack
# fine-tunes one
DiffusionPipeline = register_type(
    PortType(
        "DiffusionPipeline",
        "#e06666",
        "A diffusers pipeline (text encoder, denoiser, VAE, scheduler) with optional LoRAs",
        size_of=lambda handle: 256,  # the model manager holds the weights
    )
)



@dataclass(frozen=True)
class Adapter:
    """A low-rank adapter (LoRA) file applied to a model part at ``scale``."""

    path: str
    scale: float


@dataclass(frozen=True)
class ModelPart:
    """One part (``denoiser``, ``text_encoder``, ``vae``) of a model the model manager holds.

    ``fetch()`` returns the loaded object that holds every part (a diffusers pipeline); ``adapters``
    are the LoRAs to switch on while this part is used. Adding one makes a new handle.
    """

    name: str
    part: str
    fetch: Callable[[], Any] = field(compare=False)
    adapters: tuple[Adapter, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()  # sampling settings riding on the model (a schedule's shift)

    def with_adapter(self, path: str, scale: float) -> ModelPart:
        return replace(self, adapters=self.adapters + (Adapter(path, scale),))

    def with_options(self, **options: Any) -> ModelPart:
        """A handle with these sampling settings added (later ones win)."""
        merged = {**dict(self.options), **options}
        return replace(self, options=tuple(sorted(merged.items())))

    def __repr__(self) -> str:
        extra = f", adapters={[(a.path, a.scale) for a in self.adapters]}" if self.adapters else ""
        return f"ModelPart({self.name!r}, {self.part}{extra})"


def _part_type(name: str, colour: str, description: str) -> PortType:
    return register_type(PortType(name, colour, description, py=None, size_of=lambda handle: 256))


Denoiser = _part_type("Denoiser", "#b39ddb", "The denoising network of a diffusion model (a UNet or transformer)")
TextEncoder = _part_type("TextEncoder", "#ffd966", "The text encoder of a diffusion model (CLIP) with its tokenizer")
VAE = _part_type("VAE", "#f4cccc", "The autoencoder between pictures and a diffusion model's latents")


@dataclass(frozen=True, eq=False)
class ControlHint:
    """A ControlNet that steers the sampler while this prompt is used: ``model`` is its file or folder
    (the sampler loads it through the model manager), ``image`` a (1, 3, h, w) tensor in [0, 1]; it acts
    from ``start`` to ``end`` (fractions of the steps) at ``strength``."""

    model: str
    image: Any
    strength: float = 1.0
    start: float = 0.0
    end: float = 1.0
    config: str = ""  # a folder with the ControlNet's config.json, for a single file


@dataclass(frozen=True, eq=False)
class CondPart:
    """One encoded prompt: ``embeds`` is a torch tensor (1, tokens, dim); ``strength`` weighs it.

    ``area`` limits it to a rectangle of the picture, ``(height, width, y, x)`` in pixels;
    ``concat`` is a latent-sized tensor (1, channels, h, w) that models with extra input channels
    take beside the noisy latents (an inpainting model's mask and masked picture, instruct-pix2pix's
    picture)."""

    embeds: Any
    strength: float = 1.0
    pooled: Any = None  # pooled text embedding, for models that take one
    _: KW_ONLY  # what follows is named where it is given: several packs add to this list
    area: tuple[int, int, int, int] | None = None
    concat: Any = None
    guidance: float | None = None  # Flux's distilled guidance (FluxGuidance); None: the model's default
    control: tuple[ControlHint, ...] = ()  # ControlNets applied with this prompt

    @property
    def nbytes(self) -> int:
        return int(self.embeds.element_size() * self.embeds.nelement())


@dataclass(frozen=True, eq=False)
class ConditioningValue:
    """What a Conditioning link carries: one or more encoded prompts that a sampler mixes by strength."""

    parts: tuple[CondPart, ...]

    @property
    def nbytes(self) -> int:
        return sum(part.nbytes for part in self.parts)

    @property
    def shape(self) -> tuple:  # what run events show
        return tuple(self.parts[0].embeds.shape) if self.parts else ()


def _save_conditioning(value: ConditioningValue, folder: Path) -> None:
    from safetensors.torch import save_file

    tensors, meta = {}, []
    for index, part in enumerate(value.parts):
        tensors[f"embeds.{index}"] = part.embeds.detach().to("cpu").contiguous()
        if part.pooled is not None:
            tensors[f"pooled.{index}"] = part.pooled.detach().to("cpu").contiguous()
        if part.concat is not None:
            tensors[f"concat.{index}"] = part.concat.detach().to("cpu").contiguous()
        entry: dict[str, Any] = {"strength": part.strength, "area": list(part.area) if part.area is not None else None}
        if part.guidance is not None:
            entry["guidance"] = part.guidance
        if part.control:
            entry["control"] = [{"model": c.model, "config": c.config, "strength": c.strength, "start": c.start,
                                 "end": c.end} for c in part.control]
            for number, hint in enumerate(part.control):
                tensors[f"control.{index}.{number}"] = hint.image.detach().to("cpu").contiguous()
        meta.append(entry)
    save_file(tensors, str(folder / "conditioning.safetensors"))
    (folder / "parts.json").write_text(json.dumps(meta))


def _load_conditioning(folder: Path) -> ConditioningValue:
    from safetensors.torch import load_file

    tensors = load_file(str(folder / "conditioning.safetensors"))
    meta = json.loads((folder / "parts.json").read_text())
    return ConditioningValue(
        tuple(
            CondPart(
                tensors[f"embeds.{i}"], entry["strength"], tensors.get(f"pooled.{i}"),
                area=tuple(entry["area"]) if entry.get("area") else None, concat=tensors.get(f"concat.{i}"),
                guidance=entry.get("guidance"),
                control=tuple(ControlHint(c["model"], tensors[f"control.{i}.{n}"], c["strength"], c["start"], c["end"],
                                          c["config"]) for n, c in enumerate(entry.get("control", []))),
            )
            for i, entry in enumerate(meta)
        )
    )


Conditioning = register_type(
    PortType(
        "Conditioning",
        "#ffa931",
        "Encoded prompts (with strengths) that steer a diffusion sampler",
        py=ConditioningValue,
        save=_save_conditioning,
        load=_load_conditioning,
    )
)


@dataclass(frozen=True, eq=False)
class LatentImage:
    """Latent images: ``samples`` is a torch tensor (batch, channels, h, w) in the model's scaled latent
    space; ``noise_mask`` (1 or batch, 1, h, w) in [0, 1] marks what a sampler may repaint (1)."""

    samples: Any
    noise_mask: Any = None
    # (scaling factor, shift) of the latent space the model that sampled them works in; a VAE decodes
    # with it (as ComfyUI's latent formats belong to the model), so a VAE loaded alone fits any family.
    # None: the VAE's own config says.
    scale: tuple[float, float] | None = None

    @property
    def shape(self) -> tuple:
        return tuple(self.samples.shape)

    @property
    def nbytes(self) -> int:
        extra = 0 if self.noise_mask is None else self.noise_mask.element_size() * self.noise_mask.nelement()
        return int(self.samples.element_size() * self.samples.nelement() + extra)


def _save_latent(value: LatentImage, folder: Path) -> None:
    from safetensors.torch import save_file

    tensors = {"samples": value.samples.detach().to("cpu").contiguous()}
    if value.noise_mask is not None:
        tensors["noise_mask"] = value.noise_mask.detach().to("cpu").contiguous()
    save_file(tensors, str(folder / "latent.safetensors"))
    if value.scale is not None:
        (folder / "scale.json").write_text(json.dumps(list(value.scale)))


def _load_latent(folder: Path) -> LatentImage:
    from safetensors.torch import load_file

    tensors = load_file(str(folder / "latent.safetensors"))
    scale_file = folder / "scale.json"
    scale = tuple(json.loads(scale_file.read_text())) if scale_file.exists() else None
    return LatentImage(tensors["samples"], tensors.get("noise_mask"), scale)


Latent = register_type(
    PortType(
        "Latent",
        "#ff9cf9",
        "Latent images (batch, channels, height/8, width/8), with an optional inpainting noise mask",
        py=LatentImage,
        accepts=("Latents",),  # the pipeline nodes' raw latents tensor feeds step-level nodes
        save=_save_latent,
        load=_load_latent,
    )
)
