// Opening a ComfyUI file that was dropped or picked: its workflow JSON, API prompt, or a PNG carrying one.
// The engine converts it (POST /api/import); this module sends the file and words the report.
import type { GraphFile } from "./types";

export interface ImportReport {
  kind: string;
  container: string;
  nodes: number;
  unknown: { id: string; class_type: string; node: string }[];
  approximate: string[];
  warnings: string[];
  models: { node: string; param: string; file: string }[];
}

/** Whether decoded JSON is one of ComfyUI's formats rather than a nodeflow graph. */
export function looksLikeComfy(data: unknown): boolean {
  if (!data || typeof data !== "object" || Array.isArray(data) || "nodeflow" in (data as object)) return false;
  const doc = data as Record<string, unknown>;
  if (Array.isArray(doc.nodes)) return true;
  const values = Object.values(doc);
  return values.length > 0 && values.every((v) => !!v && typeof v === "object" && "class_type" in (v as object));
}

export async function importComfy(file: File): Promise<{ graph: GraphFile; report: ImportReport }> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const isPng = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50;
  let body: Record<string, string>;
  if (isPng) {
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    body = { name: file.name, base64: btoa(binary) };
  } else {
    body = { name: file.name, text: new TextDecoder().decode(bytes) };
  }
  const response = await fetch("/api/import", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${file.name}: ${answer.error || answer.detail || response.statusText}`);
  return answer;
}

export function describeImport(name: string, report: ImportReport): string {
  const what = report.kind === "workflow" ? "ComfyUI workflow" : "ComfyUI prompt";
  let text = `imported a ${what} from ${name}: ${report.nodes} nodes`;
  if (report.unknown.length) text += `; not mapped: ${report.unknown.map((u) => `${u.class_type} (${u.id})`).join(", ")}`;
  if (report.models.length) text += `; point ${report.models.map((m) => `${m.node}.${m.param}`).join(", ")} at local files`;
  if (report.approximate.length) text += `; ${report.approximate.length} approximate`;
  return text;
}
