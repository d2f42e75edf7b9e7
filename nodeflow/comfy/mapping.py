"""Which of our nodes each ComfyUI core node becomes, port by port and widget by widget.

``widgets`` is the order of a class's widget values in the editor's workflow format (``seed`` widgets
are followed there by a "control after generate" value, which is skipped). ``params`` maps a widget to
our param, with a converter where the value changes form; ``inputs`` maps input names; ``outputs``
names our output for each ComfyUI output slot. Converters report what is only approximate.
"""

from __future__ import annotations

from typing import Any

from .mapping_models import MODEL_MAPPINGS
from .mapping_sampling import SAMPLING_MAPPINGS
from .mapping_types import Mapping, Note
from .mapping_values import SAMPLER_NAMES, SCHEDULER_NAMES, SEED_WIDGETS, is_control_value
from .mapping_values import sampler_name as _sampler_name
from .mapping_values import scheduler_name as _scheduler_name
from .mapping_values import seed as _seed
from .math_expression import math_expression

__all__ = ["DERIVED_OUTPUTS", "MAPPINGS", "PRIMITIVES", "SAMPLER_NAMES", "SCHEDULER_NAMES", "Mapping", "is_control_value", "named_widgets"]

def named_widgets(mapping: Mapping, values: list[Any]) -> dict[str, Any]:
    """Positional widget values of the editor's format, named by the mapping's widget order. Values
    past the end are left out (older ComfyUI saved fewer widgets; the node's defaults apply)."""
    named: dict[str, Any] = {}
    queue = list(values)
    for name in mapping.widgets:
        if not queue:
            break
        named[name] = queue.pop(0)
        if name in SEED_WIDGETS and queue and is_control_value(queue[0]):
            queue.pop(0)
    return named


