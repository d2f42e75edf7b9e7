"""Tiny random-init models of the newer image families (SDXL base and refiner, SD3, Flux), after diffusers'
own test configs, with their single-file checkpoint, separate component files, a LoRA on the denoiser
and a ControlNet of each family.

Every text encoder slot takes the byte-level CLIP tokenizer (T5's SentencePiece model cannot be made
offline); the T5 encoders themselves are real T5EncoderModel with a 514-entry vocabulary.
"""

from __future__ import annotations

from pathlib import Path

from tests.models.tiny_models import tiny_tokenizer, unet_to_ldm, vae_to_ldm


def _tiny_clip_config(**extra):
    from transformers import CLIPTextConfig

    options = dict(
        bos_token_id=512, eos_token_id=513, pad_token_id=513, hidden_size=32, intermediate_size=37,
        layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=2, vocab_size=514,
        max_position_embeddings=77, hidden_act="gelu",
    )
    return CLIPTextConfig(**{**options, **extra})


def _tiny_t5():
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(
        T5Config(vocab_size=514, d_model=32, d_ff=37, d_kv=8, num_layers=2, num_heads=4,
                 relative_attention_num_buckets=8, pad_token_id=513, eos_token_id=513, decoder_start_token_id=0)
    )


def _tiny_vae(latent_channels: int = 4, **extra):
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(4, 8), in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=latent_channels, norm_num_groups=2, sample_size=32, **extra,
    )


def build_tiny_sdxl(folder: Path, *, seed: int = 0, refiner: bool = False) -> Path:
    """A tiny SDXL base pipeline (two CLIP encoders, pooled embeds, size/crop time ids), or its refiner
    (the second encoder only, aesthetic-score time ids)."""
    import torch
    from diffusers import (
        EulerDiscreteScheduler,
        StableDiffusionXLImg2ImgPipeline,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=2, use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=8,
        # time ids (6 for the base, 5 for the refiner) x 8, plus the pooled embedding
        projection_class_embeddings_input_dim=(5 if refiner else 6) * 8 + 32,
        cross_attention_dim=40 if refiner else 72, norm_num_groups=2,
    )
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, steps_offset=1,
                                       beta_schedule="scaled_linear", timestep_spacing="leading")
    # the second encoder is wider than the first (as OpenCLIP-G is than CLIP-L): single-file loading
    # tells the two apart by width
    text_encoder_2 = CLIPTextModelWithProjection(_tiny_clip_config(projection_dim=32, hidden_size=40))
    if refiner:
        pipe = StableDiffusionXLImg2ImgPipeline(
            vae=_tiny_vae(), text_encoder=None, text_encoder_2=text_encoder_2, tokenizer=None,
            tokenizer_2=tiny_tokenizer(), unet=unet, scheduler=scheduler, requires_aesthetics_score=True,
            force_zeros_for_empty_prompt=False,
        )
    else:
        pipe = StableDiffusionXLPipeline(
            vae=_tiny_vae(), text_encoder=CLIPTextModel(_tiny_clip_config()), text_encoder_2=text_encoder_2,
            tokenizer=tiny_tokenizer(), tokenizer_2=tiny_tokenizer(), unet=unet, scheduler=scheduler,
        )
    pipe.save_pretrained(folder)
    return folder


def build_tiny_sd3(folder: Path, *, seed: int = 0) -> Path:
    """A tiny SD3 pipeline: a one-layer MMDiT, two CLIP encoders with projections and a T5, flow matching."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline
    from transformers import CLIPTextModelWithProjection

    torch.manual_seed(seed)
    transformer = SD3Transformer2DModel(
        sample_size=32, patch_size=1, in_channels=4, num_layers=2, attention_head_dim=8, num_attention_heads=4,
        caption_projection_dim=32, joint_attention_dim=32, pooled_projection_dim=64, out_channels=4,
    )
    pipe = StableDiffusion3Pipeline(
        transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        vae=_tiny_vae(shift_factor=0.0609, scaling_factor=1.5035, use_quant_conv=False, use_post_quant_conv=False),
        text_encoder=CLIPTextModelWithProjection(_tiny_clip_config(projection_dim=32)), tokenizer=tiny_tokenizer(),
        text_encoder_2=CLIPTextModelWithProjection(_tiny_clip_config(projection_dim=32)), tokenizer_2=tiny_tokenizer(),
        text_encoder_3=_tiny_t5(), tokenizer_3=tiny_tokenizer(),
    )
    pipe.save_pretrained(folder)
    return folder


def build_tiny_flux(folder: Path, *, seed: int = 0) -> Path:
    """A tiny Flux (dev-like: with the guidance embedding) pipeline: one double and one single block,
    a CLIP and a T5 encoder, flow matching with the resolution-dependent shift."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import CLIPTextModel

    torch.manual_seed(seed)
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32, axes_dims_rope=[4, 4, 8],
        guidance_embeds=True,
    )
    scheduler = FlowMatchEulerDiscreteScheduler(
        shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15, base_image_seq_len=256,
        max_image_seq_len=4096,
    )
    pipe = FluxPipeline(
        transformer=transformer, scheduler=scheduler,
        vae=_tiny_vae(4, shift_factor=0.0609, scaling_factor=1.5035, use_quant_conv=False, use_post_quant_conv=False),
        text_encoder=CLIPTextModel(_tiny_clip_config(projection_dim=32)), tokenizer=tiny_tokenizer(),
        text_encoder_2=_tiny_t5(), tokenizer_2=tiny_tokenizer(),
    )
    pipe.save_pretrained(folder)
    return folder


