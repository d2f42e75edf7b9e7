"""The evaluation report: one JSON and one image table for a set of evaluated items (a sweep).

Its inputs are lists: downstream of a sweep they collect every item (in item order), so one report
covers the whole sweep. Each item is a metrics dict (what an evaluation node reports) and,
optionally, a picture. The JSON
keeps every item in full plus the mean of each number over the items; the table shows one row per
item: its picture and its top-level numbers, with the mean in the last row.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from nodeflow import JSON, Context, File, Image, Param, deliver, node, overwrite_param

__all__ = ["Report", "evaluation_report", "summarise", "table_image"]


class Report(NamedTuple):
    json: File
    table: File


def _numbers(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def summarise(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Every item, and the mean of each number that items report."""
    columns: dict[str, list[float]] = {}
    for metrics in items:
        for key, value in _numbers(metrics).items():
            columns.setdefault(key, []).append(value)
    means = {key: round(sum(values) / len(values), 4) for key, values in columns.items()}
    return {"items": items, "count": len(items), "mean": means}


def table_image(summary: dict[str, Any], pictures: list[Any], cell: int = 64) -> Any:
    """Rows of item number, picture and numbers; the last row holds the means."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    keys = list(summary["mean"])[:8]
    width_of = 96
    picture_width = cell + 8 if pictures else 0
    rows = summary["count"] + 2  # header, items, mean
    row_height = max(cell + 6, 22) if pictures else 22
    table = PILImage.new("RGB", (48 + picture_width + width_of * len(keys), 22 + row_height * (rows - 1)), "white")
    draw = ImageDraw.Draw(table)
    x0 = 48 + picture_width
    for j, key in enumerate(keys):
        draw.text((x0 + j * width_of + 4, 5), key[:15], fill=(60, 60, 60))
    for i, metrics in enumerate(summary["items"]):
        y = 22 + i * row_height
        draw.line((0, y, table.width, y), fill=(220, 220, 220))
        draw.text((6, y + 5), f"#{i}", fill="black")
        if i < len(pictures) and pictures[i] is not None:
            thumb = pictures[i].convert("RGB")
            thumb.thumbnail((cell, cell))
            table.paste(thumb, (48, y + 3))
        numbers = _numbers(metrics)
        for j, key in enumerate(keys):
            if key in numbers:
                draw.text((x0 + j * width_of + 4, y + 5), f"{numbers[key]:.4g}", fill="black")
    y = 22 + summary["count"] * row_height
    draw.line((0, y, table.width, y), fill=(120, 120, 120))
    draw.text((6, y + 5), "mean", fill=(180, 60, 0))
    for j, key in enumerate(keys):
        draw.text((x0 + j * width_of + 4, y + 5), f"{summary['mean'][key]:.4g}", fill=(180, 60, 0))
    return table


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


@node("evaluate.report", category="Evaluate", output=True, title="Evaluation report")
def evaluation_report(
    metrics: list[JSON],
    # optional list inputs: the node API reads ``list[T]`` with a None default (not ``list[T] | None``)
    metrics_2: list[JSON] = None,  # noqa: RUF013
    metrics_3: list[JSON] = None,  # noqa: RUF013
    images: list[Image] = None,  # noqa: RUF013
    ctx: Context = None,
    *,
    filename: str = Param("evaluation", description="report name in the output folder: NAME.json and NAME.png"),
    overwrite: bool = overwrite_param(),
) -> Report:
    """Write the metrics of every item (a sweep's items, or one) to a JSON file and an image table:
    one row per item with its picture and numbers, and the mean of each number. Metrics linked into
    metrics_2 and metrics_3 (other evaluations of the same items) join each item's row."""
    # list inputs: one value per sweep item (one in a plain run); upstream values stay as they are
    items = [dict(m) if isinstance(m, dict) else {"value": m} for m in _as_list(metrics)]
    labels = ctx.item_labels("metrics") if hasattr(ctx, "item_labels") else []
    for item, label in zip(items, labels, strict=False):
        if label:
            item.setdefault("item", label)
    for more in (metrics_2, metrics_3):  # other evaluations of the same items join their rows
        for item, extra in zip(items, _as_list(more), strict=False):
            item.update({k if k not in item else f"{k}_2": v for k, v in (extra if isinstance(extra, dict) else {"value": extra}).items()})
    pictures = _as_list(images)
    summary = summarise(items)
    stem = filename.removesuffix(".json").removesuffix(".png")
    text = json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n"
    means = ", ".join(f"{k} {v:.4g}" for k, v in list(summary["mean"].items())[:6]) or "no numbers reported"
    json_path = deliver(ctx, f"{stem}.json", lambda out: out.path.write_text(text, encoding="utf-8"),
                        kind="json", suffixes=(".json",), overwrite=overwrite, preview=f"mean of {summary['count']}: {means}")
    table = table_image(summary, pictures)
    table_path = deliver(ctx, f"{stem}.png", lambda out: out.content.save(out.path, format="PNG"), content=table,
                         kind="image", suffixes=(".png",), overwrite=overwrite)
    return Report(json_path, table_path)
