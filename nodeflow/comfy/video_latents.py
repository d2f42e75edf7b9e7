"""ComfyUI's VAEDecode of video latents, onto nodeflow's video decoder.

ComfyUI decodes pictures and videos with one VAEDecode (a video comes out as a batch of frames);
nodeflow has two nodes, ``diffusion.vae_decode`` (a picture) and ``diffusion.vae_decode_video``
(frames). After a workflow is converted, a decode whose latents come from a video latent, through
samplers and latent ops, becomes the video decoder, and the links from its ``image`` output are moved
to its ``frames`` output, so the video save nodes after it get frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nodeflow.graph.model import Graph

__all__ = ["VIDEO_LATENT_SOURCES", "decode_video_latents"]

# nodes whose latent output is a video
VIDEO_LATENT_SOURCES = frozenset({"diffusion.empty_video_latent", "diffusion.wan_image_to_video",
                                  "diffusion.svd_conditioning", "diffusion.wan22_image_to_video_latent"})
# nodes that pass a latent on (the input it comes in by)
_LATENT_THROUGH = {
    "diffusion.sampler": "latent", "diffusion.sample_custom": "latent", "diffusion.sampler_custom": "latent",
    "diffusion.latent_upscale": "latent", "diffusion.noise_mask": "latent",
    "diffusion.latent_batch_seed_behavior": "latent",
}


def _is_video(graph: Graph, node_id: str) -> bool:
    seen: set[str] = set()
    while node_id in graph.nodes and node_id not in seen:
        seen.add(node_id)
        node = graph.nodes[node_id]
        if node.type in VIDEO_LATENT_SOURCES:
            return True
        port = _LATENT_THROUGH.get(node.type)
        if port is None or port not in node.inputs:
            return False
        node_id = node.inputs[port][0]
    return False


def decode_video_latents(graph: Graph) -> list[str]:
    """Make the decodes of video latents in ``graph`` video decoders; returns their ids."""
    changed = [
        node.id for node in graph.nodes.values()
        if node.type == "diffusion.vae_decode" and "latent" in node.inputs and _is_video(graph, node.inputs["latent"][0])
    ]
    for node_id in changed:
        graph.nodes[node_id].type = "diffusion.vae_decode_video"
    for node in graph.nodes.values():
        for port, (source, output) in list(node.inputs.items()):
            if source in changed and output == "image":
                node.inputs[port] = (source, "frames")
    return changed
