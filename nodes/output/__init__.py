"""Output pack: deliver images, sound, video, text and JSON into the output folder, with provenance."""

from . import writers  # noqa: F401  (importing registers the nodes)
