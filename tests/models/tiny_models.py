"""Tiny random-init models for tests and benchmarks, built in a second and saved like real ones.

The diffusion pipeline uses diffusers' own test-size configs (UNet ``block_out_channels=(4, 8)``, a
tiny VAE, a 2-layer CLIP text encoder) and a byte-level CLIP tokenizer made in memory. It is saved
with ``save_pretrained`` so that nodes load it through the same ``from_pretrained`` path a user's
model takes. Nothing is downloaded.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path


def _byte_symbols() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for bytes (as in GPT-2 and CLIP)."""
    kept = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1))
    kept += list(range(ord("\xae"), ord("\xff") + 1))
    symbols, extra = {}, 0
    for byte in range(256):
        if byte in kept:
            symbols[byte] = chr(byte)
        else:
            symbols[byte] = chr(256 + extra)
            extra += 1
    return [symbols[b] for b in range(256)]


def byte_level_clip_tokenizer(folder: Path):
    """A CLIPTokenizer whose vocabulary is the 256 byte symbols (plus word-end forms), no merges."""
    from transformers import CLIPTokenizer

    symbols = _byte_symbols()
    vocab = {}
    for symbol in symbols + [s + "</w>" for s in symbols] + ["<|startoftext|>", "<|endoftext|>"]:
        vocab.setdefault(symbol, len(vocab))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)


