// One node on the canvas: typed, colour-coded ports, param widgets (each param can also take a link),
// run state (queued, running with progress, cached, done with its time, error), live previews,
// validation problems, and why it ran (on hover).
import { Handle, NodeToolbar, Position, useStore, type NodeProps } from "@xyflow/react";
import { memo, useMemo, useState } from "react";
import { useStore as useDocStore } from "zustand";
import { IN, OUT, typeColour } from "./compat";
import { useEditor, useNodeNotes, useNodeProblems, useNodeRun } from "./context";
import type { FlowNode } from "./graphModel";
import type { NodeRun } from "./runState";
import type { NodeData, NodeTypeSpec, Problem } from "./types";
import { OutputLinks, Preview, showsPreview } from "./Preview";
import { isSweep, SweepEditor, type SweepValue } from "./Sweep";
import { useReadOnly } from "./subgraphs";
import { ExposeToggle } from "./SubgraphPorts";
import { ParamWidget } from "./widgets";

const STATUS_TEXT: Record<string, string> = {
  queued: "queued", running: "running", cached: "cached", stale: "changed", done: "done", error: "error", blocked: "blocked", stopped: "stopped", cancelled: "cancelled", skipped: "skipped",
};

function NodeViewInner({ id, data, selected }: NodeProps<FlowNode>) {
  const { catalog, specs, doc, commands } = useEditor();
  const actions = {
    patchNode: (node: string, patch: (d: NodeData) => NodeData) => doc.getState().patchNode(node, patch),
    setParam: (node: string, name: string, value: unknown, commit: boolean) => doc.getState().setParam(node, name, value, commit),
  };
  const run = useNodeRun(id);
  const problems = useNodeProblems(id);
  const notes = useNodeNotes(id);
  const spec = specs.get(data.type);
  const published = usePublished(id);
  const collapsed = !!data.ui.collapsed;
  const readOnly = useReadOnly(); // inside a library subgraph: look, do not touch
  const title = (data.ui.title as string) || spec?.title || data.type;
  // a bypassed or muted node does not run: whatever an earlier run said of it does not apply
  const status = data.mode === "run" && run?.status && run.status !== "idle" ? run.status : "";
  const portProblems = new Map<string, Problem[]>();
  const nodeProblems: Problem[] = [];
  for (const p of problems) {
    if (p.port) portProblems.set(p.port, [...(portProblems.get(p.port) || []), p]);
    else nodeProblems.push(p);
  }
  const cls = [
    "nf-node",
    `nf-mode-${data.mode}`,
    status && `nf-status-${status}`,
    problems.length && "nf-has-problems",
    selected && "nf-selected",
    collapsed && "nf-collapsed",
    spec?.output && "nf-output",
  ].filter(Boolean).join(" ");
  return (
    <div className={cls} data-testid={`node-${id}`} data-status={status || "idle"} data-mode={data.mode}>
      <NodeToolbar position={Position.Top} className="nf-node-toolbar" isVisible={readOnly ? false : undefined}>
        <button data-testid={`tb-run-${id}`} title="run up to this node (Ctrl+Shift+Enter)" onClick={() => commands.runTo(id)}>▶ here</button>
        <button data-testid={`tb-bypass-${id}`} title="bypass (Ctrl+B)" className={data.mode === "bypass" ? "on" : ""}
          onClick={() => actions.patchNode(id, (d) => ({ ...d, mode: d.mode === "bypass" ? "run" : "bypass" }))}>bypass</button>
        <button data-testid={`tb-mute-${id}`} title="mute (Ctrl+M)" className={data.mode === "mute" ? "on" : ""}
          onClick={() => actions.patchNode(id, (d) => ({ ...d, mode: d.mode === "mute" ? "run" : "mute" }))}>mute</button>
        <button data-testid={`tb-collapse-${id}`} title="collapse (Alt+C)"
          onClick={() => actions.patchNode(id, (d) => ({ ...d, ui: { ...d.ui, collapsed: !d.ui.collapsed || undefined } }))}>
          {collapsed ? "expand" : "collapse"}</button>
        {spec && showsPreview(spec) && !spec.output && (
          <button data-testid={`tb-preview-${id}`} title="show this node's result on it" className={data.ui.preview ? "on" : ""}
            onClick={() => commands.togglePreview(id)}>preview</button>
        )}
        <button data-testid={`tb-delete-${id}`} title="delete (Del)" aria-label={`delete ${title}`} onClick={() => commands.remove(id)}>✕</button>
      </NodeToolbar>
      <Header id={id} title={title} spec={spec} type={data.type} run={run} status={status} collapsed={collapsed}
        onRename={(t) => actions.patchNode(id, (d) => ({ ...d, ui: { ...d.ui, title: t || undefined } }))}
        onToggle={() => actions.patchNode(id, (d) => ({ ...d, ui: { ...d.ui, collapsed: !d.ui.collapsed || undefined } }))} />
      {status === "running" && <Progress run={run!} id={id} />}
      {!spec && <div className="nf-problem" data-testid={`unknown-${id}`}>unknown node type {data.type}</div>}
      {spec && <Ports id={id} spec={spec} collapsed={collapsed} portProblems={portProblems} />}
      {spec && !collapsed && spec.params.length > 0 && (
        <fieldset className="nf-params" disabled={readOnly} data-testid={`params-${id}`}>
          {spec.params.map((p) => {
            const bad = portProblems.get(p.name);
            return (
              <div className={`nf-param${bad ? " nf-port-bad" : ""}`} key={p.name} title={bad?.map((b) => b.message).join("\n") || p.description || ""}>
                <Handle type="target" position={Position.Left} id={IN + p.name} className="nf-handle nf-param-handle"
                  style={{ "--port": typeColour(catalog.types, p.type) } as React.CSSProperties}
                  data-testid={`handle-${id}-in-${p.name}`} />
                <span className="nf-param-name">{p.name}</span>
                <LinkedOr id={id} name={p.name}>
                  {isSweep(data.params[p.name]) ? (
                    <SweepEditor node={id} spec={p} value={data.params[p.name] as SweepValue}
                      onChange={(value, commit) => actions.setParam(id, p.name, value, commit)} />
                  ) : (
                    <ParamWidget node={id} spec={p} value={data.params[p.name]} bad={!!bad}
                      onChange={(value, commit) => actions.setParam(id, p.name, value, commit)} />
                  )}
                </LinkedOr>
                <button type="button" className={`nf-publish-btn nodrag${published.has(p.name) ? " on" : ""}`}
                  title={published.has(p.name) ? "published: a field of the graph's app form (click to stop)" : "publish as an input of the graph's app form"}
                  aria-label={`publish ${p.name}`} aria-pressed={published.has(p.name)}
                  data-testid={`publish-${id}-${p.name}`} data-on={published.has(p.name)}
                  onClick={() => doc.getState().togglePublished(id, p.name)}>◉</button>
                <ExposeToggle node={id} param={p.name} />
                {p.kind !== "json" && !isSweep(data.params[p.name]) && (
                  <button type="button" className="nf-sweep-btn nodrag" title="try several values (a sweep)" aria-label={`sweep ${p.name}`} data-testid={`sweep-on-${id}-${p.name}`}
                    onClick={() => actions.setParam(id, p.name, { sweep: [data.params[p.name] ?? p.default] }, true)}>⋯</button>
                )}
              </div>
            );
          })}
        </fieldset>
      )}
      {!collapsed && run && <Preview run={run} id={id} onItems={() => commands.showItems(id)} />}
      {!collapsed && run?.urls && <OutputLinks urls={run.urls} id={id} />}
      {!collapsed && (run?.status === "error" || run?.status === "blocked") && (
        <div className="nf-error" data-testid={`error-${id}`} title={run.traceback || ""}>{run.message}</div>
      )}
      {nodeProblems.length > 0 && (
        <div className="nf-problems" data-testid={`problems-${id}`}>
          {nodeProblems.map((p, i) => <div key={i} className="nf-problem">{p.message}</div>)}
        </div>
      )}
      {[...portProblems.entries()].filter(([port]) => !spec || !spec.params.some((p) => p.name === port)).length > 0 && !collapsed && (
        <div className="nf-problems" data-testid={`port-problems-${id}`}>
          {[...portProblems.entries()].filter(([port]) => !spec?.params.some((p) => p.name === port))
            .flatMap(([port, list]) => list.map((p, i) => <div key={port + i} className="nf-problem"><b>{port}</b>: {p.message}</div>))}
        </div>
      )}
      {!collapsed && spec && problems.filter((p) => p.port && spec.params.some((q) => q.name === p.port)).length > 0 && (
        <div className="nf-problems" data-testid={`param-problems-${id}`}>
          {problems.filter((p) => p.port && spec.params.some((q) => q.name === p.port))
            .map((p, i) => <div key={i} className="nf-problem"><b>{p.port}</b>: {p.message}</div>)}
        </div>
      )}
      {!collapsed && notes.length > 0 && (
        <div className="nf-notes" data-testid={`param-notes-${id}`}>
          {notes.map((p, i) => <div key={i} className="nf-note"><b>{p.port}</b>: {p.message}</div>)}
        </div>
      )}
    </div>
  );
}

