"""Speech from a real (tiny, random-init) VITS model built here, through the transformers pipeline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from media_helpers import output, run_ok

from nodeflow.provenance import content_hash, read_provenance

pytest.importorskip("transformers")


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
