"""Tiny random-init models for tests and benchmarks, built in a second and saved like real ones.

The diffusion pipeline uses diffusers' own test-size configs (UNet ``block_out_channels=(4, 8)``, a
tiny VAE, a 2-layer CLIP text encoder) and a byte-level CLIP tokenizer made in memory. It is saved
with ``save_pretrained`` so that nodes load it through the same ``from_pretrained`` path a user's
model takes. Nothing is downloaded. The newer families are in ``tiny_families.py`` (SDXL, SD3, Flux) and
``tiny_video.py`` (Wan, Stable Video Diffusion).
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


def unet_to_ldm(state: dict, config: dict) -> dict:
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


def vae_to_ldm(state: dict, config: dict) -> dict:
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
    state = unet_to_ldm(unet.state_dict(), dict(unet.config))
    state.update(vae_to_ldm(vae.state_dict(), dict(vae.config)))
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


def tiny_tokenizer():
    """The byte-level CLIP tokenizer, made in a scratch folder (every tiny pipeline's text slots take it)."""
    with tempfile.TemporaryDirectory() as scratch:
        return byte_level_clip_tokenizer(Path(scratch))
