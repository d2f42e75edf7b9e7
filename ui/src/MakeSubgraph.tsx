// "Make subgraph": a small form under the button: the subgraph's name and which params of the selected
// nodes the subgraph node should show (links that cross the selection become its inputs and outputs).
import { useState } from "react";
import { handleName } from "./graphModel";
import { useEditor } from "./context";
import { makeSubgraph } from "./subgraphs";
import { notify } from "./toasts";

export function MakeSubgraph({ onClose }: { onClose(): void }) {
  const { doc, specs } = useEditor();
  const [name, setName] = useState("subgraph");
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const { nodes, edges } = doc.getState();
  const linked = new Set(edges.map((e) => `${e.target}.${handleName(e.targetHandle)}`));
  const params = nodes.filter((n) => n.selected).flatMap((n) =>
    (specs.get(n.data.type)?.params || []).filter((p) => !linked.has(`${n.id}.${p.name}`)).map((p) => `${n.id}.${p.name}`));
  const make = () => {
    const chosen = [...picked].map((a) => [a.slice(0, a.lastIndexOf(".")), a.slice(a.lastIndexOf(".") + 1)] as [string, string]);
    makeSubgraph(doc, specs, name.trim() || "subgraph", chosen).then(onClose, (e) => notify(String(e.message || e), "error"));
  };
  return (
    <div className="nf-make-subgraph" data-testid="make-subgraph-form"
      onKeyDown={(e) => { if (e.key === "Enter") make(); if (e.key === "Escape") onClose(); }}>
      <label>name <input className="nf-input" data-testid="make-subgraph-name" value={name} autoFocus
        onChange={(e) => setName(e.target.value)} /></label>
      {params.length > 0 && <div className="nf-hint">show these params on the subgraph node:</div>}
      <div className="nf-make-params">
        {params.map((a) => (
          <label key={a} className="nf-check">
            <input type="checkbox" data-testid={`make-param-${a}`} checked={picked.has(a)}
              onChange={(e) => setPicked((s) => { const n = new Set(s); if (e.target.checked) n.add(a); else n.delete(a); return n; })} />
            {a}
          </label>
        ))}
      </div>
      <button data-testid="make-subgraph-ok" onClick={make}>Make</button>
      <button onClick={onClose}>Cancel</button>
    </div>
  );
}
