"""The Gradio page: the canvas (a ``gr.HTML`` whose ``js_on_load`` imports the bundled editor) and,
beside it, Gradio components listing the results of the last run with download buttons.

The canvas talks to the server over the JSON and server-sent-events routes of ``routes.py``; when a run
finishes it clicks the "Refresh results" button, whose Python handler fills the result components.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import gradio as gr

from nodeflow.app.runs import RunManager
from nodeflow.record.history import artifact_kind

__all__ = ["build_page", "PAGE_CSS"]

# Loads the editor module (served from /ui/, see server.py) and mounts React Flow in the element.
CANVAS_JS = """
const root = element.querySelector('[data-nf-root]') || element;
const refresh = (run) => { window.nfActiveRun = run || ''; const b = document.querySelector('#nf-refresh-results'); if (b) b.click(); };
import('/ui/editor.js?v=__VERSION__')
  .then((m) => m.mount(root, { refreshResults: refresh, version: '__VERSION__' }))
  .catch((err) => {
    root.innerHTML = '<div class="nf-fatal" data-testid="editor-load-error">The editor failed to load: '
      + String(err).replace(/</g, '&lt;') + '</div>';
  });
"""

CANVAS_TEMPLATE = '<div data-nf-root class="nf-host"></div>'

# Gradio's own styling stops at the canvas: the editor's CSS is scoped under .nf-app.
PAGE_CSS = """
html, body { height: 100%; margin: 0; }
.gradio-container { max-width: 100% !important; padding: 0 !important; margin: 0 !important; }
.gradio-container > .main, .gradio-container .wrap.main, .gradio-container main.contain { padding: 0 !important; }
footer { display: none !important; }
#nf-main { height: 100vh; gap: 0 !important; flex-wrap: nowrap !important; margin: 0 !important; }
#nf-canvas { flex: 1 1 auto !important; height: 100vh; padding: 0 !important; border: 0 !important; min-width: 0 !important; }
#nf-canvas .nf-host { height: 100vh; width: 100%; }
#nf-canvas .html-container { padding: 0 !important; height: 100vh; overflow: hidden; }
#nf-side { flex: 0 0 300px !important; max-width: 300px; height: 100vh; overflow-y: auto; padding: 10px !important;
           border-left: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
#nf-side h3 { margin: 4px 0 8px 0; }
#nf-refresh-results { display: none !important; }
#nf-side .nf-where { font-size: 12px; line-height: 1.4; word-break: break-all; }
#nf-side .nf-where a { display: block; }
.gradio-container .main, .gradio-container .wrap { padding: 0 !important; }
.nf-fatal { padding: 24px; color: #f66; font-family: system-ui, sans-serif; }
"""


def build_page(runs: RunManager, version: str, history: Any = None) -> gr.Blocks:
    with gr.Blocks(title="nodeflow", fill_height=True, fill_width=True) as page:
        with gr.Row(elem_id="nf-main", equal_height=True):
            gr.HTML(
                value="",
                html_template=CANVAS_TEMPLATE,
                js_on_load=CANVAS_JS.replace("__VERSION__", version),
                apply_default_css=False,
                container=False,
                padding=False,
                elem_id="nf-canvas",
                scale=5,
            )
            with gr.Column(elem_id="nf-side", scale=1, min_width=260):
                gr.Markdown("### Results", elem_id="nf-results-title")
                where = gr.Markdown(_where(runs, []), elem_id="nf-where", elem_classes=["nf-where"])
                # shown only when they hold something: empty Gradio placeholders would take half the panel
                gallery = gr.Gallery(label="Images", columns=2, height=220, object_fit="contain", elem_id="nf-gallery", visible=False)
                audio = gr.Audio(label="Audio", interactive=False, visible=False, elem_id="nf-audio")
                video = gr.Video(label="Video", interactive=False, visible=False, elem_id="nf-video")
                files = gr.File(label="Files", file_count="multiple", interactive=False, elem_id="nf-files", visible=False)
                run_id = gr.Textbox(visible=False, elem_id="nf-run-id")
                refresh = gr.Button("Refresh results", size="sm", elem_id="nf-refresh-results")
        outputs = [where, gallery, audio, video, files]
        # the results of the active tab's run (the canvas tells which), not of whatever ran last
        refresh.click(lambda run: _results(runs, run, history), inputs=[run_id], outputs=outputs, show_progress="hidden",
                      js="(run) => window.nfActiveRun || ''", trigger_mode="always_last")
    return page


def _events_of(runs: RunManager, run: str, history: Any) -> list[dict[str, Any]]:
    """The result files of ``run``: from the run manager while it keeps the run's events, else the history."""
    if not run:
        return []
    if runs.events_of(run) is not None:
        return runs.results(run)
    record = history.get_run(run) if history is not None else None
    if record is None:
        return []
    found = [{"node": o.get("node"), "kind": o.get("kind"), "path": o["path"]} for o in record.get("outputs") or [] if o.get("path")]
    # a sweep's items: the history keeps each as "node[i]", with the files it wrote among its outputs
    items = []
    for key, entry in (record.get("nodes") or {}).items():
        named = re.fullmatch(r"(.+)\[(\d+)\]", key)
        if named is None:
            continue
        for value in (entry.get("outputs") or {}).values():
            if isinstance(value, str) and Path(value).suffix and Path(value).is_file():
                items.append({"node": named[1], "kind": artifact_kind(value), "path": value, "item": int(named[2])})
    if items:
        paths = {i["path"] for i in items}
        found = [f for f in found if f["path"] not in paths] + sorted(items, key=lambda i: (i["node"], i["item"]))
    return found


def _where(runs: RunManager, files: list[str]) -> str:
    output = runs.roots["output"].resolve()
    lines = [f"Output folder: `{output}`"]
    for path in files:
        url = runs.url_for(path)
        name = Path(path).name
        lines.append(f"[{name}]({url})" if url else name)
    return "\n\n".join(lines)


def _results(runs: RunManager, run: str = "", history: Any = None) -> tuple[Any, Any, Any, Any, Any]:
    images: list[tuple[str, str]] = []
    audio = video = None
    files: list[str] = []
    for event in _events_of(runs, run, history):
        path = Path(event["path"])
        if not path.is_file():
            continue
        kind = event.get("kind")
        if kind == "image":
            item = event.get("item")  # a sweep's items each show, labelled with their number
            images.append((str(path), f"{event.get('node') or ''} · item {item + 1}" if isinstance(item, int) else event.get("node") or ""))
        elif kind == "audio":
            audio = str(path)
        elif kind == "video":
            video = str(path)
        if path.resolve().is_relative_to(runs.roots["output"].resolve()) and str(path) not in files:
            files.append(str(path))
    return (
        _where(runs, files),
        gr.update(value=images, visible=bool(images)),
        gr.update(value=audio, visible=audio is not None),
        gr.update(value=video, visible=video is not None),
        gr.update(value=files or None, visible=bool(files)),
    )
