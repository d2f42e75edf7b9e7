"""The Gradio page: the canvas (a ``gr.HTML`` whose ``js_on_load`` imports the bundled editor) and,
beside it, Gradio components listing the results of the last run with download buttons.

The canvas talks to the server over the JSON and server-sent-events routes of ``api.py``; when a run
finishes it clicks the "Refresh results" button, whose Python handler fills the result components.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from .runs import RunManager

__all__ = ["build_page", "PAGE_CSS"]

# Loads the editor module (served from /ui/, see server.py) and mounts React Flow in the element.
CANVAS_JS = """
const root = element.querySelector('[data-nf-root]') || element;
const refresh = () => { const b = document.querySelector('#nf-refresh-results'); if (b) b.click(); };
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
#nf-refresh-results { flex: 0 0 auto !important; min-height: 0 !important; }
.gradio-container .main, .gradio-container .wrap { padding: 0 !important; }
.nf-fatal { padding: 24px; color: #f66; font-family: system-ui, sans-serif; }
"""


def build_page(runs: RunManager, version: str) -> gr.Blocks:
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
                gallery = gr.Gallery(label="Images", columns=2, height=260, object_fit="contain", elem_id="nf-gallery")
                audio = gr.Audio(label="Audio", interactive=False, visible=False, elem_id="nf-audio")
                video = gr.Video(label="Video", interactive=False, visible=False, elem_id="nf-video")
                files = gr.File(label="Files", file_count="multiple", interactive=False, elem_id="nf-files")
                refresh = gr.Button("Refresh results", size="sm", elem_id="nf-refresh-results")
        refresh.click(lambda: _results(runs), outputs=[gallery, audio, video, files], show_progress="hidden")
        page.load(lambda: _results(runs), outputs=[gallery, audio, video, files], show_progress="hidden")
    return page


def _results(runs: RunManager) -> tuple[Any, Any, Any, Any]:
    images: list[tuple[str, str]] = []
    audio = video = None
    files: list[str] = []
    for event in runs.results():
        path = Path(event["path"])
        if not path.is_file():
            continue
        kind = event.get("kind")
        if kind == "image":
            images.append((str(path), event.get("node") or ""))
        elif kind == "audio":
            audio = str(path)
        elif kind == "video":
            video = str(path)
        if path.resolve().is_relative_to(runs.roots["output"].resolve()) and str(path) not in files:
            files.append(str(path))
    return (
        images,
        gr.update(value=audio, visible=audio is not None),
        gr.update(value=video, visible=video is not None),
        files or None,
    )
