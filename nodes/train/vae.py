"""A variational autoencoder (diffusers AutoencoderKL): training, and walking its latent space."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from nodeflow import Context, Image, ImageDataset, ImageSet, Param, node, sample_grid
from nodes.train.checkpoints import History, VAECheckpoint, VAEModel
from nodes.train.monitor import TrainingMonitor, cosine_lr, cpu_threads, seeded_generator

__all__ = ["build_vae", "train_vae_model", "encode_mean", "decode"]


def build_vae(channels: int, width: int, latent_channels: int):
    """Two levels (one halving of the size), so an 8x8 digit becomes a 4x4 latent."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        in_channels=channels, out_channels=channels, latent_channels=latent_channels,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(width, width * 2), layers_per_block=1, norm_num_groups=8,
        scaling_factor=1.0,
    )


def encode_mean(vae, pixels: np.ndarray):
    import torch

    with torch.inference_mode():
        return vae.encode(torch.from_numpy(pixels) * 2 - 1).latent_dist.mean


def decode(vae, latents) -> np.ndarray:
    import torch

    with torch.inference_mode():
        images = vae.decode(latents).sample
    return ((images.clamp(-1, 1) + 1) / 2).numpy().astype(np.float32)


def train_vae_model(
    data: ImageSet,
    *,
    init: VAECheckpoint | None = None,
    steps: int = 1500,
    batch_size: int = 64,
    width: int = 32,
    latent_channels: int = 2,
    kl_weight: float = 1.0,
    learning_rate: float = 1e-3,
    seed: int = 0,
    ctx: Context | None = None,
) -> VAECheckpoint:
    import torch

    height, width_px = data.size
    if height % 2 or width_px % 2:
        raise ValueError(f"the VAE halves the image size once; {width_px}x{height} is odd: add data.resize")
    torch.manual_seed(seed)
    if init is not None:
        if init.vae.config.in_channels != data.channels:
            raise ValueError(f"the checkpoint takes {init.vae.config.in_channels} channels; the data has {data.channels}")
        vae = copy.deepcopy(init.vae)
        history = init.history.extended({"steps": steps, "seed": seed, "learning_rate": learning_rate})
    else:
        vae = build_vae(data.channels, width, latent_channels)
        history = History(runs=[{"steps": steps, "seed": seed, "learning_rate": learning_rate, "width": width}])
    checkpoint = VAECheckpoint(vae, history)
    images = torch.from_numpy(data.pixels) * 2 - 1
    optimizer = torch.optim.AdamW(vae.parameters(), lr=learning_rate)
    generator = seeded_generator(seed)
    pixels_per_image = float(np.prod(data.pixels.shape[1:]))
    shown = data.pixels[np.linspace(0, len(data) - 1, 8).round().astype(int)]

    def samples():
        vae.eval()
        pictures = sample_grid(np.concatenate([shown, decode(vae, encode_mean(vae, shown))]), columns=8, cell=40)
        vae.train()
        return pictures

    monitor = TrainingMonitor(ctx, steps, history, samples=samples)
    vae.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, steps, learning_rate)
        batch = images[torch.randint(0, len(images), (batch_size,), generator=generator)]
        posterior = vae.encode(batch).latent_dist
        latents = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=generator)
        reconstruction = vae.decode(latents).sample
        # per image: squared error summed over pixels (a unit-variance Gaussian likelihood) plus KL
        rec = (reconstruction - batch).pow(2).flatten(1).sum(1).mean()
        kl = posterior.kl().mean()
        loss = (rec + kl_weight * kl) / pixels_per_image
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        monitor.step(loss=loss.item(), reconstruction=rec.item() / pixels_per_image)
    vae.eval()
    monitor.finish()
    return checkpoint


