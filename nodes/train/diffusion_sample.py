"""Sampling from a trained diffusion model: DDIM steps with classifier-free guidance."""

from __future__ import annotations

from typing import Any

import numpy as np

from nodeflow import Context, Embedder, Embedding, Image, Param, node, sample_grid, to_pil
from nodes.train.checkpoints import DiffusionCheckpoint, DiffusionModel
from nodes.train.monitor import cpu_threads

__all__ = ["denoise", "null_condition", "class_condition", "caption_condition"]


def null_condition(model: DiffusionCheckpoint, count: int) -> Any:
    """The "no condition" input, for classifier-free guidance and unconditional dropout."""
    import torch

    if model.conditioning == "class":
        return torch.full((count,), len(model.class_names), dtype=torch.long)
    if model.conditioning == "caption":
        return torch.zeros(count, model.unet.config.projection_class_embeddings_input_dim)
    return None


def class_condition(model: DiffusionCheckpoint, labels: np.ndarray) -> Any:
    """Conditions asking for classes by index (caption models use each class's mean caption embedding)."""
    import torch

    labels = np.asarray(labels, dtype=np.int64)
    if model.conditioning == "class":
        return torch.from_numpy(labels)
    if model.conditioning == "caption":
        if model.class_embeddings is None:
            raise ValueError("this caption model was trained without class labels: give it an embedding or text")
        return torch.from_numpy(model.class_embeddings[labels])
    return None


def caption_condition(model: DiffusionCheckpoint, vectors: np.ndarray) -> Any:
    import torch

    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    expected = model.unet.config.projection_class_embeddings_input_dim
    if vectors.shape[1] != expected:
        raise ValueError(f"the embedding has {vectors.shape[1]} numbers; this model was trained on {expected}")
    return torch.from_numpy(vectors)


def predict_noise(unet: Any, conditioning: str, x: Any, t: Any, condition: Any) -> Any:
    """The UNet's noise prediction, whatever kind of conditioning it takes."""
    if conditioning == "caption":
        return unet(x, t, encoder_hidden_states=condition[:, None, :], class_labels=condition).sample
    if conditioning == "class":
        return unet(x, t, class_labels=condition).sample
    return unet(x, t).sample


def starting_noise(model: DiffusionCheckpoint, count: int, seed: int) -> Any:
    import torch

    generator = torch.Generator().manual_seed(int(seed) % (2**63))
    return torch.randn((count, model.channels, model.size, model.size), generator=generator)


def denoise(
    model: DiffusionCheckpoint,
    condition: Any,
    count: int,
    *,
    steps: int = 25,
    guidance: float = 1.5,
    seed: int = 0,
    progress=None,
    initial: Any = None,
) -> np.ndarray:
    """``count`` images as float32 (count, channels, size, size) in [0, 1].

    ``condition`` has one row per image (or is None for unconditional models); with ``guidance`` above
    1 each step mixes the conditional and unconditional predictions: u + guidance * (c - u).
    ``initial`` is the starting noise when given (a batch of items, each drawn from its own seed).
    """
    import torch
    from diffusers import DDIMScheduler

    scheduler = DDIMScheduler.from_config(model.scheduler_config)
    scheduler.set_timesteps(steps)
    generator = torch.Generator().manual_seed(int(seed) % (2**63))
    unet = model.unet
    was_training = unet.training
    unet.eval()
    x = initial if initial is not None else starting_noise(model, count, seed)
    guided = condition is not None and guidance != 1.0
    if guided:
        both = torch.cat([null_condition(model, count), condition])
    with torch.inference_mode():
        for index, t in enumerate(scheduler.timesteps):
            if progress is not None:
                progress(index, steps)
            if guided:
                uncond, cond = predict_noise(unet, model.conditioning, torch.cat([x, x]), t, both).chunk(2)
                noise = uncond + guidance * (cond - uncond)
            else:
                noise = predict_noise(unet, model.conditioning, x, t, condition)
            x = scheduler.step(noise, t, x, generator=generator).prev_sample
    unet.train(was_training)
    return ((x.clamp(-1, 1) + 1) / 2).numpy().astype(np.float32)