def _open_clip_to_ldm(state: dict, prefix: str) -> dict:
    """A CLIPTextModelWithProjection's weights in OpenCLIP's layout (as SDXL checkpoints keep the second
    encoder): q/k/v fused into in_proj, the projection transposed."""
    import torch
    from diffusers.loaders.single_file_utils import DIFFUSERS_TO_LDM_MAPPING

    direct = DIFFUSERS_TO_LDM_MAPPING["openclip"]["layers"]
    renames = (("text_model.encoder.layers.", "transformer.resblocks."), ("layer_norm1", "ln_1"),
               ("layer_norm2", "ln_2"), (".fc1.", ".c_fc."), (".fc2.", ".c_proj."), (".self_attn", ".attn"))
    out, fused = {}, {}
    for key, value in state.items():
        if not key.startswith(("text_model.", "text_projection")):
            key = f"text_model.{key}"
        if key in direct:
            out[prefix + direct[key]] = value.T if key == "text_projection.weight" else value
            continue
        if key.endswith("position_ids"):
            continue
        name = key
        for new, old in renames:
            name = name.replace(new, old)
        for which in ("q", "k", "v"):
            marker = f".{which}_proj."
            if marker in name:
                head, leaf = name.split(marker)
                fused.setdefault((head, leaf), {})[which] = value
                break
        else:
            out[prefix + name] = value
    for (head, leaf), parts in fused.items():
        out[f"{prefix}{head}.in_proj_{leaf}"] = torch.cat([parts["q"], parts["k"], parts["v"]])
    return out


