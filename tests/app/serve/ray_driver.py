"""A Ray driver for the cluster tests (a process joins one Ray only): runs a graph file on the Ray
backend at an address and prints one JSON line: status, error, the Ray tasks sent (and the fused
chains they carried), the files made.

    python tests/app/serve/ray_driver.py ADDRESS GRAPH.json OUTPUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))


def main() -> None:
    address, graph_file, output = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    from nodeflow.backends.ray import RayBackend
    from nodeflow.backends.ray_cluster import connect, shutdown
    from nodeflow.graph.model import parse_graph
    from nodeflow.nodetypes.registry import Registry
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    connect(address)
    try:
        settings = Settings(home=output / "home", output_dir=output, extra_input_dirs=[], allow_cwd_inputs=False)
        packs = Path(__file__).resolve().parent / "packs"
        executor = Executor(Registry().load_all(extra_folders=[packs]), settings, backend="ray")
        sent, chains = RayBackend.tasks_sent, RayBackend.chains_sent
        result = executor.run(parse_graph(json.loads(graph_file.read_text())))
        print(json.dumps({"status": result.status, "error": result.error.message if result.error else None,
                          "tasks": RayBackend.tasks_sent - sent, "chains": RayBackend.chains_sent - chains,
                          "files": sorted(p.name for p in output.glob("*.png"))}))
    finally:
        shutdown()


if __name__ == "__main__":
    main()
