// The top bar: file actions, examples, undo/redo, run controls with the run's state, view and theme.
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import { useStore } from "zustand";
import { api } from "./api";
import type { Commands } from "./commands";
import { useEditor } from "./context";
import { formatDuration } from "./NodeView";
import { PreviewFirst } from "./PreviewFirst";
import type { Panel } from "./uiState";

interface Props {
  commands: Commands;
  theme: "dark" | "light";
  onTheme(): void;
  onPanel(panel: Panel): void;
}

export function Toolbar({ commands, theme, onTheme, onPanel }: Props) {
  const { doc, runs } = useEditor();
  const picker = useRef<HTMLInputElement>(null);
  const [examples, setExamples] = useState<{ name: string; title: string; description: string }[] | null>(null);
  const title = useStore(doc, (s) => String(s.doc.meta.title ?? ""));
  const canUndo = useStore(doc, (s) => s.canUndo);
  const canRedo = useStore(doc, (s) => s.canRedo);
  const hasSelection = useStore(doc, (s) => s.nodes.some((n) => n.selected));
  const run = useSyncExternalStore((fn) => runs.subscribe(fn), () => runs.view);
  const server = useSyncExternalStore((fn) => runs.subscribe(fn), () => runs.server);
  const serverRunning = server.running.length > 0;
  // this tab's job and nothing else: Run and Stop act on it, the status says where it stands
  const job = useSyncExternalStore((fn) => runs.subscribe(fn), () => runs.jobState(run.run));
  const waiting = job === "queued";
  const mine = waiting || job === "running";
  const titleTimer = useRef(0);
  useEffect(() => {
    if (!examples) return;
    const close = () => setExamples(null);
    window.addEventListener("click", close);
    return () => window.removeEventListener("click", close);
  }, [examples]);
  // a swept node counts each of its items: "running 9/22" is work done of work to do
  const finished = (s: string) => s === "done" || s === "cached";
  let done = 0;
  let total = 0;
  let items = 0;
  for (const n of Object.values(run.nodes)) {
    if (n.items) {
      total += n.items.length;
      done += n.items.filter((i) => finished(i.status)).length;
      items = Math.max(items, n.items.length);
    } else {
      total += 1;
      done += finished(n.status) ? 1 : 0;
    }
  }
  const swept = items > 1 ? ` · ${items} items` : "";
  let status = "";
  if (waiting) status = "queued";
  else if (run.status === "running") status = `running ${done}/${total}${swept}`;
  else if (run.status === "ok" && !total) status = "nothing to run: no output node is active";
  else if (run.status === "ok") status = `done in ${formatDuration(run.duration || 0)}${swept}`;
  else if (run.status === "error") status = `failed${swept}`;
  else if (run.status === "cancelled") status = total ? "stopped" : "cancelled before it ran";
  else if (serverRunning) status = "another graph is running";
  return (
    <div className="nf-toolbar" data-testid="toolbar">
      <img className="nf-logo-icon" src="/ui/icon.svg" alt="nodeflow" title="nodeflow"
        onError={(e) => ((e.target as HTMLImageElement).style.display = "none")} />
      <input className="nf-input nf-graph-title" data-testid="graph-title" value={title} placeholder="Untitled" spellCheck={false}
        onChange={(e) => {
          doc.getState().setTitle(e.target.value, false);
          window.clearTimeout(titleTimer.current);
          titleTimer.current = window.setTimeout(() => doc.getState().commit(), 600);
        }} />
      <div className="nf-tb-group">
        <button data-testid="btn-new" onClick={commands.newTab} title="new graph, in a new tab (Alt+T)">New</button>
        <button data-testid="btn-open" onClick={() => picker.current?.click()} title="open a graph file, or an artifact with provenance (Ctrl+O)">Open</button>
        <input ref={picker} type="file" hidden data-testid="open-input" accept=".json,.png,.wav,.flac,.gif,.mp4"
          onChange={(e) => { const f = e.target.files?.[0]; if (f) commands.openFile(f); e.target.value = ""; }} />
        <span className="nf-menu-anchor">
          <button data-testid="btn-examples" title="example graphs (each opens in a new tab)"
            onClick={(e) => { e.stopPropagation(); api.examples().then((r) => setExamples(r.graphs)); }}>Examples ▾</button>
          {examples && (
            <div className="nf-menu" data-testid="examples-menu">
              {examples.length === 0 && <div className="nf-menu-empty">no examples in graphs/</div>}
              {examples.map((ex) => (
                <div key={ex.name} className="nf-menu-item" data-testid={`example-${ex.name}`} title={ex.description}
                  onClick={() => { setExamples(null); commands.openExample(ex.name); }}>
                  <b>{ex.title}</b><span>{ex.name}</span>
                </div>
              ))}
            </div>
          )}
        </span>
        <button data-testid="btn-save" onClick={commands.save} title="download the graph file (Ctrl+S)">Save</button>
      </div>
      <div className="nf-tb-group">
        <button data-testid="btn-undo" onClick={() => doc.getState().undo()} disabled={!canUndo} title="undo (Ctrl+Z)" aria-label="undo">↶</button>
        <button data-testid="btn-redo" onClick={() => doc.getState().redo()} disabled={!canRedo} title="redo (Ctrl+Shift+Z)" aria-label="redo">↷</button>
      </div>
      <div className="nf-tb-group">
        <button data-testid="btn-run" className="nf-primary" onClick={() => commands.run()} disabled={mine}
          title="run the graph (Ctrl+Enter); while another graph runs, it waits in the queue">▶ Run</button>
        <button data-testid="btn-run-selected" onClick={commands.runSelected} disabled={mine || !hasSelection}
          title="run only what the selected nodes need (Ctrl+Shift+Enter)">▶ to selected</button>
        <PreviewFirst commands={commands} busy={mine} />
        <button data-testid="btn-stop" className="nf-danger" onClick={commands.stop} disabled={!mine} title="stop this tab's run (or take it out of the queue)">■ Stop</button>
        <span className={`nf-run-status nf-run-${run.status}`} data-testid="run-status" data-status={run.status} data-run={run.run || ""} title={status}>{status}</span>
      </div>
      <div className="nf-spacer" />
      <div className="nf-tb-group">
        <button data-testid="btn-fit" onClick={commands.fit} title="fit the graph in view (.)">Fit</button>
        <button data-testid="btn-publish" onClick={() => commands.publish()}
          title="publish as app: the params marked ◉ become a form (nodeflow app), opened in a new window">Publish</button>
        <button data-testid="btn-queue" onClick={() => onPanel("queue")} title="runs waiting, running and finished">Queue</button>
        <button data-testid="btn-history" onClick={() => onPanel("history")} title="past runs">History</button>
        <button data-testid="btn-outputs" onClick={() => onPanel("outputs")} title="the output folder and the files written there">Outputs</button>
        <button data-testid="btn-theme" onClick={onTheme} title="dark / light" aria-label={theme === "dark" ? "light theme" : "dark theme"}>{theme === "dark" ? "☾" : "☀"}</button>
        <button data-testid="btn-help" onClick={() => onPanel("help")} title="keyboard shortcuts (?)" aria-label="help: keyboard shortcuts">?</button>
      </div>
    </div>
  );
}
