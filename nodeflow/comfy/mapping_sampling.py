"""ComfyUI's custom-sampling, conditioning and image-op nodes and the nodes they become.

Kept apart from ``mapping.py`` so this table can grow without touching the core one; ``mapping.py``
merges ``SAMPLING_MAPPINGS`` into ``MAPPINGS``. Converters note where our node only approximates
ComfyUI's.
"""

from __future__ import annotations

from typing import Any

from .mapping_types import Mapping, Note
from .mapping_values import sampler_name as _sampler_name
from .mapping_values import scheduler_name as _scheduler_name
from .mapping_values import seed as _seed

__all__ = ["SAMPLING_MAPPINGS"]


def _sampler_select(values: dict[str, Any], note: Note) -> dict[str, Any]:
    return {"sampler_name": _sampler_name(values.get("sampler_name", "euler"), note)} if "sampler_name" in values else {}


def _basic_scheduler(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "scheduler" in values:
        params["scheduler"] = _scheduler_name(values["scheduler"], note)
    if "steps" in values:
        params["steps"] = int(values["steps"])
    if "denoise" in values:
        params["denoise"] = float(values["denoise"])
    return params


def _numbers(**kinds: type) -> Any:
    """A converter that keeps the named widgets, cast to their kinds."""

    def convert(values: dict[str, Any], note: Note) -> dict[str, Any]:
        return {name: kind(values[name]) for name, kind in kinds.items() if name in values and values[name] is not None}

    return convert


def _random_noise(values: dict[str, Any], note: Note) -> dict[str, Any]:
    return {"noise_seed": _seed(values["noise_seed"], note)} if "noise_seed" in values else {}


def _sampler_custom(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "add_noise" in values:
        params["add_noise"] = values["add_noise"] in (True, "enable", "true")
    if "noise_seed" in values:
        params["noise_seed"] = _seed(values["noise_seed"], note)
    if "cfg" in values:
        params["cfg"] = float(values["cfg"])
    return params


def _area(values: dict[str, Any], note: Note) -> dict[str, Any]:
    note("the area has hard edges (ComfyUI feathers them a little); areas are read for Stable Diffusion 1.x/2.x "
         "models, and by the custom-sampling nodes for SDXL too")
    return _numbers(width=int, height=int, x=int, y=int, strength=float)(values, note)


def _inpaint(values: dict[str, Any], note: Note) -> dict[str, Any]:
    if "noise_mask" not in values:
        return {}
    return {"noise_mask": values["noise_mask"] in (True, "true", "enable")}


def _differential(values: dict[str, Any], note: Note) -> dict[str, Any]:
    strength = values.get("strength")
    if strength not in (None, 1, 1.0):
        note(f"strength {strength} is not applied: Differential Diffusion runs at full strength")
    note("Differential Diffusion is honoured by the custom-sampling nodes; diffusion.sampler (KSampler) "
         "uses the mask as a plain noise mask")
    return {}


def _tiled(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params = _numbers(tile_size=int, overlap=int, temporal_size=int, temporal_overlap=int)(values, note)
    if "tile_size" in params:
        params["tile_size"] = min(4096, max(64, params["tile_size"]))
    if "overlap" in params:
        params["overlap"] = min(4096, max(0, params["overlap"]))
    return params


def _batch_seed(values: dict[str, Any], note: Note) -> dict[str, Any]:
    behaviour = str(values.get("seed_behavior", "fixed"))
    if behaviour not in ("fixed", "random"):
        note(f"seed behaviour {behaviour!r} is unknown; using 'fixed'")
        behaviour = "fixed"
    note("the batch seed behaviour is honoured by the custom-sampling nodes; diffusion.sampler (KSampler) "
         "draws seed + i per item")
    return {"seed_behavior": behaviour}


def _scale_to_pixels(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params = _numbers(megapixels=float, resolution_steps=int)(values, note)
    method = str(values.get("upscale_method", "lanczos"))
    params["method"] = method if method in ("nearest-exact", "bilinear", "area", "bicubic", "lanczos") else "lanczos"
    return params


def _upscaler(values: dict[str, Any], note: Note) -> dict[str, Any]:
    name = str(values.get("model_name", ""))
    if name.lower().endswith((".pth", ".pt", ".ckpt", ".bin")):
        note(f"upscaler {name!r} is a pickled file, which nodeflow does not load: convert it to .safetensors")
    return {"path": name}


def _prefix(values: dict[str, Any], suffix: str) -> str:
    return f"{values.get('filename_prefix') or 'ComfyUI'!s}{suffix}"


def _create_video(values: dict[str, Any], note: Note) -> dict[str, Any]:
    return {"format": "mp4", **_numbers(fps=float)(values, note)}


def _save_video(values: dict[str, Any], note: Note) -> dict[str, Any]:
    if str(values.get("codec", "auto")) not in ("auto", "h264"):
        note(f"codec {values.get('codec')!r} is not used: the video is saved as it was encoded (H.264 MP4)")
    return {"filename": _prefix(values, ".mp4")}


def _save_webp(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params = {"filename": _prefix(values, ".webp"), **_numbers(fps=float, quality=int)(values, note)}
    if "lossless" in values:
        params["lossless"] = values["lossless"] in (True, "true")
    method = str(values.get("method", "default"))
    params["method"] = method if method in ("default", "fastest", "slowest") else "default"
    return params


def _save_webm(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params = {"filename": _prefix(values, ".webm"), **_numbers(fps=float, crf=float)(values, note)}
    codec = str(values.get("codec", "vp9"))
    params["codec"] = codec if codec in ("vp9", "av1") else "vp9"
    return params


SAMPLING_MAPPINGS: dict[str, Mapping] = {
    # --- custom sampling ---
    "KSamplerSelect": Mapping("diffusion.sampler_select", ("sampler_name",), convert=_sampler_select,
                              params={"sampler_name": "sampler_name"}, outputs=("sampler",), base_id="sampler_select"),
    "BasicScheduler": Mapping("diffusion.scheduler_sigmas", ("scheduler", "steps", "denoise"), convert=_basic_scheduler,
                              params={"scheduler": "scheduler", "steps": "steps", "denoise": "denoise"},
                              inputs={"model": "model"}, outputs=("sigmas",), base_id="scheduler"),
    "SDTurboScheduler": Mapping("diffusion.turbo_sigmas", ("steps", "denoise"), convert=_numbers(steps=int, denoise=float),
                                params={"steps": "steps", "denoise": "denoise"}, inputs={"model": "model"},
                                outputs=("sigmas",), base_id="scheduler"),
    "AlignYourStepsScheduler": Mapping(
        "diffusion.align_your_steps", ("model_type", "steps", "denoise"),
        convert=_numbers(model_type=str, steps=int, denoise=float),
        params={"model_type": "model_type", "steps": "steps", "denoise": "denoise"}, outputs=("sigmas",),
        base_id="scheduler",
    ),
    "SetFirstSigma": Mapping("diffusion.set_first_sigma", ("sigma",), convert=_numbers(sigma=float),
                             params={"sigma": "sigma"}, inputs={"sigmas": "sigmas"}, outputs=("sigmas",),
                             base_id="first_sigma"),
    "RandomNoise": Mapping("diffusion.random_noise", ("noise_seed",), convert=_random_noise,
                           params={"noise_seed": "noise_seed"}, outputs=("noise",), base_id="noise"),
    "DisableNoise": Mapping("diffusion.disable_noise", outputs=("noise",), base_id="noise"),
    "BasicGuider": Mapping("diffusion.basic_guider", inputs={"model": "model", "conditioning": "conditioning"},
                           outputs=("guider",), base_id="guider"),
    "CFGGuider": Mapping("diffusion.cfg_guider", ("cfg",), convert=_numbers(cfg=float), params={"cfg": "cfg"},
                         inputs={"model": "model", "positive": "positive", "negative": "negative"},
                         outputs=("guider",), base_id="guider"),
    "SamplerCustomAdvanced": Mapping(
        "diffusion.sample_custom",
        inputs={"noise": "noise", "guider": "guider", "sampler": "sampler", "sigmas": "sigmas", "latent_image": "latent"},
        outputs=("output", "denoised"), base_id="sampler",
    ),
    "SamplerCustom": Mapping(
        "diffusion.sampler_custom", ("add_noise", "noise_seed", "cfg"), convert=_sampler_custom,
        params={"add_noise": "add_noise", "noise_seed": "noise_seed", "cfg": "cfg"},
        inputs={"model": "model", "positive": "positive", "negative": "negative", "sampler": "sampler",
                "sigmas": "sigmas", "latent_image": "latent"},
        outputs=("output", "denoised"), base_id="sampler",
    ),
    # --- conditioning ops ---
    "ConditioningCombine": Mapping("diffusion.combine_conditioning",
                                   inputs={"conditioning_1": "a", "conditioning_2": "b"}, outputs=("conditioning",),
                                   base_id="combine"),
    "ConditioningZeroOut": Mapping("diffusion.zero_conditioning", inputs={"conditioning": "conditioning"},
                                   outputs=("conditioning",), base_id="zero"),
    "ConditioningSetArea": Mapping(
        "diffusion.conditioning_area", ("width", "height", "x", "y", "strength"), convert=_area,
        params={"width": "width", "height": "height", "x": "x", "y": "y", "strength": "strength"},
        inputs={"conditioning": "conditioning"}, outputs=("conditioning",), base_id="area",
    ),
    "CLIPSetLastLayer": Mapping("diffusion.clip_skip", ("stop_at_clip_layer",), convert=_numbers(stop_at_clip_layer=int),
                                params={"stop_at_clip_layer": "stop_at_clip_layer"}, inputs={"clip": "clip"},
                                outputs=("clip",), base_id="clip_skip"),
    "InpaintModelConditioning": Mapping(
        "diffusion.inpaint_conditioning", ("noise_mask",), convert=_inpaint, params={"noise_mask": "noise_mask"},
        inputs={"positive": "positive", "negative": "negative", "vae": "vae", "pixels": "pixels", "mask": "mask"},
        outputs=("positive", "negative", "latent"), base_id="inpaint",
    ),
    "DifferentialDiffusion": Mapping("diffusion.differential_diffusion", ("strength",), convert=_differential,
                                     inputs={"model": "model"}, outputs=("model",), base_id="differential"),
    "InstructPixToPixConditioning": Mapping(
        "diffusion.instruct_pix2pix_conditioning",
        inputs={"positive": "positive", "negative": "negative", "vae": "vae", "pixels": "pixels"},
        outputs=("positive", "negative", "latent"), base_id="pix2pix",
    ),
    "VAEDecodeTiled": Mapping(
        "diffusion.vae_decode_tiled", ("tile_size", "overlap", "temporal_size", "temporal_overlap"), convert=_tiled,
        params={"tile_size": "tile_size", "overlap": "overlap", "temporal_size": "temporal_size",
                "temporal_overlap": "temporal_overlap"},
        inputs={"samples": "latent", "vae": "vae"}, outputs=("image",), base_id="decode",
    ),
    "LatentBatchSeedBehavior": Mapping(
        "diffusion.latent_batch_seed_behavior", ("seed_behavior",), convert=_batch_seed,
        params={"seed_behavior": "seed_behavior"}, inputs={"samples": "latent"}, outputs=("latent",),
        base_id="batch_seed",
    ),
    # --- picture ops and model upscalers ---
    "ImageInvert": Mapping("image.invert", inputs={"image": "image"}, outputs=("image",), base_id="invert"),
    "ImagePadForOutpaint": Mapping(
        "image.pad_for_outpaint", ("left", "top", "right", "bottom", "feathering"),
        convert=_numbers(left=int, top=int, right=int, bottom=int, feathering=int),
        params={"left": "left", "top": "top", "right": "right", "bottom": "bottom", "feathering": "feathering"},
        inputs={"image": "image"}, outputs=("image", "mask"), base_id="pad",
    ),
    "MaskToImage": Mapping("image.mask_to_image", inputs={"mask": "mask"}, outputs=("image",), base_id="mask_image"),
    "ImageScaleToTotalPixels": Mapping(
        "image.scale_to_pixels", ("upscale_method", "megapixels", "resolution_steps"), convert=_scale_to_pixels,
        params={"megapixels": "megapixels", "resolution_steps": "resolution_steps"}, inputs={"image": "image"},
        outputs=("image",), base_id="scale_image",
    ),
    "UpscaleModelLoader": Mapping("image.load_upscale_model", ("model_name",), convert=_upscaler,
                                  params={"model_name": "path"}, outputs=("upscale_model",), base_id="upscaler"),
    "ImageUpscaleWithModel": Mapping("image.upscale_with_model", inputs={"upscale_model": "upscale_model", "image": "image"},
                                     outputs=("image",), base_id="upscale"),
    # --- video ---
    "LoadVideo": Mapping("video.load", ("file", "upload"), convert=lambda v, note: {"path": str(v.get("file", ""))},
                         params={"file": "path"}, outputs=("video",), base_id="load_video"),
    "GetVideoComponents": Mapping("video.to_frames", inputs={"video": "video"}, outputs=("frames",), base_id="frames"),
    "CreateVideo": Mapping("video.encode", ("fps",), convert=_create_video, params={"fps": "fps"},
                           inputs={"images": "frames"}, outputs=("video",), base_id="video"),
    "SaveVideo": Mapping("output.video", ("filename_prefix", "format", "codec"), convert=_save_video,
                         inputs={"video": "video"}, base_id="save_video"),
    "SaveAnimatedWEBP": Mapping(
        "video.save_webp", ("filename_prefix", "fps", "lossless", "quality", "method"), convert=_save_webp,
        params={"fps": "fps", "quality": "quality"}, inputs={"images": "frames"}, base_id="save_webp",
    ),
    "SaveWEBM": Mapping("video.save_webm", ("filename_prefix", "codec", "fps", "crf"), convert=_save_webm,
                        params={"fps": "fps", "crf": "crf"}, inputs={"images": "frames"}, base_id="save_webm"),
}
