"""Fixtures for the code pack: an executor with its own data and output folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodeflow.run.executor import Executor
from nodeflow.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[tmp_path],
                    allow_cwd_inputs=False)


@pytest.fixture
def executor(settings: Settings) -> Executor:
    return Executor(settings=settings)
