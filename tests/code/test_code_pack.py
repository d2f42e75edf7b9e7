"""The code pack on good and broken code: syntax check, ruff, summary, saving with provenance. The code
is never run: a snippet that would leave a file behind if executed leaves none."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from nodeflow import SourceCode, extract_code
from nodeflow.graph.model import parse_graph

GOOD = '''def grade(score):
    """Letter grade of a score."""
    if score >= 90:
        return "A"
    elif score >= 80 and score < 90:
        return "B"
    for _ in range(3):
        pass
    return "C"
'''
BROKEN = "def grade(score):\n    if score >= 90\n        return 'A'\n"
UNUSED = "import os\nimport sys\n\nprint(sys.argv)\n"


def run_code(executor, text: str, *nodes: str, language: str = "python", **params):
    graph = {"nodeflow": 1, "nodes": {
        "text": {"type": "core.text", "params": {"text": text}},
        "code": {"type": "code.from_text", "params": {"language": language}, "inputs": {"text": ["text", "text"]}},
    }}
    for name in nodes:
        graph["nodes"][name] = {"type": f"code.{name}", "params": params.get(name, {}), "inputs": {"code": ["code", "code"]}}
    return executor.run(parse_graph(graph), only=list(nodes) or ["code"])


def test_fenced_blocks_are_extracted_tagged_language_first():
    reply = "Here:\n```js\nconsole.log(1)\n```\nand\n```python\nprint(1)\n```\nthat's it"
    assert extract_code(reply, "python") == SourceCode("print(1)\n", "python")
    assert extract_code(reply).language == "javascript"  # the first block, tag resolved
    assert extract_code("```py\nx = 1\ny = 2", "").text == "x = 1\ny = 2\n"  # a reply cut off mid-block
    assert extract_code("x = 1", "Python") == SourceCode("x = 1\n", "python")


def test_syntax_check_passes_good_code_and_names_the_line_of_broken_code(executor):
    good = run_code(executor, GOOD, "check_python")
    assert good.ok and good.outputs["check_python"]["ok"] is True
    broken = run_code(executor, BROKEN, "check_python")
    assert broken.ok  # a report, not a failure, unless asked
    report = broken.outputs["check_python"]["report"]
    assert broken.outputs["check_python"]["ok"] is False and report["line"] == 2 and "line 2" in report["message"]
    failed = run_code(executor, BROKEN, "check_python", check_python={"fail": True})
    assert failed.status == "error" and failed.error.node == "check_python" and "line 2" in failed.error.message


def test_ruff_findings_show_with_their_lines(executor):
    dirty = run_code(executor, UNUSED, "lint", lint={"select": "F"})
    assert dirty.ok, dirty.error
    findings = dirty.outputs["lint"]["findings"]["findings"]
    assert dirty.outputs["lint"]["count"] == 1
    assert findings[0]["code"] == "F401" and findings[0]["line"] == 1 and "os" in findings[0]["message"]
    clean = run_code(executor, GOOD, "lint", lint={"select": "F,E"})
    assert clean.outputs["lint"]["count"] == 0
    broken = run_code(executor, BROKEN, "lint")
    assert broken.outputs["lint"]["count"] >= 1 and broken.outputs["lint"]["findings"]["findings"][0]["line"] == 2
    js = run_code(executor, "console.log(1)", "lint", language="javascript")
    assert js.status == "error" and "ruff lints Python" in js.error.message


def test_summary_counts_size_and_complexity(executor):
    result = run_code(executor, GOOD, "summary")
    facts = result.outputs["summary"]["summary"]
    assert facts["functions"] == 1 and facts["lines"] == 9 and facts["most_complex"] == "grade"
    assert facts["max_complexity"] == 5  # 1 + if + elif + and + for
    broken = run_code(executor, BROKEN, "summary").outputs["summary"]["summary"]
    assert broken["lines"] == 3 and "functions" not in broken


def test_saved_code_carries_its_provenance_in_a_header_comment(executor, settings):
    from nodes.code.save import read_code_provenance

    script = "#!/usr/bin/env python3\n" + GOOD
    result = run_code(executor, script, "save", save={"filename": "grader"})
    path = Path(result.outputs["save"]["path"])
    assert path.name == "grader.py" and path.parent == settings.output_dir.resolve()
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env python3\n# Generated with nodeflow")
    ast.parse(text)  # still valid Python
    record = read_code_provenance(text)
    assert record["artifact"]["kind"] == "code" and record["graph"]["nodes"]["save"]["type"] == "code.save"

    html = run_code(executor, "<p>-->*/ hi</p>", "save", language="html")
    saved = Path(html.outputs["save"]["path"]).read_text()
    assert saved.startswith("<!-- Generated") and saved.count("-->") == 3  # two header lines + the code's own
    assert read_code_provenance(saved)["graph"]["nodes"]["text"]["params"]["text"] == "<p>-->*/ hi</p>"


def test_nothing_runs_the_code(executor, tmp_path):
    marker = tmp_path / "ran.txt"
    payload = f"open({str(marker)!r}, 'w').write('ran')\nimport os\nos.system('touch {marker}')\n"
    result = run_code(executor, payload, "check_python", "lint", "summary", "save")
    assert result.ok, result.error
    assert not marker.exists()


@pytest.mark.parametrize("language, start", [("javascript", "// Generated"), ("sql", "-- Generated"), ("css", "/* Generated")])
def test_other_languages_get_their_own_comment_syntax(executor, language, start):
    result = run_code(executor, "x", "save", language=language)
    assert Path(result.outputs["save"]["path"]).read_text().startswith(start)
