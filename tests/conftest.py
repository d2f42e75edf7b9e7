"""Fixtures every test folder shares: one Chromium per test session, and for the engine's tests (one
folder per stage: run/, check/, graph/, ...) an isolated data folder and a registry with the test pack.
A folder whose tests need another registry, settings or executor defines its own in its conftest.py.

Playwright's sync API allows one running instance per thread, so the editor's browser tests and the
published app's form test must share it.

The suite runs in two pytest-xdist workers (scripts/test.sh). Each test file stays on one worker, as a
file's tests may share a module-scoped server; files that start Ray share one worker, since two local
Ray clusters at once would double the memory and fight over the two cores.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nodeflow.nodetypes.registry import Registry
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.engine_support import PACKS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry().load_all(extra_folders=[PACKS])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[tmp_path])


@pytest.fixture
def executor(registry: Registry, settings: Settings) -> Executor:
    return Executor(registry, settings)


def pytest_configure(config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("NODEFLOW_HOME"):  # one data folder per worker, never a shared history
        home = Path(os.environ["NODEFLOW_HOME"]) / worker
        home.mkdir(parents=True, exist_ok=True)
        os.environ["NODEFLOW_HOME"] = str(home)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            group = "ray" if "ray" in item.path.stem.split("_") else str(item.path)
            item.add_marker(pytest.mark.xdist_group(group))
