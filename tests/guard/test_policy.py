"""The policy: a TOML file that validation enforces before anything runs. Each rule refused by the
command line (exit 2, node named) and by the editor's HTTP routes; a listed licence is respected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nodeflow.check.licences import model_uses
from nodeflow.check.policy import PolicyError, parse_policy, problems_for
from nodeflow.graph.model import parse_graph
from nodeflow.nodetypes.registry import Registry

REPO = Path(__file__).resolve().parents[2]
PACKS = Path(__file__).parent / "packs"

# an LLM writes a text that is delivered: generated content
WRITTEN = {
    "llm": {"type": "llm.load"},
    "writer": {"type": "llm.generate", "inputs": {"model": ["llm", "model"]}},
    "deliver": {"type": "policytest.deliver", "inputs": {"text": ["writer", "text"]}},
}
GUARDED = {
    **WRITTEN,
    "screen": {"type": "guard.prompt", "inputs": {"prompt": ["writer", "text"]}},
    "deliver": {
        "type": "policytest.deliver",
        "params": {"credentials": True, "watermark": "dwtdct"},
        "inputs": {"text": ["screen", "text"]},
    },
}


@pytest.fixture(scope="module")
def test_registry() -> Registry:
    return Registry().load_all(extra_folders=[PACKS])


def graph(nodes):
    return parse_graph({"nodeflow": 1, "nodes": json.loads(json.dumps(nodes))})


def problems(nodes, policy_text, test_registry, settings=None):
    return [(p.node, p.port, p.message) for p in problems_for(graph(nodes), test_registry, settings, parse_policy(policy_text, "p.toml"))]


def test_malformed_policy_names_the_line():
    with pytest.raises(PolicyError, match=r"p.toml: line 3, column \d+"):
        parse_policy('[outputs]\nguards = ["prompt"]\ncredentials = = true\n', "p.toml")
    with pytest.raises(PolicyError, match=r"p.toml: line 4: unknown key models.licence "):
        parse_policy('[outputs]\nguards = ["prompt"]\n[models]\nlicence = ["mit"]\n', "p.toml")
    with pytest.raises(PolicyError, match=r"line 2: outputs.credentials must be true or false"):
        parse_policy('[outputs]\ncredentials = "yes"\n', "p.toml")
    with pytest.raises(PolicyError, match=r"line 1: unknown section 'output'"):
        parse_policy('[output]\nguards = []\n', "p.toml")


def test_generated_output_must_pass_the_listed_guards(test_registry):
    policy = '[outputs]\nguards = ["prompt"]\n'
    found = problems(WRITTEN, policy, test_registry)
    assert [(n, p) for n, p, _ in found] == [("deliver", None)]
    assert "without passing a guard.prompt guard after writer" in found[0][2]
    assert problems(GUARDED, policy, test_registry) == []

    bypassed = json.loads(json.dumps(GUARDED))
    bypassed["screen"]["mode"] = "bypass"
    assert problems(bypassed, policy, test_registry)[0][0] == "deliver"
    # a guard on something no generator made does not count
    before = {
        "idea": {"type": "core.text"},
        "screen": {"type": "guard.prompt", "inputs": {"prompt": ["idea", "text"]}},
        "llm": {"type": "llm.load"},
        "writer": {"type": "llm.generate", "inputs": {"model": ["llm", "model"], "prompt": ["screen", "text"]}},
        "deliver": {"type": "policytest.deliver", "inputs": {"text": ["writer", "text"]}},
    }
    assert problems(before, policy, test_registry)[0][0] == "deliver"
    # outputs of content no generator made are not checked
    plain = {"t": {"type": "core.text"}, "deliver": {"type": "policytest.deliver", "inputs": {"text": ["t", "text"]}}}
    assert problems(plain, policy, test_registry) == []


def test_outputs_must_carry_credentials_and_a_watermark(test_registry):
    found = problems(WRITTEN, "[outputs]\ncredentials = true\nwatermark = true\n", test_registry)
    assert [(n, p) for n, p, _ in found] == [("deliver", "credentials"), ("deliver", "watermark")]
    assert problems(GUARDED, "[outputs]\ncredentials = true\nwatermark = true\n", test_registry) == []
    only_rivagan = problems(GUARDED, '[outputs]\nwatermark = ["rivagan"]\n', test_registry)
    assert only_rivagan[0][1] == "watermark" and "one of rivagan" in only_rivagan[0][2]


def test_output_nodes_without_those_params_are_tolerated(test_registry):
    nodes = {**WRITTEN, "deliver": {"type": "output.text", "inputs": {"text": ["writer", "text"]}}}
    spec = test_registry.get("output.text")
    expected = 1 if "credentials" in spec.params else 0  # delivery adds the param to output nodes
    assert len(problems(nodes, "[outputs]\ncredentials = true\n", test_registry)) == expected


def test_denied_node_types(test_registry):
    found = problems(GUARDED, '[nodes]\ndeny = ["llm.gen*"]\n', test_registry)
    assert found == [("writer", None, "policy (p.toml): node type llm.generate is not allowed")]


def test_bundled_models_licence_is_read_from_the_model_files(test_registry, settings):
    uses = {u.node: u for u in model_uses(graph(GUARDED), test_registry, settings)}
    assert uses["llm"].source == "bundled"
    assert uses["llm"].licence == "apache-2.0"  # the GGUF's general.license
    assert uses["llm"].path.endswith(".gguf")


def test_a_policy_that_lists_a_licence_is_respected(test_registry, settings):
    assert problems(GUARDED, '[models]\nlicences = ["Apache-2.0", "mit"]\n', test_registry, settings) == []
    refused = problems(GUARDED, '[models]\nlicences = ["mit"]\n', test_registry, settings)
    assert refused == [
        ("llm", "source", ("policy (p.toml): model 'SmolLM2-135M-Instruct' (bundled, licence apache-2.0) is not "
                           "allowed; allowed: licences mit"))
    ]


def test_model_sources_and_a_local_models_card(test_registry, settings):
    folder = settings.models_dir / "my-llm"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "README.md").write_text("---\nlicense: cc-by-nc-4.0\nlanguage: en\n---\n# My model\n")
    nodes = json.loads(json.dumps(GUARDED))
    nodes["llm"]["params"] = {"source": "my-llm"}
    nodes["emb"] = {"type": "embed.load"}  # the bundled MiniLM: apache-2.0 in its model card
    found = problems(nodes, '[models]\nsources = ["bundled"]\nlicences = ["apache-2.0"]\n', test_registry, settings)
    assert [(n, p) for n, p, _ in found] == [("llm", "source")]
    assert "(local, licence cc-by-nc-4.0)" in found[0][2]
    assert problems(nodes, '[models]\nsources = ["bundled", "local"]\n', test_registry, settings) == []
    hub = json.loads(json.dumps(GUARDED))
    hub["llm"]["params"] = {"source": "SomeOrg/some-model"}
    assert problems(hub, '[models]\nsources = ["hub:HuggingFaceTB/*"]\n', test_registry, settings)[0][0] == "llm"
    assert problems(hub, '[models]\nsources = ["hub:SomeOrg/*"]\n', test_registry, settings) == []


def _cli(*args, home: Path, **env):
    full = {**os.environ, "NODEFLOW_PACKS": str(PACKS), "NODEFLOW_HOME": str(home), **env}
    full.pop("NODEFLOW_POLICY", None)
    return subprocess.run([sys.executable, "-m", "nodeflow.cli.main", *args], capture_output=True, text=True, check=False,
                          env=full, cwd=REPO, timeout=300)


def test_command_line_refuses_with_exit_2_and_names_the_node(tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"nodeflow": 1, "nodes": WRITTEN}))
    policy = tmp_path / "strict.toml"
    policy.write_text('[outputs]\nguards = ["prompt"]\ncredentials = true\n\n[nodes]\ndeny = ["llm.load"]\n')
    home = tmp_path / "home"
    assert _cli("validate", str(path), home=home).returncode == 0  # no policy in force

    checked = _cli("validate", str(path), "--policy", str(policy), home=home)
    assert checked.returncode == 2
    assert "deliver (policytest.deliver): policy" in checked.stderr and "guard.prompt" in checked.stderr
    assert "deliver (policytest.deliver): 'credentials': policy" in checked.stderr
    assert "llm (llm.load): policy" in checked.stderr and "Traceback" not in checked.stderr

    ran = _cli("run", str(path), "--policy", str(policy), home=home)
    assert ran.returncode == 2 and "llm (llm.load): policy" in ran.stderr

    home.mkdir(exist_ok=True)
    (home / "policy.toml").write_text(policy.read_text())  # the data folder's policy applies by itself
    assert _cli("run", str(path), home=home).returncode == 2

    (home / "policy.toml").write_text("[outputs]\nguards = [\"prompt\"\n")
    broken = _cli("validate", str(path), home=home)
    assert broken.returncode == 2 and "policy.toml: line 2: Unclosed array" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_editor_routes_refuse_a_graph_that_breaks_the_policy(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from nodeflow.app import build_app
    from nodeflow.settings import Settings

    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.skip("the editor bundle is not built")
    policy = tmp_path / "policy.toml"
    policy.write_text('[nodes]\ndeny = ["core.concat"]\n')
    monkeypatch.setenv("NODEFLOW_POLICY", str(policy))
    settings = Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[], allow_cwd_inputs=False)
    nodes = {
        "a": {"type": "core.text", "params": {"text": "hi"}},
        "join": {"type": "core.concat", "inputs": {"a": ["a", "text"]}},
        "show": {"type": "core.show_text", "inputs": {"text": ["join", "text"]}},
    }
    with TestClient(build_app(settings=settings, registry=Registry().load_all())) as client:
        refused = client.post("/api/run", json={"graph": {"nodeflow": 1, "nodes": nodes}})
        assert refused.status_code == 400
        assert refused.json()["problems"] == [
            {"node": "join", "type": "core.concat", "port": None,
             "message": f"policy ({policy}): node type core.concat is not allowed"}
        ]
        shown = client.post("/api/validate", json={"graph": {"nodeflow": 1, "nodes": nodes}}).json()["problems"]
        assert shown[0]["node"] == "join"


def test_serve_refuses_a_served_graph_that_breaks_its_attached_policy(tmp_path):
    from fastapi.testclient import TestClient

    from nodeflow.app.serve.server import build_serve_app
    from nodeflow.settings import Settings

    served = tmp_path / "graphs"
    served.mkdir()
    nodes = {
        "a": {"type": "core.text", "params": {"text": "hi"}},
        "join": {"type": "core.concat", "inputs": {"a": ["a", "text"]}},
        "show": {"type": "core.show_text", "inputs": {"text": ["join", "text"]}},
    }
    for name in ("strict", "free"):
        (served / f"{name}.json").write_text(json.dumps({"nodeflow": 1, "nodes": nodes}))
    (served / "strict.policy.toml").write_text('[nodes]\ndeny = ["core.concat"]\n')
    settings = Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[], allow_cwd_inputs=False)
    with TestClient(build_serve_app(settings=settings, registry=Registry().load_all(), graphs_dir=served, local_only=False)) as client:
        refused = client.post("/v1/runs", json={"graph_name": "strict.json"})
        assert refused.status_code == 422
        assert "join" in json.dumps(refused.json()) and "core.concat is not allowed" in json.dumps(refused.json())
        # the same graph without a policy of its own is queued; sent inline, it obeys every policy of the
        # graphs folder (else sending the JSON instead of the name would step around strict's policy)
        assert client.post("/v1/runs", json={"graph_name": "free.json"}).status_code == 202
        assert client.post("/v1/runs", json={"graph": {"nodeflow": 1, "nodes": nodes}}).status_code == 422
        assert client.post("/v1/runs", json={"graph_name": "strict.json"}).status_code == 422  # no cached plan skips it


def test_a_policy_written_into_the_data_folder_while_running_applies_to_the_next_run(tmp_path, monkeypatch):
    """A long-running server reuses plans of graphs it has seen; the data folder's policy file, edited
    (or added, or removed) meanwhile, still decides the next run of the same graph."""
    from nodeflow.run.executor import Executor, GraphInvalid
    from nodeflow.settings import Settings

    monkeypatch.delenv("NODEFLOW_POLICY", raising=False)
    settings = Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[], allow_cwd_inputs=False)
    executor = Executor(Registry().load_all(), settings)
    nodes = {"a": {"type": "core.text", "params": {"text": "hi"}},
             "join": {"type": "core.concat", "inputs": {"a": ["a", "text"]}}}
    assert executor.run(graph(nodes)).ok

    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / "policy.toml").write_text('[nodes]\ndeny = ["core.concat"]\n')
    with pytest.raises(GraphInvalid) as refused:
        executor.run(graph(nodes))
    assert [(p.node, "core.concat is not allowed" in p.message) for p in refused.value.problems] == [("join", True)]

    (settings.home / "policy.toml").unlink()
    assert executor.run(graph(nodes)).ok
