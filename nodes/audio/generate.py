"""Sound from text through transformers pipelines: music (MusicGen) and speech (SpeechT5, VITS, Bark).

The model is a folder (in the models folder or an input folder) or a hub id. A folder whose weights
are only pickles (``pytorch_model.bin``) is refused: unpickling can run code. With no network (and in
tests, ``HF_HUB_OFFLINE=1``) only folders work, and a hub id fails with an error that says so.
Models stay loaded between runs (the model manager), keyed by task, folder and device.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from nodeflow import Context, Param, PathNotAllowed, node, refuse_pickled_weights, resolve_inside
from nodes.audio.clip import Audio, AudioClip
from nodes.audio.io import preview_audio

_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


def resolve_model(value: str, ctx: Context, what: str = "model") -> str:
    """A local folder for ``value`` when there is one, else ``value`` as a hub id (when online)."""
    if not value:
        raise ValueError(f"no {what} chosen: set it to a model folder or a hub id")
    try:
        folder = resolve_inside(value, [ctx.settings.models_dir, *ctx.settings.input_dirs()], must_exist=True)
    except (PathNotAllowed, FileNotFoundError):
        folder = None
    if folder is not None:
        # transformers would unpickle a pytorch_model.bin (only its weights_only default stands in the way):
        # nodeflow refuses it here, saying why and how to convert
        refuse_pickled_weights(folder, what=f"the {what}")
        return str(folder)
    if not _HUB_ID.match(value):
        raise FileNotFoundError(
            f"{what} {value!r} is not a folder in {ctx.settings.models_dir} or an input folder, nor a hub id"
        )
    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
        raise RuntimeError(
            f"{what} {value!r} is a hub id but the hub is offline (HF_HUB_OFFLINE is set): put the model "
            f"in a folder under {ctx.settings.models_dir} and name that folder instead"
        )
    return value


def load_pipeline(ctx: Context, task: str, model: str, **extra: Any) -> Any:
    def load() -> Any:
        from transformers import pipeline

        try:
            return pipeline(task, model=model, device=ctx.device, **extra)
        except OSError as exc:
            raise RuntimeError(f"cannot load {model!r} for {task}: {exc}") from None

    key = (
        "transformers.pipeline",
        task,
        model,
        tuple(sorted((k, str(v)) for k, v in extra.items())),
        ctx.device,
    )
    return ctx.models.get(key, load)


def _to_clip(output: dict[str, Any]) -> AudioClip:
    samples = np.asarray(output["audio"], dtype=np.float32)
    samples = np.squeeze(samples)
    if samples.ndim == 2 and samples.shape[0] < samples.shape[1]:  # (channels, frames)
        samples = samples.T
    return AudioClip(samples, int(output["sampling_rate"]))


def _seeded(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


@node("audio.text_to_audio", category="Audio/Generate", reads=("model",))
def text_to_audio(
    prompt: str | None = None,
    ctx: Context = None,
    *,
    text: str = Param("calm piano over soft rain", kind="text", description="used when prompt is not linked"),
    model: str = Param("facebook/musicgen-small", description="a folder in the models folder, or a hub id"),
    max_new_tokens: int = Param(
        256, min=8, max=4096, description="length: MusicGen makes 50 tokens a second"
    ),
    sample: bool = Param(True, description="sample (varied) rather than greedy"),
    seed: int = Param(0, kind="seed"),
) -> Audio:
    """Music or sound from a text prompt with a text-to-audio model (MusicGen or compatible)."""
    pipe = load_pipeline(ctx, "text-to-audio", resolve_model(model, ctx))
    _seeded(seed)
    ctx.check()
    options: dict[str, Any] = {}
    if (
        pipe.model.can_generate()
    ):  # MusicGen and Bark generate tokens; VITS-like models make sound in one pass
        options["generate_kwargs"] = {"max_new_tokens": max_new_tokens, "do_sample": sample}
    output = pipe(text if prompt is None else prompt, **options)
    clip = _to_clip(output)
    preview_audio(ctx, clip)
    return clip


@node("audio.text_to_speech", category="Audio/Generate", reads=("model", "vocoder"))
def text_to_speech(
    words: str | None = None,
    ctx: Context = None,
    *,
    text: str = Param("Hello from nodeflow.", kind="text", description="used when words is not linked"),
    model: str = Param("microsoft/speecht5_tts", description="a folder in the models folder, or a hub id"),
    vocoder: str = Param("", description="SpeechT5 only: a HiFi-GAN vocoder folder or hub id"),
    seed: int = Param(0, kind="seed", description="also picks the SpeechT5 voice"),
) -> Audio:
    """Speech from text with a text-to-speech model (SpeechT5, VITS/MMS, Bark or compatible)."""
    extra: dict[str, Any] = {}
    if vocoder:
        from transformers import SpeechT5HifiGan

        extra["vocoder"] = SpeechT5HifiGan.from_pretrained(resolve_model(vocoder, ctx, "vocoder"))
    pipe = load_pipeline(ctx, "text-to-speech", resolve_model(model, ctx), **extra)
    forward: dict[str, Any] = {}
    if pipe.model.config.model_type == "speecht5":
        import torch

        # a voice is a 512-number speaker embedding; without a dataset of voices, the seed picks one
        generator = torch.Generator().manual_seed(seed)
        voice = torch.randn(1, 512, generator=generator)
        forward["speaker_embeddings"] = (voice / voice.norm()).to(pipe.model.device)
    _seeded(seed)
    ctx.check()
    output = pipe(text if words is None else words, forward_params=forward)
    clip = _to_clip(output)
    preview_audio(ctx, clip)
    return clip
