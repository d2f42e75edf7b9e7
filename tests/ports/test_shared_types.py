"""Port types that more than one pack uses have one home: the engine's public API."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict

import nodeflow
from nodeflow.graph.catalog import catalog as full_catalog
from nodeflow.nodetypes.registry import default_registry


def engine_types() -> dict[str, dict]:
    """The port types a bare ``import nodeflow`` registers (no pack loaded), in a fresh process."""
    code = (
        "import json, nodeflow\n"
        "from nodeflow.ports.core import all_types\n"
        "print(json.dumps({n: t.colour for n, t in all_types().items()}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_every_type_two_packs_use_is_the_engines():
    users: dict[str, set[str]] = defaultdict(set)
    for spec in default_registry().specs.values():
        for port in [*spec.inputs.values(), *spec.outputs.values()]:
            users[port.type].add(spec.pack)
    shared = {name for name, packs in users.items() if len(packs) > 1}
    from_engine = engine_types()
    assert {"Image", "ImageDataset", "Embedder", "LanguageModel", "Audio"} <= shared
    assert sorted(shared - set(from_engine)) == []


def test_new_diffusion_part_types_are_public_with_colours():
    types = engine_types()
    for name in ("Conditioning", "Latent", "Denoiser", "TextEncoder", "VAE"):
        assert getattr(nodeflow, name).name == name
        assert types[name].startswith("#")
    catalog = full_catalog(default_registry())["types"]
    assert "Latents" in catalog["Latent"]["accepts"]  # pipeline latents feed step-level nodes


def test_the_engine_imports_without_numpy_or_torch():
    code = "import sys, nodeflow; print(sorted(m for m in ('numpy', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
