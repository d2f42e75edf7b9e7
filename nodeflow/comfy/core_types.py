"""Names of ComfyUI's own node classes (its core nodes), so the coverage report can tell a workflow that uses
only them from one that needs custom nodes. Gathered from ComfyUI's examples and workflow templates; a node
that carries ``properties.cnr_id == "comfy-core"`` counts as core even when it is not listed here."""

from __future__ import annotations

__all__ = ["CORE_TYPES"]

CORE_TYPES = frozenset({
    "AlignYourStepsScheduler", "BasicGuider", "BasicScheduler", "BetaSamplingScheduler", "CFGGuider", "CFGNorm",
    "CLIPLoader", "CLIPMergeAdd", "CLIPMergeSubtract", "CLIPSave", "CLIPSetLastLayer", "CLIPTextEncode",
    "CLIPTextEncodeFlux", "CLIPTextEncodeHunyuanDiT", "CLIPTextEncodeSD3", "CLIPTextEncodeSDXL",
    "CLIPTextEncodeSDXLRefiner", "CLIPVisionEncode", "CLIPVisionLoader", "Canny", "CaseConverter",
    "CheckpointLoaderSimple", "CheckpointSave", "ComfyMathExpression", "ComfySwitchNode", "ConditioningAverage",
    "ConditioningCombine", "ConditioningConcat", "ConditioningSetArea", "ConditioningSetAreaPercentage",
    "ConditioningSetMask", "ConditioningSetTimestepRange", "ConditioningZeroOut", "ControlNetApply",
    "ControlNetApplyAdvanced", "ControlNetApplySD3", "ControlNetInpaintingAliMamaApply", "ControlNetLoader",
    "CosmosImageToVideoLatent", "CosmosPredict2ImageToVideoLatent", "CreateVideo", "CropMask",
    "DiffControlNetLoader", "DifferentialDiffusion", "DisableNoise", "DualCFGGuider", "DualCLIPLoader",
    "EmptyAceStepLatentAudio", "EmptyCosmosLatentVideo", "EmptyFlux2LatentImage", "EmptyHunyuanLatentVideo",
    "EmptyImage", "EmptyLTXVLatentVideo", "EmptyLatentImage", "EmptyMochiLatentVideo", "EmptySD3LatentImage",
    "ExponentialScheduler", "FeatherMask", "FlipSigmas", "Flux2Scheduler", "FluxGuidance", "FluxKontextImageScale",
    "FreSca", "FreeU", "FreeU_V2", "GLIGENLoader", "GLIGENTextBoxApply", "GetImageSize", "GetVideoComponents",
    "GrowMask", "HunyuanImageToVideo", "HypernetworkLoader", "ImageAddNoise", "ImageBatch", "ImageBlend",
    "ImageBlur", "ImageCompositeMasked", "ImageCrop", "ImageFlip", "ImageFromBatch", "ImageInvert",
    "ImageOnlyCheckpointLoader", "ImagePadForOutpaint", "ImageRotate", "ImageScale", "ImageScaleBy",
    "ImageScaleToTotalPixels", "ImageSharpen", "ImageStitch", "ImageToMask", "ImageUpscaleWithModel",
    "InpaintModelConditioning", "InstructPixToPixConditioning", "InvertMask", "JoinImageWithAlpha", "KSampler",
    "KSamplerAdvanced", "KSamplerSelect", "KarrasScheduler", "LTXVAddGuide", "LTXVConditioning", "LTXVCropGuides",
    "LTXVImgToVideo", "LTXVPreprocess", "LTXVScheduler", "LatentAdd", "LatentBatchSeedBehavior", "LatentBlend",
    "LatentComposite", "LatentCrop", "LatentFlip", "LatentFromBatch", "LatentInterpolate", "LatentMultiply",
    "LatentRotate", "LatentSubtract", "LatentUpscale", "LatentUpscaleBy", "Load3D", "LoadAudio", "LoadImage",
    "LoadImageMask", "LoadVideo", "LoraLoader", "LoraLoaderModelOnly", "LoraModelLoader", "MarkdownNote",
    "MaskToImage", "ModelMergeAdd", "ModelMergeBlocks", "ModelMergeSDXL", "ModelMergeSimple", "ModelMergeSubtract",
    "ModelSamplingAuraFlow", "ModelSamplingContinuousEDM", "ModelSamplingDiscrete", "ModelSamplingFlux",
    "ModelSamplingSD3", "ModelSamplingStableCascade", "ModelSave", "Note", "PatchModelAddDownscale",
    "PerpNegGuider", "PerturbedAttentionGuidance", "PolyexponentialScheduler", "PreviewAny", "PreviewAudio",
    "PreviewImage", "PrimitiveBoolean", "PrimitiveFloat", "PrimitiveInt", "PrimitiveNode", "PrimitiveString",
    "PrimitiveStringMultiline", "QuadrupleCLIPLoader", "RandomNoise", "ReferenceLatent", "RegexMatch",
    "RepeatLatentBatch", "Reroute", "RescaleCFG", "ResizeAndPadImage", "SDTurboScheduler",
    "SVD_img2vid_Conditioning", "SamplerCustom", "SamplerCustomAdvanced", "SamplerDPMPP_2M_SDE", "SamplerDPMPP_SDE",
    "SamplerEulerAncestral", "SamplerLMS", "SaveAnimatedPNG", "SaveAnimatedWEBP", "SaveAudio", "SaveGLB",
    "SaveImage", "SaveVideo", "SaveWEBM", "SelfAttentionGuidance", "SetFirstSigma", "SetUnionControlNetType",
    "SkipLayerGuidanceDiTSimple", "SolidMask", "SplitSigmas", "SplitSigmasDenoise",
    "StableCascade_EmptyLatentImage", "StableCascade_StageB_Conditioning", "StableCascade_StageC_VAEEncode",
    "StableZero123_Conditioning", "StringConcatenate", "StringLength", "StringReplace", "StringTrim",
    "StyleModelApply", "StyleModelLoader", "T5TokenizerOptions", "TextEncodeAceStepAudio",
    "TextEncodeHunyuanVideo_ImageToVideo", "TextEncodeQwenImageEdit", "TextEncodeQwenImageEditPlus",
    "ThresholdMask", "TrimVideoLatent", "TripleCLIPLoader", "UNETLoader", "UpscaleModelLoader",
    "VAEDecode", "VAEDecodeTiled", "VAEEncode", "VAEEncodeForInpaint", "VAEEncodeTiled", "VAELoader", "VAESave",
    "VPScheduler", "VideoLinearCFGGuidance", "Wan22FunControlToVideo", "Wan22ImageToVideoLatent",
    "WanCameraEmbedding", "WanCameraImageToVideo", "WanFirstLastFrameToVideo", "WanFunControlToVideo",
    "WanImageToVideo", "WanVaceToVideo", "unCLIPCheckpointLoader", "unCLIPConditioning",
})
