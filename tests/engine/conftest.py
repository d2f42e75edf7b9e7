"""Fixtures for the engine tests: an isolated data folder, a registry with the test pack, helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodeflow.nodetypes.registry import Registry
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.engine.engine_support import PACKS


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry().load_all(extra_folders=[PACKS])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[tmp_path])


@pytest.fixture
def executor(registry: Registry, settings: Settings) -> Executor:
    return Executor(registry, settings)
