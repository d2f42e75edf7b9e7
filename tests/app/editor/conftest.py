"""Fixtures for the editor's HTTP tests: an app on temporary folders, with the test pack loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TEST_PACKS = Path(__file__).resolve().parents[2] / "browser" / "packs"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def editor_registry():
    from nodeflow.nodetypes.registry import Registry

    return Registry().load_all(extra_folders=[TEST_PACKS])


@pytest.fixture
def editor_settings(tmp_path):
    from nodeflow.settings import Settings

    return Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[], allow_cwd_inputs=False)


@pytest.fixture
def make_app(editor_registry, editor_settings):
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.skip("the editor bundle is not built: run `make setup` (needs Node.js)")
    from nodeflow.app import build_app

    def make(**kwargs):
        return build_app(settings=editor_settings, registry=editor_registry, **kwargs)

    return make


@pytest.fixture
def client(make_app):
    from fastapi.testclient import TestClient

    with TestClient(make_app()) as test_client:
        yield test_client


def copy_example(name: str, folder: Path) -> Path:
    target = folder / name
    shutil.copy(REPO / "graphs" / name, target)
    return target
