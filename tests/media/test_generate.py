"""Sound from real (tiny, random-init) models built here, through the transformers pipelines:
VITS for speech, MusicGen (T5 text encoder, EnCodec, a one-layer decoder) for music."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from nodeflow.delivery import read_provenance
from nodeflow.files import content_hash
from tests.media.media_helpers import output, run_ok

pytest.importorskip("transformers")


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)  # tiny models on two shared cores run faster on one thread


@pytest.fixture(scope="module")
def tiny_vits(tmp_path_factory) -> Path:
    """A VITS text-to-speech model with a character vocabulary, small enough to build in a second."""
    import torch
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    folder = tmp_path_factory.mktemp("tiny-vits")
    chars = list(" abcdefghijklmnopqrstuvwxyz.,!?'")
    (folder / "vocab.json").write_text(json.dumps({c: i for i, c in enumerate(chars)}))
    VitsTokenizer(str(folder / "vocab.json"), language=None, add_blank=True, normalize=True, phonemize=False).save_pretrained(folder)
    config = VitsConfig(
        vocab_size=len(chars), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, ffn_dim=32, flow_size=16,
        spectrogram_bins=33, upsample_initial_channel=16, upsample_rates=[4, 4], upsample_kernel_sizes=[8, 8],
        resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]], prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1, posterior_encoder_num_wavenet_layers=1, duration_predictor_num_flows=1,
        duration_predictor_filter_channels=16, depth_separable_num_layers=1, sampling_rate=16000,
    )
    torch.manual_seed(0)
    VitsModel(config).save_pretrained(folder)
    return folder


def test_text_to_speech_from_a_model_folder(executor, settings, tiny_vits):
    shutil.copytree(tiny_vits, settings.models_dir / "tiny-vits")
    speak = {"type": "audio.text_to_speech", "params": {"model": "tiny-vits", "text": "hello there", "seed": 3}}
    nodes = {"speak": speak, "save": {"type": "output.audio", "inputs": {"audio": ["speak", "audio"]}, "params": {"filename": "speech.flac"}}}
    result = run_ok(executor, nodes)
    clip = output(executor, {"speak": speak}, "speak")
    assert clip.sample_rate == 16000 and clip.frames > 100 and np.isfinite(clip.samples).all()
    executor.memory.clear()  # the same seed speaks the same samples
    assert np.array_equal(output(executor, {"speak": speak}, "speak").samples, clip.samples)
    record = read_provenance(result.outputs["save"]["path"])
    assert record["inputs"]["speak.model"]["sha256"] == content_hash(settings.models_dir / "tiny-vits")
    assert record["seeds"] == {"speak.seed": 3}


def test_text_to_audio_runs_a_one_pass_model_too(executor, settings, tiny_vits):
    shutil.copytree(tiny_vits, settings.models_dir / "tiny-vits")
    make = {"type": "audio.text_to_audio", "params": {"model": "tiny-vits", "text": "rain on a roof", "seed": 1}}
    clip = output(executor, {"make": make}, "make")
    assert clip.sample_rate == 16000 and clip.frames > 100


@pytest.fixture(scope="module")
def tiny_musicgen(tmp_path_factory) -> Path:
    """A MusicGen with a character tokenizer, 2 codebooks of 16 codes, 8 kHz EnCodec; built in a second."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        EncodecConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        PreTrainedTokenizerFast,
        T5Config,
    )

    folder = tmp_path_factory.mktemp("tiny-musicgen")
    words = ["<pad>", "</s>", "<unk>", *"abcdefghijklmnopqrstuvwxyz "]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>").save_pretrained(folder)
    text = T5Config(vocab_size=len(words), d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2)
    codec = EncodecConfig(  # 8 kHz, hop 64: 125 frames a second; 3 kbps makes 2 codebooks
        target_bandwidths=[3.0], sampling_rate=8000, audio_channels=1, num_filters=4, hidden_size=16,
        upsampling_ratios=[8, 8], codebook_size=16, codebook_dim=16, num_residual_layers=1, num_lstm_layers=1,
    )
    decoder = MusicgenDecoderConfig(
        vocab_size=16, pad_token_id=16, bos_token_id=16, hidden_size=16, num_hidden_layers=1,
        num_attention_heads=2, ffn_dim=32, num_codebooks=codec.num_quantizers,
    )
    torch.manual_seed(0)
    model = MusicgenForConditionalGeneration(
        MusicgenConfig(text_encoder=text.to_dict(), audio_encoder=codec.to_dict(), decoder=decoder.to_dict())
    )
    for name in ("decoder_start_token_id", "pad_token_id", "bos_token_id"):
        setattr(model.generation_config, name, 16)
    for layer in model.audio_encoder.quantizer.layers:  # EnCodec starts its codebooks at zero: all codes would sound alike
        layer.codebook.embed.normal_()
    model.save_pretrained(folder)
    return folder


def test_text_to_audio_generates_music_with_a_seed(executor, settings, tiny_musicgen):
    shutil.copytree(tiny_musicgen, settings.models_dir / "tiny-musicgen")

    def make(seed: int) -> np.ndarray:
        node = {"type": "audio.text_to_audio", "params": {"model": "tiny-musicgen", "text": "calm rain", "max_new_tokens": 10, "seed": seed}}
        clip = output(executor, {"make": node}, "make")
        assert clip.sample_rate == 8000 and clip.channels == 1 and clip.frames > 0
        return clip.samples

    first = make(1)
    executor.memory.clear()
    assert np.array_equal(make(1), first)  # the seed decides the sampled codes
    assert not np.array_equal(make(2), first)