function Header(props: {
  id: string; title: string; spec?: NodeTypeSpec; type: string; run?: NodeRun; status: string; collapsed: boolean;
  onRename(t: string): void; onToggle(): void;
}) {
  const { id, title, spec, type, run, status, collapsed } = props;
  const [editing, setEditing] = useState(false);
  const why = !run?.reason ? "" : ["cached", "stopped", "cancelled", "skipped", "stale"].includes(run.status) ? run.reason : `ran because: ${run.reason}`;
  return (
    <div className="nf-head" title={spec?.description || type}>
      <button className="nf-collapse nodrag" onClick={props.onToggle} aria-label={collapsed ? "expand" : "collapse"} aria-expanded={!collapsed} title={collapsed ? "expand" : "collapse"}>{collapsed ? "▸" : "▾"}</button>
      {editing ? (
        <input className="nf-input nf-title-input nodrag" autoFocus defaultValue={title} data-testid={`title-input-${id}`}
          onBlur={(e) => { setEditing(false); props.onRename(e.target.value.trim() === (spec?.title || type) ? "" : e.target.value.trim()); }}
          onKeyDown={(e) => { if (e.key === "Enter") (e.target as HTMLInputElement).blur(); if (e.key === "Escape") setEditing(false); }} />
      ) : (
        <span className="nf-title" data-testid={`title-${id}`} onDoubleClick={() => setEditing(true)}>{title}</span>
      )}
      {status && (
        <span className={`nf-badge nf-badge-${status}`} data-testid={`status-${id}`}>
          {STATUS_TEXT[status]}{status === "done" && run?.duration !== undefined ? ` ${formatDuration(run.duration)}` : ""}
        </span>
      )}
      {why && <div className="nf-why" data-testid={`why-${id}`}>{why}</div>}
    </div>
  );
}

