"""nodeflow: a generative-workflow studio. This package is the engine; packs live in ``nodes/``.

The public node API (what a pack imports)::

    from nodeflow import node, Param, Context, Image, String, Int, Float, Boolean

A guard node raises ``Blocked("why")`` to stop its branch.

Port types that more than one pack uses live here too (packs never import each other): datasets
(``ImageDataset``, ``TextDataset``, ``Tokenizer``), media (``Audio``, ``Frames``, ``Video``), models
(``LanguageModel``, ``Embedder``, ``Embedding``, ``DiffusionPipeline``) and the parts of a diffusion model with what flows
between them (``Denoiser``, ``TextEncoder``, ``VAE``, ``Conditioning``, ``Latent``), each with the
Python class of its values.
"""

from typing import TYPE_CHECKING, Any

from nodeflow.nodetypes.blocked import Blocked
from nodeflow.nodetypes.context import Cancelled, Context
from nodeflow.nodetypes.decorator import NodeSpec, node, node_memory_limit
from nodeflow.nodetypes.params import Param
from nodeflow.nodetypes.resolve import Resolve, model_source
from nodeflow.ports.code import CodeType, SourceCode, extract_code
from nodeflow.ports.core import (
    AnyType,
    Boolean,
    FileType,
    Float,
    ImageType,
    Int,
    JSONType,
    PortType,
    String,
    attach_storage,
    get_type,
    register_type,
)
from nodeflow.ports.data import ExampleSet, ImageDataset, ImageSet, TextCorpus, TextDataset, TextExamples, Tokenizer
from nodeflow.ports.media import Audio, AudioClip, FrameList, Frames, Video, VideoPath, as_clip
from nodeflow.ports.model import (
    VAE,
    Adapter,
    Conditioning,
    ConditioningValue,
    CondPart,
    ControlHint,
    Denoiser,
    DiffusionPipeline,
    Embedder,
    EmbedderHandle,
    Embedding,
    LanguageModel,
    LanguageModelHandle,
    Latent,
    LatentImage,
    LoadedLM,
    ModelPart,
    TextEncoder,
)

from .delivery.save import Delivery, credentials_param, deliver, overwrite_param, watermark_param  # noqa: E402
from .templates import TemplateError, check_template, fill_template
from .version import __version__

Image = ImageType
File = FileType
JSON = JSONType
Code = CodeType


__all__ = [
    "node_memory_limit",
    "node",
    "Param",
    "Resolve",
    "fill_template",
    "check_template",
    "TemplateError",
    "model_source",
    "Context",
    "Cancelled",
    "Blocked",
    "NodeSpec",
    "PortType",
    "register_type",
    "attach_storage",
    "get_type",
    "Image",
    "File",
    "JSON",
    "String",
    "Int",
    "Float",
    "Boolean",
    "AnyType",
    # shared port types and their values
    "ImageDataset",
    "ImageSet",
    "TextDataset",
    "TextCorpus",
    "Tokenizer",
    "TextExamples",
    "ExampleSet",
    "Audio",
    "AudioClip",
    "as_clip",
    "Frames",
    "FrameList",
    "Video",
    "VideoPath",
    "LanguageModel",
    "LanguageModelHandle",
    "LoadedLM",
    "Embedder",
    "EmbedderHandle",
    "Embedding",
    "Denoiser",
    "DiffusionPipeline",
    "TextEncoder",
    "VAE",
    "ModelPart",
    "Adapter",
    "Conditioning",
    "ConditioningValue",
    "CondPart",
    "ControlHint",
    "Latent",
    "LatentImage",
    "deliver",
    "Delivery",
    "overwrite_param",
    "credentials_param",
    "watermark_param",
    "Code",
    "SourceCode",
    "extract_code",
    "__version__",
    "model_facts",
    "build_record",
    "dumps_record",
    "FOUND_AT",
    "METHODS",
    "detect_watermark",
    "PathNotAllowed",
    "atomic_path",
    "content_hash",
    "files_inside",
    "input_file_fingerprint",
    "resolve_inside",
    "AUDIO_FORMATS",
    "SUBTYPES",
    "audio_format",
    "read_audio",
    "save_audio",
    "write_audio",
    "from_pil",
    "sample_grid",
    "to_pil",
    "VIDEO_EXTENSIONS",
    "decode",
    "encode_gif",
    "encode_mp4",
    "ffmpeg",
    "remux_mp4",
    "pipe_frames",
    "ModelNotFound",
    "PICKLE_SUFFIXES",
    "find_local_model",
    "hub_offline",
    "is_hub_id",
    "model_folders",
    "not_found_message",
    "refuse_pickled_weights",
    "Settings",
]


