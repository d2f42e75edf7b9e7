"""Fixtures for the media, delivery and history tests: an isolated data folder and output folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nodeflow.nodetypes.registry import default_registry
from nodeflow.record.history import RunHistory
from nodeflow.record.listeners import HistoryListener
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    inputs = tmp_path / "in"
    inputs.mkdir()
    return Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[inputs], allow_cwd_inputs=False)


@pytest.fixture
def inputs(settings: Settings) -> Path:
    return settings.extra_input_dirs[0]


@pytest.fixture
def history(settings: Settings) -> RunHistory:
    history = RunHistory.in_folder(settings.home)
    yield history
    history.close()


@pytest.fixture
def executor(settings: Settings, history: RunHistory) -> Executor:
    return Executor(default_registry(), settings, listeners=[HistoryListener(history)])
