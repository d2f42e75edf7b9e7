"""Pack discovery: built-in packs, NODEFLOW_PACKS folders, and broken packs reported and skipped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nodeflow.graph.catalog import catalog as full_catalog
from nodeflow.nodetypes.registry import Registry
from tests.engine_support import HERE, REPO, nodeflow_cli

BROKEN = Path(__file__).parent / "packs_broken"


def test_a_broken_pack_is_reported_and_the_others_still_load():
    registry = Registry().load_all(extra_folders=[BROKEN])
    assert "good.constant" in registry.specs and "image.blend" in registry.specs
    assert [e.pack for e in registry.errors] == ["broken_pack"]
    error = registry.errors[0]
    assert "ModuleNotFoundError" in error.message and "this_module_does_not_exist" in error.message
    catalog = full_catalog(registry)
    assert catalog["pack_errors"][0]["pack"] == "broken_pack"


def test_cli_warns_about_a_broken_pack_and_keeps_working():
    done = nodeflow_cli("nodes", env={"NODEFLOW_PACKS": str(BROKEN)})
    assert done.returncode == 0
    assert "warning: pack broken_pack" in done.stderr and "failed to load" in done.stderr
    assert "good.constant" in done.stdout


def test_missing_pack_folder_is_reported():
    registry = Registry().load_all(extra_folders=[HERE / "no_such_folder"])
    assert registry.errors and "does not exist" in registry.errors[0].message


def test_duplicate_node_type_from_another_pack_is_skipped(tmp_path: Path):
    (tmp_path / "dupe.py").write_text(
        "from nodeflow import node\n\n@node('image.blur')\ndef blur() -> int:\n    '''impostor'''\n    return 1\n"
    )
    registry = Registry().load_all(extra_folders=[tmp_path])
    assert registry.specs["image.blur"].pack == "image"
    assert any("already defined by pack image" in e.message for e in registry.errors)


def test_entry_point_packs_are_loaded(tmp_path: Path):
    """A pack installed as a distribution exposes itself in the nodeflow.packs entry-point group."""
    site = tmp_path / "site"
    (site / "ep_pack").mkdir(parents=True)
    (site / "ep_pack" / "__init__.py").write_text(
        "from nodeflow import Param, node\n\n@node('ep.hello')\ndef hello(*, n: int = Param(1)) -> int:\n    '''from an entry point'''\n    return n\n"
    )
    dist = site / "ep_pack-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-pack\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[nodeflow.packs]\nep = ep_pack\n")
    code = "from nodeflow.nodetypes.registry import Registry; r = Registry().load_all(); print(r.specs['ep.hello'].pack, r.errors)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ep []"


def test_the_engine_imports_without_torch():
    code = "import sys, nodeflow, nodeflow.run.executor, nodeflow.cli.main; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_loading_every_pack_does_not_import_heavy_libraries():
    """Packs import torch, transformers and diffusers inside the functions that use them."""
    code = (
        "import sys; from nodeflow.nodetypes.registry import default_registry; r = default_registry();"
        "print(sorted(m for m in ('torch', 'transformers', 'diffusers', 'gradio') if m in sys.modules)); print(r.errors)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "[]"]