# Helpers the packs share (files, models, media files, delivery). They load on first use, so that
# ``import nodeflow`` stays free of numpy and torch; type checkers see them here.
if TYPE_CHECKING:  # pragma: no cover
    from .check.licences import model_facts
    from .delivery import build_record, dumps_record
    from .delivery.watermark import FOUND_AT, METHODS, detect_watermark
    from .files import PathNotAllowed, atomic_path, content_hash, files_inside, input_file_fingerprint, resolve_inside
    from .media.audio_files import AUDIO_FORMATS, SUBTYPES, audio_format, read_audio, save_audio, write_audio
    from .media.image_grid import from_pil, sample_grid, to_pil
    from .media.video_files import VIDEO_EXTENSIONS, decode, encode_gif, encode_mp4, ffmpeg, pipe_frames, remux_mp4
    from .models import (
        PICKLE_SUFFIXES,
        ModelNotFound,
        find_local_model,
        hub_offline,
        is_hub_id,
        model_folders,
        not_found_message,
        refuse_pickled_weights,
    )
    from .settings import Settings

_ON_FIRST_USE = {
    "AUDIO_FORMATS": "nodeflow.media.audio_files",
    "FOUND_AT": "nodeflow.delivery.watermark",
    "METHODS": "nodeflow.delivery.watermark",
    "ModelNotFound": "nodeflow.models",
    "PICKLE_SUFFIXES": "nodeflow.models",
    "PathNotAllowed": "nodeflow.files",
    "SUBTYPES": "nodeflow.media.audio_files",
    "Settings": "nodeflow.settings",
    "VIDEO_EXTENSIONS": "nodeflow.media.video_files",
    "atomic_path": "nodeflow.files",
    "audio_format": "nodeflow.media.audio_files",
    "build_record": "nodeflow.delivery",
    "content_hash": "nodeflow.files",
    "decode": "nodeflow.media.video_files",
    "detect_watermark": "nodeflow.delivery.watermark",
    "dumps_record": "nodeflow.delivery",
    "encode_gif": "nodeflow.media.video_files",
    "encode_mp4": "nodeflow.media.video_files",
    "ffmpeg": "nodeflow.media.video_files",
    "files_inside": "nodeflow.files",
    "find_local_model": "nodeflow.models",
    "from_pil": "nodeflow.media.image_grid",
    "hub_offline": "nodeflow.models",
    "input_file_fingerprint": "nodeflow.files",
    "is_hub_id": "nodeflow.models",
    "model_facts": "nodeflow.check.licences",
    "model_folders": "nodeflow.models",
    "not_found_message": "nodeflow.models",
    "read_audio": "nodeflow.media.audio_files",
    "refuse_pickled_weights": "nodeflow.models",
    "pipe_frames": "nodeflow.media.video_files",
    "remux_mp4": "nodeflow.media.video_files",
    "resolve_inside": "nodeflow.files",
    "sample_grid": "nodeflow.media.image_grid",
    "save_audio": "nodeflow.media.audio_files",
    "to_pil": "nodeflow.media.image_grid",
    "write_audio": "nodeflow.media.audio_files",
}


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module 'nodeflow' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value