def _condition(model: DiffusionCheckpoint, embedding: Any, text: Any, embedder: Any, label: int, count: int) -> Any:
    if model.conditioning == "caption":
        if embedding is not None:
            return caption_condition(model, np.repeat(np.atleast_2d(embedding), count, 0))
        elif text is not None:
            if embedder is None:
                raise ValueError("text is linked but no embedder: link the embedder the model was trained with")
            return caption_condition(model, np.repeat(embedder.encode([text]), count, 0))
        elif label >= 0:
            return class_condition(model, np.full(count, _check_label(model, label)))
        else:
            raise ValueError("this model draws from a caption: link an embedding (or text and an embedder) or set label")
    elif model.conditioning == "class":
        if label < 0:
            raise ValueError(f"this model draws a class: set label to 0-{len(model.class_names) - 1}")
        return class_condition(model, np.full(count, _check_label(model, label)))
    return None


def diffusion_sample_batch(calls: list[dict[str, Any]], ctx: Context) -> list[Any]:
    """Sweep items of diffusion_sample: one denoising loop for the items of a model that share steps
    and guidance (each item starts from its own seed's noise, so it draws what it would draw alone)."""
    import torch

    results: dict[int, Any] = {}
    groups: dict[tuple, list[int]] = {}
    conditions = {}
    for index, call in enumerate(calls):
        model = call["model"]
        conditions[index] = _condition(model, call.get("embedding"), call.get("text"), call.get("embedder"),
                                       call["label"], call["count"])
        shape = (id(model), call["steps"], call["guidance"], conditions[index] is None)
        groups.setdefault(shape, []).append(index)
    for (_, steps, guidance, unconditional), members in groups.items():
        model = calls[members[0]]["model"]
        initial = torch.cat([starting_noise(model, calls[i]["count"], calls[i]["seed"]) for i in members])
        condition = None if unconditional else torch.cat([conditions[i] for i in members])
        with cpu_threads():
            pixels = denoise(model, condition, len(initial), steps=steps, guidance=guidance,
                             progress=ctx.progress, initial=initial)
        start = 0
        for i in members:
            count = calls[i]["count"]
            mine = pixels[start : start + count]
            start += count
            results[i] = to_pil(mine[0]) if count == 1 else sample_grid(mine, columns=calls[i]["columns"],
                                                                        cell=max(model.size, 32))
        ctx.preview(results[members[0]])
    return [results[i] for i in range(len(calls))]


@node("train.diffusion_sample", category="Train / Sample", batch=diffusion_sample_batch)
def diffusion_sample(
    model: DiffusionModel,
    embedding: Embedding | None = None,
    text: str | None = None,
    embedder: Embedder | None = None,
    ctx: Context = None,
    *,
    label: int = Param(-1, min=-1, max=1000, description="class to draw when nothing is linked; -1 for none"),
    count: int = Param(1, min=1, max=256, description="more than one gives a grid"),
    steps: int = Param(25, min=1, max=1000),
    guidance: float = Param(1.5, min=0.0, max=20.0, step=0.1, display="slider",
                            description="classifier-free guidance; 1 is none"),
    seed: int = Param(0, kind="seed"),
    columns: int = Param(8, min=1, max=64),
) -> Image:
    """Draw images with a trained diffusion model.

    A caption model is conditioned on a linked embedding, or on text embedded with a linked embedder,
    or (when trained on labelled data) on a class ``label``; a class model on ``label``.
    """
    count_condition = _condition(model, embedding, text, embedder, label, count)
    with cpu_threads():
        pixels = denoise(model, count_condition, count, steps=steps, guidance=guidance, seed=seed,
                         progress=ctx.progress if ctx is not None else None)
    picture = to_pil(pixels[0]) if count == 1 else sample_grid(pixels, columns=columns, cell=max(model.size, 32))
    if ctx is not None:
        ctx.preview(picture if count > 1 else sample_grid(pixels, columns=1, cell=128))
    return picture


def _check_label(model: DiffusionCheckpoint, label: int) -> int:
    if label >= len(model.class_names):
        raise ValueError(f"label {label} is out of range: the model knows {len(model.class_names)} classes")
    return label
