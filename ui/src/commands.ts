// The editor's commands (run, stop, save, open, tabs, clipboard, undo...), made once per editor from its
// stores. The toolbar, the key map and the nodes all call these; none of them holds state of its own.
import { getViewportForBounds, type ReactFlowInstance } from "@xyflow/react";
import { api } from "./api";
import * as clipboard from "./clipboard";
import { fileShapeError, stringifyGraph, type FlowNode } from "./graphModel";
import type { Action } from "./keymap";
import type { ProblemStore } from "./problemStore";
import { boxOf, type DocumentStore } from "./store/document";
import { MIN_ZOOM, visibleBox } from "./layout";
import type { RunStore } from "./store/runs";
import type { Tabs } from "./store/tabs";
import { describeImport, importComfy, looksLikeComfy } from "./comfyImport";
import { insidePrefix, rootFile } from "./subgraphs";
import { notify } from "./toasts";
import type { GraphFile, Problem } from "./types";
import { togglePanel, type UiStore } from "./uiState";

export const EMPTY_GRAPH: GraphFile = { nodeflow: 1, meta: { title: "Untitled" }, nodes: {} };

export interface Commands {
  /** ``first``: a preview, in which each sweep makes only its first items (the dataset pack's preview) */
  run(only?: string[], first?: number): Promise<void>;
  runSelected(): void;
  stop(): void;
  publish(): Promise<void>;
  save(): void;
  openFile(file: File): Promise<void>;
  /** Open a ComfyUI workflow, API prompt or PNG carrying one, converted by the server. */
  openComfy(file: File): Promise<void>;
  openExample(name: string): void;
  openGraph(graph: GraphFile, source: string): void;
  newTab(): void;
  closeTab(id: string): void;
  copy(): void;
  paste(payload?: clipboard.ClipboardPayloadOrNull): void;
  duplicate(): void;
  fit(): void;
  openPalette(clientX: number, clientY: number): void;
  runTo(node: string): void;
  remove(node: string): void;
  togglePreview(node: string): void;
  showItems(node: string): void;
  perform(action: Action): void;
}

