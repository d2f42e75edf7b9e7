"""Invisible watermarks in the pixels of delivered images (``invisible-watermark``).

Three methods, all offline: ``dwtdct`` and ``dwtdctsvd`` (frequency-domain marks, through
``imwatermark``; the SVD variant also holds on smooth gradients where the others cannot) and
``rivagan`` (a learned encoder/decoder whose ONNX models ship inside the ``imwatermark`` package). RivaGAN
runs here on onnxruntime directly, with numpy doing what imwatermark does with torch around it (scale
to [-1, 1], BGR, clamp, truncate to bytes), so delivering an image never imports torch; and it runs
at a fixed 192x192 working size, its change scaled up to the picture (see ``_rivagan_embed``).
Both carry the same 32-bit payload, ``PAYLOAD``; detection reads the bits back and reports the
share that match (about 0.5 for an unmarked picture). Pictures under 256x256 pixels are too small
for either method and are delivered unmarked, saying so.

Survival of common edits is measured by ``bench/delivery_credentials.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["METHODS", "MIN_PIXELS", "PAYLOAD", "WatermarkError", "detect_file", "detect_watermark", "embed_readable",
           "embed_watermark"]

PAYLOAD = b"nflw"  # 32 bits: RivaGAN carries exactly 32
METHODS = {"dwtdct": "dwtDct", "rivagan": "rivaGan", "dwtdctsvd": "dwtDctSvd"}
MIN_PIXELS = 256 * 256
# RivaGAN marks and reads a copy of this size (see _rivagan_embed). Its networks cost in proportion
# to the pixels: 192 (not 256) takes 0.56 of the CPU, and the mark still survives JPEG q75, half
# size and a 5% crop on every test photo (128 lost most crops; bench/delivery_credentials.py)
WORKING_SIZE = 192
EARLIER_SIZES = (256,)  # what pictures delivered before were marked at: read there too when not found
FOUND_AT = 0.9  # share of matching bits that counts as "marked" (chance: about 1 in 100,000 for 32 bits)


class WatermarkError(ValueError):
    """A watermark cannot be embedded (unknown method, a picture too small)."""


_SESSIONS: dict[str, Any] = {}


def _check(method: str) -> None:
    if method not in METHODS:
        raise WatermarkError(f"unknown watermark method {method!r}: use {', '.join(METHODS)} or none")


def _rivagan(part: str) -> Any:
    """The bundled RivaGAN encoder or decoder, loaded once per process (offline: the files ship in
    the package)."""
    session = _SESSIONS.get(part)
    if session is None:
        import importlib.util

        try:
            import onnxruntime
        except ImportError:
            raise WatermarkError("the rivagan watermark needs onnxruntime: pip install 'nodeflow[guard]'") from None

        spec = importlib.util.find_spec("imwatermark")
        if spec is None or not spec.submodule_search_locations:
            raise WatermarkError("the rivagan watermark needs the invisible-watermark package")
        model = Path(next(iter(spec.submodule_search_locations))) / f"rivagan_{part}.onnx"
        options = onnxruntime.SessionOptions()
        # onnxruntime's threads spin while they wait for work: on a machine busy with other jobs that
        # spinning was a quarter of the watermark's CPU time, for no gain in wall time
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = _SESSIONS[part] = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    return session


def _frame(bgr: Any) -> Any:
    import numpy as np

    return (bgr.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None, :, None]


def _bits() -> Any:
    import numpy as np

    return np.unpackbits(np.frombuffer(PAYLOAD, dtype=np.uint8))


def _rivagan_encode(bgr: Any) -> Any:
    import numpy as np

    data = _bits().astype(np.float32)[None]
    out = _rivagan("encoder").run(None, {"frame": _frame(bgr), "data": data})[0]
    return ((np.clip(out, -1.0, 1.0)[0, :, 0].transpose(1, 2, 0) + 1.0) * 127.5).astype(np.uint8)


def _rivagan_embed(rgb: Any) -> Any:
    """RivaGAN at a fixed working size: mark a WORKING_SIZE square copy, scale the change it made up
    to the full picture and add it. The cost is the same at any size (about a quarter of a second of
    CPU), and detection, which looks at such a copy too, survives resizing as well as JPEG and cropping."""
    import numpy as np
    from PIL import Image as PILImage

    small = rgb.resize((WORKING_SIZE, WORKING_SIZE), PILImage.Resampling.BICUBIC)
    marked = _rivagan_encode(np.ascontiguousarray(np.asarray(small)[:, :, ::-1]))[:, :, ::-1]
    change = marked.astype(np.float32) - np.asarray(small, dtype=np.float32)
    scaled = np.stack(
        [np.asarray(PILImage.fromarray(change[:, :, c]).resize(rgb.size, PILImage.Resampling.BILINEAR)) for c in range(3)], -1
    )
    pixels = np.clip(np.asarray(rgb, dtype=np.float32) + scaled, 0, 255).round().astype(np.uint8)
    return PILImage.fromarray(pixels)


def _encode(bgr: Any, method: str) -> Any:
    from imwatermark import WatermarkEncoder

    encoder = WatermarkEncoder()
    encoder.set_watermark("bytes", PAYLOAD)
    return encoder.encode(bgr, METHODS[method])


def _decode(bgr: Any, method: str) -> Any:
    import numpy as np

    if method == "rivagan":
        return (_rivagan("decoder").run(None, {"frame": _frame(bgr)})[0][0] > 0.52).astype(np.uint8)
    from imwatermark import WatermarkDecoder

    return np.asarray(WatermarkDecoder("bits", len(PAYLOAD) * 8).decode(bgr, METHODS[method]), dtype=np.uint8)


def too_small(image: Any) -> bool:
    width, height = image.size
    return width * height < MIN_PIXELS


def embed_watermark(image: Any, method: str) -> Any:
    """A copy of the PIL ``image`` with the payload embedded (an alpha channel is kept as it was)."""
    import numpy as np
    from PIL import Image as PILImage

    _check(method)
    if too_small(image):
        raise WatermarkError(f"a {image.size[0]}x{image.size[1]} picture is too small for a watermark (at least 256x256)")
    rgb = image.convert("RGB")
    if method == "rivagan":
        marked = _rivagan_embed(rgb)
    else:
        bgr = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
        marked = PILImage.fromarray(np.ascontiguousarray(_encode(bgr, method)[:, :, ::-1]))
    if image.mode == "RGBA":
        marked.putalpha(image.getchannel("A"))
    elif image.mode == "L":
        marked = marked.convert("L")
    return marked


def embed_readable(image: Any, method: str) -> tuple[Any, dict[str, Any]]:
    """Embed with ``method`` and read it back; when it cannot be read (RivaGAN on a flat colour or a
    smooth gradient, any method on white), try the other method; when neither can, deliver the
    picture unmarked. ``(picture, what the record says)``: the method that holds, or ``none`` with
    ``failed`` saying why, which the record and the content credentials carry."""
    _check(method)
    tried: list[tuple[str, float]] = []
    for candidate in [method, *(m for m in METHODS if m != method)]:
        marked = embed_watermark(image, candidate)
        score = detect_watermark(marked, candidate)
        if score >= FOUND_AT:
            said: dict[str, Any] = {"method": candidate, "payload": PAYLOAD.hex()}
            if candidate != method:
                said["instead_of"] = f"{method} (read back {tried[0][1]:.0%} of its bits on this picture)"
            return marked, said
        tried.append((candidate, score))
    reasons = ", ".join(f"{m} read back {s:.0%}" for m, s in tried)
    return image, {"method": "none", "asked": method,
                   "failed": f"no watermark could be embedded so that it reads back ({reasons}); delivered unmarked"}


def detect_watermark(image: Any, method: str) -> float:
    """The share of the payload's bits found in ``image`` by ``method`` (0.5 is chance)."""
    import numpy as np
    from PIL import Image as PILImage

    _check(method)
    if too_small(image):
        return 0.0
    rgb = image.convert("RGB")
    if method != "rivagan":
        bgr = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
        return float((_decode(bgr, method) == _bits()).mean())
    best = 0.0
    for size in (WORKING_SIZE, *(s for s in EARLIER_SIZES if s != WORKING_SIZE)):
        # looked for at the working size it was embedded at (an older picture's, if not found)
        small = rgb.resize((size, size), PILImage.Resampling.BICUBIC)
        bgr = np.ascontiguousarray(np.asarray(small)[:, :, ::-1])
        best = max(best, float((_decode(bgr, method) == _bits()).mean()))
        if best >= FOUND_AT:
            break
    return best


def detect_file(path: Path, method: str | None = None) -> dict[str, Any]:
    """What ``nodeflow info`` reports: the method that finds the mark best and its bit accuracy."""
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as opened:
            if opened.size[0] * opened.size[1] > 64 * 2**20:
                return {"found": False, "summary": "not checked (the picture is over 64 megapixels)"}
            image = opened.convert("RGB")
    except (OSError, ValueError, PILImage.DecompressionBombError) as exc:
        return {"found": False, "summary": f"not checked ({exc})"}
    if too_small(image):
        return {"found": False, "summary": "not checked (the picture is under 256x256)"}
    methods = [method] if method in METHODS else list(METHODS)
    scores = {m: detect_watermark(image, m) for m in methods}
    best = max(scores, key=scores.get)  # type: ignore[arg-type]
    found = scores[best] >= FOUND_AT
    verdict = "found" if found else "not found"
    return {"found": found, "method": best, "bit_accuracy": round(scores[best], 3),
            "summary": f"{verdict} ({best}, {scores[best]:.0%} of the 32 bits match)"}
