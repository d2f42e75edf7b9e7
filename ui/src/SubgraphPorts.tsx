// While a subgraph of this graph is open: a panel listing what it exposes on its subgraph node (inputs,
// params, outputs), to rename or stop exposing each and to expose more inner ports; and the ⊕ toggle on
// inner param rows. A library subgraph shows instead a read-only note with "Edit a copy in this graph".
import { useSyncExternalStore } from "react";
import { useStore } from "zustand";
import { useEditor } from "./context";
import { candidates, editPorts, exposePort, renamePort, unexposePort, type PortKind, type Target } from "./portEdits";
import { editCopy, nav, type Definition, type Level } from "./subgraphs";
import { notify } from "./toasts";

const KINDS: [PortKind, string][] = [["inputs", "Inputs"], ["params", "Params"], ["outputs", "Outputs"]];

function useLevel(): Level | undefined {
  return useSyncExternalStore((fn) => nav.subscribe(fn), () => nav.getState().path[nav.getState().path.length - 1]);
}

function useDefinition(level: Level | undefined): Definition | undefined {
  const { doc } = useEditor();
  const defs = useStore(doc, (s) => s.doc.extra.definitions) as Record<string, Definition> | undefined;
  return level ? defs?.[level.name] || level.definition : undefined;
}

const tryIt = (action: () => void) => {
  try {
    action();
  } catch (e) {
    notify(String((e as Error).message || e), "error");
  }
};

export function SubgraphPorts() {
  const { doc, specs } = useEditor();
  const level = useLevel();
  const def = useDefinition(level);
  useStore(doc, (s) => s.version); // the candidates follow the inner nodes
  if (!level || !def) return null;
  if (level.readOnly) {
    return (
      <div className="nf-subgraph-ports nf-readonly-note" data-testid="subgraph-readonly">
        <b>{level.name}</b> is a library subgraph{level.library ? ` (${level.library})` : ""}: read-only here.
        {level.library && (
          <button data-testid="btn-edit-copy" title="copy its definition into this graph's definitions, then edit that copy"
            onClick={() => tryIt(() => editCopy(doc))}>Edit a copy in this graph</button>
        )}
      </div>
    );
  }
  const offered = candidates(def, doc.getState().file().nodes, specs);
  const rename = (kind: PortKind, old: string, next: string) => {
    if (next === old) return;
    tryIt(() => editPorts(doc, (d) => renamePort(d, kind, old, next), { kind, old, next }));
  };
  return (
    <div className="nf-subgraph-ports" data-testid="subgraph-ports">
      <div className="nf-panel-head">Ports of {level.name}</div>
      {KINDS.map(([kind, label]) => {
        const entries = Object.entries((def[kind] || {}) as Record<string, Target | Target[]>);
        return (
          <div key={kind} className="nf-port-kind">
            <div className="nf-hint">{label}{entries.length ? "" : ": none"}</div>
            {entries.map(([name, target]) => (
              <div key={name} className="nf-port-item" data-testid={`port-${kind}-${name}`}>
                <input className="nf-input" defaultValue={name} data-testid={`port-name-${kind}-${name}`}
                  onBlur={(e) => rename(kind, name, e.target.value.trim())}
                  onKeyDown={(e) => { if (e.key === "Enter") (e.target as HTMLInputElement).blur(); }} />
                <span className="nf-port-target">{(kind === "outputs" ? [target as Target] : (target as Target[])).map((t) => t.join(".")).join(", ")}</span>
                <button title="stop exposing it" aria-label={`stop exposing ${name}`} data-testid={`unexpose-${kind}-${name}`}
                  onClick={() => tryIt(() => editPorts(doc, (d) => unexposePort(d, kind, name), { kind, old: name, next: null }))}>✕</button>
              </div>
            ))}
          </div>
        );
      })}
      <select className="nf-input" data-testid="expose-pick" value="" title="expose an inner port on the subgraph node"
        onChange={(e) => {
          const [kind, node, port] = e.target.value.split("\u0000") as [PortKind, string, string];
          if (node) tryIt(() => editPorts(doc, (d) => exposePort(d, kind, [node, port]).definition));
        }}>
        <option value="">expose…</option>
        {KINDS.map(([kind, label]) => (
          <optgroup key={kind} label={label}>
            {offered.filter((c) => c.kind === kind).map((c) => (
              <option key={`${c.node}.${c.port}`} value={[kind, c.node, c.port].join("\u0000")}>{c.node}.{c.port}</option>
            ))}
          </optgroup>
        ))}
      </select>
    </div>
  );
}

/** On an inner param row: expose the param on the subgraph node, or stop exposing it. */
export function ExposeToggle({ node, param }: { node: string; param: string }) {
  const { doc } = useEditor();
  const level = useLevel();
  const def = useDefinition(level);
  if (!level || level.readOnly || !def) return null;
  const as = Object.entries(def.params || {}).find(([, targets]) => targets.some(([n, p]) => n === node && p === param))?.[0];
  return (
    <button type="button" className={`nf-expose-btn nodrag${as ? " on" : ""}`} data-testid={`expose-${node}-${param}`} data-on={!!as}
      aria-label={`expose ${param}`} aria-pressed={!!as}
      title={as ? `exposed on the subgraph node as ${as} (click to stop)` : "expose on the subgraph node"}
      onClick={() => tryIt(() => as
        ? editPorts(doc, (d) => unexposePort(d, "params", as), { kind: "params", old: as, next: null })
        : editPorts(doc, (d) => exposePort(d, "params", [node, param]).definition))}>⊕</button>
  );
}
