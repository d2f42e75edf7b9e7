"""The policy as one governance model: content is generated when any path from a generator reaches
it; an output (or a node asked for with ``--only``) passes the rule only when every such path goes
through a running guard whose action the policy accepts. Each bypass the probe found is a case here,
through the real command line, the real executor and a real ``serve``/``app`` process."""

from __future__ import annotations

import json

import httpx
import pytest

from nodeflow.app.editor.live import free_port
from nodeflow.check.policy import parse_policy, problems_for
from nodeflow.graph.model import parse_graph
from nodeflow.problems import GraphInvalid
from tests.guard.governance_support import POLICY, SECRET, Server, cli, graph_file, guarded, writer


def refused(done, node: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert f"{node} (" in done.stderr and "policy" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_guarded_graph_runs_and_its_events_never_show_the_raw_text(tmp_path):
    path = graph_file(tmp_path / "g", "guarded", guarded(), POLICY)
    home = tmp_path / "home"
    done = cli(["run", str(path), "--policy", str(path.with_suffix(".policy.toml")), "--events", str(tmp_path / "ev.jsonl"),
                "--out", str(tmp_path / "out")], home)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "guarded.txt").read_text() == "write to [EMAIL] today"
    events = (tmp_path / "ev.jsonl").read_text()
    assert SECRET not in events + done.stdout + done.stderr
    finished = [json.loads(line) for line in events.splitlines() if '"node_finished"' in line]
    assert any(e["node"] == "writer" and "withheld" in e["outputs"]["text"] for e in finished)


def test_a_diamond_joining_the_raw_text_with_the_guarded_one_is_refused(tmp_path):
    nodes = guarded()
    nodes["join"] = {"type": "core.concat", "inputs": {"a": ["screen", "text"], "b": ["writer", "text"]}}
    nodes["out"]["inputs"]["text"] = ["join", "text"]
    path = graph_file(tmp_path, "diamond", nodes, POLICY)
    done = cli(["validate", str(path), "--policy", str(path.with_suffix(".policy.toml"))], tmp_path / "home")
    refused(done, "out")
    assert "after writer" in done.stderr


def test_two_generators_with_a_guard_on_only_one_is_refused(tmp_path):
    nodes = guarded()
    nodes["second"] = writer("call +44 20 7946 0958")
    nodes["join"] = {"type": "core.concat", "inputs": {"a": ["screen", "text"], "b": ["second", "text"]}}
    nodes["out"]["inputs"]["text"] = ["join", "text"]
    path = graph_file(tmp_path, "two", nodes, POLICY)
    done = cli(["run", str(path), "--policy", str(path.with_suffix(".policy.toml"))], tmp_path / "home")
    refused(done, "out")
    assert "after second" in done.stderr


def test_a_guard_that_only_flags_does_not_count_in_the_file_or_by_set(tmp_path):
    path = graph_file(tmp_path, "flag", guarded("flag"), POLICY)
    policy = str(path.with_suffix(".policy.toml"))
    done = cli(["run", str(path), "--policy", policy], tmp_path / "home")
    refused(done, "out")
    assert "screen does not count: its action is 'flag'" in done.stderr
    path = graph_file(tmp_path, "ok", guarded("redact"), POLICY)
    done = cli(["run", str(path), "--policy", policy, "--set", "screen.action=flag"], tmp_path / "home")
    refused(done, "out")
    done = cli(["run", str(path), "--policy", policy, "--sweep", "screen.action=redact,flag"], tmp_path / "home")
    refused(done, "out")
    # a policy may accept flagging explicitly
    lenient = tmp_path / "lenient.toml"
    lenient.write_text(POLICY + 'actions = ["block", "redact", "flag"]\n')
    done = cli(["validate", str(path), "--policy", str(lenient)], tmp_path / "home")
    assert done.returncode == 0, done.stderr


def test_only_may_not_ask_for_the_raw_generated_value(tmp_path):
    path = graph_file(tmp_path, "only", guarded(), POLICY)
    policy = str(path.with_suffix(".policy.toml"))
    done = cli(["run", str(path), "--policy", policy, "--only", "writer"], tmp_path / "home")
    refused(done, "writer")
    assert SECRET not in done.stdout + done.stderr
    done = cli(["run", str(path), "--policy", policy, "--only", "screen"], tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr and "[EMAIL]" in done.stdout


def test_a_preview_ticked_on_the_generator_shows_nothing(executor):
    nodes = guarded()
    nodes["writer"]["ui"] = {"preview": True}
    from nodeflow.events import EventLog

    log = EventLog()
    result = executor.prepare(parse_graph({"nodeflow": 1, "nodes": nodes}), policy=parse_policy(POLICY, "p.toml"))
    executor.run_plan(result, on_event=log)
    assert SECRET not in json.dumps(list(log), default=str)
    assert [e for e in log.of("preview") if e["node"] == "writer"] == []


def test_a_generator_inside_a_subgraph_is_followed_out_of_it(executor):
    definition = {"nodes": {"inner": writer()}, "outputs": {"text": ["inner", "text"]}}
    nodes = {"sub": {"type": "subgraph.maker"},
             "out": {"type": "output.text", "inputs": {"text": ["sub", "text"]}}}
    graph = parse_graph({"nodeflow": 1, "nodes": nodes, "definitions": {"maker": definition}})
    with pytest.raises(GraphInvalid, match="after sub/inner"):
        executor.prepare(graph, policy=parse_policy(POLICY, "p.toml"))


# --- step-level diffusion, imported workflows and exemptions (validation only: no weights here) -----

IMAGE_POLICY = parse_policy('[outputs]\nguards = ["nudity"]\n', "image.toml")


def policy_problems(registry, nodes):
    return [(p.node, p.message) for p in problems_for(parse_graph({"nodeflow": 1, "nodes": nodes}), registry, None, IMAGE_POLICY)]


STEPS = {
    "ckpt": {"type": "diffusion.load_checkpoint"},
    "pos": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}},
    "neg": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}},
    "empty": {"type": "diffusion.empty_latent"},
    "sample": {"type": "diffusion.sampler", "inputs": {"model": ["ckpt", "model"], "positive": ["pos", "conditioning"],
                                                       "negative": ["neg", "conditioning"], "latent": ["empty", "latent"]}},
    "decode": {"type": "diffusion.vae_decode", "inputs": {"vae": ["ckpt", "vae"], "latent": ["sample", "latent"]}},
    "save": {"type": "image.save", "inputs": {"image": ["decode", "image"]}},
}


