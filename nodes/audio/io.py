"""Audio previews on nodes; sound files are read and written by the engine (nodeflow.media.audio_files)."""

from __future__ import annotations

from nodeflow import AUDIO_FORMATS, SUBTYPES, Context, audio_format, read_audio, save_audio, write_audio
from nodes.audio.clip import AudioClip

__all__ = ["AUDIO_FORMATS", "SUBTYPES", "audio_format", "read_audio", "save_audio", "write_audio", "preview_audio"]

PREVIEW_SECONDS = 120


def preview_audio(ctx: Context, clip: AudioClip) -> None:
    """Show a clip on its node as a playable WAV in the previews folder (its first two minutes)."""
    folder = ctx.settings.previews_dir / ctx.run_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ctx.file_stem}.wav"
    frames = min(clip.frames, PREVIEW_SECONDS * clip.sample_rate)
    save_audio(AudioClip(clip.samples[:frames], clip.sample_rate), path)
    ctx.preview(path, kind="audio")
