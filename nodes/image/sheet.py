"""Collecting sweep items: a contact sheet of every image a sweep made, each labelled by its item."""

from __future__ import annotations

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from nodeflow import Context, Image, Param, node, node_memory_limit


@node("image.contact_sheet", category="Image", title="Contact sheet")
def contact_sheet(
    images: list[Image],
    ctx: Context,
    *,
    columns: int = Param(4, min=1, max=64),
    cell: int = Param(256, min=16, max=2048, description="the longest side of each picture"),
    labels: bool = Param(True, description="write each item's swept values under its picture"),
) -> Image:
    """Every image of a sweep on one sheet, in item order, with the values that made each one."""
    texts = ctx.item_labels("images") if labels else []
    label_height = 18 if any(texts) else 0
    count = max(1, len(images))
    columns = min(columns, count)
    rows = (count + columns - 1) // columns
    needed = columns * cell * rows * (cell + label_height) * 3  # the sheet's RGB bytes
    if needed > node_memory_limit():
        raise ValueError(f"a sheet of {count} pictures at {cell} px would need about {needed / 2**20:,.0f} MB, more "
                         f"than the per-node limit of {node_memory_limit() / 2**20:,.0f} MB (NODEFLOW_NODE_MAX_MB): "
                         "lower cell")
    sheet = PILImage.new("RGB", (columns * cell, rows * (cell + label_height)), "#202020")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for index, image in enumerate(images):
        ctx.check()
        thumb = image.convert("RGB")
        thumb.thumbnail((cell, cell))
        x, y = (index % columns) * cell, (index // columns) * (cell + label_height)
        sheet.paste(thumb, (x + (cell - thumb.width) // 2, y + (cell - thumb.height) // 2))
        if label_height and index < len(texts):
            draw.text((x + 4, y + cell + 3), texts[index][: cell // 6], fill="#e0e0e0", font=font)
    ctx.preview(sheet)
    return sheet
