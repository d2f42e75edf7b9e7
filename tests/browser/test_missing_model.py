"""A model named by hub id that is neither in the cache nor reachable is "not on this machine" on its
node before Run, with how to get it, also when HF_HUB_OFFLINE is not set (the hub simply cannot be
reached: here its endpoint is a local port nothing listens on)."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import REPO, open_graph

SHIPPED = json.loads((REPO / "graphs" / "prompt_to_image.json").read_text())


def test_an_unreachable_hub_model_is_not_on_this_machine_before_run(page, monkeypatch):
    from huggingface_hub import constants

    from nodeflow.nodetypes import resolve

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(resolve, "_hub_probe", {})
    open_graph(page, SHIPPED)
    page.wait_for_selector("[data-testid=param-problems-sd]")
    said = page.inner_text("[data-testid=param-problems-sd]")
    assert "not on this machine" in said and "hf download stable-diffusion-v1-5/stable-diffusion-v1-5" in said
    page.click("[data-testid=btn-run]")
    page.wait_for_selector("[data-testid=toast][data-kind=error]")
    assert page.get_attribute("[data-testid=node-llm]", "data-status") == "idle"  # nothing started
