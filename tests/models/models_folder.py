"""A test's own models folder that borrows the shared store's slow conversions.

The store (in pytest's cache folder, so it outlives a session and is shared by every xdist worker) keeps
only what takes long to make and never changes: ``converted/`` (the bundled SmolLM2 as safetensors,
written whole or not at all). Everything a test writes into its models folder (trained LoRAs go to
``loras/``) stays in the test's own folder: with the store linked whole, an adapter trained by a test on
one worker appeared in another test's folder while it ran (and piled up across sessions).
"""

from __future__ import annotations

from pathlib import Path

SHARED = ("converted",)  # the entries of the store a test's models folder links to


def private_models_folder(home: Path, store: Path | None) -> Path:
    """``home/models`` as a real folder of its own, with the store's shared entries linked into it."""
    folder = home / "models"
    folder.mkdir(parents=True, exist_ok=True)
    if store is not None:
        for name in SHARED:
            (store / name).mkdir(parents=True, exist_ok=True)
            (folder / name).symlink_to(store / name, target_is_directory=True)
    return folder
