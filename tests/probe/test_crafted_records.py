"""The probe's crafted artifacts, re-run: PNGs whose embedded provenance someone wrote by hand (null,
no graph, a huge sweep, a sweep to 1e400, reads of the working folder or /etc/passwd, a file name that
leaves the output folder, a template reaching for the environment, a subgraph bomb) go through
`nodeflow info`, `nodeflow reproduce --yes` (real processes, peak memory measured) and the editor's
`/api/import` and `/api/provenance`. Nothing answers with a traceback or a 5xx, reproduce runs none of
the hostile graphs, and nothing is read or written outside the allowed folders."""

from __future__ import annotations

import base64
import os

import pytest

from tests.probe.cases import CRAFTED_RECORDS, JSON, RSS_LIMIT_MB, bad_answer, crafted_png, measure_all

RUNS = {"null", "a list", "no graph", "graph not an object"}  # nothing to run: a one-line refusal


@pytest.fixture(scope="module")
def crafted_runs(tmp_path_factory):
    """`info` and `reproduce --yes` of every crafted record, each its own process, four at a time, from
    a working folder holding a secret: name -> (working folder, info found, reproduce found)."""
    folder = tmp_path_factory.mktemp("crafted")
    jobs, places = {}, {}
    for index, name in enumerate(CRAFTED_RECORDS):
        place = folder / str(index)
        work = place / "work"
        work.mkdir(parents=True)
        (work / "secret.png").write_bytes(b"not for you")
        artifact = crafted_png(name, place)
        env = {**os.environ, "NODEFLOW_HOME": str(place / "home"), "NODEFLOW_OUTPUT": str(place / "out")}
        jobs[f"info {name}"] = (["info", str(artifact)], env, work)
        jobs[f"reproduce {name}"] = (["reproduce", str(artifact), "--out", str(work / "r"), "--yes"], env, work)
        places[name] = place
    found = measure_all(jobs)
    return {name: (places[name], found[f"info {name}"], found[f"reproduce {name}"]) for name in CRAFTED_RECORDS}


@pytest.mark.parametrize("name", list(CRAFTED_RECORDS))
def test_info_and_reproduce_refuse_a_crafted_record_cleanly(crafted_runs, name):
    place, info, reproduced = crafted_runs[name]
    work = place / "work"
    assert info["code"] in (0, 1, 2) and "Traceback" not in info["stderr"], info
    assert reproduced["code"] in (1, 2), reproduced  # refused: nothing hostile runs
    assert "Traceback" not in reproduced["stderr"], reproduced["stderr"]
    if name not in RUNS:
        assert len(reproduced["stderr"].strip().splitlines()) <= 12, reproduced["stderr"]
    assert reproduced["rss_mb"] < RSS_LIMIT_MB and info["rss_mb"] < RSS_LIMIT_MB, (info, reproduced)
    written = [p for p in (work / "r").rglob("*") if p.is_file()] if (work / "r").exists() else []
    assert written == [], written
    assert not list(place.rglob("escaped.png"))


@pytest.mark.parametrize("name", list(CRAFTED_RECORDS))
def test_the_editor_reads_a_crafted_record_without_a_5xx(servers, tmp_path, name):
    editor = servers["editor"]
    data = crafted_png(name, tmp_path).read_bytes()
    status, text = editor.request("POST", "/api/provenance?name=x.png", data, {"Content-Type": "image/png"})
    assert bad_answer(status, text) is None, (status, text[:300])
    body = b'{"name": "x.png", "base64": "' + base64.b64encode(data) + b'"}'
    status, text = editor.request("POST", "/api/import", body, JSON)
    assert bad_answer(status, text) is None and status in (200, 400), (status, text[:300])
