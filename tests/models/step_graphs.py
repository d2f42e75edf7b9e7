"""Step-level diffusion graphs built the way ComfyUI users draw them (shared by the step and import tests)."""

from __future__ import annotations


def text_to_image_steps(source: str = "tiny-sd", *, size: int = 64, steps: int = 5, seed: int = 1,
                        prompt: str = "a red square", negative: str = "", guidance: float = 7.5,
                        sampler: str = "model default", scheduler: str = "normal") -> dict:
    return {
        "nodeflow": 1,
        "nodes": {
            "ckpt": {"type": "diffusion.load_checkpoint", "params": {"source": source}},
            "pos": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}, "params": {"text": prompt}},
            "neg": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}, "params": {"text": negative}},
            "empty": {"type": "diffusion.empty_latent", "params": {"width": size, "height": size, "batch": 1}},
            "sample": {
                "type": "diffusion.sampler",
                "inputs": {"model": ["ckpt", "model"], "positive": ["pos", "conditioning"],
                           "negative": ["neg", "conditioning"], "latent": ["empty", "latent"]},
                "params": {"seed": seed, "steps": steps, "guidance": guidance, "sampler": sampler,
                           "scheduler": scheduler},
            },
            "decode": {"type": "diffusion.vae_decode", "inputs": {"vae": ["ckpt", "vae"], "latent": ["sample", "latent"]}},
        },
    }


def hires_fix_steps(**options) -> dict:
    graph = text_to_image_steps(**options)
    nodes = graph["nodes"]
    nodes["upscale"] = {"type": "diffusion.latent_upscale", "inputs": {"latent": ["sample", "latent"]},
                        "params": {"scale_by": 1.5, "method": "bilinear"}}
    nodes["refine"] = {
        "type": "diffusion.sampler",
        "inputs": {"model": ["ckpt", "model"], "positive": ["pos", "conditioning"],
                   "negative": ["neg", "conditioning"], "latent": ["upscale", "latent"]},
        "params": {"seed": 2, "steps": 4, "denoise": 0.5, "sampler": "euler", "scheduler": "karras"},
    }
    nodes["decode"]["inputs"]["latent"] = ["refine", "latent"]
    return graph
