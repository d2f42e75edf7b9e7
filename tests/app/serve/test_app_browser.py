"""The editor's "Publish as app" route starts the form; Chromium fills it and sees the result."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.app.serve.serve_support import GRAPHS, REPO

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def editor(tmp_path_factory):
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.skip("the editor bundle is not built")
    from nodeflow.app import build_app
    from nodeflow.app.editor.live import LiveServer
    from nodeflow.settings import Settings

    root = tmp_path_factory.mktemp("publish")
    settings = Settings(home=root / "home", output_dir=root / "out", extra_input_dirs=[], allow_cwd_inputs=False)
    with LiveServer(build_app(settings=settings)) as server:
        yield server
        httpx.delete(server.url + "/api/publish", timeout=30)


@pytest.fixture(scope="module")
def published(editor):
    graph = json.loads((GRAPHS / "greeting.json").read_text())
    answer = httpx.post(editor.url + "/api/publish", json={"graph": graph}, timeout=180)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_publish_returns_a_url_that_gradio_client_can_call(editor, published):
    from gradio_client import Client

    assert published["url"].startswith("http://127.0.0.1:")
    assert httpx.get(editor.url + "/api/publish").json()["url"] == published["url"]
    assert Client(published["url"], verbose=False).predict("Lin", "Hey {a}", api_name="/run") == "Hey Lin"


def test_publish_refuses_inputs_that_name_nothing(editor):
    graph = json.loads((GRAPHS / "greeting.json").read_text())
    answer = httpx.post(editor.url + "/api/publish", json={"graph": graph, "inputs": ["name.colour"]}, timeout=30)
    assert answer.status_code == 400
    assert any(p["node"] == "name" and p["port"] == "colour" for p in answer.json()["problems"])


def test_chromium_fills_the_form_and_sees_the_output(published, browser):
    from playwright.sync_api import expect

    page = browser.new_page()
    try:
        page.goto(published["url"])
        page.get_by_label("Name · text").fill("Chromium")
        page.get_by_label("Template").fill("Good day, {a}.")
        page.locator("#nf-app-run").click()
        expect(page.get_by_label("Greeting")).to_have_value("Good day, Chromium.", timeout=60_000)
    finally:
        page.close()