def build_tiny_sd(folder: Path, *, seed: int = 0) -> Path:
    """Save a tiny random-init Stable Diffusion pipeline into ``folder`` and return it."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=2,
        attention_head_dim=2,
    )
    vae = AutoencoderKL(
        block_out_channels=(4, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=2,
        sample_size=32,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=512,
            eos_token_id=513,
            pad_token_id=513,
            hidden_size=32,
            intermediate_size=37,
            layer_norm_eps=1e-05,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=514,
            max_position_embeddings=77,
        )
    )
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer = byte_level_clip_tokenizer(Path(scratch))
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    return folder


# --- a single-file checkpoint in the original (LDM) layout ----------------------------------------
# Model sites share Stable Diffusion as one .safetensors file in the layout of the original code;
# diffusers' from_single_file converts that layout. These functions write the tiny pipeline in it,
# renaming keys the way diffusers' own converter reads them, backwards.

_RESNET_TO_LDM = (
    ("norm1", "in_layers.0"),
    ("conv1", "in_layers.2"),
    ("norm2", "out_layers.0"),
    ("conv2", "out_layers.3"),
    ("time_emb_proj", "emb_layers.1"),
    ("conv_shortcut", "skip_connection"),
)


def _rename(rest: str, pairs) -> str:
    head, _, leaf = rest.rpartition(".")
    for new, old in pairs:
        if head == new or head.startswith(new + "."):
            head = old + head[len(new):]
            break
    return f"{head}.{leaf}" if head else leaf


def _unet_to_ldm(state: dict, config: dict) -> dict:
    from diffusers.loaders.single_file_utils import DIFFUSERS_TO_LDM_MAPPING

    direct = {**DIFFUSERS_TO_LDM_MAPPING["unet"]["layers"], **DIFFUSERS_TO_LDM_MAPPING["unet"]["addition_embed_type"]}
    per_block = config["layers_per_block"] + 1
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if key in direct:
            ldm = direct[key]
        elif parts[0] == "down_blocks":
            block, kind = int(parts[1]), parts[2]
            if kind == "downsamplers":
                ldm = f"input_blocks.{1 + block * per_block + per_block - 1}.0.op.{parts[-1]}"
            else:
                index = 1 + block * per_block + int(parts[3])
                rest = ".".join(parts[4:])
                ldm = f"input_blocks.{index}.0.{_rename(rest, _RESNET_TO_LDM)}" if kind == "resnets" else f"input_blocks.{index}.1.{rest}"
        elif parts[0] == "mid_block":
            kind, number, rest = parts[1], int(parts[2]), ".".join(parts[3:])
            if kind == "resnets":
                ldm = f"middle_block.{number * 2}.{_rename(rest, _RESNET_TO_LDM)}"
            else:
                ldm = f"middle_block.1.{rest}"
        elif parts[0] == "up_blocks":
            block, kind = int(parts[1]), parts[2]
            if kind == "upsamplers":
                has_attention = "CrossAttn" in config["up_block_types"][block]
                ldm = f"output_blocks.{block * per_block + per_block - 1}.{2 if has_attention else 1}.conv.{parts[-1]}"
            else:
                index = block * per_block + int(parts[3])
                rest = ".".join(parts[4:])
                ldm = f"output_blocks.{index}.0.{_rename(rest, _RESNET_TO_LDM)}" if kind == "resnets" else f"output_blocks.{index}.1.{rest}"
        else:
            raise KeyError(f"no LDM name known for UNet weight {key}")
        out["model.diffusion_model." + ldm] = value
    return out


def _vae_to_ldm(state: dict, config: dict) -> dict:
    from diffusers.loaders.single_file_utils import DIFFUSERS_TO_LDM_MAPPING

    direct = DIFFUSERS_TO_LDM_MAPPING["vae"]
    up_count = len(config["up_block_types"])
    attention = (("group_norm", "norm"), ("to_q", "q"), ("to_k", "k"), ("to_v", "v"), ("to_out.0", "proj_out"))
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        coder = parts[0]
        if key in direct:
            ldm = direct[key]
        elif parts[1] in ("down_blocks", "up_blocks"):
            block = int(parts[2])
            ldm_block = block if parts[1] == "down_blocks" else up_count - 1 - block
            group = "down" if parts[1] == "down_blocks" else "up"
            if parts[3] == "resnets":
                rest = ".".join(parts[5:]).replace("conv_shortcut", "nin_shortcut")
                ldm = f"{coder}.{group}.{ldm_block}.block.{parts[4]}.{rest}"
            else:
                sampler = "downsample" if group == "down" else "upsample"
                ldm = f"{coder}.{group}.{ldm_block}.{sampler}.conv.{parts[-1]}"
        elif parts[1] == "mid_block" and parts[2] == "resnets":
            rest = ".".join(parts[4:]).replace("conv_shortcut", "nin_shortcut")
            ldm = f"{coder}.mid.block_{int(parts[3]) + 1}.{rest}"
        elif parts[1] == "mid_block":
            ldm = f"{coder}.mid.attn_1.{_rename('.'.join(parts[4:]), attention)}"
            if value.ndim == 2:  # the original code uses 1x1 convolutions here
                value = value[:, :, None, None]
        else:
            raise KeyError(f"no LDM name known for VAE weight {key}")
        out["first_stage_model." + ldm] = value
    return out


def save_single_file(pipeline_folder: Path, target: Path) -> Path:
    """Write the pipeline saved in ``pipeline_folder`` as one LDM-layout .safetensors checkpoint."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextModel

    unet = UNet2DConditionModel.from_pretrained(pipeline_folder / "unet")
    vae = AutoencoderKL.from_pretrained(pipeline_folder / "vae")
    text_encoder = CLIPTextModel.from_pretrained(pipeline_folder / "text_encoder")
    state = _unet_to_ldm(unet.state_dict(), dict(unet.config))
    state.update(_vae_to_ldm(vae.state_dict(), dict(vae.config)))
    for key, value in text_encoder.state_dict().items():  # the original layout nests it in text_model
        key = key if key.startswith("text_model.") else f"text_model.{key}"
        state[f"cond_stage_model.transformer.{key}"] = value
    save_file({k: v.contiguous() for k, v in state.items()}, str(target))
    return target


def save_tiny_lora(pipeline_folder: Path, target: Path, *, seed: int = 1) -> Path:
    """A LoRA for the tiny pipeline's UNet, made with peft (random, so its effect is visible)."""
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_pretrained(pipeline_folder / "unet")
    unet.add_adapter(
        LoraConfig(r=4, lora_alpha=4, init_lora_weights=False, target_modules=["to_q", "to_k", "to_v", "to_out.0"])
    )
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(
        target.parent, unet_lora_layers=layers, weight_name=target.name, safe_serialization=True
    )
    return target


