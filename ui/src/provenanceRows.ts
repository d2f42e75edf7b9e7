// A provenance record as rows a person reads ("node.param" -> value), and the rows that differ between
// two records: what the results view shows for one item and for two compared. Pure, unit-tested.
import type { ProvenanceRecord } from "./api";
import type { ItemRun } from "./runState";

/** The file an item's provenance is read from: what it wrote (an output node), else its preview. */
export function provenanceUrl(item: ItemRun): string | null {
  const written = item.urls && Object.values(item.urls)[0];
  return written || item.image || null;
}

/** A record as rows ("node.param" -> value), in a stable order, for reading and for comparing. */
export function provenanceRows(record: ProvenanceRecord): [string, string][] {
  const rows: [string, string][] = [];
  for (const node of Object.keys(record.params || {}).sort()) {
    const params = record.params![node];
    for (const name of Object.keys(params).sort()) rows.push([`${node}.${name}`, show(params[name])]);
  }
  for (const [key, model] of Object.entries(record.models || {})) {
    rows.push([`model ${key}`, `${model.name ?? "?"}${model.sha256 ? ` (sha256 ${model.sha256.slice(0, 12)}…)` : ""}`]);
  }
  if (record.device) rows.push(["device", record.device]);
  return rows;
}

/** The rows whose values differ between two records (a key one of them lacks counts as differing). */
export function differingRows(a: ProvenanceRecord, b: ProvenanceRecord): [string, string, string][] {
  const left = new Map(provenanceRows(a));
  const right = new Map(provenanceRows(b));
  const keys = [...new Set([...left.keys(), ...right.keys()])];
  return keys.filter((k) => left.get(k) !== right.get(k)).map((k) => [k, left.get(k) ?? "—", right.get(k) ?? "—"]);
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
