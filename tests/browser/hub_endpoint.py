"""A real HTTP server standing as the Hugging Face hub's endpoint: it answers the model metadata request
(``GET /api/models/{repo}`` with ``blobs=True``, what ``HfApi.model_info(files_metadata=True)`` sends) for
the repositories it is given, "RepoNotFound" for others, and keeps the paths it was asked."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# the shape of a diffusers repository: the weights loading it takes, and files it does not (a single-file
# checkpoint at the top, fp16 variants, .bin beside .safetensors)
SD_FILES = {
    "model_index.json": 541,
    "unet/config.json": 743,
    "unet/diffusion_pytorch_model.safetensors": 3_438_167_536,
    "unet/diffusion_pytorch_model.fp16.safetensors": 1_719_125_304,
    "unet/diffusion_pytorch_model.bin": 3_438_354_725,
    "vae/diffusion_pytorch_model.safetensors": 334_643_268,
    "text_encoder/model.safetensors": 492_265_168,
    "v1-5-pruned.ckpt": 7_703_807_346,
    "v1-5-pruned-emaonly.safetensors": 4_265_146_304,
}
SD_FETCHED = 541 + 743 + 3_438_167_536 + 334_643_268 + 492_265_168  # 4.27 GB


class HubEndpoint:
    def __init__(self, repos: dict[str, dict[str, int]]):
        self.repos = repos
        self.asked: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                endpoint.asked.append(self.path)
                path = urlsplit(self.path).path
                repo = path.removeprefix("/api/models/").split("/revision/")[0]
                files = endpoint.repos.get(repo) if path.startswith("/api/models/") else None
                error = None
                if files is None:  # as the hub answers an anonymous request for a missing (or private) repository
                    body, status, error = b'{"error": "Repository not found"}', 401, "RepoNotFound"
                else:
                    siblings = [{"rfilename": name, "size": size} for name, size in files.items()]
                    body, status = json.dumps({"id": repo, "modelId": repo, "siblings": siblings}).encode(), 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if error:
                    self.send_header("X-Error-Code", error)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> HubEndpoint:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