function Progress({ run, id }: { run: NodeRun; id: string }) {
  const fraction = run.max ? Math.max(0, Math.min(1, (run.value || 0) / run.max)) : null;
  return (
    <div className={`nf-progress${fraction === null ? " nf-indeterminate" : ""}`} data-testid={`progress-${id}`}
      title={fraction === null ? "running" : `${run.value} / ${run.max}`}>
      <div style={{ width: fraction === null ? "30%" : `${fraction * 100}%` }} />
      {run.max ? <span className="nf-steps" data-testid={`steps-${id}`}>{run.value} / {run.max}</span> : null}
    </div>
  );
}

function Ports({ id, spec, collapsed, portProblems }: { id: string; spec: NodeTypeSpec; collapsed: boolean; portProblems: Map<string, Problem[]> }) {
  const { catalog } = useEditor();
  const rows = Math.max(spec.inputs.length, spec.outputs.length);
  if (collapsed) {
    // handles stay (edges need them) but sit on the header
    return (
      <div className="nf-collapsed-handles">
        {spec.inputs.map((i) => (
          <Handle key={i.name} type="target" position={Position.Left} id={IN + i.name} className="nf-handle"
            style={{ "--port": typeColour(catalog.types, i.type), top: 16 } as React.CSSProperties} />
        ))}
        {spec.params.map((p) => (
          <Handle key={p.name} type="target" position={Position.Left} id={IN + p.name} className="nf-handle nf-hidden-handle"
            style={{ top: 16 } as React.CSSProperties} />
        ))}
        {spec.outputs.map((o) => (
          <Handle key={o.name} type="source" position={Position.Right} id={OUT + o.name} className="nf-handle"
            style={{ "--port": typeColour(catalog.types, o.type), top: 16 } as React.CSSProperties} />
        ))}
      </div>
    );
  }
  return (
    <div className="nf-ports">
      {Array.from({ length: rows }, (_, row) => {
        const input = spec.inputs[row];
        const output = spec.outputs[row];
        const bad = input && portProblems.get(input.name);
        return (
          <div className="nf-port-row" key={row}>
            <span className={`nf-port nf-in${bad ? " nf-port-bad" : ""}`} title={bad ? bad.map((b) => b.message).join("\n") : ""}>
              {input && (
                <>
                  <Handle type="target" position={Position.Left} id={IN + input.name} className="nf-handle"
                    style={{ "--port": typeColour(catalog.types, input.type) } as React.CSSProperties}
                    data-testid={`handle-${id}-in-${input.name}`} />
                  <span className="nf-port-name">{input.name}{input.optional ? "" : ""}</span>
                  <span className="nf-port-type" style={{ color: typeColour(catalog.types, input.type) }}>{input.type}{input.optional ? "?" : ""}</span>
                </>
              )}
            </span>
            <span className="nf-port nf-out">
              {output && (
                <>
                  <span className="nf-port-type" style={{ color: typeColour(catalog.types, output.type) }}>{output.type}</span>
                  <span className="nf-port-name">{output.name}</span>
                  <Handle type="source" position={Position.Right} id={OUT + output.name} className="nf-handle"
                    style={{ "--port": typeColour(catalog.types, output.type) } as React.CSSProperties}
                    data-testid={`handle-${id}-out-${output.name}`} />
                </>
              )}
            </span>
          </div>
        );
      })}
    </div>
  );
}

