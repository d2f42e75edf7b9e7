// A param that takes several values (a sweep): a list of values, a range (from, to, step) or a file of
// lines. The graph file holds {"sweep": [...] | {"from", "to", "step"} | {"file"}}; the engine maps
// what depends on it over the items (nodeflow/plan/sweeps.py) and validation reports a bad sweep.
import { useState } from "react";
import type { ParamSpec } from "./types";

export type SweepValue = { sweep: unknown[] | { from: number; to: number; step: number } | { file: string }; zip?: string };

export function isSweep(value: unknown): value is SweepValue {
  return !!value && typeof value === "object" && !Array.isArray(value) && "sweep" in (value as object);
}

/** Values typed as text, one per line or comma, read by the param's kind. */
export function parseList(text: string, kind: ParamSpec["kind"]): unknown[] {
  const parts = text.split(kind === "text" || kind === "string" ? /\n/ : /[\n,]/).map((t) => t.trim()).filter(Boolean);
  if (kind === "int" || kind === "seed") return parts.map((t) => Math.trunc(Number(t)));
  if (kind === "float") return parts.map(Number);
  if (kind === "bool") return parts.map((t) => ["1", "true", "yes", "on"].includes(t.toLowerCase()));
  return parts;
}

function mode(value: SweepValue): "list" | "range" | "file" {
  if (Array.isArray(value.sweep)) return "list";
  return "file" in value.sweep ? "file" : "range";
}

export function SweepEditor({ node, spec, value, onChange }: {
  node: string; spec: ParamSpec; value: SweepValue; onChange(value: unknown, commit: boolean): void;
}) {
  const current = mode(value);
  const numeric = ["int", "float", "seed"].includes(spec.kind);
  const [text, setText] = useState(Array.isArray(value.sweep) ? value.sweep.map(String).join(spec.kind === "text" || spec.kind === "string" ? "\n" : ", ") : "");
  const set = (sweep: SweepValue["sweep"], commit = true) => onChange({ ...value, sweep }, commit);
  const range = !Array.isArray(value.sweep) && "from" in value.sweep ? value.sweep : { from: 0, to: 1, step: 1 };
  return (
    <span className="nf-col nf-sweep nodrag" data-testid={`sweep-${node}-${spec.name}`}>
      <span className="nf-row nf-sweep-modes">
        {(["list", ...(numeric ? ["range"] : []), "file"] as const).map((m) => (
          <button key={m} type="button" className={m === current ? "on" : ""} data-testid={`sweep-mode-${node}-${spec.name}-${m}`}
            onClick={() => set(m === "list" ? parseList(text, spec.kind) : m === "range" ? range : { file: "" })}>{m}</button>
        ))}
        <button type="button" title="back to one value" aria-label="back to one value" data-testid={`sweep-off-${node}-${spec.name}`}
          onClick={() => onChange(Array.isArray(value.sweep) && value.sweep.length ? value.sweep[0] : spec.default, true)}>✕</button>
      </span>
      {current === "list" && (
        <textarea className="nf-input nf-textarea nowheel" rows={2} data-testid={`sweep-list-${node}-${spec.name}`} aria-label={`${spec.name} values`} value={text}
          placeholder={numeric ? "1, 2, 3" : "one value a line"}
          onChange={(e) => { setText(e.target.value); set(parseList(e.target.value, spec.kind), false); }}
          onBlur={() => set(parseList(text, spec.kind))} />
      )}
      {current === "range" && (
        <span className="nf-row">
          {(["from", "to", "step"] as const).map((k) => (
            <input key={k} type="number" className="nf-input nf-number" title={k} data-testid={`sweep-${k}-${node}-${spec.name}`} aria-label={`${spec.name} ${k}`}
              defaultValue={range[k]} onBlur={(e) => set({ ...range, [k]: Number(e.target.value) })} />
          ))}
        </span>
      )}
      {current === "file" && (
        <input type="text" className="nf-input" placeholder="a file of lines, e.g. prompts.txt" data-testid={`sweep-file-${node}-${spec.name}`} aria-label={`${spec.name} values file`}
          defaultValue={!Array.isArray(value.sweep) && "file" in value.sweep ? value.sweep.file : ""}
          onBlur={(e) => set({ file: e.target.value.trim() })} />
      )}
      <span className="nf-hint">{describe(value)}</span>
    </span>
  );
}

export function describe(value: SweepValue): string {
  const s = value.sweep;
  if (Array.isArray(s)) return `${s.length} value${s.length === 1 ? "" : "s"}: the nodes after this run once for each`;
  if ("file" in s) return "one value per line of the file";
  const count = s.step > 0 && s.to >= s.from ? Math.floor((s.to - s.from) / s.step + 1e-9) + 1 : 0;
  return `${count} values from ${s.from} to ${s.to}`;
}
