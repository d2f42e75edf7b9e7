"""A model named by hub id that this machine lacks: offline, the node says "not on this machine" and how to
get it before Run; when the hub answers (here a real local server standing as its endpoint), the node says
the first run will download it and how big it is, and Run is not blocked."""

from __future__ import annotations

import json

import pytest

from tests.browser.editor_helpers import REPO, open_graph
from tests.browser.hub_endpoint import SD_FILES, HubEndpoint

SHIPPED = json.loads((REPO / "graphs" / "prompt_to_image.json").read_text())
SD = "stable-diffusion-v1-5/stable-diffusion-v1-5"


@pytest.fixture
def fresh_hub_memory(monkeypatch):
    """Forget what earlier tests learnt of the hub (its reachability and sizes are remembered a while)."""
    from nodeflow.app.editor import model_downloads
    from nodeflow.nodetypes import resolve

    monkeypatch.setattr(resolve, "_hub_probe", {})
    monkeypatch.setattr(model_downloads, "_sizes", {})


def test_offline_a_missing_hub_model_says_not_on_this_machine_and_how_to_get_it(page, monkeypatch, fresh_hub_memory):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    open_graph(page, SHIPPED)
    page.wait_for_selector("[data-testid=param-problems-sd]")
    said = page.inner_text("[data-testid=param-problems-sd]")
    assert "not on this machine" in said
    assert f"hf download {SD}" in said and "HF_HUB_OFFLINE is set" in said
    assert page.locator("[data-testid=param-notes-sd]").count() == 0  # offline: nothing will download


def test_with_the_hub_answering_the_node_says_it_will_download_and_how_big(page, monkeypatch, fresh_hub_memory):
    from huggingface_hub import constants

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # read from the environment at import
    graph = json.loads(json.dumps(SHIPPED))
    graph["nodes"]["typo"] = {"type": "diffusion.load", "params": {"source": "nobody/no-such-model"}, "ui": {"pos": [40, 900]}}
    with HubEndpoint({SD: SD_FILES}) as hub:
        monkeypatch.setattr(constants, "ENDPOINT", hub.url)  # what HF_ENDPOINT sets at import
        open_graph(page, graph)
        page.wait_for_selector("[data-testid=param-notes-sd]", timeout=20_000)
        said = page.inner_text("[data-testid=param-notes-sd]")
        assert "first run will download it" in said and SD in said
        assert "(4.3 GB)" in said, said  # the weights diffusers takes, not every file of the repository
        assert page.locator("[data-testid=param-problems-sd]").count() == 0
        assert page.get_attribute("[data-testid=problems-bar]", "data-count") in (None, "0")
        # an id the hub does not have is said to be one, not a download
        page.wait_for_selector("[data-testid=param-notes-typo]")
        assert "has no public model of that id" in page.inner_text("[data-testid=param-notes-typo]")
        assert any(path.startswith(f"/api/models/{SD}") and "blobs=true" in path.lower() for path in hub.asked), hub.asked