def _sampler(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "seed" in values or "noise_seed" in values:
        params["seed"] = _seed(values.get("seed", values.get("noise_seed")), note)
    if "steps" in values:
        params["steps"] = int(values["steps"])
    if "cfg" in values:
        params["guidance"] = float(values["cfg"])
    if "sampler_name" in values:
        params["sampler"] = _sampler_name(values["sampler_name"], note)
    if "scheduler" in values:
        params["scheduler"] = _scheduler_name(values["scheduler"], note)
    if "denoise" in values:
        params["denoise"] = float(values["denoise"])
    if "add_noise" in values:
        params["add_noise"] = values["add_noise"] in ("enable", True)
    if "start_at_step" in values:
        params["start_step"] = int(values["start_at_step"])
    if "end_at_step" in values:
        end = int(values["end_at_step"])
        params["end_step"] = -1 if end >= int(values.get("steps", 10_000)) else end
    # "disable" matters only for a run that stops before its last step (it finishes the picture there)
    ends_early = 0 <= params.get("end_step", -1) < params.get("steps", 0)
    if values.get("return_with_leftover_noise") in ("disable", False) and ends_early:
        params["leftover_noise"] = False
    return params


def _checkpoint(values: dict[str, Any], note: Note) -> dict[str, Any]:
    name = str(values.get("ckpt_name", ""))
    if name.lower().endswith((".ckpt", ".pt", ".bin", ".pth")):
        note(f"checkpoint {name!r} is a pickled file, which nodeflow does not load: convert it to .safetensors")
    return {"source": name}


def _latent_upscale(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {"method": str(values.get("upscale_method", "nearest-exact"))}
    if "scale_by" in values:
        params["scale_by"] = float(values["scale_by"])
    for key in ("width", "height"):
        if key in values:
            params[key] = int(values[key])
    if values.get("crop") not in (None, "disabled"):
        note("crop 'center' is not done: the latents are stretched to the size")
    return params


_IMAGE_METHODS = {"nearest-exact": "nearest", "bilinear": "bilinear", "area": "bilinear", "bicubic": "bicubic",
                  "lanczos": "lanczos"}


def _image_scale(values: dict[str, Any], note: Note) -> dict[str, Any]:
    method = str(values.get("upscale_method", "bicubic"))
    if method == "area":
        note("upscale method 'area' is approximated by bilinear")
    params: dict[str, Any] = {"method": _IMAGE_METHODS.get(method, "bicubic")}
    for key in ("width", "height"):
        if key in values:
            params[key] = max(1, int(values[key]))
    params["fit"] = "cover" if values.get("crop") == "center" else "stretch"
    return params


def _lora(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "lora_name" in values:
        params["path"] = str(values["lora_name"])
    for key in ("strength_model", "strength_clip"):
        if key in values:
            params[key] = float(values[key])  # the editor's format saves 1.0 as 1
    return params


def _save(values: dict[str, Any], note: Note) -> dict[str, Any]:
    prefix = str(values.get("filename_prefix", "ComfyUI")) or "ComfyUI"
    return {"filename": f"{prefix}.png"}


def _typed(values: dict[str, Any], key: str, kind: type) -> dict[str, Any]:
    if key not in values:
        return {}
    value = values[key]
    if kind is bool and isinstance(value, str):
        return {key: value.strip().lower() in ("true", "1", "yes", "on")}
    return {key: kind(value)}


def _text(values: dict[str, Any]) -> dict[str, Any]:
    return {"text": str(values["value"])} if "value" in values else {}


_BLEND_MODES = {"normal"}


def _blend(values: dict[str, Any], note: Note) -> dict[str, Any]:
    mode = str(values.get("blend_mode", "normal"))
    if mode not in _BLEND_MODES:
        note(f"blend mode {mode!r} is approximated by a plain mix")
    return {"alpha": float(values["blend_factor"])} if "blend_factor" in values else {}


def _empty_image(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {"fill": "solid", "colour_a": f"#{int(values.get('color', 0)) & 0xFFFFFF:06x}"}
    for key in ("width", "height"):
        if key in values:
            params[key] = int(values[key])
    if int(values.get("batch_size", 1)) > 1:
        note(f"a batch of {int(values['batch_size'])} images becomes one image")
    return params


def _blur(values: dict[str, Any], note: Note) -> dict[str, Any]:
    if "sigma" in values:
        note("ComfyUI's blur radius and sigma become one Gaussian radius")
    return {"radius": float(values["blur_radius"])} if "blur_radius" in values else {}


MAPPINGS: dict[str, Mapping] = {
    "CheckpointLoaderSimple": Mapping(
        "diffusion.load_checkpoint", ("ckpt_name",), convert=_checkpoint, params={"ckpt_name": "source"},
        outputs=("model", "clip", "vae"),
        base_id="checkpoint",
    ),
    "CLIPTextEncode": Mapping(
        "diffusion.encode_prompt", ("text",), params={"text": "text"}, inputs={"clip": "clip"},
        outputs=("conditioning",), base_id="prompt",
    ),
    "EmptyLatentImage": Mapping(
        "diffusion.empty_latent", ("width", "height", "batch_size"),
        params={"width": "width", "height": "height", "batch_size": "batch"}, outputs=("latent",), base_id="empty_latent",
    ),
    "KSampler": Mapping(
        "diffusion.sampler", ("seed", "steps", "cfg", "sampler_name", "scheduler", "denoise"), convert=_sampler,
        params={"seed": "seed", "steps": "steps", "cfg": "guidance", "sampler_name": "sampler", "scheduler": "scheduler",
                "denoise": "denoise"},
        inputs={"model": "model", "positive": "positive", "negative": "negative", "latent_image": "latent"},
        outputs=("latent",), base_id="sampler",
        caveat='samplers and schedulers diffusers lacks use the nearest (see the table below)',
    ),
    "KSamplerAdvanced": Mapping(
        "diffusion.sampler",
        ("add_noise", "noise_seed", "steps", "cfg", "sampler_name", "scheduler", "start_at_step", "end_at_step",
         "return_with_leftover_noise"),
        convert=_sampler,
        params={"noise_seed": "seed", "steps": "steps", "cfg": "guidance", "sampler_name": "sampler",
                "scheduler": "scheduler", "start_at_step": "start_step", "end_at_step": "end_step"},
        inputs={"model": "model", "positive": "positive", "negative": "negative", "latent_image": "latent"},
        outputs=("latent",), base_id="sampler",
        caveat='samplers as for KSampler',
    ),
    "VAEDecode": Mapping("diffusion.vae_decode", inputs={"samples": "latent", "vae": "vae"}, outputs=("image",),
                         base_id="decode"),
    "VAEEncode": Mapping("diffusion.vae_encode", inputs={"pixels": "image", "vae": "vae"}, outputs=("latent",),
                         base_id="encode"),
    "VAEEncodeForInpaint": Mapping(
        "diffusion.vae_encode_inpaint", ("grow_mask_by",), params={"grow_mask_by": "grow"},
        inputs={"pixels": "image", "vae": "vae", "mask": "mask"}, outputs=("latent",), base_id="inpaint_encode",
    ),
    "SetLatentNoiseMask": Mapping("diffusion.noise_mask", inputs={"samples": "latent", "mask": "mask"},
                                  outputs=("latent",), base_id="noise_mask"),
    "LatentUpscale": Mapping(
        "diffusion.latent_upscale", ("upscale_method", "width", "height", "crop"), convert=_latent_upscale,
        params={"width": "width", "height": "height"}, inputs={"samples": "latent"}, outputs=("latent",),
        base_id="upscale_latent",
        caveat="crop 'center' stretches instead",
    ),
    "LatentUpscaleBy": Mapping(
        "diffusion.latent_upscale", ("upscale_method", "scale_by"), convert=_latent_upscale,
        params={"scale_by": "scale_by"}, inputs={"samples": "latent"}, outputs=("latent",), base_id="upscale_latent",
    ),
    "ImageScale": Mapping(
        "image.resize", ("upscale_method", "width", "height", "crop"), convert=_image_scale,
        params={"width": "width", "height": "height"}, inputs={"image": "image"}, outputs=("image",), base_id="scale_image",
        caveat="'area' resizing is bilinear",
    ),
    "ImageScaleBy": Mapping(
        "diffusion.scale_image_by", ("upscale_method", "scale_by"),
        convert=lambda v, note: {"method": str(v.get("upscale_method", "bicubic")), "scale_by": float(v.get("scale_by", 1.0))},
        params={"scale_by": "scale_by"}, inputs={"image": "image"}, outputs=("image",), base_id="scale_image",
    ),
    "LoadImage": Mapping(
        "image.load", ("image", "upload"), convert=lambda v, note: {"path": str(v.get("image", ""))},
        params={"image": "path"},
        outputs=("image",), base_id="load_image",
        caveat='its MASK output is a mask-from-alpha node',
    ),
    "SaveImage": Mapping("image.save", ("filename_prefix",), convert=_save, inputs={"images": "image"},
                         outputs=(), base_id="save"),
    "PreviewImage": Mapping("diffusion.preview_image", inputs={"images": "image"}, base_id="preview"),
    "LoraLoader": Mapping(
        "diffusion.lora_parts", ("lora_name", "strength_model", "strength_clip"), convert=_lora,
        params={"lora_name": "path", "strength_model": "strength_model", "strength_clip": "strength_clip"},
        inputs={"model": "model", "clip": "clip"}, outputs=("model", "clip"), base_id="lora",
    ),
}

# ComfyUI's primitive and logic nodes (2025: the "Primitive*" nodes replace PrimitiveNode)
MAPPINGS.update({
    "PrimitiveInt": Mapping("core.int", ("value",), convert=lambda v, note: _typed(v, "value", int),
                            params={"value": "value"}, outputs=("value",), base_id="int"),
    "PrimitiveFloat": Mapping("core.float", ("value",), convert=lambda v, note: _typed(v, "value", float),
                              params={"value": "value"}, outputs=("value",), base_id="float"),
    "PrimitiveBoolean": Mapping("core.bool", ("value",), convert=lambda v, note: _typed(v, "value", bool),
                                params={"value": "value"}, outputs=("value",), base_id="bool"),
    "PrimitiveString": Mapping("core.text", ("value",), convert=lambda v, note: _text(v),
                               params={"value": "text"}, outputs=("text",), base_id="text"),
    "PrimitiveStringMultiline": Mapping("core.text", ("value",), convert=lambda v, note: _text(v),
                                        params={"value": "text"}, outputs=("text",), base_id="text"),
    "ComfySwitchNode": Mapping("core.switch", ("switch",), convert=lambda v, note: _typed(v, "switch", bool),
                               params={"switch": "switch"}, inputs={"on_false": "on_false", "on_true": "on_true"},
                               outputs=("output",), base_id="switch",
                               caveat='both inputs are computed (ComfyUI computes only the chosen one)'),
    "PreviewAny": Mapping("core.show_text", inputs={"source": "text"}, outputs=("text",), base_id="show_text",
                          caveat='shows the value as text'),
    "StringConcatenate": Mapping(
        "core.concat", ("string_a", "string_b", "delimiter"),
        convert=lambda v, note: {"separator": str(v["delimiter"])} if "delimiter" in v else {},
        params={"delimiter": "separator"}, inputs={"string_a": "a", "string_b": "b"}, outputs=("text",), base_id="concat",
    ),
    "ComfyMathExpression": Mapping("core.math", ("expression",), convert=math_expression, params={"expression": "op"},
                                   inputs={"values.a": "a", "values.b": "b"}, outputs=("value",), base_id="math",
                                   caveat='one operation (a + b, a * 0.5, max(a, b)...); longer formulas stay placeholders'),
    "ConditioningCombine": Mapping("diffusion.combine_conditioning",
                                   inputs={"conditioning_1": "a", "conditioning_2": "b"}, outputs=("conditioning",),
                                   base_id="combine"),
    "ImageBlend": Mapping("image.blend", ("blend_factor", "blend_mode"), convert=_blend,
                          params={"blend_factor": "alpha"}, inputs={"image1": "a", "image2": "b"}, outputs=("image",),
                          base_id="blend",
                          caveat='blend modes other than normal are a plain mix'),
    "ImageCrop": Mapping("image.crop", ("width", "height", "x", "y"),
                         convert=lambda v, note: {k: int(v[k]) for k in ("width", "height", "x", "y") if k in v},
                         params={"width": "width", "height": "height", "x": "x", "y": "y"}, inputs={"image": "image"},
                         outputs=("image",), base_id="crop"),
    "EmptyImage": Mapping("image.new", ("width", "height", "batch_size", "color"), convert=_empty_image,
                          params={"width": "width", "height": "height"}, outputs=("image",), base_id="image",
                          caveat="one image, not a batch"),
    "ImageBlur": Mapping("image.blur", ("blur_radius", "sigma"), convert=_blur, params={"blur_radius": "radius"},
                         inputs={"image": "image"}, outputs=("image",), base_id="blur",
                         caveat='blur radius and sigma become one Gaussian radius'),
})

# outputs we have no node output for, made by a helper node: (class, slot) -> (helper type, its input
# fed by output 0 of the node, the helper's output)
DERIVED_OUTPUTS = {
    ("LoadImage", 1): ("diffusion.alpha_mask", "image", "image"),
    ("ComfyMathExpression", 1): ("core.to_int", "x", "value"),  # its INT output: the FLOAT one, rounded
}

# PrimitiveNode output type -> (our node type, its param, its output)
PRIMITIVES = {
    "INT": ("core.int", "value", "value"),
    "FLOAT": ("core.float", "value", "value"),
    "STRING": ("core.text", "text", "text"),
    "BOOLEAN": ("core.bool", "value", "value"),
    "COMBO": ("core.text", "text", "text"),
}

# the model-family and custom-sampling tables live in files of their own
MAPPINGS.update(MODEL_MAPPINGS)
MAPPINGS.update(SAMPLING_MAPPINGS)
