"""A DCGAN-style GAN: training (generator against discriminator) and sampling."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from nodeflow import Context, Image, ImageDataset, ImageSet, Param, node, sample_grid, to_pil
from nodes.train.checkpoints import GANCheckpoint, GANModel, History
from nodes.train.monitor import TrainingMonitor, cpu_threads, seeded_generator

__all__ = ["train_gan_model", "gan_pixels"]


def gan_pixels(model: GANCheckpoint, count: int, seed: int) -> np.ndarray:
    """``count`` generated images, float32 (count, channels, size, size) in [0, 1]."""
    return _generate(model, _noise(model, count, seed))


def _noise(model: GANCheckpoint, count: int, seed: int) -> Any:
    import torch

    generator = torch.Generator().manual_seed(int(seed) % (2**63))
    return torch.randn(count, model.generator.config.latent_dim, generator=generator)


def _generate(model: GANCheckpoint, noise: Any) -> np.ndarray:
    import torch

    was_training = model.generator.training
    model.generator.eval()
    with torch.inference_mode():
        images = model.generator(noise)
    model.generator.train(was_training)
    return ((images.clamp(-1, 1) + 1) / 2).numpy().astype(np.float32)


def train_gan_model(
    data: ImageSet,
    *,
    init: GANCheckpoint | None = None,
    steps: int = 2000,
    batch_size: int = 64,
    latent_dim: int = 32,
    width: int = 32,
    learning_rate: float = 2e-4,
    seed: int = 0,
    ctx: Context | None = None,
) -> GANCheckpoint:
    import torch
    import torch.nn.functional as F

    from nodes.train.gan_nets import DCGANDiscriminator, DCGANGenerator

    height, width_px = data.size
    if height != width_px:
        raise ValueError(f"a DCGAN needs square images, got {width_px}x{height}: add data.resize")
    torch.manual_seed(seed)
    if init is not None:
        config = init.generator.config
        if (config.channels, config.size) != (data.channels, height):
            raise ValueError(f"the checkpoint makes {config.size}px images with {config.channels} channels; "
                             f"the data is {height}px with {data.channels}")
        generator_net, discriminator = copy.deepcopy(init.generator), copy.deepcopy(init.discriminator)
        history = init.history.extended({"steps": steps, "seed": seed, "learning_rate": learning_rate})
    else:
        generator_net = DCGANGenerator(latent_dim=latent_dim, channels=data.channels, size=height, width=width)
        discriminator = DCGANDiscriminator(channels=data.channels, size=height, width=width)
        history = History(runs=[{"steps": steps, "seed": seed, "learning_rate": learning_rate, "width": width}])
    latent = generator_net.config.latent_dim
    checkpoint = GANCheckpoint(generator_net, discriminator, history)
    images = torch.from_numpy(data.pixels) * 2 - 1
    optimizer_g = torch.optim.Adam(generator_net.parameters(), lr=learning_rate, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=learning_rate, betas=(0.5, 0.999))
    rng = seeded_generator(seed)
    real_target = torch.ones(batch_size)
    fake_target = torch.zeros(batch_size)

    def samples():
        return sample_grid(gan_pixels(checkpoint, 32, seed), columns=8, cell=40)

    monitor = TrainingMonitor(ctx, steps, history, samples=samples)
    generator_net.train()
    discriminator.train()
    for _step in range(steps):
        real = images[torch.randint(0, len(images), (batch_size,), generator=rng)]
        fake = generator_net(torch.randn(batch_size, latent, generator=rng))
        # discriminator: real images score 1, generated ones 0
        loss_d = (F.binary_cross_entropy_with_logits(discriminator(real), real_target)
                  + F.binary_cross_entropy_with_logits(discriminator(fake.detach()), fake_target)) / 2
        optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        optimizer_d.step()
        # generator: make the discriminator score generated images 1
        loss_g = F.binary_cross_entropy_with_logits(discriminator(fake), real_target)
        optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        optimizer_g.step()
        monitor.step(discriminator=loss_d.item(), generator=loss_g.item())
    generator_net.eval()
    discriminator.eval()
    monitor.finish()
    return checkpoint


@node("train.gan", category="Train", cache="disk", outputs=("model",))
def train_gan(
    dataset: ImageDataset,
    init: GANModel | None = None,
    ctx: Context = None,
    *,
    steps: int = Param(2000, min=1, max=1_000_000),
    batch_size: int = Param(64, min=2, max=4096),
    latent_dim: int = Param(32, min=1, max=4096),
    width: int = Param(32, min=4, max=1024, description="channels of the discriminator's first layer"),
    learning_rate: float = Param(2e-4, min=1e-6, max=1.0),
    seed: int = Param(0, kind="seed"),
) -> GANModel:
    """Train a DCGAN (square images of 8, 16, 32... pixels), generator and discriminator losses and
    samples live on the node. Link ``init`` to continue training. Cached on disk."""
    with cpu_threads():
        return train_gan_model(dataset, init=init, steps=steps, batch_size=batch_size, latent_dim=latent_dim, width=width,
                               learning_rate=learning_rate, seed=seed, ctx=ctx)


def gan_sample_batch(calls: list[dict[str, Any]], ctx: Context) -> list[Any]:
    """Sweep items of gan_sample: one generator pass for all items of a model (each item keeps its
    own seed's noise, so it draws what it would draw alone)."""
    import torch

    results: dict[int, Any] = {}
    groups: dict[int, list[int]] = {}
    for index, call in enumerate(calls):
        groups.setdefault(id(call["model"]), []).append(index)
    for members in groups.values():
        model = calls[members[0]]["model"]
        noise = torch.cat([_noise(model, calls[i]["count"], calls[i]["seed"]) for i in members])
        with cpu_threads():
            pixels = _generate(model, noise)
        start = 0
        for i in members:
            call = calls[i]
            mine = pixels[start : start + call["count"]]
            start += call["count"]
            results[i] = to_pil(mine[0]) if call["count"] == 1 else sample_grid(
                mine, columns=call["columns"], cell=max(32, model.generator.config.size))
        ctx.preview(results[members[0]])
    return [results[i] for i in range(len(calls))]


@node("train.gan_sample", category="Train / Sample", batch=gan_sample_batch)
def gan_sample(
    model: GANModel,
    ctx: Context,
    *,
    count: int = Param(1, min=1, max=1024, description="more than one gives a grid"),
    seed: int = Param(0, kind="seed"),
    columns: int = Param(8, min=1, max=64),
) -> Image:
    """Draw images from a trained GAN's generator. The same seed gives the same images."""
    with cpu_threads():
        pixels = gan_pixels(model, count, seed)
    picture = to_pil(pixels[0]) if count == 1 else sample_grid(pixels, columns=columns, cell=max(32, model.generator.config.size))
    ctx.preview(picture if count > 1 else sample_grid(pixels, columns=1, cell=128))
    return picture
