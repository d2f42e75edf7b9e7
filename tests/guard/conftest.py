"""Fixtures for the guard, policy, audit and evaluation tests: an isolated data folder and an executor
over the built-in packs (real models: alt-profanity-check, NudeNet, the bundled MiniLM)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from nodeflow.models import ModelManager
from nodeflow.nodetypes.registry import Registry, default_registry
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings


@pytest.fixture(scope="session")
def registry() -> Registry:
    return default_registry()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[tmp_path])


@pytest.fixture(scope="session")
def models() -> ModelManager:
    """One model manager for the session: MiniLM and NudeNet load once, as in a long-running editor."""
    return ModelManager(device_override="cpu")


@pytest.fixture
def executor(registry: Registry, settings: Settings, models: ModelManager) -> Executor:
    return Executor(registry, settings, models=models)
