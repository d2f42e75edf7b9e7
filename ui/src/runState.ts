// What the run events say about each node, folded into a view the canvas paints. Pure reducer plus a
// small store that lets each node subscribe to its own state only (500 nodes must not all re-render
// for one progress event).

export type NodeStatus = "idle" | "queued" | "running" | "cached" | "done" | "error";

export interface NodeRun {
  status: NodeStatus;
  value?: number;
  max?: number;
  duration?: number;
  message?: string;
  traceback?: string;
  reason?: string;
  image?: string;
  text?: string;
  audio?: string;
  video?: string;
  file?: string;
  outputs?: Record<string, string>;
}

export interface RunView {
  run: string | null;
  status: "idle" | "running" | "ok" | "error" | "cancelled";
  nodes: Record<string, NodeRun>;
  duration?: number;
  seq: number; // the id of the last event folded in
}

export interface RunEvent {
  event: string;
  run: string;
  t?: number;
  seq?: number;
  node?: string;
  [key: string]: unknown;
}

export const EMPTY_VIEW: RunView = { run: null, status: "idle", nodes: {}, seq: 0 };

export function applyEvent(view: RunView, ev: RunEvent): RunView {
  const seq = typeof ev.seq === "number" ? ev.seq : view.seq;
  if (ev.event === "run_started") {
    const nodes: Record<string, NodeRun> = {};
    for (const id of (ev.nodes as string[]) || []) nodes[id] = { status: "queued" };
    return { run: ev.run, status: "running", nodes, seq };
  }
  if (view.run !== null && ev.run !== view.run) return view; // an event of another run
  if (ev.event === "run_finished") {
    const status = (ev.status as RunView["status"]) || "ok";
    const nodes = { ...view.nodes };
    // nodes still queued when a run stops did not run: drop their badge
    for (const [id, state] of Object.entries(nodes)) {
      if (state.status === "queued" || state.status === "running") nodes[id] = { ...state, status: "idle" };
    }
    return { ...view, status, nodes, duration: ev.duration_s as number, seq };
  }
  const id = ev.node;
  if (!id) return { ...view, seq };
  const before = view.nodes[id] || { status: "idle" };
  let after: NodeRun = before;
  switch (ev.event) {
    case "node_started":
      after = { status: "running", reason: ev.reason as string, value: 0, max: 0 };
      break;
    case "node_cached":
      after = { ...before, status: "cached", reason: "cached: nothing it depends on changed" };
      break;
    case "progress":
      after = { ...before, value: ev.value as number, max: ev.max as number };
      break;
    case "preview": {
      const kind = ev.kind as string;
      if (kind === "text") after = { ...before, text: ev.text as string };
      else if (kind === "image" || kind === "audio" || kind === "video") after = { ...before, [kind]: ev.url as string };
      else after = { ...before, file: ev.url as string };
      break;
    }
    case "node_finished":
      after = {
        ...before,
        status: "done",
        duration: ev.duration_s as number,
        outputs: ev.outputs as Record<string, string>,
      };
      break;
    case "node_error":
      after = { ...before, status: "error", message: ev.message as string, traceback: ev.traceback as string };
      break;
    default:
      return { ...view, seq };
  }
  return { ...view, nodes: { ...view.nodes, [id]: after }, seq };
}

type Listener = () => void;

export class RunStore {
  view: RunView = EMPTY_VIEW;
  private nodeListeners = new Map<string, Set<Listener>>();
  private listeners = new Set<Listener>();

  apply(events: RunEvent[]): void {
    if (!events.length) return;
    const before = this.view;
    let view = before;
    for (const ev of events) view = applyEvent(view, ev);
    this.view = view;
    const changed = new Set<string>();
    for (const id of new Set([...Object.keys(before.nodes), ...Object.keys(view.nodes)])) {
      if (before.nodes[id] !== view.nodes[id]) changed.add(id);
    }
    for (const id of changed) this.nodeListeners.get(id)?.forEach((fn) => fn());
    if (before.status !== view.status || before.run !== view.run || changed.size) this.listeners.forEach((fn) => fn());
  }

  node(id: string): NodeRun | undefined {
    return this.view.nodes[id];
  }

  subscribeNode(id: string, fn: Listener): () => void {
    let set = this.nodeListeners.get(id);
    if (!set) this.nodeListeners.set(id, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
