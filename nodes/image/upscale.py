"""Model upscalers, as ComfyUI's UpscaleModelLoader and ImageUpscaleWithModel: an ESRGAN-family
``.safetensors`` file from the models folder (or its ``upscale_models/`` sub-folder) enlarges a picture
tile by tile. Pickled files (``.pth``, ``.pt``, ``.ckpt``) are refused: unpickling can run code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodeflow import (
    PICKLE_SUFFIXES,
    Context,
    Image,
    ModelNotFound,
    Param,
    PortType,
    Resolve,
    find_local_model,
    model_folders,
    node,
    register_type,
)

__all__ = ["UpscaleModel", "UpscalerHandle", "find_upscaler"]


@dataclass(frozen=True)
class UpscalerHandle:
    """An upscaler the model manager holds: ``fetch()`` gives the torch network, ``scale`` its factor."""

    name: str
    scale: int
    fetch: Callable[[], Any] = field(compare=False)


UpscaleModel = register_type(
    PortType("UpscaleModel", "#b5a642", "A picture upscaler network (ESRGAN family)", py=UpscalerHandle,
             size_of=lambda handle: 256)  # the model manager holds the weights
)


def find_upscaler(path: str, settings: Any) -> Path:
    """The upscaler file ``path`` names, in the models folders or their ``upscale_models/``."""
    if not path:
        raise ValueError("no upscaler chosen: set path to an ESRGAN .safetensors file in the models folder")
    name = path.replace("\\", "/")
    if name.lower().endswith(PICKLE_SUFFIXES):
        raise ValueError(
            f"{Path(name).name} is a pickled file, which can run code when loaded, so nodeflow does not load it: "
            "convert it to .safetensors once, in a Python you trust with the file "
            "(safetensors.torch.save_file(torch.load(f, weights_only=True), 'x.safetensors'))"
        )
    for candidate in (name, f"upscale_models/{name}"):
        found = find_local_model(candidate, settings)
        if found is not None and found.is_file():
            if found.suffix.lower() != ".safetensors":
                raise ValueError(f"{found.name} is not a .safetensors file")
            return found
    raise ModelNotFound(
        f"upscaler {path!r} was not found in {', '.join(str(p) for p in model_folders(settings))} "
        "(nor their upscale_models/ folders); put the .safetensors file there"
    )


def _fingerprint(params: dict[str, Any], ctx: Context) -> str:
    try:
        found = find_upscaler(params["path"], ctx.settings)
    except (ValueError, ModelNotFound) as exc:
        return f"unavailable: {exc}"
    return str(found.stat().st_mtime_ns)


@node("image.load_upscale_model", category="Image", outputs=("upscale_model",), fingerprint=_fingerprint,
      title="Load upscale model", reads=("path",))
def load_upscale_model(
    ctx: Context,
    *,
    path: str = Param("", kind="file", extensions=(".safetensors",), description="an ESRGAN .safetensors file",
                      resolve=Resolve("model", lambda v, s, _: find_upscaler(v, s) if v else None, models="upscale")),
) -> UpscaleModel:
    """Load an ESRGAN-family upscaler (RRDBNet: 4x-UltraSharp, RealESRGAN x4plus, ...) from a .safetensors file."""
    from safetensors.torch import load_file

    from nodes.image.esrgan_net import from_state_dict

    found = find_upscaler(path, ctx.settings)
    device = ctx.models.device

    def load() -> Any:
        return from_state_dict(load_file(str(found))).to(device)

    key = ("upscaler", str(found), found.stat().st_mtime_ns, device)
    net = ctx.models.get(key, load)  # load now, so a file that is not an upscaler fails here

    def fetch() -> Any:
        return ctx.models.get(key, load)

    return UpscalerHandle(found.name, net.scale, fetch)


def _tiles(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, tile - overlap))
    return starts + [length - tile]


@node("image.upscale_with_model", category="Image", title="Upscale image (model)")
def upscale_with_model(
    upscale_model: UpscaleModel,
    image: Image,
    ctx: Context,
    *,
    tile: int = Param(512, min=64, max=4096, step=32, description="pixels per tile side; smaller uses less memory"),
    overlap: int = Param(32, min=0, max=256, step=8, description="pixels tiles share, averaged for seamless joins"),
) -> Image:
    """Enlarge a picture by the upscaler's factor, tile by tile."""
    import numpy as np
    import torch
    from PIL import Image as PILImage

    net = upscale_model.fetch()
    device = next(net.parameters()).device
    rgb = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    _, _, height, width = rgb.shape
    scale = upscale_model.scale
    overlap = min(overlap, tile // 2)
    out = torch.zeros(1, 3, height * scale, width * scale)
    weight = torch.zeros(1, 1, height * scale, width * scale)
    spots = [(y, x) for y in _tiles(height, tile, overlap) for x in _tiles(width, tile, overlap)]
    with torch.no_grad():
        for index, (y, x) in enumerate(spots):
            piece = rgb[:, :, y : y + tile, x : x + tile].to(device)
            result = net(piece).float().cpu()
            h, w = result.shape[-2:]
            out[:, :, y * scale : y * scale + h, x * scale : x * scale + w] += result
            weight[:, :, y * scale : y * scale + h, x * scale : x * scale + w] += 1
            ctx.progress(index + 1, len(spots))
    pixels = (out / weight.clamp_min(1)).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    return PILImage.fromarray((pixels * 255).round().astype(np.uint8), "RGB")
