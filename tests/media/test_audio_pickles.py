"""No pickled sound models: the transformers sound nodes refuse a model folder whose weights are only a pickle
(``pytorch_model.bin``) themselves, with the reason, before transformers is asked to load it. A real tiny
VITS model written both ways."""

from __future__ import annotations

import shutil

import pytest

from tests.media.media_helpers import run
from tests.media.test_generate import tiny_vits  # noqa: F401  (the fixture)

pytest.importorskip("transformers")


def _pickled_copy(source, target):
    """The same model as older tools wrote it: the state dict pickled by torch.save, no safetensors."""
    import torch
    from transformers import VitsModel

    shutil.copytree(source, target)
    model = VitsModel.from_pretrained(target)
    for old in target.glob("*.safetensors"):
        old.unlink()
    torch.save(model.state_dict(), target / "pytorch_model.bin")


@pytest.mark.parametrize("node_type", ["audio.text_to_speech", "audio.text_to_audio"])
def test_sound_nodes_refuse_a_pickled_model_folder(executor, settings, tiny_vits, node_type):  # noqa: F811
    _pickled_copy(tiny_vits, settings.models_dir / "pickled-vits")
    result, _ = run(executor, {"n": {"type": node_type, "params": {"model": "pickled-vits", "text": "hello"}}}, only=["n"])
    assert result.status == "error"
    message = result.error.message
    assert "pickled weights (pytorch_model.bin)" in message and "safetensors" in message
    assert not list(settings.output_dir.glob("*")) if settings.output_dir.exists() else True


def test_the_vocoder_folder_is_checked_too(executor, settings, tiny_vits):  # noqa: F811
    shutil.copytree(tiny_vits, settings.models_dir / "tiny-vits")
    _pickled_copy(tiny_vits, settings.models_dir / "pickled-vocoder")
    params = {"model": "tiny-vits", "vocoder": "pickled-vocoder", "text": "hello"}
    result, _ = run(executor, {"n": {"type": "audio.text_to_speech", "params": params}}, only=["n"])
    assert result.status == "error" and "pickled weights (pytorch_model.bin)" in result.error.message
