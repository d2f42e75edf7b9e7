// The subgraph and layout actions over the canvas: Arrange, Make subgraph, Enter, Unpack, and the breadcrumb
// back up when a subgraph is open (with its ports panel). Actions live in subgraphs.ts; this only shows them.
import { useEffect, useState, useSyncExternalStore } from "react";
import { useStore } from "zustand";
import { useEditor } from "./context";
import { arrange, enterSubgraph, learnSubgraphs, leaveSubgraph, nav, SUBGRAPH, unpackSubgraph } from "./subgraphs";
import { MakeSubgraph } from "./MakeSubgraph";
import { SubgraphPorts } from "./SubgraphPorts";
import { notify } from "./toasts";

export function SubgraphBar() {
  const { doc, specs } = useEditor();
  const selected = useStore(doc, (s) => s.nodes.filter((n) => n.selected).map((n) => `${n.id}\u0000${n.data.type}`).join("\u0001"));
  const path = useSyncExternalStore((fn) => nav.subscribe(fn), () => nav.getState().path);
  const [making, setMaking] = useState(false);
  const readOnly = path.length > 0 && path[path.length - 1].readOnly;
  const picks = selected ? selected.split("\u0001").map((s) => s.split("\u0000")) : [];
  const sub = picks.length === 1 && picks[0][1].startsWith(SUBGRAPH) ? picks[0][0] : null;
  const act = (action: () => Promise<void>) => () => action().catch((e) => notify(String(e.message || e), "error"));
  // a file that brings its own subgraphs (opened, reloaded, another tab): learn their ports, then redraw them
  const definitions = useStore(doc, (s) => s.doc.extra.definitions);
  useEffect(() => {
    if (!definitions) return;
    learnSubgraphs(doc.getState().file(), specs)
      .then(() => doc.setState((s) => ({ nodes: s.nodes.map((n) => (n.data.type.startsWith(SUBGRAPH) ? { ...n, data: { ...n.data } } : n)) })))
      .catch((e) => notify(`subgraphs: ${String(e.message || e)}`, "error"));
  }, [definitions, doc, specs]);
  return (
    <div className="nf-subgraph-bar" data-testid="subgraph-bar">
      {path.length > 0 && (
        <span className="nf-breadcrumb" data-testid="breadcrumb">
          <button data-testid="crumb-root" onClick={act(() => leaveSubgraph(doc, specs, path.length))}>graph</button>
          {path.map((level, i) => (
            <span key={i}>
              {" › "}
              <button data-testid={`crumb-${level.name}`} disabled={i === path.length - 1}
                onClick={act(() => leaveSubgraph(doc, specs, path.length - 1 - i))}>{level.name}</button>
            </span>
          ))}
        </span>
      )}
      <button data-testid="btn-arrange" title="lay out the selection, or the whole graph" onClick={act(() => arrange(doc))}>Arrange</button>
      <button data-testid="btn-make-subgraph" disabled={picks.length === 0 || readOnly} title="fold the selected nodes into one subgraph node"
        onClick={() => setMaking((m) => !m)}>Make subgraph</button>
      <button data-testid="btn-enter-subgraph" disabled={!sub} title="open the subgraph to edit its nodes (or double-click it)"
        onClick={act(() => enterSubgraph(doc, specs, sub!))}>Enter</button>
      <button data-testid="btn-unpack-subgraph" disabled={!sub || readOnly} title="replace the subgraph node by its nodes"
        onClick={act(() => unpackSubgraph(doc, specs, sub!))}>Unpack</button>
      {making && picks.length > 0 && <MakeSubgraph onClose={() => setMaking(false)} />}
      <SubgraphPorts />
    </div>
  );
}
