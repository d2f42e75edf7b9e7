"""The dataset pack: items made by a graph, written as a dataset people can load with standard libraries.

- ``nodes.py``: ``dataset.write`` (one call per sweep item: stages the item, closes shards as they fill)
  and ``dataset.finish`` (closes the last shards, writes ``manifest.json`` and the ``README.md`` card);
- ``store.py``: the dataset folder (identity, lock, staged items, shards, manifest, resume checks);
- ``formats.py``: one shard writer per format (Parquet, WebDataset, ImageFolder, JSONL);
- ``card.py``: the Hugging Face style dataset card;
- ``disk_copy.py``: the Arrow copy of a Parquet dataset that ``datasets.load_from_disk`` reads;
- ``dedup.py``: exact and near-duplicate filters over lists of items, with counts for the card.
"""

from . import checks, dedup, figures, judge, load, nodes  # noqa: F401,E402  (importing registers the nodes)