def build_tiny_llama(folder: Path, *, seed: int = 0, hidden_size: int = 32) -> Path:
    """Save a tiny random-init Llama with a byte-level BPE tokenizer trained here in a moment."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    corpus = ["the quick brown fox jumps over the lazy dog", "a lighthouse on a cliff at dawn"] * 20
    tokenizer.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>")
    torch.manual_seed(seed)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=tokenizer.get_vocab_size(),
            hidden_size=hidden_size,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
            max_position_embeddings=128,
            bos_token_id=fast.bos_token_id,
            eos_token_id=fast.eos_token_id,
        )
    )
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


# --- tiny models of the newer families (SDXL, SD3, Flux), after diffusers' own test configs -------
# Every text encoder slot takes the byte-level CLIP tokenizer (T5's SentencePiece model cannot be
# made offline); the T5 encoders themselves are real T5EncoderModel with a 514-entry vocabulary.


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


def _tokenizer():
    with tempfile.TemporaryDirectory() as scratch:
        return byte_level_clip_tokenizer(Path(scratch))


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
            tokenizer_2=_tokenizer(), unet=unet, scheduler=scheduler, requires_aesthetics_score=True,
            force_zeros_for_empty_prompt=False,
        )
    else:
        pipe = StableDiffusionXLPipeline(
            vae=_tiny_vae(), text_encoder=CLIPTextModel(_tiny_clip_config()), text_encoder_2=text_encoder_2,
            tokenizer=_tokenizer(), tokenizer_2=_tokenizer(), unet=unet, scheduler=scheduler,
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
        text_encoder=CLIPTextModelWithProjection(_tiny_clip_config(projection_dim=32)), tokenizer=_tokenizer(),
        text_encoder_2=CLIPTextModelWithProjection(_tiny_clip_config(projection_dim=32)), tokenizer_2=_tokenizer(),
        text_encoder_3=_tiny_t5(), tokenizer_3=_tokenizer(),
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
        text_encoder=CLIPTextModel(_tiny_clip_config(projection_dim=32)), tokenizer=_tokenizer(),
        text_encoder_2=_tiny_t5(), tokenizer_2=_tokenizer(),
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
    state = _unet_to_ldm(unet.state_dict(), dict(unet.config))
    state.update(_vae_to_ldm(vae.state_dict(), dict(vae.config)))
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


def build_tiny_wan(folder: Path, *, seed: int = 0) -> Path:
    """A tiny Wan 2.1 text-to-video pipeline (a two-layer 3D transformer, the Wan VAE, a UMT5 encoder),
    after diffusers' own test config."""
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    text_encoder = UMT5EncoderModel(
        UMT5Config(vocab_size=514, d_model=32, d_ff=37, d_kv=8, num_layers=2, num_heads=4,
                   relative_attention_num_buckets=8, pad_token_id=513, eos_token_id=513, decoder_start_token_id=0)
    )
    pipe = WanPipeline(tokenizer=_tokenizer(), text_encoder=text_encoder, vae=vae, transformer=transformer,
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))
    pipe.save_pretrained(folder)
    return folder


def build_tiny_wan_i2v(folder: Path, *, seed: int = 0) -> Path:
    """A tiny Wan 2.1 image-to-video pipeline, after diffusers' own test config: the transformer takes the
    noise (16 channels) beside the start picture's mask and latents (4 + 16) and a CLIP vision embedding of
    the picture; the Wan VAE and a UMT5 encoder as in :func:`build_tiny_wan`."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel, UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32, image_dim=4,
    )
    text_encoder = UMT5EncoderModel(
        UMT5Config(vocab_size=514, d_model=32, d_ff=37, d_kv=8, num_layers=2, num_heads=4,
                   relative_attention_num_buckets=8, pad_token_id=513, eos_token_id=513, decoder_start_token_id=0)
    )
    encoder = CLIPVisionModel(CLIPVisionConfig(
        hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        intermediate_size=16, patch_size=1,
    ))
    processor = CLIPImageProcessor(crop_size={"height": 32, "width": 32}, size={"shortest_edge": 32})
    WanImageToVideoPipeline(
        tokenizer=_tokenizer(), text_encoder=text_encoder, vae=vae, transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), image_encoder=encoder, image_processor=processor,
    ).save_pretrained(folder)
    return folder


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
