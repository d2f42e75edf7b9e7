"""ComfyUI's model-family nodes (component loaders, ControlNet, latents of the newer families, schedule
shift, Flux guidance) and the nodes they become.

Kept apart from ``mapping.py`` so the families can grow without touching the core table; ``mapping.py``
merges ``MODEL_MAPPINGS`` into ``MAPPINGS``. Widget orders are those of ComfyUI's node definitions.
"""

from __future__ import annotations

from typing import Any

from .mapping_types import Mapping, Note

__all__ = ["MODEL_MAPPINGS"]

# ComfyUI's CLIP loader ``type`` -> our text encoder loader's ``family``
_CLIP_FAMILIES = {"stable_diffusion": "sd1", "sdxl": "sdxl", "sd3": "sd3", "flux": "flux", "wan": "wan"}


def _file(value: Any) -> str:
    return str(value or "").replace("\\", "/")  # Windows separators of files saved on Windows


def _unet(values: dict[str, Any], note: Note) -> dict[str, Any]:
    dtype = str(values.get("weight_dtype", "default"))
    if dtype != "default":
        note(f"weight_dtype {dtype!r}: the model is loaded at the device's usual precision instead")
    return {"name": _file(values.get("unet_name"))}


def _clip_vision(values: dict[str, Any], note: Note) -> dict[str, Any]:
    return {"name": _file(values.get("clip_name"))}


def _vae(values: dict[str, Any], note: Note) -> dict[str, Any]:
    name = _file(values.get("vae_name"))
    if name in ("taesd", "taesdxl", "taesd3", "taef1", "pixel_space"):
        note(f"the built-in VAE {name!r} is ComfyUI's own; choose a VAE file in the models folder's vae/")
    return {"name": name}


def _clip_family(values: dict[str, Any], note: Note, default: str = "auto") -> str:
    kind = str(values.get("type", "") or "")
    if not kind:
        return default
    if kind not in _CLIP_FAMILIES:
        note(f"text encoder type {kind!r} is not a family nodeflow runs; the family is read from the files")
        return "auto"
    return _CLIP_FAMILIES[kind]


def _clip_devices(values: dict[str, Any], note: Note) -> None:
    if str(values.get("device", "default")) not in ("default", ""):
        note("device 'cpu' for the text encoders is not kept: they load where the model does")


def _clip(values: dict[str, Any], note: Note) -> dict[str, Any]:
    _clip_devices(values, note)
    return {"name": _file(values.get("clip_name")), "family": _clip_family(values, note)}


def _dual_clip(values: dict[str, Any], note: Note) -> dict[str, Any]:
    _clip_devices(values, note)
    return {"name": _file(values.get("clip_name1")), "name2": _file(values.get("clip_name2")),
            "family": _clip_family(values, note)}


def _triple_clip(values: dict[str, Any], note: Note) -> dict[str, Any]:
    return {"name": _file(values.get("clip_name1")), "name2": _file(values.get("clip_name2")),
            "name3": _file(values.get("clip_name3")), "family": "sd3"}


