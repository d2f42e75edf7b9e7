"""Sweeps: one param takes several values and what depends on it is mapped over the items, with
per-item keys, outputs and provenance; collecting nodes; the CLI's --sweep; bad sweeps refused."""

from __future__ import annotations

import numpy as np
from PIL import Image

from nodeflow.check.validate import check_graph
from nodeflow.delivery import read_provenance
from tests.engine_support import graph_of, nodeflow_cli, run, write_graph

SUM = {
    "a": {"type": "test.number", "params": {"value": {"sweep": [1, 2, 3]}}},
    "b": {"type": "test.number", "params": {"value": {"sweep": [10, 20]}}},
    "sum": {"type": "test.add", "inputs": {"a": ["a", "value"], "b": ["b", "value"]}},
    "all": {"type": "core.gather", "inputs": {"values": ["sum", "value"]}},
}


def test_a_product_of_two_sweeps_maps_every_combination_in_item_order(executor):
    result, log = run(executor, SUM)
    assert result.ok
    assert result.outputs["all"]["json"] == [11, 21, 12, 22, 13, 23]
    items = sorted(e["item"] for e in log.of("node_finished") if e["node"] == "sum")
    assert items == list(range(6))
    started = log.of("run_started")[0]
    assert started["items"] == {"a": 3, "b": 2, "sum": 6} and "all" in started["nodes"]


def test_zipped_sweeps_advance_together(executor):
    nodes = {**SUM, "a": {"type": "test.number", "params": {"value": {"sweep": [1, 2], "zip": "pair"}}},
             "b": {"type": "test.number", "params": {"value": {"sweep": [10, 20], "zip": "pair"}}}}
    result, _ = run(executor, nodes)
    assert result.outputs["all"]["json"] == [11, 22]


def test_each_item_has_its_own_cache_key_so_changing_one_item_reruns_one(executor):
    first, _ = run(executor, SUM)
    nodes = {**SUM, "a": {"type": "test.number", "params": {"value": {"sweep": [1, 2, 5]}}}}
    second, log = run(executor, nodes)
    assert second.outputs["all"]["json"] == [11, 21, 12, 22, 15, 25]
    ran = sorted((e["node"], e.get("item")) for e in log.of("node_finished"))
    assert ran == [("a", 2), ("all", None), ("sum", 4), ("sum", 5)]


def test_a_sweep_from_a_file_of_lines(executor, settings, tmp_path):
    (tmp_path / "words.txt").write_text("red\n\ngreen\nblue\n")
    nodes = {
        "word": {"type": "core.text", "params": {"text": {"sweep": {"file": "words.txt"}}}},
        "all": {"type": "core.gather", "inputs": {"values": ["word", "text"]}},
    }
    result, _ = run(executor, nodes)
    assert result.outputs["all"]["json"] == ["red", "green", "blue"]


def test_a_list_made_by_an_upstream_node_is_mapped_over(executor):
    nodes = {
        "words": {"type": "core.text", "params": {"text": "red\ngreen\nblue"}},
        "lines": {"type": "core.lines", "inputs": {"text": ["words", "text"]}},
        "say": {"type": "core.template",
                "params": {"template": "a {a} cube", "a": {"sweep": {"each": ["lines", "json"]}}}},
        "all": {"type": "core.gather", "inputs": {"values": ["say", "text"]}},
    }
    result, log = run(executor, nodes)
    assert result.outputs["all"]["json"] == ["a red cube", "a green cube", "a blue cube"]
    assert log.of("run_started")[0]["items"] == {"say": 3}
    nodes["words"]["params"]["text"] = "red\npink\nblue"  # one list item changes: one item re-runs
    again, log = run(executor, nodes)
    assert again.outputs["all"]["json"] == ["a red cube", "a pink cube", "a blue cube"]
    assert sorted((e["node"], e.get("item")) for e in log.of("node_finished")) == [("all", None), ("say", 1)]


