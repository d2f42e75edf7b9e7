"""``nodeflow app``: a graph published as a Gradio form, driven through the real gradio_client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.app.serve.serve_support import GRAPHS, REPO, ServerProcess, run_cli

HELLO = REPO / "graphs" / "hello_image.json"
HELLO_INPUTS = "caption.text,noise.seed,blend.alpha"


@pytest.fixture(scope="module")
def hello_app(tmp_path_factory):
    home = tmp_path_factory.mktemp("hello-app")
    with ServerProcess(["app", str(HELLO), "--inputs", HELLO_INPUTS], home) as server:
        yield server


@pytest.fixture(scope="module")
def greeting_app(tmp_path_factory):
    home = tmp_path_factory.mktemp("greeting-app")
    with ServerProcess(["app", str(GRAPHS / "greeting.json")], home) as server:
        yield server


def test_hello_image_answers_gradio_client_with_the_image(hello_app, tmp_path):
    from gradio_client import Client

    client = Client(hello_app.url + "/", verbose=False, download_files=str(tmp_path))
    first = Path(client.predict("first caption", 3, 0.5, api_name="/run"))
    second = Path(client.predict("second caption", 4, 0.5, api_name="/run"))
    with Image.open(first) as a, Image.open(second) as b:
        assert a.size == (256, 256) and b.size == (256, 256)
        assert a.tobytes() != b.tobytes()  # the form's values reached the graph
    # the returned PNG is the artifact itself, with the graph as run inside it
    info = run_cli(["info", str(first), "--json"], tmp_path)
    assert info.returncode == 0, info.stderr
    record = json.loads(info.stdout)
    assert record["graph"]["nodes"]["caption"]["params"]["text"] == "first caption"
    assert record["graph"]["nodes"]["noise"]["params"]["seed"] == 3


def test_the_api_lists_one_run_endpoint_with_the_published_inputs_in_order(hello_app):
    from gradio_client import Client

    api = Client(hello_app.url + "/", verbose=False).view_api(return_format="dict", print_info=False)
    run = api["named_endpoints"]["/run"]
    assert [p["label"] for p in run["parameters"]] == ["Caption · text", "Noise · seed", "Blend · alpha"]
    assert [p["parameter_name"] for p in run["parameters"]] == ["caption_text", "noise_seed", "blend_alpha"]
    assert len(run["returns"]) == 1


def test_text_graph_uses_its_published_inputs_and_returns_the_text(greeting_app):
    from gradio_client import Client

    client = Client(greeting_app.url + "/", verbose=False)
    assert client.predict("Ada", "Hi {a}.", api_name="/run") == "Hi Ada."
    assert client.predict("Grace", "Hello, {a}!", api_name="/run") == "Hello, Grace!"


def test_a_value_out_of_range_is_refused_with_the_node_named(hello_app):
    from gradio_client import Client

    client = Client(hello_app.url + "/", verbose=False)
    with pytest.raises(Exception) as failed:
        client.predict("x", 3, 7.5, api_name="/run")  # blend.alpha is at most 1
    assert "blend" in str(failed.value) or "maximum" in str(failed.value)
    assert Path(client.predict("after", 3, 0.25, api_name="/run")).is_file()  # still serving


@pytest.mark.parametrize("inputs, named", [("caption.nope", "nope"), ("bogus.x", "bogus"), ("caption", "NODE.PARAM")])
def test_bad_inputs_exit_2_naming_the_problem(tmp_path, inputs, named):
    done = run_cli(["app", str(HELLO), "--inputs", inputs], tmp_path)
    assert done.returncode == 2
    assert named in done.stderr
    assert "Traceback" not in done.stderr


def test_old_files_without_published_inputs_load_unchanged(tmp_path):
    from nodeflow.graph.model import dumps_graph, load_graph

    graph = load_graph(HELLO)
    assert graph.published == [] and not graph.load_problems
    assert "published" not in json.loads(dumps_graph(graph))
    marked = load_graph(GRAPHS / "greeting.json")
    assert json.loads(dumps_graph(marked))["published"] == ["name.text", {"label": "Template", "param": "greet.template"}]


def test_validate_reports_a_published_input_that_names_no_param(tmp_path):
    data = json.loads((GRAPHS / "greeting.json").read_text())
    data["published"] = ["name.text", "greet.nothing"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    done = run_cli(["validate", str(path)], tmp_path)
    assert done.returncode == 2
    assert "greet" in done.stderr and "nothing" in done.stderr


def test_an_image_param_is_an_upload_field(tmp_path):
    from gradio_client import Client, handle_file

    picture = tmp_path / "in.png"
    Image.new("RGB", (40, 30), "#ff0000").save(picture)
    with ServerProcess(["app", str(GRAPHS / "blur_upload.json")], tmp_path / "home") as app:
        client = Client(app.url + "/", verbose=False, download_files=str(tmp_path / "got"))
        api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/run"]
        assert api["parameters"][0]["component"] == "Image"
        result = Path(client.predict(handle_file(str(picture)), 1.0, api_name="/run"))
    with Image.open(result) as blurred:
        assert blurred.size == (40, 30)
        assert blurred.getpixel((20, 15))[0] > 200  # still the red picture that was sent
