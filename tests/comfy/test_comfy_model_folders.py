"""The models a ComfyUI user already has: a ComfyUI models folder (named by --comfy-models,
NODEFLOW_COMFY_MODELS or ComfyUI's extra_model_paths.yaml) is searched by model lookups, listed by the
pickers and found by validation of an imported workflow; names saved on Windows resolve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nodeflow.app.editor.pickers import local_models
from nodeflow.comfy_folders import ComfyFolderError, comfy_kind_folders
from nodeflow.models import find_local_model
from nodeflow.settings import Settings
from tests.comfy.comfy_workflows import text_to_image
from tests.engine_support import nodeflow_cli


def tiny_safetensors(path: Path) -> Path:
    """A real (one-number) safetensors file."""
    import numpy as np
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"w": np.zeros(1, dtype=np.float32)}, str(path))
    return path


@pytest.fixture
def comfy(tmp_path: Path) -> Path:
    """A ComfyUI folder laid out as ComfyUI lays it out, with tiny files in its model folders."""
    root = tmp_path / "ComfyUI"
    for name in ("checkpoints/v1-5-pruned-emaonly.safetensors", "loras/sub/style.safetensors", "vae/ae.safetensors",
                 "text_encoders/t5xxl_fp16.safetensors", "clip/clip_l.safetensors", "diffusion_models/flux1-dev.safetensors",
                 "unet/wan2.1.safetensors", "controlnet/canny.safetensors", "upscale_models/4x.safetensors",
                 "embeddings/easynegative.safetensors", "clip_vision/clip_vision_h.safetensors"):
        tiny_safetensors(root / "models" / name)
    return root


def settings_for(tmp_path: Path, *comfy_models: Path) -> Settings:
    return Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[], allow_cwd_inputs=False,
                    comfy_models=list(comfy_models))


def test_windows_separators_in_a_model_name_resolve(tmp_path: Path):
    settings = settings_for(tmp_path)
    expected = tiny_safetensors(settings.models_dir / "sub" / "x.safetensors")
    assert find_local_model("sub\\x.safetensors", settings) == expected.resolve()
    assert find_local_model("sub/x.safetensors", settings) == expected.resolve()
    assert find_local_model("other\\x.safetensors", settings) is None


def test_every_kind_folder_of_a_comfyui_install_is_searched(tmp_path: Path, comfy: Path):
    for entry in (comfy, comfy / "models"):  # the ComfyUI folder or its models folder
        settings = settings_for(tmp_path, entry)
        assert {kind for kind, _ in comfy_kind_folders([entry])} == {
            "checkpoints", "loras", "vae", "text_encoders", "clip", "diffusion_models", "unet", "controlnet",
            "upscale_models", "embeddings", "clip_vision"}
        assert find_local_model("v1-5-pruned-emaonly.safetensors", settings) == (comfy / "models/checkpoints/v1-5-pruned-emaonly.safetensors").resolve()
        assert find_local_model("sub\\style.safetensors", settings) == (comfy / "models/loras/sub/style.safetensors").resolve()
        assert find_local_model("clip_l.safetensors", settings) is not None
        assert find_local_model("wan2.1.safetensors", settings) is not None
        assert find_local_model("clip_vision_h.safetensors", settings) is not None  # CLIPVisionLoader's
    assert find_local_model("ae.safetensors", settings_for(tmp_path)) is None  # not without the setting


def test_extra_model_paths_yaml_adds_folders_and_pickers_list_them(tmp_path: Path, comfy: Path):
    elsewhere = tmp_path / "a1111"
    tiny_safetensors(elsewhere / "models" / "Stable-diffusion" / "dreamshaper.safetensors")
    tiny_safetensors(elsewhere / "models" / "Lora" / "detail.safetensors")
    tiny_safetensors(elsewhere / "models" / "LyCORIS" / "loha.safetensors")
    (comfy / "extra_model_paths.yaml").write_text(
        "a111:\n"
        "    base_path: ../a1111/\n"
        "    checkpoints: models/Stable-diffusion\n"
        "    loras: |\n"
        "        models/Lora\n"
        "        models/LyCORIS\n"
        "    hypernetworks: models/hypernetworks\n"
    )
    settings = settings_for(tmp_path, comfy)
    assert find_local_model("dreamshaper.safetensors", settings) is not None
    assert find_local_model("loha.safetensors", settings) is not None
    listed = {(m["name"], m["kind"], m["where"]) for m in local_models(settings)}
    assert ("dreamshaper.safetensors", "diffusion", "ComfyUI checkpoints") in listed
    assert ("sub/style.safetensors", "lora", "ComfyUI loras") in listed
    assert ("loha.safetensors", "lora", "ComfyUI loras") in listed
    assert ("ae.safetensors", "vae", "ComfyUI vae") in listed
    # under the kind the upscaler node's picker asks for (they were listed as another kind, so it showed none)
    upscaler_picker = {m["name"] for m in local_models(settings, "upscale")}
    assert upscaler_picker == {"4x.safetensors"}
    assert {m["name"] for m in local_models(settings, "lora")} >= {"sub/style.safetensors", "detail.safetensors"}
    # the yaml file itself may be named instead of the folder
    only_yaml = settings_for(tmp_path, comfy / "extra_model_paths.yaml")
    assert find_local_model("detail.safetensors", only_yaml) is not None
    assert find_local_model("v1-5-pruned-emaonly.safetensors", only_yaml) is None


@pytest.mark.parametrize("text, message", [
    ("a: [1, 2", "is not valid YAML"),
    ("!!python/object/apply:os.system ['echo hi']\n", "is not valid YAML"),  # safe_load runs no tags
    ("- one\n- two\n", "must map section names to folders"),
    ("comfyui:\n  checkpoints: [a, b]\n", "comfyui.checkpoints must be a folder"),
])
def test_a_malformed_extra_model_paths_yaml_is_named_in_the_error(tmp_path: Path, text: str, message: str):
    path = tmp_path / "extra_model_paths.yaml"
    path.write_text(text)
    with pytest.raises(ComfyFolderError, match=message) as caught:
        comfy_kind_folders([path])
    assert str(path) in str(caught.value)


def test_an_imported_workflow_validates_against_the_comfyui_models(tmp_path: Path, comfy: Path):
    workflow = text_to_image()
    workflow.add(20, "LoraLoader", ["sub\\style.safetensors", 0.8, 0.6], pos=(200, 300))
    workflow.link(4, 0, 20, "model").link(4, 1, 20, "clip")
    source = tmp_path / "wf.json"
    source.write_text(json.dumps(workflow.to_json()))
    env = {"NODEFLOW_HOME": str(tmp_path / "home"), "NODEFLOW_COMFY_MODELS": ""}
    done = nodeflow_cli("import", str(source), "-o", str(tmp_path / "g.json"), env=env)
    assert done.returncode == 0 and "use a ComfyUI install's models with --comfy-models" in done.stderr
    done = nodeflow_cli("--comfy-models", str(comfy), "import", str(source), "-o", str(tmp_path / "g.json"), env=env)
    assert f"model file: lora.path = 'sub\\\\style.safetensors' (found: {(comfy / 'models' / 'loras' / 'sub' / 'style.safetensors').resolve()})" in done.stderr
    alone = nodeflow_cli("validate", str(tmp_path / "g.json"), env=env)
    assert "'v1-5-pruned-emaonly.safetensors' was not found" in alone.stderr
    assert "LoRA 'sub\\\\style.safetensors' was not found" in alone.stderr
    for how in (["--comfy-models", str(comfy)], []):
        with_comfy = nodeflow_cli(*how, "validate", str(tmp_path / "g.json"),
                                  env={**env, "NODEFLOW_COMFY_MODELS": "" if how else str(comfy / "models")})
        assert "was not found" not in with_comfy.stderr, with_comfy.stderr
        # what is left is the next step: a single-file checkpoint needs its architecture's configs offline
        assert "v1-5-pruned-emaonly.safetensors is a single-file checkpoint" in with_comfy.stderr