def test_a_contact_sheet_collects_labelled_images(executor):
    nodes = {
        "img": {"type": "image.new", "params": {"width": 32, "height": 32, "fill": "noise",
                                                "seed": {"sweep": {"from": 1, "to": 4}}}},
        "sheet": {"type": "image.contact_sheet", "inputs": {"images": ["img", "image"]},
                  "params": {"columns": 2, "cell": 32}},
        "frames": {"type": "video.gather_frames", "inputs": {"images": ["img", "image"]}},
    }
    result, _ = run(executor, nodes, only=["sheet", "frames"])
    sheet = result.outputs["sheet"]["image"]
    assert sheet.size == (64, 2 * (32 + 18))
    frames = result.outputs["frames"]["frames"]
    assert len(frames) == 4 and not np.array_equal(np.asarray(frames[0]), np.asarray(frames[1]))
    assert np.array_equal(np.asarray(sheet)[:32, :32], np.asarray(frames[0].convert("RGB")))


def test_a_list_input_fed_by_one_image_gets_a_list_of_one(executor):
    # a contact sheet on an image that is not swept: validation passed, the node saw a bare Image
    nodes = {
        "img": {"type": "image.new", "params": {"width": 32, "height": 32}},
        "sheet": {"type": "image.contact_sheet", "inputs": {"images": ["img", "image"]}, "params": {"cell": 32}},
    }
    result, _ = run(executor, nodes, only=["sheet"])
    assert result.ok, result.error
    assert result.outputs["sheet"]["image"].size == (32, 32)


def test_an_output_filename_leaving_the_output_folder_is_a_problem_in_every_sweep_value(registry, settings):
    def problems(filename):
        nodes = {"img": {"type": "image.new", "params": {"width": 8, "height": 8}},
                 "save": {"type": "image.save", "inputs": {"image": ["img", "image"]}, "params": {"filename": filename}}}
        return [(p.node, p.port) for p in check_graph(graph_of(nodes), registry, settings) if "output folder" in p.message]

    assert problems("../escape.png") == [("save", "filename")]
    assert problems("/tmp/escape.png") == [("save", "filename")]
    assert problems({"sweep": ["fine.png", "sub/../../escape.png"]}) == [("save", "filename")]
    assert problems("sub/fine..png") == []


def test_bad_sweeps_are_validation_errors_on_the_right_node(registry, settings, tmp_path):
    def problems(nodes):
        return [(p.node, p.port, p.message) for p in check_graph(graph_of(nodes), registry, settings)]

    empty = problems({"n": {"type": "test.number", "params": {"value": {"sweep": []}}}})
    assert empty == [("n", "value", "empty sweep: give it at least one value")]
    missing = problems({"n": {"type": "core.text", "params": {"text": {"sweep": {"file": "nope.txt"}}}}})
    assert missing[0][:2] == ("n", "text") and "sweep file 'nope.txt' not found" in missing[0][2]
    bare = problems({"n": {"type": "test.number", "params": {"value": [1, 2]}}})
    assert bare[0][:2] == ("n", "value") and '{"sweep": [1, 2]}' in bare[0][2]
    wrong = problems({"n": {"type": "test.add", "params": {"value": {"sweep": [1, 5000]}}, "inputs": {}}})
    assert any(p[:2] == ("n", "value") and "sweep value 2" in p[2] for p in wrong)
    not_a_list = problems({"n": {"type": "test.number", "params": {"value": 1}},
                           "t": {"type": "core.template", "params": {"a": {"sweep": {"each": ["n", "value"]}}}}})
    assert not_a_list == [("t", "a", '"each": n.value gives Int, not a list')]
    unequal = problems({"a": {"type": "test.number", "params": {"value": {"sweep": [1, 2], "zip": "z"}}},
                        "b": {"type": "test.number", "params": {"value": {"sweep": [1, 2, 3], "zip": "z"}}}})
    assert unequal[0][0] == "b" and "b.value has 3 values but a.value has 2" in unequal[0][2]


