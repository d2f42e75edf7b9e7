"""ComfyUI import time against workflow size (issue: an 8,000-node workflow took 16.8 s).

Builds chains of the default text-to-image graph (seven nodes each, every prompt feeding its sampler,
a reroute in each chain) in the editor's format and in the API format, imports each through
``nodeflow.comfy.import_bytes`` and prints a table of nodes against seconds (best of --repeat). A
linear importer keeps the seconds per 1,000 nodes flat down the table.

    .venv/bin/python bench/comfy_import.py [--sizes 1000,4000,8000,16000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nodeflow.comfy import import_bytes
from nodeflow.nodetypes.registry import default_registry


def workflow(chains: int) -> dict:
    """The editor's format: ``chains`` copies of the default graph, side by side."""
    nodes, links = [], []

    def link(source: int, slot: int, target: dict, name: str, kind: str) -> None:
        link_id = len(links) + 1
        links.append([link_id, source, slot, target["id"], 0, kind])
        next(p for p in target["inputs"] if p["name"] == name)["link"] = link_id

    for c in range(chains):
        base, x, y = c * 10, (c % 50) * 2000, (c // 50) * 900

        def add(offset: int, cls: str, widgets: list, inputs: list[str], outputs: list[str],
                base: int = base, x: int = x, y: int = y) -> dict:
            node = {"id": base + offset, "type": cls, "pos": [x + offset * 200, y], "size": [300, 100], "mode": 0,
                    "inputs": [{"name": n, "type": "*", "link": None} for n in inputs],
                    "outputs": [{"name": n, "type": n, "links": []} for n in outputs], "widgets_values": widgets}
            nodes.append(node)
            return node

        add(1, "CheckpointLoaderSimple", ["v1-5-pruned-emaonly.safetensors"], [], ["MODEL", "CLIP", "VAE"])
        pos = add(2, "CLIPTextEncode", ["a castle"], ["clip"], ["CONDITIONING"])
        neg = add(3, "CLIPTextEncode", ["blurry"], ["clip"], ["CONDITIONING"])
        add(4, "EmptyLatentImage", [512, 512, 1], [], ["LATENT"])
        sampler = add(5, "KSampler", [c, "randomize", 20, 8, "euler", "normal", 1],
                      ["model", "positive", "negative", "latent_image"], ["LATENT"])
        reroute = add(6, "Reroute", [], [""], [""])
        decode = add(7, "VAEDecode", [], ["samples", "vae"], ["IMAGE"])
        save = add(8, "SaveImage", ["ComfyUI"], ["images"], [])
        link(base + 1, 1, pos, "clip", "CLIP"), link(base + 1, 1, neg, "clip", "CLIP")
        link(base + 1, 0, sampler, "model", "MODEL"), link(base + 2, 0, sampler, "positive", "CONDITIONING")
        link(base + 3, 0, sampler, "negative", "CONDITIONING"), link(base + 4, 0, sampler, "latent_image", "LATENT")
        link(base + 5, 0, reroute, "", "LATENT"), link(base + 6, 0, decode, "samples", "LATENT")
        link(base + 1, 2, decode, "vae", "VAE"), link(base + 7, 0, save, "images", "IMAGE")
    return {"nodes": nodes, "links": links, "groups": [{"title": "first", "bounding": [0, 0, 2000, 900]}], "version": 0.4}


def prompt(document: dict) -> dict:
    """The same graph in the API format (no positions: the importer arranges it)."""
    by_link = {link[0]: link for link in document["links"]}
    out = {}
    for node in document["nodes"]:
        if node["type"] == "Reroute":
            continue
        inputs = {}
        for port in node["inputs"]:
            link = by_link.get(port["link"])
            while link is not None and link[1] % 10 == 6:  # past the reroute
                link = by_link[next(p for p in document["nodes"] if p["id"] == link[1])["inputs"][0]["link"]]
            if link is not None:
                inputs[port["name"]] = [str(link[1]), link[2]]
        out[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return out


def best(data: bytes, repeat: int, registry) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        import_bytes(data, "big.json", registry)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,4000,8000,16000", help="node counts (rounded to whole graphs)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--api", action="store_true", help="also the API format (arranged on import: slower)")
    args = parser.parse_args()
    registry = default_registry()
    print(f"{'format':<10} {'nodes':>7} {'seconds':>9} {'s per 1000 nodes':>17}")
    for size in (int(s) for s in args.sizes.split(",")):
        document = workflow(max(1, size // 8))
        data = json.dumps(document).encode()
        seconds = best(data, args.repeat, registry)
        print(f"{'workflow':<10} {len(document['nodes']):>7} {seconds:>9.3f} {seconds / len(document['nodes']) * 1000:>17.3f}")
        if args.api:
            api = prompt(document) if size <= 20000 else None
            if api is not None:
                seconds = best(json.dumps(api).encode(), args.repeat, registry)
                print(f"{'prompt':<10} {len(api):>7} {seconds:>9.3f} {seconds / len(api) * 1000:>17.3f}")


if __name__ == "__main__":
    main()
