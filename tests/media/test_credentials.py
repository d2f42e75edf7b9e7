"""C2PA content credentials: signed by output nodes, verified (valid, tampered, missing) by `nodeflow info`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from nodeflow.delivery import read_provenance
from nodeflow.delivery.inspect import inspect_artifact
from nodeflow.nodetypes.registry import Registry
from nodeflow.record.listeners import HistoryListener
from nodeflow.run.executor import Executor
from tests.media.media_helpers import SYNTH, frames_nodes, graph_of, nodeflow_cli, run_ok

pytest.importorskip("c2pa")
PACKS = Path(__file__).resolve().parent / "packs"
IMAGE = {"type": "image.new", "params": {"width": 64, "height": 48, "fill": "noise", "seed": 3}}


def signed(executor, filename: str, **params):
    if filename.endswith((".wav", ".flac")):
        nodes = {"tone": SYNTH, "save": {"type": "output.audio", "inputs": {"audio": ["tone", "audio"]}}}
    elif filename.endswith((".mp4", ".gif")):
        nodes = {**frames_nodes(2), "film": {"type": "video.encode", "inputs": {"frames": ["frames", "frames"]},
                                             "params": {"format": filename.rsplit(".", 1)[1]}},
                 "save": {"type": "output.video", "inputs": {"video": ["film", "video"]}}}
    else:
        nodes = {"pic": IMAGE, "save": {"type": "image.save", "inputs": {"image": ["pic", "image"]}}}
    nodes["save"]["params"] = {"filename": filename, "credentials": True, **params}
    return run_ok(executor, nodes).outputs["save"]["path"]


@pytest.mark.parametrize("filename", ["a.png", "a.jpg", "a.webp", "a.gif", "a.mp4", "a.wav", "a.flac"])
def test_every_format_with_credentials_verifies_and_keeps_its_provenance(executor, settings, filename):
    path = signed(executor, filename)
    info = inspect_artifact(path, home=settings.home)
    assert info.credentials["status"] == "valid" and info.credentials["trusted"], info.credentials
    # made by no model (a synthesised tone, drawn frames, a gradient): algorithmic, not a model's work
    assert info.credentials["digital_source_type"].endswith("/algorithmicMedia")
    assert info.provenance["artifact"]["name"] == filename  # provenance survives the signing


def test_nodeflow_info_shows_valid_tampered_and_missing(executor, settings, tmp_path):
    for filename in ("a.png", "a.jpg", "a.mp4"):
        path = signed(executor, filename)
        done = nodeflow_cli("info", str(path), home=settings.home, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        line = next(x for x in done.stdout.splitlines() if x.startswith("credentials:"))
        assert line.startswith("credentials: valid, signed by nodeflow content credentials;"), line
        assert "; algorithmicMedia;" in line
        as_json = json.loads(nodeflow_cli("info", str(path), "--json", home=settings.home, cwd=tmp_path).stdout)
        assert as_json["checks"]["credentials"]["status"] == "valid" and as_json["artifact"]["name"] == filename

        data = bytearray(path.read_bytes())
        # a byte of the picture (or of the video stream): inside IDAT, the JPEG scan, the mdat box.
        # The JPEG start-of-scan is the last FF DA (the scan byte-stuffs every FF); the first one can
        # be a chance pair of bytes inside the signed manifest, which sits before the scan.
        marker = {"a.png": b"IDAT", "a.jpg": b"\xff\xda", "a.mp4": b"mdat"}[filename]
        at = data.rindex(marker) if filename == "a.jpg" else data.index(marker)
        data[at + 40] ^= 0x01
        tampered = tmp_path / f"tampered-{filename}"
        tampered.write_bytes(bytes(data))
        done = nodeflow_cli("info", str(tampered), home=settings.home, cwd=tmp_path)
        assert "credentials: TAMPERED: the content or its manifest changed after signing" in done.stdout, (
            filename, done.stdout, done.stderr)

    unsigned = run_ok(executor, {"pic": IMAGE, "save": {"type": "image.save", "inputs": {"image": ["pic", "image"]},
                                                        "params": {"filename": "plain.png"}}}).outputs["save"]["path"]
    done = nodeflow_cli("info", str(unsigned), home=settings.home, cwd=tmp_path)
    assert done.returncode == 0 and "credentials: missing: no C2PA manifest" in done.stdout


def test_the_manifest_names_models_inputs_and_guards_passed(settings, history, inputs):
    registry = Registry().load_all(extra_folders=[PACKS])
    executor = Executor(registry, settings, listeners=[HistoryListener(history)])
    models = settings.models_dir
    models.mkdir(parents=True, exist_ok=True)
    (models / "weights.safetensors").write_bytes(b"not really weights")
    nodes = {
        "model": {"type": "deliverytest.load", "params": {"source": "weights.safetensors"}},
        "pic": IMAGE,
        "draw": {"type": "deliverytest.tint", "inputs": {"image": ["pic", "image"], "model": ["model", "text"]}},
        "screen": {"type": "guard.deliverytest_pass", "inputs": {"image": ["draw", "image"]}, "params": {"action": "flag"}},
        "save": {"type": "image.save", "inputs": {"image": ["screen", "image"]},
                 "params": {"filename": "guarded.png", "credentials": True}},
    }
    result = executor.run(graph_of(nodes))
    assert result.ok, result.error and result.error.message
    path = result.outputs["save"]["path"]
    record = read_provenance(path)
    assert record["guards"] == [{"node": "screen", "type": "guard.deliverytest_pass", "action": "flag"}]
    assert record["models"]["model.source"]["name"] == "weights.safetensors" and record["models"]["model.source"]["sha256"]
    # built from the run's own plan and registry: the global registry has never heard of this pack
    assert record["nodes"]["model"] == {"type": "deliverytest.load", "version": 1, "pack": "deliverytest"}
    assert record["packs"]["deliverytest"].startswith("deliverytest.py, sha256 ")
    info = inspect_artifact(path, home=settings.home)
    generation = info.credentials["generation"]
    assert generation["guards"] == record["guards"]
    assert [m["name"] for m in generation["models"]] == ["weights.safetensors"]
    assert "models: weights.safetensors; guards passed: guard.deliverytest_pass" in info.credentials["summary"]


def test_the_manifest_says_what_each_guard_found_and_did_in_this_run(settings):
    registry = Registry().load_all(extra_folders=[PACKS])
    nodes = {
        "idea": {"type": "core.text", "params": {"text": "a portrait for jo@example.com"}},
        "privacy": {"type": "guard.personal_data", "inputs": {"text": ["idea", "text"]}, "params": {"action": "flag"}},
        "language": {"type": "guard.offensive_language", "inputs": {"text": ["privacy", "text"]}, "params": {"action": "flag"}},
        "pic": IMAGE,
        "draw": {"type": "deliverytest.tint", "inputs": {"image": ["pic", "image"], "model": ["language", "text"]}},
        "save": {"type": "image.save", "inputs": {"image": ["draw", "image"]},
                 "params": {"filename": "flagged.png", "credentials": True}},
    }
    for backend in ("sync", "local"):  # the node in this thread, and as a task on the pool
        result = Executor(registry, settings, backend=backend).run(graph_of(nodes))
        assert result.ok, result.error and result.error.message
        info = inspect_artifact(result.outputs["save"]["path"], home=settings.home)
        guards = {g["node"]: g for g in info.credentials["generation"]["guards"]}
        assert guards["privacy"]["outcome"] == "flag" and guards["privacy"]["found"] == ["email"]
        assert guards["language"]["outcome"] == "pass" and "found" not in guards["language"]
        assert "jo@example.com" not in json.dumps(info.credentials)  # what was found is named, never copied
        assert "guard.personal_data (flagged: email x1)" in info.credentials["summary"]
        nodes["save"]["params"]["filename"] = "flagged-again.png"


def test_formats_without_credentials_say_so(executor):
    nodes = {"words": {"type": "core.text", "params": {"text": "hi"}},
             "save": {"type": "output.audio", "inputs": {"audio": ["tone", "audio"]}, "params": {"filename": "a.ogg", "credentials": True}},
             "tone": SYNTH}
    result = executor.run(graph_of(nodes))
    assert not result.ok and "C2PA credentials cannot be attached to .ogg files" in result.error.message


def test_a_users_own_certificate_is_used(executor, settings, tmp_path, monkeypatch):
    from nodeflow.delivery.signing import _make_local_bundle

    bundle = tmp_path / "mine" / "signer.pem"
    _make_local_bundle(bundle)
    text = bundle.read_bytes()
    key_at = text.index(b"-----BEGIN PRIVATE KEY-----")
    (tmp_path / "chain.pem").write_bytes(text[:key_at])
    (tmp_path / "key.pem").write_bytes(text[key_at:])
    monkeypatch.setenv("NODEFLOW_C2PA_CERT", str(tmp_path / "chain.pem"))
    monkeypatch.setenv("NODEFLOW_C2PA_KEY", str(tmp_path / "key.pem"))
    path = signed(executor, "mine.png")
    assert not (settings.home / "credentials").exists()  # nothing made in the data folder
    info = inspect_artifact(path, home=settings.home)
    assert info.credentials["status"] == "valid" and not info.credentials["trusted"]
    monkeypatch.setenv("NODEFLOW_C2PA_TRUST", str(tmp_path / "chain.pem"))
    assert inspect_artifact(path, home=settings.home).credentials["trusted"]


@pytest.mark.parametrize("filename", ["a.png", "a.jpg", "a.webp", "a.gif", "a.mp4", "a.wav", "a.flac"])
def test_signed_artifacts_reproduce_as_the_same_content(executor, settings, tmp_path, filename):
    from nodeflow.record.reproduce import reproduce
    from nodeflow.settings import Settings

    original = signed(executor, filename)
    out = tmp_path / "again"
    fresh = Executor(executor.registry, Settings(home=settings.home, output_dir=out, extra_input_dirs=settings.extra_input_dirs,
                                                 allow_cwd_inputs=False))
    report = reproduce(original, out, executor=fresh)
    assert report.verdict == "same content", report.lines()
    assert any("signed again" in line for line in report.lines())
    assert inspect_artifact(report.reproduced, home=settings.home).credentials["status"] == "valid"


@pytest.fixture(scope="module")
def signed_files(tmp_path_factory):
    """A signed PNG, JPEG and WAV, made by the signing code alone (no graph)."""
    from PIL import Image

    from nodeflow.delivery.credentials import sign_file
    from nodeflow.settings import Settings

    folder = tmp_path_factory.mktemp("signed")
    settings = Settings(home=folder / "home", output_dir=folder)
    record = {"nodeflow_provenance": 1, "artifact": {"name": "x"}, "models": {}, "inputs": {}, "guards": []}
    found = {}
    for fmt, mime, suffix in (("PNG", "image/png", ".png"), ("JPEG", "image/jpeg", ".jpg")):
        path = folder / f"x{suffix}"
        Image.effect_noise((64, 64), 40).convert("RGB").save(path, format=fmt)
        sign_file(path, mime, record, settings)
        found[mime] = path.read_bytes()
    return found, settings.home


@hyp_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mime=st.sampled_from(["image/png", "image/jpeg"]), edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_damaged_signed_files_verify_as_a_status_never_a_crash(signed_files, mime, edits, cut):
    from nodeflow.delivery.credentials import verify_bytes

    files, home = signed_files
    data = bytearray(files[mime])
    for where, value in edits:
        data[min(int(where * len(data)), len(data) - 1)] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    assert verify_bytes(bytes(data), mime, home)["status"] in ("valid", "tampered", "missing", "unreadable")
