"""A tiny random-init Stable Diffusion 2.1 unCLIP pipeline (diffusers' StableUnCLIPImg2ImgPipeline), after
the shapes of diffusers' own unCLIP tests: a UNet whose class embedding takes a picture's CLIP vision
embedding beside its noise level's, a CLIP vision encoder with projection, the image normaliser and its
noising scheduler."""

from __future__ import annotations

from pathlib import Path

from tests.models.tiny_models import tiny_tokenizer

WIDTH = 32  # the CLIP vision embedding's width; the UNet's class embedding takes twice that


def build_tiny_unclip(folder: Path, *, seed: int = 0) -> Path:
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableUnCLIPImg2ImgPipeline,
        UNet2DConditionModel,
    )
    from diffusers.pipelines.stable_diffusion.stable_unclip_image_normalizer import StableUnCLIPImageNormalizer
    from transformers import (
        CLIPImageProcessor,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, norm_num_groups=2, attention_head_dim=2, class_embed_type="projection",
        projection_class_embeddings_input_dim=2 * WIDTH,
    )
    vae = AutoencoderKL(
        block_out_channels=(4, 8), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=2, sample_size=32,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"), up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=512, eos_token_id=513, pad_token_id=513, hidden_size=32, intermediate_size=37, layer_norm_eps=1e-05,
        num_attention_heads=4, num_hidden_layers=2, vocab_size=514, max_position_embeddings=77,
    ))
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=WIDTH, projection_dim=WIDTH, num_hidden_layers=2, num_attention_heads=4, image_size=32,
        intermediate_size=37, patch_size=4,
    ))
    StableUnCLIPImg2ImgPipeline(
        feature_extractor=CLIPImageProcessor(crop_size={"height": 32, "width": 32}, size={"shortest_edge": 32}),
        image_encoder=image_encoder, image_normalizer=StableUnCLIPImageNormalizer(embedding_dim=WIDTH),
        image_noising_scheduler=DDPMScheduler(beta_schedule="squaredcos_cap_v2"), tokenizer=tiny_tokenizer(),
        text_encoder=text_encoder, unet=unet, vae=vae,
        scheduler=DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                                set_alpha_to_one=False, steps_offset=1),
    ).save_pretrained(folder)
    return folder
