// The app's HTTP routes (nodeflow/app/editor/routes.py), as typed functions, and the one event stream.
import type { RunEvent } from "./runState";
import type { Catalog, GraphFile, Problem } from "./types";

export interface ModelEntry {
  name: string; // what the source param takes
  kind: string; // llm, diffusion, embed, lora
  where: string; // models folder, Hugging Face cache, bundled
}

export interface Job {
  id: string;
  status: "queued" | "running" | "ok" | "error" | "cancelled" | "interrupted";
  title: string;
  source: string;
  created: number;
  started: number | null;
  finished: number | null;
  error: unknown;
  /** the queue it belongs to (serve and the editor each run their own) */
  owner?: string;
  /** higher runs first among queued jobs (serve's `priority`) */
  priority?: number;
  /** the token's client name that submitted it (serve's per-client tokens), if any */
  client?: string | null;
  /** the graph file it ran, when submitted by name (serve's `graph_name`) */
  graph?: string | null;
  /** what a finished job made: each with a url when it is a file the app serves */
  outputs?: JobOutput[];
}

export interface JobOutput {
  node: string;
  name: string;
  kind?: string;
  path?: string;
  url?: string | null;
}

/** How an artifact was made (nodeflow/delivery/record.py), less the graph. */
export interface ProvenanceRecord {
  artifact?: { node?: string; name?: string; item?: number };
  params?: Record<string, Record<string, unknown>>;
  seeds?: Record<string, number>;
  models?: Record<string, { name?: string; sha256?: string }>;
  device?: string;
}

export interface HistoryRun {
  id: string;
  started: number;
  status: string;
  duration_s: number | null;
  title: string;
  source: string;
  graph?: GraphFile;
  params?: Record<string, Record<string, unknown>>;
  error?: { node: string | null; message: string } | null;
  outputs?: JobOutput[];
}

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
  validate: (graph: GraphFile) => post("/api/validate", { graph }).then((r) => json<{ problems: Problem[]; notes?: Problem[] }>(r)),
  run: (graph: GraphFile, only?: string[], first?: number) => post("/api/run", { graph, only, ...(first ? { first } : {}) }),
  stop: () => post("/api/stop", {}).then((r) => json<{ stopped: boolean }>(r)),
  inputs: (extensions: string[] = []) =>
    fetch(`/api/inputs?ext=${encodeURIComponent(extensions.join(","))}`).then((r) =>
      json<{ files: string[]; recent: { name: string; url: string }[] }>(r),
    ),
  useOutput: (name: string) => post("/api/inputs/from-output", { name }).then((r) => json<{ path: string }>(r)),
  /** the models found on this machine, and the models folder a new one goes into */
  models: (kind: string) => fetch(`/api/models?kind=${encodeURIComponent(kind)}`).then((r) => json<{ models: ModelEntry[]; folder?: string }>(r)),
  outputFolder: () => fetch("/api/output-folder").then((r) => json<{ folder: string }>(r)),
  upload: (file: File) =>
    fetch(`/api/upload?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file }).then((r) =>
      json<{ path: string }>(r),
    ),
  provenance: (file: File) =>
    fetch(`/api/provenance?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file }).then((r) =>
      json<{ graph: GraphFile }>(r),
    ),
  /** what made a file the app serves (`/files/...`): its provenance record without the graph */
  itemProvenance: (url: string) =>
    fetch(url.replace(/^\/files\//, "/api/provenance/")).then((r) => json<{ file: string; record: ProvenanceRecord }>(r)),
  history: () => fetch("/api/history?limit=50").then((r) => json<{ runs: HistoryRun[] }>(r)),
  historyRun: (id: string) => fetch(`/api/history/${encodeURIComponent(id)}`).then((r) => json<HistoryRun & { graph: GraphFile }>(r)),
  /** a past run as events the canvas folds like live ones: its nodes' states, outputs and error */
  historyEvents: (id: string) => fetch(`/api/history/${encodeURIComponent(id)}/events`).then((r) => json<{ events: RunEvent[] }>(r)),

  publish: (graph: GraphFile) => post("/api/publish", { graph }),
  queue: () => fetch("/api/queue").then((r) => json<{ jobs: Job[] }>(r)),
  cancelJob: (id: string) => post(`/api/queue/${encodeURIComponent(id)}/cancel`, {}).then((r) => json<{ cancelled: boolean }>(r)),
  moveJob: (id: string, index: number) => post(`/api/queue/${encodeURIComponent(id)}/move`, { index }).then((r) => json<unknown>(r)),
  rerunJob: (id: string) => post(`/api/queue/${encodeURIComponent(id)}/rerun`, {}).then((r) => json<{ run: string }>(r)),

  /** The run events, one EventSource for the page, delivered in batches once per animation frame. */
  events(onBatch: (events: RunEvent[]) => void): () => void {
    let queue: RunEvent[] = [];
    let frame = 0;
    const source = new EventSource("/api/events");
    const flush = () => {
      frame = 0;
      const batch = queue;
      queue = [];
      onBatch(batch);
    };
    source.onmessage = (message) => {
      try {
        queue.push(JSON.parse(message.data));
      } catch {
        return;
      }
      if (!frame) frame = requestAnimationFrame(flush);
    };
    // closed before the page goes (a reload, a new address): Firefox reports a stream cut mid-load as an error
    const close = () => source.close();
    window.addEventListener("pagehide", close);
    return () => {
      window.removeEventListener("pagehide", close);
      source.close();
      if (frame) cancelAnimationFrame(frame);
    };
  },
};