export function createCommands(deps: {
  doc: DocumentStore;
  tabs: Tabs;
  runs: RunStore;
  problems: ProblemStore;
  ui: UiStore;
  rf: ReactFlowInstance;
  canvas: () => HTMLElement | null;
}): Commands {
  const { doc, tabs, runs, problems, ui, rf } = deps;
  const d = () => doc.getState();
  const selected = () => d().nodes.filter((n: FlowNode) => n.selected).map((n) => n.id);

  const commands: Commands = {
    async run(only, first) {
      // inside a subgraph the whole graph runs (the open level's nodes show their part of it)
      const prefix = insidePrefix();
      const response = await api.run(rootFile(d().file(rf.getViewport())), only?.map((id) => prefix + id), first);
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        tabs.setRun(body.run);
        return;
      }
      if (response.status === 400 && body.problems) {
        problems.set(body.problems as Problem[]);
        const n = body.problems.length;
        notify(`cannot run: ${n} problem${n === 1 ? "" : "s"} (marked on the nodes)`, "error");
        ui.setState({ panel: "problems" });
      } else notify(body.error || body.detail || `run refused (${response.status})`, "error");
    },
    runSelected() {
      const ids = selected();
      if (ids.length) commands.run(ids);
      else notify("select the nodes to run up to first");
    },
    stop() {
      // this tab's job only: another tab's run is stopped from that tab or the Queue panel
      const run = tabs.active().run;
      if (!run) return;
      api.cancelJob(run)
        .then((r) => (r.cancelled ? undefined : api.queue().then((q) => runs.reconcile(q.jobs, [run])))) // it had already ended
        .catch((e) => notify(String(e.message), "error"));
    },
    async publish() {
      // the graph's published params become a Gradio form served by `nodeflow app` (serve helper's route)
      notify("publishing the graph as an app…");
      const response = await api.publish(d().file(null));
      const body = await response.json().catch(() => ({}));
      if (response.status === 400 && body.problems) {
        problems.set(body.problems as Problem[]);
        return notify(`cannot publish: ${body.problems.length} problem(s) (marked on the nodes)`, "error");
      }
      if (!response.ok || !body.url) return notify(body.error || body.detail || `publishing failed (${response.status})`, "error");
      ui.setState({ published: body.url });
      window.open(body.url, "_blank", "noopener");
    },
    save() {
      const file = rootFile(d().file(rf.getViewport())); // inside a subgraph: the whole graph
      const title = String(file.meta?.title || tabs.active().source.replace(/\.json$/, "") || "graph");
      const name = title.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "") || "graph";
      const url = URL.createObjectURL(new Blob([stringifyGraph(file)], { type: "application/json" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `${name}.json`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      d().markSaved();
    },
    async openFile(file) {
      try {
        const lower = file.name.toLowerCase();
        if (lower.endsWith(".json") && !lower.endsWith(".provenance.json")) {
          let data: unknown;
          try {
            data = JSON.parse(await file.text());
          } catch (e: any) {
            throw new Error(`${file.name} is not valid JSON: ${e.message}`);
          }
          const problem = fileShapeError(data);
          if (problem && looksLikeComfy(data)) return await commands.openComfy(file);
          if (problem) throw new Error(`${file.name}: ${problem}`);
          commands.openGraph(data as GraphFile, file.name);
          notify(`opened ${file.name}`);
        } else {
          // a PNG without nodeflow provenance may be one ComfyUI saved: it carries its workflow
          const found = await api.provenance(file).catch((e) => e as Error);
          if (found instanceof Error) {
            if (lower.endsWith(".png")) return await commands.openComfy(file);
            throw found;
          }
          const { graph } = found;
          commands.openGraph(graph, file.name);
          notify(`opened the graph that made ${file.name}`);
        }
      } catch (e: any) {
        notify(String(e.message || e), "error");
      }
    },
    async openComfy(file) {
      const { graph, report } = await importComfy(file);
      commands.openGraph(graph, file.name);
      notify(describeImport(file.name, report), report.unknown.length ? "error" : "info");
    },
    openExample(name) {
      api.example(name).then((g) => commands.openGraph(g, name)).catch((e) => notify(String(e.message), "error"));
    },
    openGraph(graph, source) {
      // an untouched empty tab is reused; anything else opens beside what is open
      const active = tabs.active();
      if (!active.dirty && !active.run && d().nodes.length === 0) tabs.close(active.id);
      tabs.open(graph, source);
    },
    newTab() {
      tabs.open(EMPTY_GRAPH, "");
    },
    closeTab(id) {
      const tab = tabs.store.getState().tabs.find((t) => t.id === id);
      if (!tab) return;
      if (tab.dirty && !window.confirm(`"${tab.title}" has unsaved changes. Close it anyway?`)) return;
      tabs.close(id);
    },
    copy() {
      clipboard.copy(d().nodes, d().edges);
    },
    paste(payload) {
      const ids = d().paste(payload === undefined ? clipboard.stored() : payload, ui.getState().pointer);
      if (!ids.length) notify("nothing to paste");
    },
    duplicate() {
      const payload = clipboard.copy(d().nodes, d().edges);
      d().paste(payload, null);
    },
    fit() {
      // from the nodes' boxes, not rf.fitView: that waits until every node is measured, which a node
      // never drawn (culled, or not laid out yet after a file opened) never is, and the fit never came
      const box = deps.canvas()?.getBoundingClientRect();
      const boxes = d().nodes.map(boxOf);
      if (!box || !box.width || !boxes.length) return;
      const x = Math.min(...boxes.map((b) => b.x));
      const y = Math.min(...boxes.map((b) => b.y));
      const bounds = { x, y, width: Math.max(...boxes.map((b) => b.x + b.w)) - x, height: Math.max(...boxes.map((b) => b.y + b.h)) - y };
      rf.setViewport(getViewportForBounds(bounds, box.width, box.height, MIN_ZOOM, 1, 0.15), { duration: 200 });
    },
    openPalette(clientX, clientY) {
      const box = deps.canvas()?.getBoundingClientRect();
      if (!box) return;
      ui.setState({
        palette: {
          x: Math.min(clientX - box.left, box.width - 340),
          y: Math.min(clientY - box.top, box.height - 380),
          flow: rf.screenToFlowPosition({ x: clientX, y: clientY }),
          view: visibleBox(rf.screenToFlowPosition({ x: box.left, y: box.top }), rf.screenToFlowPosition({ x: box.right, y: box.bottom })),
          wanted: {},
        },
      });
    },
    runTo(node) {
      commands.run([node]);
    },
    remove(node) {
      rf.deleteElements({ nodes: [{ id: node }] });
    },
    showItems(node) {
      ui.setState({ panel: "items", items: insidePrefix() + node });
    },
    togglePreview(node) {
      d().patchNode(node, (data) => ({ ...data, ui: { ...data.ui, preview: data.ui.preview ? undefined : true } }));
    },
    perform(action) {
      switch (action) {
        case "run": return void commands.run();
        case "runSelected": return commands.runSelected();
        case "save": return commands.save();
        case "open": return void deps.canvas()?.closest(".nf-app")?.querySelector<HTMLInputElement>('[data-testid="open-input"]')?.click();
        case "copy": return commands.copy();
        case "paste": return; // the paste event brings the system clipboard (see useKeyboard)
        case "duplicate": return commands.duplicate();
        case "undo": return d().undo();
        case "redo": return d().redo();
        case "selectAll": return d().select("all");
        case "group": return d().group(selected());
        case "bypass": return d().patchSelected((n) => ({ ...n, mode: n.mode === "bypass" ? "run" : "bypass" }));
        case "mute": return d().patchSelected((n) => ({ ...n, mode: n.mode === "mute" ? "run" : "mute" }));
        case "collapse": return d().patchSelected((n) => ({ ...n, ui: { ...n.ui, collapsed: !n.ui.collapsed || undefined } }));
        case "palette": {
          const p = ui.getState().pointer;
          const box = deps.canvas()?.getBoundingClientRect();
          if (!box) return;
          const at = p ? rf.flowToScreenPosition(p) : { x: box.left + box.width / 2 - 160, y: box.top + box.height / 3 };
          return commands.openPalette(at.x, at.y);
        }
        case "fit": return commands.fit();
        case "help": return togglePanel(ui, "help");
        case "newTab": return commands.newTab();
        case "close": return commands.closeTab(tabs.active().id);
      }
    },
  };
  return commands;
}
