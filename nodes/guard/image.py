"""Image guard: nudity detection with NudeNet (its 320n ONNX detector ships inside ``nudenet``).

The detector finds body-part regions with a label and a score. The labels the user lists count as
findings; the guard then blocks the branch, blurs those regions, or flags the image and passes it on.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from nodeflow import JSON, Blocked, Context, Image, Param, String, node
from nodes.guard.findings import Finding, describe

__all__ = ["EXPOSED", "LABELS", "blur_regions", "detect", "nudity"]

LABELS = (
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED", "BELLY_COVERED",
    "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE", "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED", "BUTTOCKS_COVERED",
)  # fmt: skip
EXPOSED = ("FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "FEMALE_BREAST_EXPOSED", "BUTTOCKS_EXPOSED", "ANUS_EXPOSED")


class GuardedImage(NamedTuple):
    image: Image  # unchanged when clean or flagged; the found regions blurred when redacted
    report: String
    flags: JSON


def _detector(ctx: Context | None) -> Any:
    def open_detector() -> Any:
        from nudenet import NudeDetector

        return NudeDetector()

    if ctx is None:
        return open_detector()
    return ctx.models.get(("nudenet", "320n"), open_detector, device="cpu", nbytes=12 * 2**20)


def detect(detector: Any, image: Any, labels: tuple[str, ...], threshold: float) -> list[Finding]:
    """Regions of ``image`` (PIL) whose label is listed and whose score reaches the threshold."""
    rgb = np.asarray(image.convert("RGB"))
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # NudeNet reads OpenCV's channel order
    found = []
    for hit in detector.detect(bgr):
        if hit["class"] in labels and hit["score"] >= threshold:
            found.append(Finding(hit["class"].lower(), score=round(float(hit["score"]), 3), box=tuple(int(v) for v in hit["box"])))
    return found


def blur_regions(image: Any, findings: list[Finding], strength: int) -> Any:
    """A copy of the image with each finding's box blurred beyond recognition."""
    from PIL import ImageFilter

    out = image.copy()
    for finding in findings:
        x, y, w, h = finding.box or (0, 0, 0, 0)
        box = (max(0, x), max(0, y), min(out.width, x + w), min(out.height, y + h))
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        region = out.crop(box)
        radius = max(strength, max(region.size) // 4)
        out.paste(region.filter(ImageFilter.GaussianBlur(radius)), box)
    return out


def parse_labels(text: str) -> tuple[str, ...]:
    labels = tuple(part.strip().upper() for part in text.replace("\n", ",").split(",") if part.strip())
    unknown = [label for label in labels if label not in LABELS]
    if unknown:
        raise ValueError(f"unknown NudeNet labels {', '.join(unknown)}; known: {', '.join(LABELS)}")
    return labels


@node("guard.nudity", category="Guard", title="Nudity")
def nudity(
    image: Image,
    ctx: Context,
    *,
    labels: str = Param(
        ", ".join(EXPOSED),
        kind="text",
        nonempty="list at least one NudeNet label",
        description="NudeNet labels that count, separated by commas (e.g. BUTTOCKS_EXPOSED, FACE_FEMALE)",
    ),
    threshold: float = Param(0.45, min=0.05, max=0.99, step=0.01, display="slider", description="NudeNet's score at which a region counts"),
    action: str = Param("block", choices=("block", "blur", "flag"),
                        description="block: stop this branch; blur: blur the found regions; flag: pass it on and report it"),
    strength: int = Param(24, min=4, max=200, description="blur radius in pixels (at least a quarter of the region)"),
) -> GuardedImage:
    """Detect nudity with NudeNet's bundled ONNX model. Found regions are blurred, or the branch
    is blocked, or the image is passed on with a flag."""
    found = detect(_detector(ctx), image, parse_labels(labels), threshold)
    flags = {"guard": "nudity", "action": "pass" if not found else action, "found": [f.to_json() for f in found]}
    if not found:
        return GuardedImage(image, "clean", flags)
    summary = describe(found)
    if action == "block":
        raise Blocked(f"nudity: {summary}", guard="nudity", found=flags["found"])
    if action == "blur":
        image = blur_regions(image, found, strength)
        ctx.preview(image)
        report = f"blurred: {summary}"
    else:
        report = f"flagged: {summary}"
    ctx.log(f"nudity: {report}")
    return GuardedImage(image, report, flags)
