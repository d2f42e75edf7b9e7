// Panels over the canvas: the validation problems of the graph, and the run history (reopen a run with
// its outputs and error, compare two runs' params).
import { useEffect, useState, useSyncExternalStore } from "react";
import { api, type HistoryRun } from "./api";
import { useEditor } from "./context";
import type { RunEvent } from "./runState";
import { firstOutputName, runName, thumbnailOf } from "./runNames";
import { notify } from "./toasts";
import type { GraphFile } from "./types";

export function ProblemsBar(props: { open: boolean; onToggle(): void; onPick(id: string): void }) {
  const { problems: store } = useEditor();
  const problems = useSyncExternalStore((fn) => store.subscribe(fn), () => store.all);
  const { open } = props;
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

export function HistoryPanel(props: {
  onOpen(graph: GraphFile, name: string): void;
  onShowRun(events: RunEvent[], graph: GraphFile, name: string): void;
  onClose(): void;
}) {
  const [runs, setRuns] = useState<HistoryRun[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const [compared, setCompared] = useState<[HistoryRun, HistoryRun] | null>(null);
  const [outputFolder, setOutputFolder] = useState("");
  useEffect(() => {
    api.outputFolder().then((r) => setOutputFolder(r.folder)).catch(() => undefined);
    api.history().then((r) => setRuns(r.runs)).catch((e) => setError(e.status === 404 ? "run history is not available in this install" : String(e.message)));
  }, []);
  const reopen = async (run: HistoryRun) => {
    try {
      const [full, view] = await Promise.all([api.historyRun(run.id), api.historyEvents(run.id).catch(() => ({ events: [] as RunEvent[] }))]);
      const name = run.title || run.id;
      if (view.events.length) props.onShowRun(view.events, full.graph, name);
      else props.onOpen(full.graph, name);
    } catch (e: any) {
      notify(String(e.message), "error");
    }
  };
  const compare = async () => {
    const [a, b] = await Promise.all(picked.map((id) => api.historyRun(id)));
    setCompared([a, b]);
  };
  return (
    <div className="nf-panel nf-history" data-testid="history-panel">
      <div className="nf-panel-head">Run history
        <span>
          <button data-testid="history-compare" disabled={picked.length !== 2} onClick={compare} title="compare the params of the two ticked runs">compare</button>
          <button onClick={props.onClose} aria-label="close the history" title="close">✕</button>
        </span>
      </div>
      {error && <div className="nf-hint">{error}</div>}
      {!runs && !error && <div className="nf-hint">loading…</div>}
      {runs && runs.length === 0 && <div className="nf-hint">no runs yet</div>}
      {compared && <Comparison a={compared[0]} b={compared[1]} onClose={() => setCompared(null)} />}
      {runs?.map((run) => (
        <div key={run.id} className="nf-history-item" data-testid={`history-${run.id}`} onClick={() => reopen(run)}>
          <input type="checkbox" data-testid={`history-pick-${run.id}`} checked={picked.includes(run.id)}
            onClick={(e) => e.stopPropagation()}
            onChange={(e) => setPicked((p) => (e.target.checked ? [...p.filter((x) => x !== run.id), run.id].slice(-2) : p.filter((x) => x !== run.id)))} />
          <span className={`nf-dot nf-run-${run.status}`} />
          {thumbnailOf(run.outputs, outputFolder) && <img className="nf-thumb" src={thumbnailOf(run.outputs, outputFolder)!} alt="" data-testid={`history-thumb-${run.id}`} />}
          <b data-testid={`history-name-${run.id}`}>{runName(run)}</b>
          <span>{new Date(run.started * 1000).toLocaleString()} · {run.status}{run.duration_s != null ? ` · ${run.duration_s.toFixed(1)} s` : ""}
            {firstOutputName(run.outputs) ? ` · ${firstOutputName(run.outputs)}` : ""}</span>
        </div>
      ))}
    </div>
  );
}

/** The params that differ between two runs, node by node. */
export function paramDiff(a: HistoryRun, b: HistoryRun): { node: string; param: string; a: unknown; b: unknown }[] {
  const pa = paramsOf(a);
  const pb = paramsOf(b);
  const rows = [];
  for (const node of [...new Set([...Object.keys(pa), ...Object.keys(pb)])].sort()) {
    const x = pa[node] || {};
    const y = pb[node] || {};
    for (const param of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
      if (JSON.stringify(x[param]) !== JSON.stringify(y[param])) rows.push({ node, param, a: x[param], b: y[param] });
    }
  }
  return rows;
}

function paramsOf(run: HistoryRun): Record<string, Record<string, unknown>> {
  if (run.params && Object.keys(run.params).length) return run.params;
  const out: Record<string, Record<string, unknown>> = {};
  for (const [id, node] of Object.entries(run.graph?.nodes || {})) out[id] = node.params || {};
  return out;
}

function Comparison({ a, b, onClose }: { a: HistoryRun; b: HistoryRun; onClose(): void }) {
  const rows = paramDiff(a, b);
  const show = (v: unknown) => (v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));
  return (
    <div className="nf-compare" data-testid="history-comparison">
      <div className="nf-panel-head">{a.title || a.id} vs {b.title || b.id}<button onClick={onClose} aria-label="close the comparison" title="close">✕</button></div>
      {rows.length === 0 && <div className="nf-hint">the two runs have the same params</div>}
      <table><tbody>
        {rows.map((r) => (
          <tr key={r.node + r.param} data-testid={`diff-${r.node}-${r.param}`}>
            <td><b>{r.node}</b>.{r.param}</td><td>{show(r.a)}</td><td>{show(r.b)}</td>
          </tr>
        ))}
      </tbody></table>
    </div>
  );
}
