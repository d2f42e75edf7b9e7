// Panels over the canvas: the validation problems of the graph, and the run history.
import { useEffect, useState } from "react";
import { api } from "./api";
import type { EditorActions } from "./context";
import type { GraphFile, Problem } from "./types";

export function ProblemsBar(props: { problems: Problem[]; graphProblems: Problem[]; open: boolean; onToggle(): void; onPick(id: string): void }) {
  const { problems, open } = props;
  if (!problems.length) return <div className="nf-problems-bar nf-ok" data-testid="problems-bar" data-count={0}>✓ no problems</div>;
  return (
    <div className={`nf-problems-bar${open ? " open" : ""}`} data-testid="problems-bar" data-count={problems.length}>
      <button onClick={props.onToggle}>⚠ {problems.length} problem{problems.length === 1 ? "" : "s"}</button>
      {open && (
        <div className="nf-problems-list" data-testid="problems-panel">
          {problems.map((p, i) => (
            <div key={i} className="nf-problems-item" onClick={() => p.node && props.onPick(p.node)}>
              <b>{p.node ?? "graph"}</b>{p.port ? <i> {p.port}</i> : null}: {p.message}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

export function HistoryPanel(props: { onOpen(graph: GraphFile, name: string): void; onClose(): void; notify: EditorActions["notify"] }) {
  const [runs, setRuns] = useState<Awaited<ReturnType<typeof api.history>>["runs"] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.history().then((r) => setRuns(r.runs)).catch((e) => setError(e.status === 404 ? "run history is not available in this install" : String(e.message)));
  }, []);
  return (
    <div className="nf-panel nf-history" data-testid="history-panel">
      <div className="nf-panel-head">Run history<button onClick={props.onClose}>✕</button></div>
      {error && <div className="nf-hint">{error}</div>}
      {!runs && !error && <div className="nf-hint">loading…</div>}
      {runs && runs.length === 0 && <div className="nf-hint">no runs yet</div>}
      {runs?.map((run) => (
        <div key={run.id} className="nf-history-item" data-testid={`history-${run.id}`}
          onClick={() => api.historyRun(run.id).then((r) => props.onOpen(r.graph, run.title || run.id)).catch((e) => props.notify(String(e.message), "error"))}>
          <span className={`nf-dot nf-run-${run.status}`} />
          <b>{run.title || "untitled"}</b>
          <span>{new Date(run.started * 1000).toLocaleString()} · {run.source} · {run.status}{run.duration_s != null ? ` · ${run.duration_s.toFixed(1)} s` : ""}</span>
        </div>
      ))}
    </div>
  );
}
