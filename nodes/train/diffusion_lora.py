"""Fine-tuning a Stable Diffusion pipeline with LoRA on images with captions (a subject or a style).

The loop of diffusers' ``train_text_to_image_lora.py``, read top to bottom: the frozen VAE turns the
images into latents once, the frozen text encoder turns the captions into embeddings once (unless
the text encoder trains too), and LoRA layers on the UNet's attention learn to predict the noise.
The resident pipeline is never changed: training works on copies. The LoRA is saved in the diffusers
format (``unet.`` / ``text_encoder.`` keys) that ``diffusion.lora`` and ``load_lora_weights`` read.

SD 1.x/2.x pipelines are trained here; SDXL (two text encoders, size conditioning) is handled too.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from nodeflow import Context, DiffusionPipeline, File, ImageDataset, ImageSet, Param, node
from nodes.train.checkpoints import History
from nodes.train.lora_files import write_lora_file
from nodes.train.monitor import TrainingMonitor, cpu_threads, seeded_generator

__all__ = ["train_diffusion_lora"]

# values are the diffusion pack's PipelineHandle objects (``.fetch()``, ``.with_lora()``, ``.name``)
UNET_TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]
TEXT_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]


def _pixels_for(data: ImageSet, resolution: int) -> Any:
    """The images as a float tensor (n, 3, r, r) in [-1, 1]."""
    import torch
    import torch.nn.functional as F

    pixels = torch.from_numpy(data.pixels)
    if pixels.shape[1] == 1:
        pixels = pixels.repeat(1, 3, 1, 1)
    if pixels.shape[-1] != resolution or pixels.shape[-2] != resolution:
        pixels = F.interpolate(pixels, size=(resolution, resolution), mode="bilinear", antialias=True, align_corners=False)
    return pixels.clamp(0, 1) * 2 - 1


def _encode_images(vae: Any, pixels: Any, generator: Any, batch: int = 8) -> Any:
    import torch

    latents = []
    with torch.no_grad():
        for start in range(0, len(pixels), batch):
            chunk = pixels[start : start + batch].to(vae.device, vae.dtype)
            dist = vae.encode(chunk).latent_dist
            latents.append(dist.mean + dist.std * torch.randn(dist.mean.shape, generator=generator).to(dist.mean))
    return torch.cat(latents).float() * vae.config.scaling_factor


def _encode_text(trainer: Any, captions: list[str]) -> tuple[Any, Any]:
    """``(embeddings, pooled or None)`` from the pipeline's own prompt encoder."""
    device = trainer.unet.device
    if hasattr(trainer, "text_encoder_2"):  # SDXL
        embeds, _, pooled, _ = trainer.encode_prompt(captions, device=device, num_images_per_prompt=1,
                                                     do_classifier_free_guidance=False)
        return embeds, pooled
    embeds, _ = trainer.encode_prompt(captions, device, 1, False)
    return embeds, None


def _add_lora(module: Any, rank: int, targets: list[str]) -> Any:
    """A frozen copy of ``module`` with trainable LoRA layers (peft directly: transformers 5's own
    ``add_adapter`` wants a newer peft than diffusers does)."""
    from peft import LoraConfig, inject_adapter_in_model

    module = copy.deepcopy(module).requires_grad_(False)
    config = LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian", target_modules=targets)
    return inject_adapter_in_model(config, module)


def _lora_state(module: Any, prefix: str) -> dict[str, Any]:
    """The LoRA weights in diffusers' layout, under ``prefix`` (unet, text_encoder)."""
    from diffusers.utils import convert_state_dict_to_diffusers

    state = {name.replace(".default", ""): p.detach() for name, p in module.named_parameters() if "lora_" in name}
    if prefix.startswith("text_encoder") and not hasattr(module, "text_model"):
        # transformers 5 flattened CLIPTextModel; the shared layout (ComfyUI, older diffusers) still nests
        # its layers in text_model, and diffusers 0.42 reads either
        prefix += ".text_model"
    return {f"{prefix}.{key}": value for key, value in convert_state_dict_to_diffusers(state).items()}


