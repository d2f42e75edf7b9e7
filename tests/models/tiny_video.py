"""Tiny random-init video models (Wan 2.1 text to video and image to video, Wan 2.2 image to video,
Stable Video Diffusion),
after diffusers' own test configs."""

from __future__ import annotations

from pathlib import Path

from tests.models.tiny_models import tiny_tokenizer


def _wan_vae():
    """The Wan VAE at its smallest (every Wan builder's, made where it was so the random init keeps its order)."""
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True])


def _umt5_encoder():
    """A two-layer UMT5 text encoder that reads the tiny tokenizer's ids."""
    from transformers import UMT5Config, UMT5EncoderModel

    return UMT5EncoderModel(
        UMT5Config(vocab_size=514, d_model=32, d_ff=37, d_kv=8, num_layers=2, num_heads=4,
                   relative_attention_num_buckets=8, pad_token_id=513, eos_token_id=513, decoder_start_token_id=0)
    )


def build_tiny_wan(folder: Path, *, seed: int = 0) -> Path:
    """A tiny Wan 2.1 text-to-video pipeline (a two-layer 3D transformer, the Wan VAE, a UMT5 encoder),
    after diffusers' own test config."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    torch.manual_seed(seed)
    vae = _wan_vae()
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    text_encoder = _umt5_encoder()
    pipe = WanPipeline(tokenizer=tiny_tokenizer(), text_encoder=text_encoder, vae=vae, transformer=transformer,
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))
    pipe.save_pretrained(folder)
    return folder


def save_second_wan_expert(folder: Path, file: Path, *, seed: int = 1) -> Path:
    """Another tiny Wan transformer with the config of ``folder``'s and other random weights, as one file
    in diffusers' key layout: the low-noise expert beside ``folder``'s, as ComfyUI's Wan 2.2 14B
    templates load two diffusion models."""
    import torch
    from diffusers import WanTransformer3DModel
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    expert = WanTransformer3DModel.from_config(WanTransformer3DModel.load_config(folder / "transformer"))
    file.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in expert.state_dict().items()}, str(file))
    return file


def build_tiny_wan_i2v(folder: Path, *, seed: int = 0) -> Path:
    """A tiny Wan 2.1 image-to-video pipeline, after diffusers' own test config: the transformer takes the
    noise (16 channels) beside the start picture's mask and latents (4 + 16) and a CLIP vision embedding of
    the picture; the Wan VAE and a UMT5 encoder as in :func:`build_tiny_wan`."""
    import torch
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    torch.manual_seed(seed)
    vae = _wan_vae()
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32, image_dim=4,
    )
    text_encoder = _umt5_encoder()
    encoder = CLIPVisionModel(CLIPVisionConfig(
        hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        intermediate_size=16, patch_size=1,
    ))
    processor = CLIPImageProcessor(crop_size={"height": 32, "width": 32}, size={"shortest_edge": 32})
    WanImageToVideoPipeline(
        tokenizer=tiny_tokenizer(), text_encoder=text_encoder, vae=vae, transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), image_encoder=encoder, image_processor=processor,
    ).save_pretrained(folder)
    return folder


def save_tiny_clip_vision(i2v_folder: Path, root: Path) -> None:
    """CLIP vision models in a ComfyUI-like ``clip_vision/`` folder: the tiny Wan 2.1 image-to-video
    pipeline's own image encoder as a transformers folder (``tiny-clip-vision/``) and as one file
    (``tiny-clip-vision.safetensors``), and another encoder of the same shape with a projection and other
    weights (``tiny-clip-vision-other/`` and its file)."""
    import torch
    from safetensors.torch import save_file
    from transformers import CLIPVisionModel, CLIPVisionModelWithProjection

    folder = root / "clip_vision"
    own = CLIPVisionModel.from_pretrained(i2v_folder / "image_encoder")
    torch.manual_seed(1)
    other = CLIPVisionModelWithProjection(own.config)
    for name, model in (("tiny-clip-vision", own), ("tiny-clip-vision-other", other)):
        model.save_pretrained(folder / name)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / f"{name}.safetensors"))


def build_tiny_wan22_i2v(folder: Path, *, seed: int = 0, five_b: bool = False) -> Path:
    """A tiny Wan 2.2 image-to-video pipeline, after diffusers' own Wan 2.2 test configs: two experts
    (``transformer`` above the ``boundary_ratio`` of 0.875, ``transformer_2`` below) taking the noise beside
    the start picture's mask and latents, no image encoder; or (``five_b``) the 5B layout, one transformer
    on 16 channels whose first latent frame is the picture's (``expand_timesteps``)."""
    import torch
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )

    torch.manual_seed(seed)
    vae = _wan_vae()

    def transformer() -> WanTransformer3DModel:
        return WanTransformer3DModel(
            patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16 if five_b else 36,
            out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
            qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
        )

    text_encoder = _umt5_encoder()
    experts = {"transformer": transformer()} if five_b else {
        "transformer": transformer(), "transformer_2": transformer(), "boundary_ratio": 0.875}
    WanImageToVideoPipeline(
        tokenizer=tiny_tokenizer(), text_encoder=text_encoder, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        image_encoder=None, image_processor=None, expand_timesteps=five_b, **experts,
    ).save_pretrained(folder)
    return folder


def save_wan22_experts(folder: Path, root: Path, name: str) -> tuple[str, str]:
    """A Wan 2.2 14B-layout folder's two experts as single files in ComfyUI's ``diffusion_models/``
    (diffusers' key layout), named as ComfyUI's templates name theirs: ``NAME_high_noise.safetensors``
    (``transformer``) and ``NAME_low_noise.safetensors`` (``transformer_2``)."""
    from diffusers import WanTransformer3DModel
    from safetensors.torch import save_file

    files = []
    for slot, noise in (("transformer", "high"), ("transformer_2", "low")):
        expert = WanTransformer3DModel.from_pretrained(folder / slot)
        file = root / "diffusion_models" / f"{name}_{noise}_noise.safetensors"
        file.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in expert.state_dict().items()}, str(file))
        files.append(file.name)
    return files[0], files[1]


def build_tiny_svd(folder: Path, *, seed: int = 0) -> Path:
    """A tiny Stable Video Diffusion pipeline (spatio-temporal UNet, temporal-decoder VAE, a CLIP image
    encoder taking SVD's 224-pixel input), after diffusers' own test config."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"), cross_attention_dim=32,
        num_attention_heads=8, projection_class_embeddings_input_dim=96, addition_time_embed_dim=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, interpolation_type="linear",
        num_train_timesteps=1000, prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002, steps_offset=1,
        timestep_spacing="leading", timestep_type="continuous", use_karras_sigmas=True,
    )
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"], latent_channels=4)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4, image_size=224,
        intermediate_size=37, patch_size=32,
    ))
    extractor = CLIPImageProcessor(crop_size={"height": 224, "width": 224}, size={"shortest_edge": 224})
    StableVideoDiffusionPipeline(vae=vae, image_encoder=encoder, unet=unet, scheduler=scheduler,
                                 feature_extractor=extractor).save_pretrained(folder)
    return folder
