"""nodeflow: a generative-workflow studio. This package is the engine; packs live in ``nodes/``.

The public node API (what a pack imports)::

    from nodeflow import node, Param, Context, Image, String, Int, Float, Boolean
"""

from .code import CodeType, SourceCode, extract_code
from .context import Cancelled, Context
from .node_api import NodeSpec, node
from .params import Param
from .types import (
    AnyType,
    Boolean,
    FileType,
    Float,
    ImageType,
    Int,
    JSONType,
    PortType,
    String,
    get_type,
    register_type,
)

Image = ImageType
File = FileType
JSON = JSONType
Code = CodeType

__version__ = "0.1.0"

__all__ = [
    "node",
    "Param",
    "Context",
    "Cancelled",
    "NodeSpec",
    "PortType",
    "register_type",
    "get_type",
    "Image",
    "File",
    "JSON",
    "String",
    "Int",
    "Float",
    "Boolean",
    "AnyType",
    "Code",
    "SourceCode",
    "extract_code",
    "__version__",
]
