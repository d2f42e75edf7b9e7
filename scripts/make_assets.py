"""Make the small files in assets/ (deterministic: the same bytes on every run).

    python scripts/make_assets.py

- sample.png: a photo-like landscape (sky, sun, hills, lake, grain), 256x256, for img2img and edits
- mask.png: the inpainting mask for sample.png (white where to repaint: the sun)
- chime.wav: a one-second bell-like chord, 22.05 kHz mono
- prompts.txt: prompts for sweeps, one a line
- icon.svg: the editor's icon
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SIZE = 256

PROMPTS = """a lighthouse on a cliff at dawn, oil painting
a red fox in fresh snow, soft morning light
a quiet harbour at night, lanterns on the water
a field of sunflowers under a summer storm
an old library with tall windows, dust in the light
a mountain lake reflecting pine trees, watercolour
a city street in the rain, neon signs, cinematic
a bowl of lemons on a wooden table, still life
"""

ICON = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">
  <rect width="64" height="64" rx="14" fill="#1b1e25"/>
  <path d="M20 20 C34 20 30 44 44 44" stroke="#5b9dff" stroke-width="4" fill="none" stroke-linecap="round"/>
  <path d="M20 44 C30 44 32 32 44 32" stroke="#4cc38a" stroke-width="3" fill="none" stroke-linecap="round" opacity=".8"/>
  <circle cx="18" cy="20" r="7" fill="#5b9dff"/>
  <circle cx="18" cy="44" r="6" fill="#4cc38a"/>
  <circle cx="46" cy="44" r="7" fill="#f2b84b"/>
  <circle cx="46" cy="32" r="5" fill="#e4e7ec"/>
</svg>
"""

SUN = (182, 70, 26)  # centre x, y and radius


def landscape() -> Image.Image:
    y = np.mgrid[0:SIZE, 0:SIZE][0].astype(np.float32) / SIZE
    sky = np.stack([0.35 + 0.5 * y, 0.55 + 0.35 * y, 0.95 - 0.2 * y], axis=-1)
    image = Image.fromarray((np.clip(sky, 0, 1) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    cx, cy, r = SUN
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 214, 120))
    far = [(i, int(150 - 28 * math.sin(i / 40) - 12 * math.sin(i / 13))) for i in range(0, SIZE + 1, 4)]
    draw.polygon([(0, SIZE), *far, (SIZE, SIZE)], fill=(70, 104, 120))
    near = [(i, int(185 - 20 * math.sin(i / 27 + 1) - 8 * math.sin(i / 9))) for i in range(0, SIZE + 1, 4)]
    draw.polygon([(0, SIZE), *near, (SIZE, SIZE)], fill=(58, 112, 62))
    draw.rectangle([0, 215, SIZE, SIZE], fill=(60, 100, 150))
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    grain = np.random.RandomState(7).normal(0, 6, (SIZE, SIZE, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def mask() -> Image.Image:
    image = Image.new("L", (SIZE, SIZE), 0)
    cx, cy, r = SUN
    r += 8
    ImageDraw.Draw(image).ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    return image


def chime(path: Path, rate: int = 22050, seconds: float = 1.0) -> None:
    frames = bytearray()
    for i in range(int(rate * seconds)):
        t = i / rate
        envelope = math.exp(-4 * t) * min(1.0, t * 200)
        value = sum(
            math.sin(2 * math.pi * f * t) / (k + 1) for k, f in enumerate((523.25, 659.25, 783.99, 1046.5))
        )
        frames += struct.pack("<h", int(max(-1, min(1, 0.35 * envelope * value)) * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    landscape().save(ASSETS / "sample.png", optimize=True)
    mask().save(ASSETS / "mask.png", optimize=True)
    chime(ASSETS / "chime.wav")
    (ASSETS / "prompts.txt").write_text(PROMPTS)
    (ASSETS / "icon.svg").write_text(ICON)
    for path in sorted(ASSETS.iterdir()):
        print(f"{path.name:12} {path.stat().st_size / 1024:7.1f} KB")


if __name__ == "__main__":
    main()
