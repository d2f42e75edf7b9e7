"""Port types: named, coloured, with a small compatibility relation.

A port type is what flows along a link. Types are registered by name so that packs can add their own
(a pack that trains a model declares its model handle type). Compatibility is deliberately strict:
the same type, anything into ``Any``, and ``Int`` into ``Float``. Nothing else converts silently.

A type may also say how to measure a value (for the byte-bounded memory cache) and how to store one
on disk (for ``cache="disk"`` nodes). Storing never uses pickle: types write their own files.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "PortType",
    "register_type",
    "attach_storage",
    "get_type",
    "all_types",
    "compatible",
    "Int",
    "Float",
    "String",
    "Boolean",
    "AnyType",
    "ImageType",
    "JSONType",
    "FileType",
]


@dataclass(frozen=True)
class PortType:
    """A named port type. ``py`` is the Python class used in annotations, when there is one."""

    name: str
    colour: str = "#9aa0a6"
    description: str = ""
    py: type | None = None
    accepts: tuple[str, ...] = ()
    size_of: Callable[[Any], int] | None = field(default=None, compare=False)
    save: Callable[[Any, Path], None] | None = field(default=None, compare=False)
    load: Callable[[Path], Any] | None = field(default=None, compare=False)
    # for values that point at the world (a written file): False makes a cached value a miss
    still_valid: Callable[[Any], bool] | None = field(default=None, compare=False)

    def nbytes(self, value: Any) -> int:
        """An estimate of the memory a value holds, for the bounded memory cache."""
        if self.size_of is not None:
            return self.size_of(value)
        return estimate_size(value)

    @property
    def storable(self) -> bool:
        return self.save is not None and self.load is not None

    # Port types are used as annotations (``def f(model: LanguageModel)``). typing checks that an
    # annotation is callable and builds ``X | None`` with ``|``; these two make that work.
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"port type {self.name} is an annotation, not a constructor")

    def __or__(self, other: Any) -> Any:
        import typing

        return typing.Union[self, other]  # noqa: UP007  (X | Y on a port type builds this very Union)

    def __ror__(self, other: Any) -> Any:
        import typing

        return typing.Union[other, self]  # noqa: UP007  (as above, from the right)


_TYPES: dict[str, PortType] = {}
_BY_PY: dict[type, PortType] = {}


def register_type(port_type: PortType) -> PortType:
    """Register (or replace) a port type; returns it so a pack can keep a handle."""
    _TYPES[port_type.name] = port_type
    if port_type.py is not None:
        _BY_PY[port_type.py] = port_type
    return port_type


def attach_storage(
    port_type: PortType | str,
    save: Callable[[Any, Path], None],
    load: Callable[[Path], Any],
) -> PortType:
    """Give a shared port type its disk storage: the pack that knows how to write its values
    (a transformers folder for a language model) attaches it; the type itself stays the engine's."""
    found = get_type(port_type) if isinstance(port_type, str) else get_type(port_type.name)
    if found is None:
        raise KeyError(f"no port type {port_type!r} to attach storage to")
    from dataclasses import replace

    return register_type(replace(found, save=save, load=load))


def get_type(name_or_py: str | type | PortType) -> PortType | None:
    if isinstance(name_or_py, PortType):
        return name_or_py
    if isinstance(name_or_py, str):
        return _TYPES.get(name_or_py)
    return _BY_PY.get(name_or_py)


def all_types() -> dict[str, PortType]:
    return dict(_TYPES)


def compatible(source: str, target: str) -> bool:
    """Whether a value of type ``source`` may flow into a port of type ``target``."""
    if source == target or target == "Any" or source == "Any":
        return True
    target_type = _TYPES.get(target)
    return target_type is not None and source in target_type.accepts


_SCALARS = (int, float, bool, type(None))


def estimate_size(value: Any) -> int:
    """Bytes held by common values; falls back to ``sys.getsizeof`` for the rest."""
    if type(value) in _SCALARS:
        return 32
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    element_size = getattr(value, "element_size", None)
    if callable(element_size) and hasattr(value, "nelement"):
        return int(element_size() * value.nelement())
    if isinstance(value, (str, bytes)):
        return sys.getsizeof(value)
    if isinstance(value, (list, tuple)):
        return sys.getsizeof(value) + sum(estimate_size(v) for v in value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(estimate_size(v) for v in value.values())
    size = getattr(value, "size", None)
    mode = getattr(value, "mode", None)
    if isinstance(size, tuple) and len(size) == 2 and isinstance(mode, str):  # a PIL image
        # Pillow keeps 3-band images in 4 bytes a pixel (RGB is stored as RGBX), plus a line table
        width, height = size
        return width * height * _PIL_BYTES_PER_PIXEL.get(mode, 4) + 8 * height + _PIL_OVERHEAD
    return sys.getsizeof(value)


# what Pillow really allocates per pixel (its ImagingCore), by mode; anything else takes 4
_PIL_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
_PIL_OVERHEAD = 1024  # the Python object, the core struct and its arena block header


# --- JSON-like values store as JSON ----------------------------------------------------------


def _save_json(value: Any, folder: Path) -> None:
    import json

    (folder / "value.json").write_text(json.dumps(value))


def _load_json(folder: Path) -> Any:
    import json

    return json.loads((folder / "value.json").read_text())


def _save_json_path(value: Any, folder: Path) -> None:
    _save_json(str(value), folder)


def _load_json_path(folder: Path) -> Any:
    return Path(_load_json(folder))


def _save_image(value: Any, folder: Path) -> None:
    value.save(folder / "image.png", format="PNG")


def _load_image(folder: Path) -> Any:
    from PIL import Image

    with Image.open(folder / "image.png") as image:
        image.load()
        return image.copy()


class _AnyMarker:
    """Annotation for a port that takes any type."""


Int = register_type(
    PortType("Int", "#6fa8dc", "A whole number", py=int, save=_save_json, load=_load_json)
)
Float = register_type(
    PortType(
        "Float", "#93c47d", "A number", py=float, accepts=("Int",), save=_save_json, load=_load_json
    )
)
String = register_type(
    PortType("String", "#f6b26b", "Text", py=str, save=_save_json, load=_load_json)
)
Boolean = register_type(
    PortType("Boolean", "#c27ba0", "True or false", py=bool, save=_save_json, load=_load_json)
)
JSONType = register_type(
    PortType("JSON", "#b4a7d6", "Structured data", py=dict, save=_save_json, load=_load_json)
)
AnyType = register_type(PortType("Any", "#cccccc", "Any value", py=_AnyMarker))
FileType = register_type(
    PortType(
        "File",
        "#a1887f",
        "A file that a node wrote",
        py=Path,
        save=_save_json_path,
        load=_load_json_path,
        still_valid=lambda value: Path(value).exists(),
    )
)


def _register_image() -> PortType:
    image_class: type | None
    try:
        from PIL.Image import Image as PILImage

        image_class = PILImage
    except ImportError:  # pragma: no cover - Pillow is a dependency
        image_class = None
    return register_type(
        PortType(
            "Image",
            "#64b5f6",
            "An RGB or RGBA picture",
            py=image_class,
            save=_save_image,
            load=_load_image,
        )
    )


ImageType = _register_image()
