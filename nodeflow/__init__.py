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

from nodeflow.nodetypes.blocked import Blocked
from nodeflow.ports.code import CodeType, SourceCode, extract_code
from nodeflow.nodetypes.context import Cancelled, Context
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
from nodeflow.nodetypes.decorator import NodeSpec, node, node_memory_limit
from nodeflow.nodetypes.params import Param
from nodeflow.nodetypes.resolve import Resolve, model_source
from .version import __version__
from .templates import TemplateError, check_template, fill_template
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

from .delivery.save import Delivery, credentials_param, deliver, overwrite_param, watermark_param  # noqa: E402

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
]