def train_diffusion_lora(
    handle: Any,
    data: ImageSet,
    *,
    caption: str = "",
    steps: int = 200,
    batch_size: int = 4,
    learning_rate: float = 1e-4,
    rank: int = 4,
    resolution: int = 0,
    train_text_encoder: bool = False,
    preview_prompt: str = "",
    seed: int = 0,
    ctx: Context | None = None,
) -> tuple[dict[str, Any], History, Any]:
    """The training loop (the node below wraps it): ``(LoRA tensors, history, training pipeline)``."""
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler

    # 1. the pipeline: copies of what trains, the resident frozen parts shared
    pipe = handle.fetch()
    if not hasattr(pipe, "unet") or not hasattr(pipe, "vae"):
        raise ValueError(f"{type(pipe).__name__} has no UNet and VAE; LoRA training here is for Stable Diffusion pipelines")
    captions = data.captions if data.captions is not None else None
    if captions is None:
        if not caption.strip():
            raise ValueError("the images have no captions: set caption (say 'a photo of sks dog') or use captioned data")
        captions = [caption] * len(data)
    unet = _add_lora(pipe.unet, rank, UNET_TARGETS)
    components = dict(pipe.components, unet=unet)
    if train_text_encoder:
        components["text_encoder"] = _add_lora(pipe.text_encoder, rank, TEXT_TARGETS)
    trainer = type(pipe)(**components)
    trainer.set_progress_bar_config(disable=True)
    scale = getattr(pipe, "vae_scale_factor", 8)
    resolution = resolution or int(pipe.unet.config.sample_size) * scale
    if resolution % scale:
        raise ValueError(f"resolution must be a multiple of {scale} for this pipeline's VAE, got {resolution}")

    # 2. latents and caption embeddings, once (frozen encoders)
    generator = seeded_generator(seed)
    torch.manual_seed(seed)
    latents = _encode_images(pipe.vae, _pixels_for(data, resolution), generator)
    distinct = sorted(set(captions))
    row_of = torch.tensor([distinct.index(c) for c in captions])
    if not train_text_encoder:
        with torch.no_grad():
            text, pooled = _encode_text(trainer, distinct)
    time_ids = torch.tensor([[resolution, resolution, 0, 0, resolution, resolution]], dtype=torch.float32)

    # 3. the optimiser over the LoRA weights only
    adapted = [unet, components["text_encoder"]] if train_text_encoder else [unet]
    trainable = [p for m in adapted for p in m.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=1e-2)
    scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    history = History(runs=[{"steps": steps, "seed": seed, "learning_rate": learning_rate, "rank": rank,
                             "resolution": resolution, "train_text_encoder": train_text_encoder}])
    prompt = preview_prompt or captions[0]

    def samples():
        from nodeflow import sample_grid

        unet.eval()
        with torch.no_grad():
            out = trainer(prompt, num_inference_steps=8, guidance_scale=5.0, output_type="np", height=resolution,
                          width=resolution, generator=torch.Generator().manual_seed(seed), num_images_per_prompt=2)
        unet.train()
        return sample_grid(np.asarray(out.images).transpose(0, 3, 1, 2), columns=2, cell=max(64, resolution))

    # 4. train
    monitor = TrainingMonitor(ctx, steps, history, samples=samples, samples_every_s=20.0)
    unet.train()
    device = unet.device
    for _step in range(steps):
        index = torch.randint(0, len(latents), (batch_size,), generator=generator)
        clean = latents[index].to(device)
        noise = torch.randn(clean.shape, generator=generator).to(device)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (batch_size,), generator=generator).to(device)
        if train_text_encoder:
            text_b, pooled_b = _encode_text(trainer, [distinct[i] for i in row_of[index].tolist()])
        else:
            text_b = text[row_of[index]]
            pooled_b = pooled[row_of[index]] if pooled is not None else None
        extra = {}
        if pooled_b is not None:  # SDXL's size and pooled-text conditioning
            extra["added_cond_kwargs"] = {"text_embeds": pooled_b, "time_ids": time_ids.repeat(batch_size, 1).to(device)}
        noisy = scheduler.add_noise(clean, noise, t)
        predicted = unet(noisy.to(unet.dtype), t, text_b.to(unet.dtype), **extra).sample.float()
        target = scheduler.get_velocity(clean, noise, t) if scheduler.config.prediction_type == "v_prediction" else noise
        loss = F.mse_loss(predicted, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        monitor.step(loss=loss.item())
    monitor.finish()

    state = _lora_state(unet, "unet")
    if train_text_encoder:
        state.update(_lora_state(components["text_encoder"], "text_encoder"))
    return state, history, trainer


@node("train.diffusion_lora", category="Train", cache="disk", outputs=("lora",), title="Diffusion LoRA fine-tune")
def diffusion_lora(
    pipeline: DiffusionPipeline,
    dataset: ImageDataset,
    ctx: Context = None,
    *,
    caption: str = Param("", description="caption for every image when the dataset has none ('a photo of sks dog')"),
    steps: int = Param(200, min=1, max=1_000_000),
    batch_size: int = Param(4, min=1, max=256),
    learning_rate: float = Param(1e-4, min=1e-7, max=1.0),
    rank: int = Param(4, min=1, max=256, description="size of the low-rank update"),
    resolution: int = Param(0, min=0, max=2048, step=8, description="0: the model's own size (512 for SD 1.5, 1024 for SDXL)"),
    train_text_encoder: bool = Param(False, description="also adapt the text encoder (slower, more memory)"),
    preview_prompt: str = Param("", description="prompt of the sample previews; empty: the first caption"),
    seed: int = Param(0, kind="seed"),
) -> File:
    """Fine-tune a Stable Diffusion pipeline with LoRA on images: live loss curve and samples on the node.

    Outputs the LoRA file (in the models folder's loras/): link it to diffusion.lora's file input, or
    name it in diffusion.lora's path in other graphs. Cached on disk, keyed by the pipeline, the images
    and these settings.
    """
    with cpu_threads():
        state, history, trainer = train_diffusion_lora(
            pipeline, dataset, caption=caption, steps=steps, batch_size=batch_size, learning_rate=learning_rate,
            rank=rank, resolution=resolution, train_text_encoder=train_text_encoder, preview_prompt=preview_prompt,
            seed=seed, ctx=ctx,
        )
    meta = {"format": "nodeflow-diffusion-lora", "base_model": pipeline.name, "rank": rank,
            "pipeline_class": type(trainer).__name__, "history": history.to_json()}
    path = write_lora_file(state, meta, ctx, stem=f"{pipeline.name}-lora")
    if ctx is not None:
        ctx.log(f"LoRA saved: {path}")
    return path