/** A param fed by a link shows where its value comes from instead of a widget. */
function LinkedOr({ id, name, children }: { id: string; name: string; children: React.ReactNode }) {
  const linked = useLinkedSource(id, name);
  if (!linked) return <>{children}</>;
  return <span className="nf-linked" data-testid={`linked-${id}-${name}`}>← {linked}</span>;
}

function useLinkedSource(id: string, port: string): string | null {
  return useStore((s) => {
    const connections = s.connectionLookup.get(`${id}-target-${IN + port}`);
    if (!connections || connections.size === 0) return null;
    const first = connections.values().next().value!;
    return `${first.source}.${(first.sourceHandle || "").slice(OUT.length)}`;
  });
}

export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.max(1, Math.round(seconds * 1000))} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export const NodeView = memo(NodeViewInner);

const NO_PARAMS = new Set<string>();

/** The params of node `id` listed in the graph's "published" key (re-renders only when they change). */
function usePublished(id: string): Set<string> {
  const { doc } = useEditor();
  const key = useDocStore(doc, (s) => {
    const list = s.doc.extra.published;
    if (!Array.isArray(list)) return "";
    const mine = list.map((e) => (typeof e === "string" ? e : (e as { param?: string })?.param || "")).filter((a) => a.startsWith(id + "."));
    return mine.map((a) => a.slice(id.length + 1)).join("\n");
  });
  return useMemo(() => (key ? new Set(key.split("\n")) : NO_PARAMS), [key]);
}
