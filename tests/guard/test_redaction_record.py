"""Redaction reaches the record: text with an e-mail address and a phone number passes a redacting
personal-data guard to a text file and to a picture with credentials. Neither the sidecar, nor the
PNG's embedded record, nor its C2PA manifest holds the original; they say what was removed (kinds and
counts); ``nodeflow reproduce`` says which input it cannot reproduce. And credentials say what made
the pixels: a gradient with a caption is ``algorithmicMedia``, not a model's work."""

from __future__ import annotations

import json
from pathlib import Path

from nodeflow.delivery import read_provenance
from tests.guard.governance_support import SECRET, cli, graph_file

PHONE = "+44 20 7946 0958"
TEXT = f"Write to {SECRET} or call {PHONE} today"
NODES = {
    "note": {"type": "core.text", "params": {"text": TEXT}},
    "screen": {"type": "guard.personal_data", "params": {"action": "redact"}, "inputs": {"text": ["note", "text"]}},
    "out": {"type": "output.text", "params": {"filename": "guarded.txt"}, "inputs": {"text": ["screen", "text"]}},
    "canvas": {"type": "image.new", "params": {"width": 256, "height": 256}},
    "caption": {"type": "image.text", "inputs": {"image": ["canvas", "image"], "text": ["screen", "text"]},
                "params": {"size": 12}},
    "save": {"type": "image.save", "params": {"filename": "guarded.png", "credentials": True, "watermark": "none"},
             "inputs": {"image": ["caption", "image"]}},
}


def everything_written(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_the_record_keeps_kinds_and_counts_never_the_text(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    path = graph_file(tmp_path / "g", "redact", NODES)
    done = cli(["run", str(path), "--out", str(out)], home)
    assert done.returncode == 0, done.stderr
    assert (out / "guarded.txt").read_text() == "Write to [EMAIL] or call [PHONE] today"
    written = everything_written(out)
    for secret in (SECRET, PHONE, "jane.doe"):
        assert secret.encode() not in written, f"{secret} is in the output folder"
    embedded = json.dumps(read_provenance(out / "guarded.png"))  # the PNG's own chunk (maybe compressed)
    assert SECRET not in embedded and PHONE not in embedded and "[redacted: sha256 " in embedded
    record = json.loads((out / "guarded.txt.provenance.json").read_text())
    assert record["redacted"] == [{"param": "note.text", "by": ["screen"], "removed": {"email": 1, "phone": 1}}]
    assert record["params"]["note"]["text"].startswith("[redacted: sha256 ")
    assert record["graph"]["nodes"]["note"]["params"]["text"] == record["params"]["note"]["text"]
    guard = next(g for g in record["guards"] if g["node"] == "screen")
    assert guard["outcome"] == "redact" and guard["counts"] == {"email": 1, "phone": 1}

    # info on the picture: the same outcome as its manifest, and an honest source type
    done = cli(["info", str(out / "guarded.png"), "--json"], home)
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout and PHONE not in done.stdout
    shown = json.loads(done.stdout)
    assert shown["source"] == "algorithmicMedia"
    credentials = json.dumps(shown["checks"]["credentials"])
    assert "algorithmicMedia" in credentials and "trainedAlgorithmicMedia" not in credentials
    text = cli(["info", str(out / "guarded.png")], home).stdout
    assert "guard.personal_data (redacted: email x1, phone x1)" in text, text
    assert " passed" not in text.split("guard:", 1)[1].splitlines()[0]


def test_reproduce_says_what_it_cannot_reproduce(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    path = graph_file(tmp_path / "g", "redact", NODES)
    assert cli(["run", str(path), "--out", str(out)], home).returncode == 0
    done = cli(["reproduce", str(out / "guarded.txt"), "--out", str(tmp_path / "again"), "--yes"], home)
    assert "cannot reproduce note.text: removed by screen (email x1, phone x1)" in done.stdout, done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert done.returncode == 1
