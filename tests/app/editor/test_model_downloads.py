"""The size a first run downloads for a hub model, read from huggingface_hub's metadata at the endpoint
HF_ENDPOINT names (a real local HTTP server stands as the hub), never asked when offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from nodeflow.app.editor.model_downloads import NOT_ON_HUB, weights_to_fetch
from tests.browser.hub_endpoint import SD_FETCHED, SD_FILES, HubEndpoint

SD = "stable-diffusion-v1-5/stable-diffusion-v1-5"
ASK = (
    "import json, sys; from nodeflow.app.editor.model_downloads import hub_download_bytes; "
    "print(json.dumps([hub_download_bytes(r) for r in sys.argv[1:]]))"
)


def ask_in_a_fresh_process(endpoint: str, *repos: str, offline: bool) -> list[int | None]:
    """huggingface_hub reads HF_ENDPOINT and HF_HUB_OFFLINE when it is imported: a new process shows what
    a user who sets them gets."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_ENDPOINT"] = endpoint
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    done = subprocess.run([sys.executable, "-c", ASK, *repos], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_size_comes_from_the_endpoint_hf_endpoint_names():
    with HubEndpoint({SD: SD_FILES}) as hub:
        sizes = ask_in_a_fresh_process(hub.url, SD, "nobody/no-such-model", offline=False)
    assert sizes == [SD_FETCHED, NOT_ON_HUB]  # the hub says it has no such repository
    assert any(path.startswith(f"/api/models/{SD}") for path in hub.asked), hub.asked


def test_offline_the_hub_is_never_asked():
    with HubEndpoint({SD: SD_FILES}) as hub:
        sizes = ask_in_a_fresh_process(hub.url, SD, offline=True)
    assert sizes == [None]
    assert hub.asked == []


def test_the_weights_counted_are_those_a_loader_takes():
    kept = dict(weights_to_fetch(list(SD_FILES.items())))
    assert "unet/diffusion_pytorch_model.safetensors" in kept and "model_index.json" in kept
    assert not any(name.endswith((".bin", ".ckpt")) or ".fp16." in name or "/" not in name and name.endswith(".safetensors")
                   for name in kept)
    # a transformers repository with only .bin weights: those are what it downloads
    assert weights_to_fetch([("config.json", 10), ("pytorch_model.bin", 500)]) == [("config.json", 10), ("pytorch_model.bin", 500)]