def save_single_file_sdxl(pipeline_folder: Path, target: Path) -> Path:
    """Write the tiny SDXL base saved in ``pipeline_folder`` as one checkpoint in the original layout
    (``model.diffusion_model.``, ``first_stage_model.``, ``conditioner.embedders.0/1``)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    unet = UNet2DConditionModel.from_pretrained(pipeline_folder / "unet")
    vae = AutoencoderKL.from_pretrained(pipeline_folder / "vae")
    state = unet_to_ldm(unet.state_dict(), dict(unet.config))
    state.update(vae_to_ldm(vae.state_dict(), dict(vae.config)))
    first = CLIPTextModel.from_pretrained(pipeline_folder / "text_encoder")
    for key, value in first.state_dict().items():  # the original layout nests it in text_model
        key = key if key.startswith("text_model.") else f"text_model.{key}"
        state[f"conditioner.embedders.0.transformer.{key}"] = value
    second = CLIPTextModelWithProjection.from_pretrained(pipeline_folder / "text_encoder_2")
    state.update(_open_clip_to_ldm(second.state_dict(), "conditioner.embedders.1.model."))
    save_file({k: v.contiguous() for k, v in state.items()}, str(target))
    return target


def save_components(pipeline_folder: Path, root: Path, name: str) -> dict[str, str]:
    """Save a pipeline's parts as separate .safetensors files laid out like ComfyUI's models folder
    (``diffusion_models/``, ``text_encoders/``, ``vae/``), each in diffusers' or transformers' own
    key layout; returns the file names by part (``denoiser``, ``vae``, ``text_encoder``...)."""
    import json as _json

    import diffusers
    import transformers
    from safetensors.torch import save_file

    index = _json.loads((pipeline_folder / "model_index.json").read_text())
    names: dict[str, str] = {}
    for slot, (library, class_name) in ((k, v) for k, v in index.items() if isinstance(v, list) and v[0]):
        if slot in ("unet", "transformer"):
            kind, folder = "denoiser", "diffusion_models"
        elif slot == "vae":
            kind, folder = "vae", "vae"
        elif slot.startswith("text_encoder"):
            kind, folder = slot, "text_encoders"
        else:
            continue
        module = diffusers if library == "diffusers" else transformers
        model = getattr(module, class_name).from_pretrained(pipeline_folder / slot)
        file = f"{name}-{slot}.safetensors"
        (root / folder).mkdir(parents=True, exist_ok=True)
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        if "shared.weight" in state:  # T5 ties the encoder's embeddings to the shared ones: one copy
            state.pop("encoder.embed_tokens.weight", None)
        elif "CLIP" in class_name:  # shared CLIP files nest the model in text_model. (older transformers did)
            state = {k if k.startswith(("text_model.", "text_projection")) else f"text_model.{k}": v
                     for k, v in state.items()}
        save_file(state, str(root / folder / file))
        names[kind] = file
    return names


def save_tiny_denoiser_lora(pipeline_folder: Path, target: Path, *, seed: int = 1) -> Path:
    """A random LoRA (made with peft) for the UNet or transformer of any family's tiny pipeline, saved
    with that pipeline class's own save_lora_weights."""
    import json as _json

    import diffusers
    import torch
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    index = _json.loads((pipeline_folder / "model_index.json").read_text())
    slot = "transformer" if index.get("transformer", [None])[0] else "unet"
    torch.manual_seed(seed)
    model = getattr(diffusers, index[slot][1]).from_pretrained(pipeline_folder / slot)
    model.add_adapter(
        LoraConfig(r=4, lora_alpha=4, init_lora_weights=False, target_modules=["to_q", "to_k", "to_v", "to_out.0"])
    )
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(model))
    # strong enough that two sampling steps of a tiny model show it plainly
    layers = {k: v * 4 if "lora_B" in k or "lora.up" in k else v for k, v in layers.items()}
    getattr(diffusers, index["_class_name"]).save_lora_weights(
        target.parent, **{f"{slot}_lora_layers": layers}, weight_name=target.name, safe_serialization=True
    )
    return target


def save_tiny_controlnet(pipeline_folder: Path, target: Path, *, seed: int = 2) -> Path:
    """A ControlNet for a tiny pipeline, saved as a diffusers folder: ``ControlNetModel.from_unet`` for SD 1.x
    and SDXL, an ``SD3ControlNetModel`` or ``FluxControlNetModel`` of the transformer's size for SD3 and Flux.
    Its zero-initialised output layers are drawn at random, as after training, so that it visibly steers."""
    import json as _json

    import diffusers
    import torch

    index = _json.loads((pipeline_folder / "model_index.json").read_text())
    torch.manual_seed(seed)
    if index.get("unet", [None])[0]:
        unet = diffusers.UNet2DConditionModel.from_pretrained(pipeline_folder / "unet")
        controlnet = diffusers.ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8))
        outputs = [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]
        hint_encoder = [controlnet.controlnet_cond_embedding]  # a hint encoder that sees shapes
    elif index["_class_name"].startswith("StableDiffusion3"):
        config = _json.loads((pipeline_folder / "transformer" / "config.json").read_text())
        shape = {k: config[k] for k in ("sample_size", "patch_size", "in_channels", "attention_head_dim",
                                        "num_attention_heads", "joint_attention_dim", "caption_projection_dim",
                                        "pooled_projection_dim", "out_channels")}
        controlnet = diffusers.SD3ControlNetModel(num_layers=1, **shape)
        outputs, hint_encoder = [*controlnet.controlnet_blocks, controlnet.pos_embed_input], []
    else:
        transformer = diffusers.FluxTransformer2DModel.from_pretrained(pipeline_folder / "transformer")
        controlnet = diffusers.FluxControlNetModel.from_transformer(
            transformer, num_layers=1, num_single_layers=1, attention_head_dim=transformer.config.attention_head_dim,
            num_attention_heads=transformer.config.num_attention_heads,
        )
        outputs = [*controlnet.controlnet_blocks, *controlnet.controlnet_single_blocks, controlnet.controlnet_x_embedder]
        hint_encoder = []
    with torch.no_grad():
        for layer in outputs:
            for name, param in layer.named_parameters():
                if name.endswith("weight"):
                    param.normal_(0, 2.0 if index.get("unet", [None])[0] else 1.0)
        for param in (p for module in hint_encoder for p in module.parameters()):
            param.normal_(0, 1.0)
    controlnet.save_pretrained(target)
    return target
