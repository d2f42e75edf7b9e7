"""Audio pack: load, edit, analyse, synthesize and generate sound (soundfile, numpy, transformers).

Saving is the ``output.audio`` node (nodes/output), which embeds provenance.
"""

from nodes.audio.clip import Audio, AudioClip  # noqa: F401

from . import analyze, duck, edit, files, generate, quality, speak, subtitles, synth, transcribe  # noqa: F401  (importing registers the nodes)
