"""A graph as a form: ``nodeflow app GRAPH [--inputs NODE.PARAM,...]``.

The published params (``--inputs``, else the graph file's ``published`` list) become Gradio fields of
their kind; the outputs of the graph's output nodes, in graph order, become Image / Audio / Video /
Text / File components. One event, ``api_name="run"``, so ``gradio_client`` calls
``Client(url).predict(*inputs, api_name="/run")`` with the inputs in the published order.

Each submission runs on the app's one Executor (caches and loaded models persist between users) and
writes into its own output folder, so two users never overwrite each other's files.
"""

from __future__ import annotations

import inspect
import json
import keyword
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodeflow.check.published import PublishedInput, resolve_published
from nodeflow.events import preview_kind
from nodeflow.graph.model import Graph, parse_graph
from nodeflow.nodetypes.registry import Registry
from nodeflow.problems import GraphInvalid, Problem
from nodeflow.run.executor import Executor

__all__ = ["AppOutput", "PublishedApp", "build_blocks", "field_kind"]

IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
AUDIO_EXT = {".wav", ".flac", ".ogg", ".mp3"}
VIDEO_EXT = {".mp4", ".webm", ".mov"}
KEEP_RUN_FOLDERS = 64  # each submission's output folder; older ones are removed


@dataclass(frozen=True)
class AppOutput:
    node: str
    name: str
    kind: str  # image, audio, video, text, file
    label: str


def field_kind(item: PublishedInput) -> str:
    """Which form field edits a param: text, textarea, number, slider, choice, checkbox, colour,
    json, image, audio, video or file."""
    spec = item.spec
    if spec.kind == "file":
        extensions = {e.lower() for e in spec.extensions}
        for kind, known in (("image", IMAGE_EXT), ("audio", AUDIO_EXT), ("video", VIDEO_EXT)):
            if extensions and extensions <= known:
                return kind
        return "file"
    assert spec.kind is not None  # Param.__post_init__ always sets it
    if spec.kind in ("int", "float", "seed"):
        bounded = spec.min is not None and spec.max is not None  # a slider needs both ends
        return "slider" if bounded and (spec.kind != "seed" or spec.display == "slider") else "number"
    return {"bool": "checkbox", "choice": "choice", "text": "textarea", "colour": "colour", "json": "json"}.get(
        spec.kind, "text"
    )