@node("train.vae", category="Train", cache="disk", outputs=("model",))
def train_vae(
    dataset: ImageDataset,
    init: VAEModel | None = None,
    ctx: Context = None,
    *,
    steps: int = Param(1500, min=1, max=1_000_000),
    batch_size: int = Param(64, min=1, max=4096),
    width: int = Param(32, min=8, max=512, step=8, description="channels of the first level (a multiple of 8)"),
    latent_channels: int = Param(2, min=1, max=64),
    kl_weight: float = Param(1.0, min=0.0, max=100.0, description="weight of the KL term (beta)"),
    learning_rate: float = Param(1e-3, min=1e-6, max=1.0),
    seed: int = Param(0, kind="seed"),
) -> VAEModel:
    """Train a variational autoencoder; the loss curve and reconstructions (top: real, bottom: rebuilt)
    show live on the node. Link ``init`` to continue training. Cached on disk."""
    if width % 8:
        raise ValueError(f"width must be a multiple of 8 (the group norm), got {width}")
    with cpu_threads():
        return train_vae_model(dataset, init=init, steps=steps, batch_size=batch_size, width=width,
                               latent_channels=latent_channels, kl_weight=kl_weight, learning_rate=learning_rate,
                               seed=seed, ctx=ctx)


@node("train.vae_interpolate", category="Train / Sample")
def vae_interpolate(
    model: VAEModel,
    dataset: ImageDataset,
    ctx: Context,
    *,
    first: int = Param(0, min=0, description="index of the starting image in the dataset"),
    second: int = Param(1, min=0, description="index of the final image"),
    frames: int = Param(8, min=2, max=256),
) -> Image:
    """Walk the latent space from one dataset image to another: a strip of decoded in-between images."""
    import torch

    for index in (first, second):
        if index >= len(dataset):
            raise ValueError(f"image {index} is out of range: the dataset has {len(dataset)}")
    with cpu_threads():
        ends = encode_mean(model.vae, dataset.pixels[[first, second]])
    weights = torch.linspace(0, 1, frames).view(-1, 1, 1, 1)
    latents = ends[0:1] * (1 - weights) + ends[1:2] * weights
    with cpu_threads():
        strip = sample_grid(decode(model.vae, latents), columns=frames, cell=64)
    ctx.preview(strip)
    return strip


def vae_sample_batch(calls: list[dict[str, Any]], ctx: Context) -> list[Any]:
    """Sweep items of vae_sample: one decoder pass for the items of a model that share a size (each
    item keeps its own seed's latents)."""
    import torch

    results: dict[int, Any] = {}
    groups: dict[tuple, list[int]] = {}
    for index, call in enumerate(calls):
        groups.setdefault((id(call["model"]), call["size"]), []).append(index)
    for (_, size), members in groups.items():
        model = calls[members[0]]["model"]
        latents = []
        for i in members:
            generator = torch.Generator().manual_seed(int(calls[i]["seed"]) % (2**63))
            latents.append(torch.randn(calls[i]["count"], model.vae.config.latent_channels, size // 2, size // 2,
                                       generator=generator))
        with cpu_threads():
            pixels = decode(model.vae, torch.cat(latents))
        start = 0
        for i in members:
            count = calls[i]["count"]
            results[i] = sample_grid(pixels[start : start + count], columns=calls[i]["columns"], cell=48)
            start += count
        ctx.preview(results[members[0]])
    return [results[i] for i in range(len(calls))]


@node("train.vae_sample", category="Train / Sample", batch=vae_sample_batch)
def vae_sample(
    model: VAEModel,
    ctx: Context,
    *,
    count: int = Param(16, min=1, max=1024),
    size: int = Param(8, min=2, max=1024, description="image size; the latent is half of it"),
    seed: int = Param(0, kind="seed"),
    columns: int = Param(8, min=1, max=64),
) -> Image:
    """Decode random latents from the prior (a standard normal) into new images."""
    import torch

    generator = torch.Generator().manual_seed(int(seed) % (2**63))
    latents = torch.randn(count, model.vae.config.latent_channels, size // 2, size // 2, generator=generator)
    with cpu_threads():
        grid = sample_grid(decode(model.vae, latents), columns=columns, cell=48)
    ctx.preview(grid)
    return grid