def test_the_command_line_sweeps_and_refuses_bad_sweeps_with_exit_2(tmp_path):
    graph = write_graph(tmp_path / "g.json", {
        "a": {"type": "test.number", "params": {"value": 1}},
        "b": {"type": "test.number", "params": {"value": 1}},
        "sum": {"type": "test.add", "inputs": {"a": ["a", "value"], "b": ["b", "value"]}},
        "out": {"type": "test.write", "inputs": {"x": ["sum", "value"]}, "params": {"name": "sum.txt"}},
    })
    (tmp_path / "values.txt").write_text("100\n200\n")
    env = {"NODEFLOW_HOME": str(tmp_path / "home")}
    done = nodeflow_cli("run", str(graph), "--sweep", "a.value=1,2", "--sweep", "b.value=@values.txt",
                        "--out", str(tmp_path / "out"), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = sorted((p.name, p.read_text().strip()) for p in (tmp_path / "out").iterdir())
    assert written == [("sum-0.txt", "101"), ("sum-1.txt", "201"), ("sum-2.txt", "102"), ("sum-3.txt", "202")]
    zipped = nodeflow_cli("run", str(graph), "--zip", "--sweep", "a.value=1,2", "--sweep", "b.value=@values.txt",
                          "--out", str(tmp_path / "zip"), env=env, cwd=tmp_path)
    assert zipped.returncode == 0, zipped.stderr
    assert sorted(p.read_text().strip() for p in (tmp_path / "zip").iterdir()) == ["101", "202"]
    for args, says in [
        (["--sweep", "a.value=@missing.txt"], "a (test.number): 'value': sweep file 'missing.txt' not found"),
        (["--zip", "--sweep", "a.value=1,2,3", "--sweep", "b.value=1,2"], "has 2 values but a.value has 3"),
        (["--sweep", "a.value=1,x"], "a (test.number): 'value': --sweep:"),
        (["--sweep", "nobody.value=1"], "no node 'nobody'"),
        (["--sweep", "a.valeu=1,2"], "a (test.number): 'valeu': --sweep: no param 'valeu' (did you mean 'value'?)"),
        (["--sweep", "aa.value=1,2"], "--sweep 'aa.value=1,2': no node 'aa' (did you mean 'a'?)"),
    ]:
        bad = nodeflow_cli("run", str(graph), *args, "--out", str(tmp_path / "bad"), env=env, cwd=tmp_path)
        assert bad.returncode == 2, (args, bad.stderr)
        assert says in bad.stderr and "Traceback" not in bad.stderr
        assert not (tmp_path / "bad").exists()


def test_each_item_artifact_records_its_item_and_reproduces_alone(tmp_path):
    graph = write_graph(tmp_path / "g.json", {
        "img": {"type": "image.new", "params": {"width": 24, "height": 24, "fill": "noise",
                                                "seed": {"sweep": [3, 4, 5]}}},
        "save": {"type": "image.save", "inputs": {"image": ["img", "image"]}, "params": {"filename": "n.png"}},
    })
    env = {"NODEFLOW_HOME": str(tmp_path / "home")}
    made = nodeflow_cli("run", str(graph), "--out", "first", env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    files = sorted((tmp_path / "first").glob("n-*.png"))
    assert [f.name for f in files] == ["n-0.png", "n-1.png", "n-2.png"]
    record = read_provenance(files[1])
    assert record["artifact"]["item"] == 1
    assert record["graph"]["nodes"]["img"]["params"]["seed"] == 4  # the item's value, not the sweep
    again = nodeflow_cli("reproduce", "first/n-1.png", "--out", "second", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert [p.name for p in (tmp_path / "second").glob("*.png")] == ["n-1.png"]  # that item alone
    # the same picture (the record differs only in saying which item of a sweep it was)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "second" / "n-1.png")), np.asarray(Image.open(files[1])))
    assert not np.array_equal(np.asarray(Image.open(files[0])), np.asarray(Image.open(files[1])))


def test_a_blocked_item_stops_only_its_branch_and_the_sheet_gathers_the_others(executor):
    nodes = {
        "n": {"type": "test.number", "params": {"value": {"sweep": [1, 2, 3]}}},
        "check": {"type": "test.guard", "inputs": {"x": ["n", "value"]}, "params": {"refuse": 2}},
        "plus": {"type": "test.add", "inputs": {"a": ["check", "value"]}, "params": {"value": 100}},
        "all": {"type": "core.gather", "inputs": {"values": ["plus", "value"]}},
    }
    result, log = run(executor, nodes)
    assert result.status == "ok" and result.error is None and result.blocked == ["check[1]"]
    blocked = log.of("node_blocked")[0]
    assert blocked["item"] == 1 and "refused 2" in blocked["reason"]
    skipped = [(e["node"], e.get("item"), e["reason"]) for e in log.of("node_skipped")]
    assert skipped == [("plus", 1, "blocked by guard")]
    assert result.outputs["all"]["json"] == [101, 103]
