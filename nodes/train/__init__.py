"""Train pack: trainers (language model, diffusion, VAE, GAN) with live loss curves and samples,
samplers for each, and evaluation. Trained models are cached on disk and reload with diffusers or
transformers."""

from . import (  # noqa: F401
    diffusion_dataset,
    diffusion_lora,
    diffusion_sample,
    diffusion_train,
    evaluate,
    gan,
    llm_lora,
    lm_sample,
    lm_train,
    vae,
)
