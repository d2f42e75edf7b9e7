"""Training a denoising diffusion model (a diffusers UNet with a DDPM noise schedule).

Unconditional, conditioned on a class label, or on a caption embedding (MiniLM), with the condition
dropped for a share of steps so the sampler can use classifier-free guidance. The weights kept are an
exponential moving average of the trained ones, which gives cleaner samples after short training.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from nodeflow import Context, Embedder, ImageDataset, ImageSet, Param, node, sample_grid
from nodes.train.checkpoints import DiffusionCheckpoint, DiffusionModel, History, _save_diffusion
from nodes.train.diffusion_sample import class_condition, denoise, null_condition, predict_noise
from nodes.train.monitor import TrainingMonitor, cosine_lr, cpu_threads, seeded_generator
from nodes.train.tracking import data_hash, open_tracker, track_param

__all__ = ["build_unet", "train_diffusion_model"]

SCHEDULE = {"num_train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2", "clip_sample": True,
            "prediction_type": "epsilon"}


def build_unet(conditioning: str, channels: int, size: int, width: int, *, classes: int = 0, embed_dim: int = 0):
    """A small two-level UNet (size -> size/2): plain for none/class, with a caption projection and
    mid-block cross-attention for captions."""
    from diffusers import UNet2DConditionModel, UNet2DModel

    common = dict(sample_size=size, in_channels=channels, out_channels=channels, layers_per_block=1,
                  block_out_channels=(width, width * 2), norm_num_groups=8)
    if conditioning == "caption":
        return UNet2DConditionModel(
            **common,
            down_block_types=("DownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "UpBlock2D"),
            cross_attention_dim=embed_dim,
            attention_head_dim=8,
            class_embed_type="projection",
            projection_class_embeddings_input_dim=embed_dim,
        )
    return UNet2DModel(
        **common,
        down_block_types=("DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=8,
        num_class_embeds=classes + 1 if conditioning == "class" else None,  # +1: "no class"
    )


def _typical_embeddings(embeddings: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """For each class, the caption embedding nearest the class's mean: a caption the model really saw
    (a mean of several phrasings is not one, and guidance extrapolates badly from it)."""
    typical = np.zeros((classes, embeddings.shape[1]), np.float32)
    for c in range(classes):
        members = embeddings[labels == c]
        if len(members):
            typical[c] = members[np.argmin(((members - members.mean(0)) ** 2).sum(1))]
    return typical


def _conditioning_of(data: ImageSet, requested: str, embedder) -> str:
    if requested != "auto":
        return requested
    if data.captions is not None and (embedder is not None or data.embeddings is not None):
        return "caption"
    return "class" if data.labels is not None and data.class_names else "none"


def train_diffusion_model(
    data: ImageSet,
    *,
    embedder=None,
    init: DiffusionCheckpoint | None = None,
    conditioning: str = "auto",
    steps: int = 800,
    batch_size: int = 128,
    learning_rate: float = 3e-3,
    width: int = 16,
    condition_dropout: float = 0.1,
    ema: float = 0.995,
    seed: int = 0,
    ctx: Context | None = None,
    tracker: Any = None,
) -> DiffusionCheckpoint:
    """The training loop (the node below wraps it). Reads top to bottom, nanoGPT style."""
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler

    kind = init.conditioning if init is not None else _conditioning_of(data, conditioning, embedder)
    if init is not None and conditioning not in ("auto", init.conditioning):
        raise ValueError(f"the checkpoint is {init.conditioning}-conditioned; it cannot continue as {conditioning}")
    height, width_px = data.size
    if height != width_px or height % 2:
        raise ValueError(f"images must be square with an even size, got {width_px}x{height}: add data.resize")

    # --- what each image is conditioned on
    embeddings = class_embeddings = None
    if kind == "caption":
        if data.embeddings is not None:
            embeddings = data.embeddings
        elif embedder is not None:
            embeddings = data.caption_embeddings(embedder)
        else:
            raise ValueError("caption conditioning needs an embedder linked (or a dataset from data.embed_captions)")
        if data.labels is not None and data.class_names:
            class_embeddings = _typical_embeddings(embeddings, data.labels, len(data.class_names))
    elif kind == "class" and (data.labels is None or not data.class_names):
        raise ValueError("class conditioning needs a labelled dataset (labels and class names)")

    # --- the model: fresh, or a copy of the checkpoint to fine-tune
    torch.manual_seed(seed)
    if init is not None:
        if (init.channels, init.size) != (data.channels, height):
            raise ValueError(f"the checkpoint makes {init.size}px images with {init.channels} channels; "
                             f"the data is {height}px with {data.channels}")
        unet = copy.deepcopy(init.unet).requires_grad_(True)  # the kept weights are a frozen average
        history = init.history.extended({"steps": steps, "seed": seed, "learning_rate": learning_rate})
        scheduler_config = dict(init.scheduler_config)
        class_embeddings = init.class_embeddings if class_embeddings is None else class_embeddings
        class_names = init.class_names
    else:
        unet = build_unet(kind, data.channels, height, width, classes=len(data.class_names),
                          embed_dim=0 if embeddings is None else embeddings.shape[1])
        history = History(runs=[{"steps": steps, "seed": seed, "learning_rate": learning_rate, "width": width}])
        scheduler_config = dict(DDPMScheduler(**SCHEDULE).config)
        class_names = list(data.class_names)
    scheduler = DDPMScheduler.from_config(scheduler_config)
    average = copy.deepcopy(unet).eval().requires_grad_(False)
    checkpoint = DiffusionCheckpoint(average, scheduler_config, kind, class_names, history, class_embeddings)

    images = torch.from_numpy(data.pixels) * 2 - 1
    labels = torch.from_numpy(data.labels) if data.labels is not None else None
    vectors = torch.from_numpy(np.asarray(embeddings, dtype=np.float32)) if embeddings is not None else None
    optimizer = torch.optim.AdamW(unet.parameters(), lr=learning_rate, weight_decay=0.0)
    generator = seeded_generator(seed)
    preview_labels = np.arange(16) % max(1, len(class_names)) if class_names else None

    def samples():
        condition = class_condition(checkpoint, preview_labels) if kind != "none" and preview_labels is not None else None
        pixels = denoise(checkpoint, condition, 16, steps=12, guidance=1.5, seed=seed)
        return sample_grid(pixels, columns=8, cell=40)

    monitor = TrainingMonitor(ctx, steps, history, samples=samples if kind == "none" or preview_labels is not None else None,
                              tracker=tracker)
    unet.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, steps, learning_rate)
        index = torch.randint(0, len(images), (batch_size,), generator=generator)
        clean = images[index]
        noise = torch.randn(clean.shape, generator=generator)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (batch_size,), generator=generator)
        drop = torch.rand(batch_size, generator=generator) < condition_dropout
        condition = None
        if kind == "class":
            condition = torch.where(drop, null_condition(checkpoint, batch_size), labels[index])
        elif kind == "caption":
            condition = torch.where(drop[:, None], null_condition(checkpoint, batch_size), vectors[index])
        predicted = predict_noise(unet, kind, scheduler.add_noise(clean, noise, t), t, condition)
        loss = F.mse_loss(predicted, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():  # the moving average warms up, so short runs are not dominated by the init
            decay = min(ema, (1 + step) / (10 + step))
            for kept, trained in zip(average.parameters(), unet.parameters(), strict=False):
                kept.lerp_(trained, 1 - decay)
        monitor.step(loss=loss.item())
    monitor.finish()
    return checkpoint


@node("train.diffusion", category="Train", cache="disk", outputs=("model",))
def train_diffusion(
    dataset: ImageDataset,
    embedder: Embedder | None = None,
    init: DiffusionModel | None = None,
    ctx: Context = None,
    *,
    conditioning: str = Param("auto", choices=("auto", "none", "class", "caption"),
                              description="auto: caption when captions and an embedder are there, else class, else none"),
    steps: int = Param(800, min=1, max=1_000_000),
    batch_size: int = Param(128, min=1, max=4096),
    learning_rate: float = Param(3e-3, min=1e-6, max=1.0),
    width: int = Param(16, min=8, max=512, step=8, description="channels of the first UNet level (a multiple of 8)"),
    condition_dropout: float = Param(0.1, min=0.0, max=1.0, description="share of steps without the condition, for guidance"),
    ema: float = Param(0.995, min=0.0, max=0.99999, description="weight averaging; 0 keeps the last weights"),
    seed: int = Param(0, kind="seed"),
    track: str = track_param(),
) -> DiffusionModel:
    """Train a denoising diffusion model on the images, live loss curve and samples on the node.

    Link ``init`` to fine-tune an earlier checkpoint. The result is cached on disk, keyed by the data
    and these settings, so the same training never runs twice.
    """
    if width % 8:
        raise ValueError(f"width must be a multiple of 8 (the UNet's group norm), got {width}")
    settings = {"conditioning": conditioning, "steps": steps, "batch_size": batch_size, "learning_rate": learning_rate,
                "width": width, "condition_dropout": condition_dropout, "ema": ema, "seed": seed}
    tracker = open_tracker(ctx, track, params=settings, data=data_hash(dataset.pixels, dataset.labels))
    with cpu_threads():
        checkpoint = train_diffusion_model(dataset, embedder=embedder, init=init, ctx=ctx, tracker=tracker, **settings)
    final = {name: values[-1] for name, values in checkpoint.history.curves.items() if values}
    tracker.finish(final, save=lambda folder: _save_diffusion(checkpoint, folder))
    return checkpoint
