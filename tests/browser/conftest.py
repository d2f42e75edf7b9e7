"""Browser tests: the editor served on a free port, driven by Python Playwright in Debian's chromium.

A failing test leaves a screenshot of its page in test-output/browser/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKS = Path(__file__).resolve().parent / "packs"
SHOTS = REPO / "test-output" / "browser"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_call = report.failed


@pytest.fixture(scope="session")
def editor_server(tmp_path_factory):
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.fail("the editor bundle is not built: run `make setup` (needs Node.js 20+)")
    from nodeflow.app import build_app
    from nodeflow.app.editor.live import LiveServer
    from nodeflow.nodetypes.registry import Registry
    from nodeflow.settings import Settings

    root = tmp_path_factory.mktemp("editor")
    settings = Settings(home=root / "home", output_dir=root / "out", extra_input_dirs=[], allow_cwd_inputs=False)
    app = build_app(settings=settings, registry=Registry().load_all(extra_folders=[PACKS]))
    with LiveServer(app) as server:
        server.settings = settings
        server.app = app
        yield server


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(context, editor_server, request):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(editor_server.url)
    page.wait_for_selector("[data-testid=toolbar]", timeout=20_000)
    yield page
    if getattr(request.node, "failed_call", False):
        SHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert not errors, f"errors in the page: {errors}"
