"""The ESRGAN upscaler network (RRDBNet: Wang et al., "ESRGAN", 2018), built from a state dict.

ComfyUI users keep ESRGAN-family upscalers (4x-UltraSharp, RealESRGAN_x4plus, ...) as state dicts in
one of two key layouts: BasicSR's (``conv_first``, ``body.N.rdbK.convJ``, ``conv_up1``...) and the
original code's (``model.0``, ``model.1.sub.N.RDBK.convJ.0``...). Both load here; the block count,
widths and scale are read off the weights. spandrel, the library ComfyUI uses, needs torchvision,
which has no CPU build that works with this torch, so this module is its small stand-in for the one
architecture family most workflows use.

Imported only by the nodes that run an upscaler (it imports torch at the top).
"""

from __future__ import annotations

import re

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["RRDBNet", "from_state_dict", "to_basicsr_keys"]


class DenseBlock(nn.Module):
    """Five 3x3 convolutions, each seeing the block input and every earlier output."""

    def __init__(self, features: int, growth: int):
        super().__init__()
        for index in range(1, 5):
            setattr(self, f"conv{index}", nn.Conv2d(features + (index - 1) * growth, growth, 3, 1, 1))
        self.conv5 = nn.Conv2d(features + 4 * growth, features, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seen = [x]
        for index in range(1, 5):
            seen.append(F.leaky_relu(getattr(self, f"conv{index}")(torch.cat(seen, 1)), 0.2))
        return self.conv5(torch.cat(seen, 1)) * 0.2 + x


class RRDB(nn.Module):
    """Three dense blocks inside a scaled residual."""

    def __init__(self, features: int, growth: int):
        super().__init__()
        self.rdb1, self.rdb2, self.rdb3 = (DenseBlock(features, growth) for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    """Features, a trunk of RRDBs, then 2x nearest-neighbour upsamplings each followed by a convolution.
    2x and 1x models fold the input into channels first (pixel unshuffle) and upsample twice as well."""

    def __init__(self, *, in_channels: int, out_channels: int, features: int, growth: int, blocks: int, scale: int):
        super().__init__()
        self.scale = scale
        self.fold = {4: 1, 2: 2, 1: 4}[scale]
        self.conv_first = nn.Conv2d(in_channels * self.fold**2, features, 3, 1, 1)
        self.body = nn.Sequential(*(RRDB(features, growth) for _ in range(blocks)))
        self.conv_body = nn.Conv2d(features, features, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(features, features, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(features, features, 3, 1, 1)
        self.conv_hr = nn.Conv2d(features, features, 3, 1, 1)
        self.conv_last = nn.Conv2d(features, out_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fold > 1:
            x = F.pixel_unshuffle(x, self.fold)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        for conv in (self.conv_up1, self.conv_up2):
            feat = F.leaky_relu(conv(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))


_OLD_TAIL = {"model.3": "conv_up1", "model.6": "conv_up2", "model.8": "conv_hr", "model.10": "conv_last"}


def to_basicsr_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keys of the original ESRGAN layout renamed to BasicSR's (4x models); BasicSR keys pass through."""
    if "conv_first.weight" in state:
        return dict(state)
    if "model.0.weight" not in state:
        raise ValueError("this is not an ESRGAN (RRDBNet) upscaler: nodeflow runs that architecture family")
    trunk = max(int(m.group(1)) for k in state if (m := re.match(r"model\.1\.sub\.(\d+)\.weight", k)))
    renamed = {}
    for key, value in state.items():
        name = key
        if key.startswith("model.0."):
            name = "conv_first." + key[len("model.0."):]
        elif key.startswith(f"model.1.sub.{trunk}."):
            name = "conv_body." + key[len(f"model.1.sub.{trunk}."):]
        elif m := re.match(r"model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(\w+)$", key):
            name = f"body.{m.group(1)}.rdb{m.group(2)}.conv{m.group(3)}.{m.group(4)}"
        else:
            prefix = key.rsplit(".", 1)[0]
            if prefix in _OLD_TAIL:
                name = _OLD_TAIL[prefix] + "." + key.rsplit(".", 1)[1]
            else:
                raise ValueError(f"unexpected key {key!r}: only 4x upscalers of the original ESRGAN layout load")
        renamed[name] = value
    return renamed


def from_state_dict(state: dict[str, torch.Tensor]) -> RRDBNet:
    """An RRDBNet shaped by ``state`` with its weights loaded (strictly: every weight must fit)."""
    state = to_basicsr_keys(state)
    first = state["conv_first.weight"]
    features, folded = first.shape[0], first.shape[1]
    out_channels = state["conv_last.weight"].shape[0]
    growth = state["body.0.rdb1.conv1.weight"].shape[0] if "body.0.rdb1.conv1.weight" in state else 32
    blocks = len({k.split(".")[1] for k in state if k.startswith("body.")})
    in_channels = out_channels
    scale = {1: 4, 4: 2, 16: 1}.get(folded // in_channels)
    if scale is None:
        raise ValueError(f"cannot tell this upscaler's scale: its first layer takes {folded} channels")
    net = RRDBNet(in_channels=in_channels, out_channels=out_channels, features=features, growth=growth,
                  blocks=blocks, scale=scale)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"the upscaler's weights do not fit an ESRGAN network: {str(exc).splitlines()[0]}") from None
    return net.eval()
