// The app's HTTP routes (nodeflow/app/api.py), as typed functions.
import type { Catalog, GraphFile, Problem } from "./types";

async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = body?.detail || body?.error || text || `${response.status} ${response.statusText}`;
    throw Object.assign(new Error(String(message)), { status: response.status, body });
  }
  return body as T;
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

export const api = {
  catalog: () => fetch("/api/catalog").then((r) => json<Catalog>(r)),
  start: () => fetch("/api/start").then((r) => json<{ graph: GraphFile; source: string; explicit: boolean; session: string }>(r)),
  examples: () =>
    fetch("/api/graphs").then((r) => json<{ graphs: { name: string; title: string; description: string }[]; default: string | null }>(r)),
  example: (name: string) => fetch(`/api/graphs/${encodeURIComponent(name)}`).then((r) => json<GraphFile>(r)),
  validate: (graph: GraphFile) => post("/api/validate", { graph }).then((r) => json<{ problems: Problem[] }>(r)),
  run: (graph: GraphFile, only?: string[]) => post("/api/run", { graph, only }),
  stop: () => post("/api/stop", {}).then((r) => json<{ stopped: boolean }>(r)),
  inputs: (extensions: string[] = []) =>
    fetch(`/api/inputs?ext=${encodeURIComponent(extensions.join(","))}`).then((r) => json<{ files: string[] }>(r)),
  upload: (file: File) =>
    fetch(`/api/upload?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file }).then((r) =>
      json<{ path: string }>(r),
    ),
  provenance: (file: File) =>
    fetch(`/api/provenance?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file }).then((r) =>
      json<{ graph: GraphFile }>(r),
    ),
  history: () =>
    fetch("/api/history?limit=50").then((r) =>
      json<{ runs: { id: string; started: number; status: string; duration_s: number | null; title: string; source: string }[] }>(r),
    ),
  historyRun: (id: string) => fetch(`/api/history/${encodeURIComponent(id)}`).then((r) => json<{ graph: GraphFile }>(r)),
};
