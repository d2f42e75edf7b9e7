"""Reading and writing sound files (WAV, FLAC, OGG Vorbis, Opus, MP3) with soundfile (libsndfile, which
encodes MP3 with LAME and Opus with libopus): the audio pack, the output pack and the video pack's muxing
all use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nodeflow.files import atomic_path
from nodeflow.ports.media import AudioClip

__all__ = ["AUDIO_FORMATS", "SUBTYPES", "audio_format", "read_audio", "save_audio", "write_audio"]

# file ending -> our name of the format
AUDIO_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".opus": "OPUS", ".mp3": "MP3"}
# our name -> soundfile's container (Opus is an Ogg stream)
_CONTAINERS = {"WAV": "WAV", "FLAC": "FLAC", "OGG": "OGG", "OPUS": "OGG", "MP3": "MP3"}
# sample format param -> soundfile subtype, per format (lossy codecs have one encoding each)
SUBTYPES = {
    "WAV": {"16-bit": "PCM_16", "24-bit": "PCM_24", "float": "FLOAT"},
    "FLAC": {"16-bit": "PCM_16", "24-bit": "PCM_24", "float": "PCM_24"},
    "OGG": dict.fromkeys(("16-bit", "24-bit", "float"), "VORBIS"),
    "OPUS": dict.fromkeys(("16-bit", "24-bit", "float"), "OPUS"),
    "MP3": dict.fromkeys(("16-bit", "24-bit", "float"), "MPEG_LAYER_III"),
}
# Opus encodes only these sample rates; other sounds are resampled to 48 kHz first
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def read_audio(path: Path) -> AudioClip:
    import soundfile

    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except soundfile.LibsndfileError as exc:
        raise ValueError(f"{path.name} is not a sound file soundfile can read ({exc})") from None
    return AudioClip(samples, rate)


def write_audio(clip: AudioClip, path: Path, *, sample_format: str = "16-bit") -> None:
    """Write ``clip`` to ``path`` (the ending picks the format). Not atomic: see :func:`save_audio`."""
    import soundfile

    fmt = audio_format(path)
    subtype = SUBTYPES[fmt][sample_format]
    samples, rate = clip.samples, clip.sample_rate
    if subtype != "FLOAT":  # integer and lossy encodings wrap around past full scale
        samples = np.clip(samples, -1.0, 1.0)
    if fmt == "OPUS" and rate not in _OPUS_RATES:
        samples, rate = _resampled(samples, rate, 48000), 48000
    soundfile.write(str(path), samples, rate, format=_CONTAINERS[fmt], subtype=subtype)
    if _CONTAINERS[fmt] == "OGG":
        Path(path).write_bytes(fixed_ogg_serials(Path(path).read_bytes()))


def _resampled(samples: np.ndarray, rate: int, to: int) -> np.ndarray:
    from math import gcd

    from scipy.signal import resample_poly

    common = gcd(rate, to)
    return resample_poly(samples, to // common, rate // common, axis=0).astype(np.float32)


def _ogg_crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_OGG_CRC = _ogg_crc_table()


def _ogg_crc(page: bytes) -> int:
    crc = 0
    for byte in page:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_CRC[(crc >> 24) ^ byte]
    return crc


def fixed_ogg_serials(data: bytes) -> bytes:
    """The same Ogg file with its stream serial number set to a constant.

    libsndfile picks a random serial for each file; a fixed one makes the same sound give the same
    bytes, which reproduction relies on. Each page's checksum is recomputed.
    """
    pages = []
    offset = 0
    serial = (0x6E666C77).to_bytes(4, "little")
    while offset + 27 <= len(data) and data[offset : offset + 4] == b"OggS":
        count = data[offset + 26]
        body = sum(data[offset + 27 : offset + 27 + count])
        end = offset + 27 + count + body
        page = bytearray(data[offset:end])
        page[14:18] = serial
        page[22:26] = b"\0\0\0\0"
        page[22:26] = _ogg_crc(bytes(page)).to_bytes(4, "little")
        pages.append(bytes(page))
        offset = end
    if offset != len(data):  # not a plain single-stream Ogg file: leave it as it is
        return data
    return b"".join(pages)


def audio_format(path: Path) -> str:
    fmt = AUDIO_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot write audio as {Path(path).suffix or 'a file without extension'}: use .wav, .flac, .ogg, .opus or .mp3"
        )
    return fmt


def save_audio(clip: AudioClip, target: Path, **options: Any) -> None:
    """Write atomically: the file appears whole or not at all."""
    with atomic_path(target) as tmp:
        write_audio(clip, tmp, **options)