def _lora_model_only(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {"path": _file(values.get("lora_name"))}
    if "strength_model" in values:
        params["strength"] = float(values["strength_model"])
    return params


def _empty_sd3(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {"channels": 16}
    for ours, theirs in (("width", "width"), ("height", "height"), ("batch", "batch_size")):
        if theirs in values:
            params[ours] = int(values[theirs])
    return params


def _shift(kind: str):
    def convert(values: dict[str, Any], note: Note) -> dict[str, Any]:
        params: dict[str, Any] = {"kind": kind}
        if "shift" in values:
            params["shift"] = float(values["shift"])
        return params

    return convert


def _flux_shift(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {"kind": "flux"}
    for key in ("max_shift", "base_shift"):
        if key in values:
            params[key] = float(values[key])
    for key in ("width", "height"):  # the picture size ComfyUI fixes the shift for
        if key in values:
            params[key] = int(values[key])
    return params


def _discrete(values: dict[str, Any], note: Note) -> dict[str, Any]:
    sampling = str(values.get("sampling", "eps"))
    if sampling not in ("eps", "v_prediction"):
        note(f"sampling {sampling!r} has no counterpart; the model's own prediction type is kept (eps)")
        sampling = "eps"
    if values.get("zsnr") in (True, "true"):
        note("zsnr (zero terminal SNR rescaling) is not done")
    return {"kind": "discrete", "prediction": sampling}


def _controlnet_apply(values: dict[str, Any], note: Note) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for ours, theirs in (("strength", "strength"), ("start", "start_percent"), ("end", "end_percent")):
        if theirs in values:
            params[ours] = float(values[theirs])
    return params


_MODEL_IN = {"model": "model"}


def _image_only_checkpoint(values: dict[str, Any], note: Note) -> dict[str, Any]:
    """ImageOnlyCheckpointLoader's and unCLIPCheckpointLoader's checkpoint name (a pickle noted)."""
    name = _file(values.get("ckpt_name"))
    if name.lower().endswith((".ckpt", ".pt", ".bin", ".pth")):
        note(f"checkpoint {name!r} is a pickled file, which nodeflow does not load: convert it to .safetensors")
    return {"source": name}

MODEL_MAPPINGS: dict[str, Mapping] = {
    "UNETLoader": Mapping(
        "diffusion.load_denoiser", ("unet_name", "weight_dtype"), params={"unet_name": "name"}, convert=_unet,
        outputs=("model",), base_id="diffusion_model",
    ),
    "VAELoader": Mapping("diffusion.load_vae", ("vae_name",), params={"vae_name": "name"}, convert=_vae,
                         outputs=("vae",), base_id="vae"),
    "CLIPLoader": Mapping(
        "diffusion.load_text_encoder", ("clip_name", "type", "device"), params={"clip_name": "name"}, convert=_clip,
        outputs=("clip",), base_id="text_encoder",
    ),
    "DualCLIPLoader": Mapping(
        "diffusion.load_text_encoder", ("clip_name1", "clip_name2", "type", "device"),
        params={"clip_name1": "name", "clip_name2": "name2"}, convert=_dual_clip, outputs=("clip",),
        base_id="text_encoder",
    ),
    "TripleCLIPLoader": Mapping(
        "diffusion.load_text_encoder", ("clip_name1", "clip_name2", "clip_name3"),
        params={"clip_name1": "name", "clip_name2": "name2", "clip_name3": "name3"}, convert=_triple_clip,
        outputs=("clip",), base_id="text_encoder",
    ),
    "LoraLoaderModelOnly": Mapping(
        "diffusion.lora_denoiser", ("lora_name", "strength_model"), params={"lora_name": "path",
                                                                            "strength_model": "strength"},
        convert=_lora_model_only, inputs=_MODEL_IN, outputs=("model",), base_id="lora",
    ),
    "EmptySD3LatentImage": Mapping(
        "diffusion.empty_latent", ("width", "height", "batch_size"),
        params={"width": "width", "height": "height", "batch_size": "batch"}, convert=_empty_sd3,
        outputs=("latent",), base_id="empty_latent",
    ),
    "EmptyHunyuanLatentVideo": Mapping(
        "diffusion.empty_video_latent", ("width", "height", "length", "batch_size"),
        params={"width": "width", "height": "height", "length": "length", "batch_size": "batch"},
        outputs=("latent",), base_id="empty_latent",
    ),
    "WanImageToVideo": Mapping(
        "diffusion.wan_image_to_video", ("width", "height", "length", "batch_size"),
        params={"width": "width", "height": "height", "length": "length", "batch_size": "batch"},
        inputs={"positive": "positive", "negative": "negative", "vae": "vae", "start_image": "start_image",
                "clip_vision_output": "clip_vision_output"},
        outputs=("positive", "negative", "latent"), base_id="wan_image_to_video",
    ),
    "CLIPVisionLoader": Mapping("diffusion.load_clip_vision", ("clip_name",), params={"clip_name": "name"},
                                convert=_clip_vision, outputs=("clip_vision",), base_id="clip_vision"),
    "CLIPVisionEncode": Mapping("diffusion.clip_vision_encode", ("crop",), params={"crop": "crop"},
                                inputs={"clip_vision": "clip_vision", "image": "image"},
                                outputs=("clip_vision_output",), base_id="clip_vision_encode"),
    "Wan22ImageToVideoLatent": Mapping(
        "diffusion.wan22_image_to_video_latent", ("width", "height", "length", "batch_size"),
        params={"width": "width", "height": "height", "length": "length", "batch_size": "batch"},
        inputs={"vae": "vae", "start_image": "start_image"}, outputs=("latent",), base_id="wan_image_to_video",
    ),
    "ImageOnlyCheckpointLoader": Mapping(
        "diffusion.load_image_only_checkpoint", ("ckpt_name",), params={"ckpt_name": "source"},
        convert=_image_only_checkpoint, outputs=("model", "clip_vision", "vae"), base_id="checkpoint",
    ),
    "unCLIPCheckpointLoader": Mapping(
        "diffusion.load_unclip_checkpoint", ("ckpt_name",), params={"ckpt_name": "source"},
        convert=_image_only_checkpoint, outputs=("model", "clip", "vae", "clip_vision"), base_id="checkpoint",
    ),
    "unCLIPConditioning": Mapping(
        "diffusion.unclip_conditioning", ("strength", "noise_augmentation"),
        params={"strength": "strength", "noise_augmentation": "noise_augmentation"},
        inputs={"conditioning": "conditioning", "clip_vision_output": "clip_vision_output"},
        outputs=("conditioning",), base_id="unclip",
    ),
    "SVD_img2vid_Conditioning": Mapping(
        "diffusion.svd_conditioning", ("width", "height", "video_frames", "motion_bucket_id", "fps", "augmentation_level"),
        params={"width": "width", "height": "height", "video_frames": "frames", "motion_bucket_id": "motion", "fps": "fps",
                "augmentation_level": "augmentation"},
        inputs={"clip_vision": "clip_vision", "init_image": "init_image", "vae": "vae"},
        outputs=("positive", "negative", "latent"), base_id="svd_conditioning",
        caveat="the augmentation noise is drawn from the node's seed (0 unless set), not at random",
    ),
    "VideoLinearCFGGuidance": Mapping(
        "diffusion.video_linear_cfg", ("min_cfg",), params={"min_cfg": "min_cfg"}, inputs=_MODEL_IN,
        outputs=("model",), base_id="video_cfg",
    ),
    "ModelSamplingSD3": Mapping("diffusion.model_sampling", ("shift",), params={"shift": "shift"},
                                convert=_shift("sd3"), inputs=_MODEL_IN, outputs=("model",), base_id="model_sampling"),
    "ModelSamplingAuraFlow": Mapping("diffusion.model_sampling", ("shift",), params={"shift": "shift"},
                                     convert=_shift("auraflow"), inputs=_MODEL_IN, outputs=("model",),
                                     base_id="model_sampling"),
    "ModelSamplingFlux": Mapping(
        "diffusion.model_sampling", ("max_shift", "base_shift", "width", "height"),
        params={"max_shift": "max_shift", "base_shift": "base_shift", "width": "width", "height": "height"},
        convert=_flux_shift, inputs=_MODEL_IN,
        outputs=("model",), base_id="model_sampling",
    ),
    "ModelSamplingDiscrete": Mapping(
        "diffusion.model_sampling", ("sampling", "zsnr"), params={"sampling": "prediction"}, convert=_discrete,
        inputs=_MODEL_IN, outputs=("model",), base_id="model_sampling",
    ),
    "ControlNetLoader": Mapping(
        "diffusion.load_controlnet", ("control_net_name",), params={"control_net_name": "name"},
        convert=lambda v, note: {"name": _file(v.get("control_net_name"))}, outputs=("control_net",),
        base_id="controlnet",
    ),
    "ControlNetApply": Mapping(
        "diffusion.apply_controlnet", ("strength",), params={"strength": "strength"}, convert=_controlnet_apply,
        inputs={"conditioning": "positive", "control_net": "control_net", "image": "image"}, outputs=("positive",),
        base_id="apply_controlnet",
    ),
    "ControlNetApplyAdvanced": Mapping(
        "diffusion.apply_controlnet", ("strength", "start_percent", "end_percent"),
        params={"strength": "strength", "start_percent": "start", "end_percent": "end"}, convert=_controlnet_apply,
        inputs={"positive": "positive", "negative": "negative", "control_net": "control_net", "image": "image"},
        outputs=("positive", "negative"), base_id="apply_controlnet",
    ),
    # SD3.5's and Flux's ControlNets read the hint through a VAE: ours through the checkpoint's own
    "ControlNetApplySD3": Mapping(
        "diffusion.apply_controlnet", ("strength", "start_percent", "end_percent"),
        params={"strength": "strength", "start_percent": "start", "end_percent": "end"}, convert=_controlnet_apply,
        inputs={"positive": "positive", "negative": "negative", "control_net": "control_net", "image": "image"},
        outputs=("positive", "negative"), base_id="apply_controlnet",
        caveat="the hint is encoded by the model's own VAE, not a linked one",
    ),
    "FluxGuidance": Mapping(
        "diffusion.flux_guidance", ("guidance",), params={"guidance": "guidance"},
        convert=lambda v, note: {"guidance": float(v["guidance"])} if "guidance" in v else {},
        inputs={"conditioning": "conditioning"}, outputs=("conditioning",), base_id="flux_guidance",
    ),
}