def test_step_level_diffusion_is_generated_content(registry):
    found = policy_problems(registry, STEPS)
    assert [n for n, _ in found] == ["save"]
    assert "guard.nudity" in found[0][1]
    nodes = json.loads(json.dumps(STEPS))
    nodes["screen"] = {"type": "guard.nudity", "inputs": {"image": ["decode", "image"]}}
    nodes["save"]["inputs"]["image"] = ["screen", "image"]
    assert policy_problems(registry, nodes) == []


def test_an_imported_comfyui_workflow_needs_the_same_guard(registry, tmp_path):
    from nodeflow.comfy import import_file

    workflow = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "model.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
        "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 2, "cfg": 7, "sampler_name": "euler",
                                                   "scheduler": "normal", "denoise": 1, "model": ["4", 0],
                                                   "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": ["8", 0]}},
    }
    source = tmp_path / "api.json"
    source.write_text(json.dumps(workflow))
    graph, _ = import_file(source, registry)
    saves = [nid for nid, n in graph.nodes.items() if n.type == "image.save"]
    found = [p.node for p in problems_for(graph, registry, None, IMAGE_POLICY)]
    assert saves and found == saves


def test_exemption_skips_measurements_but_not_reports_of_generated_images(registry):
    t2i = {"pipe": {"type": "diffusion.load"}, "draw": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["pipe", "pipeline"]}}}
    with_images = {**t2i, "report": {"type": "evaluate.report", "inputs": {"images": ["draw", "image"]}}}
    assert [n for n, _ in policy_problems(registry, with_images)] == ["report"]
    text_policy = parse_policy('[outputs]\nguards = ["personal_data"]\n', "t.toml")
    words = {
        "llm": {"type": "llm.load"},
        "writer": {"type": "llm.generate", "inputs": {"model": ["llm", "model"]}},
        "scores": {"type": "evaluate.text_metrics", "inputs": {"text": ["writer", "text"]}},
        "report": {"type": "evaluate.report", "inputs": {"metrics": ["scores", "report"]}},
    }
    graph = parse_graph({"nodeflow": 1, "nodes": words})
    assert problems_for(graph, registry, None, text_policy) == []  # numbers about the text, not the text


# --- one check for every door: serve (named and inline) and app ------------------------------------


def test_serve_applies_the_graphs_policy_to_the_same_graph_sent_inline(tmp_path):
    folder = tmp_path / "graphs"
    nodes = guarded()
    nodes["join"] = {"type": "core.concat", "inputs": {"a": ["screen", "text"], "b": ["writer", "text"]}}
    nodes["out"]["inputs"]["text"] = ["join", "text"]
    graph_file(folder, "diamond", nodes, POLICY)
    ok_path = graph_file(folder, "fine", guarded(), POLICY)
    with Server(["serve", "--graphs", str(folder)], tmp_path / "home", free_port()) as server:
        named = httpx.post(server.url + "/v1/runs", json={"graph_name": "diamond.json"}, timeout=30)
        inline = httpx.post(server.url + "/v1/runs", json={"graph": {"nodeflow": 1, "nodes": nodes}}, timeout=30)
        only = httpx.post(server.url + "/v1/runs", json={"graph_name": "fine.json", "only": ["writer"]}, timeout=30)
        only_inline = httpx.post(server.url + "/v1/runs",
                                 json={"graph": json.loads(ok_path.read_text()), "only": ["writer"]}, timeout=30)
        fine = httpx.post(server.url + "/v1/runs", json={"graph_name": "fine.json"}, timeout=30)
    assert named.status_code == 422 and "policy" in named.text, named.text
    assert inline.status_code == 422 and "policy" in inline.text, inline.text
    assert only.status_code == 422 and only_inline.status_code == 422, (only.text, only_inline.text)
    assert SECRET not in named.text + inline.text + only.text + only_inline.text
    assert fine.status_code == 202, fine.text


def test_app_obeys_the_policy_beside_its_graph(tmp_path):
    nodes = guarded()
    nodes["join"] = {"type": "core.concat", "inputs": {"a": ["screen", "text"], "b": ["writer", "text"]}}
    nodes["out"]["inputs"]["text"] = ["join", "text"]
    path = graph_file(tmp_path / "g", "diamond", nodes, POLICY)
    done = cli(["app", str(path), "--port", str(free_port())], tmp_path / "home", timeout=240)
    refused(done, "out")
    assert "cannot publish" in done.stderr
