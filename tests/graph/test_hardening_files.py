"""Hostile graph files and folders: folder walks do not follow links out of the input folders,
and malformed graph files give `NODE: message` with exit 2, never a traceback. Real files, real
symlinks, the real command line."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image as PILImage

from nodeflow.problems import GraphInvalid
from tests.engine_support import REPO, nodeflow_cli, run

SECRET = "the secret outside every input folder"


def _outside(tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "secret.md").write_text(SECRET)
    PILImage.new("RGB", (8, 8), "red").save(elsewhere / "red.png")
    return elsewhere


def test_text_folder_leaves_out_links_to_files_outside(executor, settings, tmp_path, tmp_path_factory):
    elsewhere = _outside(tmp_path_factory)
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "notes.md").write_text("inside")
    (folder / "passwd.md").symlink_to(elsewhere / "secret.md")
    (folder / "linked").symlink_to(elsewhere, target_is_directory=True)
    (folder / "alias.md").symlink_to(folder / "notes.md")  # a link that stays inside is fine
    result, log = run(executor, {"text": {"type": "data.text_file", "params": {"path": "sub"}}}, only=["text"])
    assert result.status == "ok", result.error
    assert SECRET not in json.dumps(log, default=str)
    assert result.outputs["text"]["corpus"].text == "inside\n\ninside"


def test_a_folder_holding_only_a_link_outside_reads_nothing(executor, tmp_path, tmp_path_factory):
    elsewhere = _outside(tmp_path_factory)
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "passwd.md").symlink_to(elsewhere / "secret.md")
    result, log = run(executor, {"text": {"type": "data.text_file", "params": {"path": "only"}}}, only=["text"])
    assert result.status == "error" and "no text files" in result.error.message
    assert SECRET not in json.dumps(log, default=str)
    # naming the link directly is refused, saying why (by validation, or by the node when it runs)
    try:
        result, _ = run(executor, {"text": {"type": "data.text_file", "params": {"path": "only/passwd.md"}}}, only=["text"])
        message = result.error.message
    except GraphInvalid as invalid:
        message = str(invalid)
    assert "only/passwd.md is a link that leads outside the allowed folders" in message


def test_image_folder_leaves_out_links_to_images_outside(executor, tmp_path, tmp_path_factory):
    elsewhere = _outside(tmp_path_factory)
    folder = tmp_path / "pics"
    folder.mkdir()
    PILImage.new("RGB", (8, 8), "blue").save(folder / "blue.png")
    (folder / "red.png").symlink_to(elsewhere / "red.png")
    result, _ = run(executor, {"pics": {"type": "data.image_folder", "params": {"path": "pics", "size": 8}}}, only=["pics"])
    assert result.status == "ok", result.error
    pixels = result.outputs["pics"]["dataset"].pixels
    assert pixels.shape[0] == 1 and np.allclose(pixels[0, 2], pixels[0, 2].max())  # only the blue one


def _hello():
    return json.loads((REPO / "graphs" / "hello_image.json").read_text())


def _cli_run(tmp_path, text: str):
    graph = tmp_path / "graph.json"
    graph.write_text(text)
    return nodeflow_cli("run", str(graph), env={"NODEFLOW_HOME": str(tmp_path / "home"), "NODEFLOW_OUTPUT": str(tmp_path / "out")})


def test_cli_lone_surrogate_is_a_problem_on_the_param(tmp_path):
    graph = _hello()
    graph["nodes"]["caption"]["params"]["text"] = "\ud800"
    done = _cli_run(tmp_path, json.dumps(graph))  # json.dumps writes the \ud800 escape, as a fuzzer would
    assert done.returncode == 2, done.stderr
    assert "caption (core.text): 'text': holds text with a lone surrogate" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_meta_nested_990_deep_is_refused_before_running(tmp_path):
    graph = _hello()
    text = json.dumps(graph).replace('"meta": {', '"meta": {"deep": ' + "[" * 990 + "]" * 990 + ", ", 1)
    done = _cli_run(tmp_path, text)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("graph: ") and "nested" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_cli_a_5000_digit_integer_is_a_problem(tmp_path):
    text = json.dumps(_hello()).replace('"seed": 7', '"seed": ' + "7" * 5000)
    done = _cli_run(tmp_path, text)
    assert done.returncode == 2, done.stderr
    assert "graph: " in done.stderr and "4300 digits" in done.stderr and "Traceback" not in done.stderr
    validated = nodeflow_cli("validate", str(tmp_path / "graph.json"))
    assert validated.returncode == 2 and "Traceback" not in validated.stderr
