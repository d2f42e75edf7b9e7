"""DCGAN generator and discriminator as diffusers models, so they save and load like any other
(``save_pretrained`` writes safetensors + config.json; ``from_pretrained`` reads them back)."""

from __future__ import annotations

import math

from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

__all__ = ["DCGANGenerator", "DCGANDiscriminator"]


def _levels(size: int) -> int:
    levels = int(math.log2(size // 4)) if size >= 4 else -1
    if size < 8 or 4 * 2**levels != size:
        raise ValueError(f"a DCGAN needs square images of 8, 16, 32, 64... pixels, got {size}")
    return levels


class DCGANGenerator(ModelMixin, ConfigMixin):
    """Noise (latent_dim) -> 4x4 feature map -> transposed convolutions doubling to ``size``."""

    @register_to_config
    def __init__(self, latent_dim: int = 32, channels: int = 1, size: int = 8, width: int = 64):
        super().__init__()
        levels = _levels(size)
        features = width * 2**levels
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, features, 4, 1, 0, bias=False), nn.BatchNorm2d(features), nn.ReLU(True)
        ]
        for _ in range(levels - 1):
            layers += [nn.ConvTranspose2d(features, features // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(features // 2), nn.ReLU(True)]
            features //= 2
        layers += [nn.ConvTranspose2d(features, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, noise):
        return self.net(noise[:, :, None, None])


class DCGANDiscriminator(ModelMixin, ConfigMixin):
    """Strided convolutions halving ``size`` down to 4x4, then one logit: real or generated."""

    @register_to_config
    def __init__(self, channels: int = 1, size: int = 8, width: int = 64):
        super().__init__()
        levels = _levels(size)
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        features = width
        for _ in range(levels - 1):
            layers += [nn.Conv2d(features, features * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(features * 2),
                       nn.LeakyReLU(0.2, True)]
            features *= 2
        layers += [nn.Conv2d(features, 1, 4, 1, 0)]
        self.net = nn.Sequential(*layers)

    def forward(self, images):
        return self.net(images).flatten(1)[:, 0]
