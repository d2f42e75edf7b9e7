// The top bar: file actions, examples, undo/redo, run controls with the run's state, view and theme.
import { useEffect, useRef, useState } from "react";
import { api } from "./api";
import { formatDuration } from "./NodeView";
import type { RunView } from "./runState";

interface Props {
  title: string;
  run: RunView;
  canUndo: boolean;
  canRedo: boolean;
  hasSelection: boolean;
  theme: "dark" | "light";
  onTitle(title: string): void;
  onNew(): void;
  onOpen(file: File): void;
  onExample(name: string): void;
  onSave(): void;
  onUndo(): void;
  onRedo(): void;
  onRun(): void;
  onRunSelected(): void;
  onStop(): void;
  onFit(): void;
  onTheme(): void;
  onHistory(): void;
  onHelp(): void;
}

export function Toolbar(p: Props) {
  const picker = useRef<HTMLInputElement>(null);
  const [examples, setExamples] = useState<{ name: string; title: string; description: string }[] | null>(null);
  const running = p.run.status === "running";
  useEffect(() => {
    if (!examples) return;
    const close = () => setExamples(null);
    window.addEventListener("click", close);
    return () => window.removeEventListener("click", close);
  }, [examples]);
  const done = Object.values(p.run.nodes).filter((n) => n.status === "done" || n.status === "cached").length;
  const total = Object.keys(p.run.nodes).length;
  let status = "";
  if (p.run.status === "running") status = `running ${done}/${total}`;
  else if (p.run.status === "ok") status = `done in ${formatDuration(p.run.duration || 0)}`;
  else if (p.run.status === "error") status = "failed";
  else if (p.run.status === "cancelled") status = "stopped";
  return (
    <div className="nf-toolbar" data-testid="toolbar">
      <span className="nf-logo">node<b>flow</b></span>
      <input className="nf-input nf-graph-title" data-testid="graph-title" value={p.title} placeholder="Untitled"
        onChange={(e) => p.onTitle(e.target.value)} spellCheck={false} />
      <div className="nf-tb-group">
        <button data-testid="btn-new" onClick={p.onNew} title="new graph">New</button>
        <button data-testid="btn-open" onClick={() => picker.current?.click()} title="open a graph file, or an artifact with provenance (Ctrl+O)">Open</button>
        <input ref={picker} type="file" hidden data-testid="open-input" accept=".json,.png,.wav,.flac,.gif,.mp4"
          onChange={(e) => { const f = e.target.files?.[0]; if (f) p.onOpen(f); e.target.value = ""; }} />
        <span className="nf-menu-anchor">
          <button data-testid="btn-examples" title="example graphs"
            onClick={(e) => { e.stopPropagation(); api.examples().then((r) => setExamples(r.graphs)); }}>Examples ▾</button>
          {examples && (
            <div className="nf-menu" data-testid="examples-menu">
              {examples.length === 0 && <div className="nf-menu-empty">no examples in graphs/</div>}
              {examples.map((ex) => (
                <div key={ex.name} className="nf-menu-item" data-testid={`example-${ex.name}`} title={ex.description}
                  onClick={() => { setExamples(null); p.onExample(ex.name); }}>
                  <b>{ex.title}</b><span>{ex.name}</span>
                </div>
              ))}
            </div>
          )}
        </span>
        <button data-testid="btn-save" onClick={p.onSave} title="download the graph file (Ctrl+S)">Save</button>
      </div>
      <div className="nf-tb-group">
        <button data-testid="btn-undo" onClick={p.onUndo} disabled={!p.canUndo} title="undo (Ctrl+Z)">↶</button>
        <button data-testid="btn-redo" onClick={p.onRedo} disabled={!p.canRedo} title="redo (Ctrl+Shift+Z)">↷</button>
      </div>
      <div className="nf-tb-group">
        <button data-testid="btn-run" className="nf-primary" onClick={p.onRun} disabled={running} title="run the graph (Ctrl+Enter)">▶ Run</button>
        <button data-testid="btn-run-selected" onClick={p.onRunSelected} disabled={running || !p.hasSelection}
          title="run only what the selected nodes need (Ctrl+Shift+Enter)">▶ to selected</button>
        <button data-testid="btn-stop" className="nf-danger" onClick={p.onStop} disabled={!running} title="stop the run">■ Stop</button>
        <span className={`nf-run-status nf-run-${p.run.status}`} data-testid="run-status" data-status={p.run.status} data-run={p.run.run || ""}>{status}</span>
      </div>
      <div className="nf-spacer" />
      <div className="nf-tb-group">
        <button data-testid="btn-fit" onClick={p.onFit} title="fit the graph in view (.)">Fit</button>
        <button data-testid="btn-history" onClick={p.onHistory} title="past runs">History</button>
        <button data-testid="btn-theme" onClick={p.onTheme} title="dark / light">{p.theme === "dark" ? "☾" : "☀"}</button>
        <button data-testid="btn-help" onClick={p.onHelp} title="keyboard shortcuts">?</button>
      </div>
    </div>
  );
}

export const SHORTCUTS: [string, string][] = [
  ["double-click canvas, / or Tab", "add a node (search)"],
  ["drag from a port to empty canvas", "add a node that fits, connected"],
  ["drag a link off its input to empty canvas", "disconnect it"],
  ["Ctrl+Enter", "run"],
  ["Ctrl+Shift+Enter", "run up to the selected nodes"],
  ["Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y)", "undo / redo"],
  ["Ctrl+C / Ctrl+V / Ctrl+D", "copy / paste (also between tabs) / duplicate"],
  ["Delete or Backspace", "delete the selection"],
  ["Ctrl+A", "select all"],
  ["Shift+drag, Shift+click", "box select, add to the selection"],
  ["Ctrl+G", "group the selected nodes"],
  ["Ctrl+B / Ctrl+M", "bypass / mute the selected nodes"],
  ["Alt+C", "collapse or expand the selected nodes"],
  [".", "fit the graph in view"],
  ["Ctrl+S / Ctrl+O", "save / open"],
  ["drop a .json or a PNG on the canvas", "open it (a PNG opens the graph that made it)"],
];
