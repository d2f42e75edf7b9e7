"""ComfyUI's core video nodes import and run: LoadVideo -> GetVideoComponents -> CreateVideo -> SaveVideo,
SaveAnimatedWEBP and SaveWEBM, each file delivered with provenance.

The workflow reproduces the structure of ComfyUI's video templates (comfy_extras/nodes_video.py's nodes,
wired as the official "video to video" examples wire them), written here with a tiny clip.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from nodeflow.comfy import import_file
from nodeflow.delivery import read_provenance
from nodeflow.graph.model import graph_to_dict, parse_graph
from nodeflow.media.video_files import encode_mp4
from nodeflow.nodetypes.registry import default_registry


def test_a_video_workflow_of_core_nodes_imports_and_saves_three_formats(executor, inputs, settings, tmp_path: Path):
    frames = [Image.new("RGB", (32, 24), colour) for colour in ("red", "green", "blue", "white")]
    encode_mp4(frames, inputs / "clip.mp4", fps=8)
    workflow = {
        "1": {"class_type": "LoadVideo", "inputs": {"file": "clip.mp4"}},
        "2": {"class_type": "GetVideoComponents", "inputs": {"video": ["1", 0]}},
        "3": {"class_type": "CreateVideo", "inputs": {"fps": 12.0, "images": ["2", 0]}},
        "4": {"class_type": "SaveVideo", "inputs": {"filename_prefix": "video/again", "format": "auto", "codec": "auto",
                                                    "video": ["3", 0]}},
        "5": {"class_type": "SaveAnimatedWEBP", "inputs": {"filename_prefix": "loop", "fps": 6.0, "lossless": False,
                                                           "quality": 80, "method": "default", "images": ["2", 0]}},
        "6": {"class_type": "SaveWEBM", "inputs": {"filename_prefix": "web", "codec": "vp9", "fps": 24.0, "crf": 32.0,
                                                   "images": ["2", 0]}},
    }
    source = tmp_path / "video.json"
    source.write_text(json.dumps(workflow))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    result = executor.run(parse_graph(graph_to_dict(graph)))
    assert result.ok, result.error
    out = settings.output_dir
    saved = [out / "video" / "again.mp4", out / "loop.webp", out / "web.webm"]
    for path in saved:
        assert path.is_file(), sorted(p.name for p in out.rglob("*"))
        assert read_provenance(path) is not None
    with Image.open(out / "loop.webp") as animation:
        assert animation.n_frames == 4 and animation.size == (32, 24)