class PublishedApp:
    """What the form needs, worked out once: the graph, its fields and its outputs."""

    def __init__(self, graph_data: dict[str, Any], executor: Executor, *, inputs: list[str] | None = None,
                 runs_dir: Path, policy: Any = None):
        self.graph_data = graph_data
        self.policy = policy  # the graph's own policy file, obeyed besides the data folder's
        self.executor = executor
        self.registry: Registry = executor.registry
        self.runs_dir = Path(runs_dir)
        graph = parse_graph(graph_data)
        self.fields, problems = resolve_published(graph, self.registry, inputs)
        if problems:
            raise GraphInvalid(problems)
        plan = executor.prepare(graph, policy=policy)  # validates the whole graph now: a broken graph never serves
        self.title = str(graph.meta.get("title") or "nodeflow app")
        self.description = str(graph.meta.get("description") or "")
        self.outputs = self._outputs(graph, set(plan.targets))
        self.defaults = {f.address: graph.nodes[f.node].params.get(f.param, f.spec.default) for f in self.fields}

    def _outputs(self, graph: Graph, targets: set[str]) -> list[AppOutput]:
        found = []
        for node_id, node in graph.nodes.items():  # graph order: the order of the file
            spec = self.registry.get(node.type)
            if node_id not in targets or spec is None or not spec.output:
                continue
            title = node.ui.get("title") or node_id
            for name, out in spec.outputs.items():
                kind = {"File": "file", "String": "text", "Image": "image"}.get(out.type, "text")
                if kind == "file":
                    kind = _file_kind_of_node(node.params, spec)
                label = title if len(spec.outputs) == 1 else f"{title} · {name}"
                found.append(AppOutput(node_id, name, kind, label))
        return found

    # --- one submission ----------------------------------------------------------------------------

    def run(self, values: tuple[Any, ...], on_event: Any = None) -> list[Any]:
        """Run the graph with the form's values; return one value per output component."""
        graph = parse_graph(json.loads(json.dumps(self.graph_data)))
        run_id = uuid.uuid4().hex[:12]
        problems: list[Problem] = []
        for item, value in zip(self.fields, values, strict=False):
            node = graph.nodes[item.node]
            try:
                node.params[item.param] = self._param_value(item, value, run_id)
            except ValueError as exc:
                problems.append(Problem(item.node, item.node_type, item.param, str(exc)))
        if problems:
            raise GraphInvalid(problems)
        out_dir = self.runs_dir / run_id
        self._prune()
        plan = self.executor.prepare(graph, policy=self.policy)
        result = self.executor.run_plan(plan, on_event=on_event, output_dir=out_dir, run_id=run_id, source="app")
        if result.status != "ok":
            failure = result.error
            where = f"{failure.node} ({failure.type}): " if failure else ""
            raise RuntimeError(f"{where}{failure.message if failure else result.status}")
        shown = []
        for out in self.outputs:
            value = result.outputs.get(out.node, {}).get(out.name)
            if out.kind in ("image", "audio", "video", "file"):
                shown.append(str(value) if value is not None else None)
            else:
                shown.append(value if isinstance(value, str) else json.dumps(value, default=str))
        return shown

    def problems_of(self, values: list[Any]) -> list[Problem]:
        """What is wrong with a submission's values, found without running: their count, each value
        against its param, then the whole graph with them (the policy included). Uploaded files are
        left to Gradio (they arrive as its file records)."""
        if len(values) != len(self.fields):
            names = ", ".join(f.address for f in self.fields)
            return [Problem.graph(f"the form takes {len(self.fields)} values ({names}), not {len(values)}")]
        graph = parse_graph(json.loads(json.dumps(self.graph_data)))
        problems = []
        for item, value in zip(self.fields, values, strict=True):
            if field_kind(item) in ("image", "audio", "video", "file"):
                continue
            if item.spec.kind in ("int", "seed", "float") and isinstance(value, str):
                try:  # a number field sent as text, as Gradio's own number fields accept
                    value = float(value)
                except ValueError:
                    pass
            try:
                graph.nodes[item.node].params[item.param] = self._param_value(item, value, "check")
            except ValueError as exc:
                problems.append(Problem(item.node, item.node_type, item.param, str(exc)))
        if problems:
            return problems
        try:
            self.executor.prepare(graph, policy=self.policy)
        except GraphInvalid as invalid:
            return list(invalid.problems)
        return []

    def _param_value(self, item: PublishedInput, value: Any, run_id: str) -> Any:
        kind = field_kind(item)
        if kind in ("image", "audio", "video", "file"):
            if not value:
                return self.defaults[item.address]  # nothing uploaded: the graph's own file
            return self._take_upload(Path(value), run_id)
        if kind == "json" and isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else None
            except ValueError as exc:
                raise ValueError(f"not valid JSON: {exc}") from None
        if item.spec.kind in ("int", "seed") and isinstance(value, float) and value.is_integer():
            value = int(value)
        return item.spec.check(value)

    def _take_upload(self, path: Path, run_id: str) -> str:
        """Copy an uploaded file into the input folder (file nodes read only allowed folders)."""
        folder = self.executor.settings.input_dir / "app-uploads"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{run_id}-{path.name}"
        shutil.copyfile(path, target)
        return f"app-uploads/{target.name}"

    def _prune(self) -> None:
        if not self.runs_dir.is_dir():
            return
        folders = sorted((p for p in self.runs_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for old in folders[:-KEEP_RUN_FOLDERS]:
            shutil.rmtree(old, ignore_errors=True)


def _file_kind_of_node(params: dict[str, Any], spec: Any) -> str:
    """An output node writing files shows them by the extension of its filename param."""
    filename = params.get("filename", spec.params["filename"].default if "filename" in spec.params else "")
    return preview_kind(str(filename))


# --- the Gradio form ----------------------------------------------------------------------------


def api_names(fields: list[PublishedInput]) -> list[str]:
    """A Python name per field for the API (``caption.text`` -> ``caption_text``), each different."""
    names: list[str] = []
    for item in fields:
        name = re.sub(r"\W", "_", f"{item.node}_{item.param}").strip("_") or "value"
        name = name if not name[0].isdigit() and not keyword.iskeyword(name) else f"p_{name}"
        while name in names:
            name += "_"
        names.append(name)
    return names


def form_label(item: PublishedInput) -> str:
    """The field's label: a label of the graph file as written; the made-up ``node · param`` with
    words in place of ids (``blend · alpha`` -> ``Blend · alpha``, ``noise_2`` -> ``Noise 2``)."""
    made_up = f"{item.node} · {item.param}"
    if item.label != made_up:
        return item.label
    words = item.node.replace("_", " ").replace("-", " ").strip() or item.node
    return f"{words[:1].upper()}{words[1:]} · {item.param.replace('_', ' ')}"


def _component(item: PublishedInput, default: Any) -> Any:
    import gradio as gr

    spec, kind, label = item.spec, field_kind(item), form_label(item)
    info = spec.description or None
    if kind == "image":
        return gr.Image(label=label, type="filepath", sources=["upload", "clipboard"])
    if kind == "audio":
        return gr.Audio(label=label, type="filepath", sources=["upload"])
    if kind == "video":
        return gr.Video(label=label, sources=["upload"])
    if kind == "file":
        return gr.File(label=label, type="filepath")
    if kind == "slider" and spec.min is not None and spec.max is not None:  # field_kind: both are set
        step = spec.step or (1 if spec.kind == "int" else (spec.max - spec.min) / 100)
        return gr.Slider(minimum=spec.min, maximum=spec.max, step=step, value=default, label=label, info=info)
    if kind == "number":
        precision = 0 if spec.kind in ("int", "seed") else None
        return gr.Number(value=default, label=label, info=info, precision=precision, minimum=spec.min, maximum=spec.max)
    if kind == "checkbox":
        return gr.Checkbox(value=bool(default), label=label, info=info)
    if kind == "choice":
        return gr.Dropdown(choices=list(spec.choices or ()), value=default, label=label, info=info)
    if kind == "colour":
        return gr.ColorPicker(value=default, label=label, info=info)
    if kind == "json":
        return gr.Code(value=json.dumps(default, indent=2), language="json", label=label)
    return gr.Textbox(value=default, label=label, info=info, lines=4 if kind == "textarea" else 1)


def _output_component(out: AppOutput) -> Any:
    import gradio as gr

    maker = {"image": lambda: gr.Image(label=out.label, type="filepath", interactive=False),
             "audio": lambda: gr.Audio(label=out.label, type="filepath", interactive=False),
             "video": lambda: gr.Video(label=out.label, interactive=False),
             "file": lambda: gr.File(label=out.label, interactive=False),
             "text": lambda: gr.Textbox(label=out.label, interactive=False, lines=3)}
    return maker[out.kind]()


def build_blocks(app: PublishedApp) -> Any:
    """The Gradio Blocks of the form, with its queue; ``api_name="run"`` for gradio_client."""
    import gradio as gr

    def run(*values: Any, progress: gr.Progress = gr.Progress()) -> Any:  # noqa: B008  (Gradio injects progress through this default)
        total = max(1, len(app.executor.prepare(parse_graph(app.graph_data), policy=app.policy).order))
        done = 0

        def on_event(event: dict[str, Any]) -> None:
            nonlocal done
            name = event["event"]
            if name in ("node_finished", "node_cached"):
                done += 1
                progress((done, total), desc=f"{event['node']} done", unit="nodes")
            elif name == "node_started":
                progress((done, total), desc=f"running {event['node']}", unit="nodes")

        try:
            shown = app.run(values, on_event=on_event)
        except GraphInvalid as invalid:
            raise gr.Error("; ".join(str(p) for p in invalid.problems)) from None
        except RuntimeError as exc:
            raise gr.Error(str(exc)) from None
        return shown[0] if len(shown) == 1 else tuple(shown)

    # gradio_client's view_api() names the parameters after the function's: the params' own names
    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in api_names(app.fields)]
        + [inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=gr.Progress())])

    with gr.Blocks(title=app.title) as blocks:
        gr.Markdown(f"## {app.title}\n\n{app.description}".strip())
        with gr.Row():
            with gr.Column():
                fields = [_component(item, app.defaults[item.address]) for item in app.fields]
                button = gr.Button("Run", variant="primary", elem_id="nf-app-run")
            with gr.Column():
                outputs = [_output_component(out) for out in app.outputs]
        button.click(run, inputs=fields, outputs=outputs, api_name="run", concurrency_limit=1)
    blocks.queue(max_size=256, default_concurrency_limit=1)
    return blocks
