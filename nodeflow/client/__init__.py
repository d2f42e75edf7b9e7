"""A small Python client for ``nodeflow serve`` (no server dependencies: httpx and pydantic)::

    from nodeflow.client import Client

    with Client("http://127.0.0.1:8188", token=None) as nf:
        run = nf.run(graph_name="hello_image.json", set={"caption.text": "hi"})   # submit and wait
        for output in run.outputs:
            nf.download(run.id, output, "out/")                                   # the files it wrote
        ref = nf.upload("photo.png").ref                                          # "uploads/…-photo.png"

``AsyncClient`` has the same methods as coroutines (``events`` is an async iterator). Answers are the
typed models of ``nodeflow.client.models``, the ones the server's OpenAPI document declares; a 4xx is
raised as :class:`NodeflowError` with the server's ``detail``, ``field`` and ``problems``.
"""

from .aio import AsyncClient
from .common import NodeflowError
from .models import Output, RunAccepted, RunState, RunSummary, Upload
from .sync import Client

__all__ = ["Client", "AsyncClient", "NodeflowError", "Output", "RunAccepted", "RunState", "RunSummary", "Upload"]
