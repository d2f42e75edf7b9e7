// What the run events say about each node, folded into a view the canvas paints: a pure reducer.
// store/runs.ts keeps one view per run and lets each node subscribe to its own state only.
import { rollUp } from "./subgraphRun";

export type NodeStatus = "idle" | "queued" | "running" | "cached" | "done" | "error" | "blocked" | "stopped" | "cancelled" | "skipped";

export interface NodeRun {
  status: NodeStatus;
  value?: number;
  max?: number;
  duration?: number;
  message?: string;
  traceback?: string;
  reason?: string;
  image?: string;
  /** images by preview name (a trainer's loss curve and its samples both stay in view) */
  images?: Record<string, string>;
  text?: string;
  audio?: string;
  video?: string;
  file?: string;
  outputs?: Record<string, string>;
  /** output files, by output name: where each result lies (served by the app) */
  urls?: Record<string, string>;
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
    return { run: ev.run, status: "running", nodes: rollUp(nodes, Object.keys(nodes)), seq };
  }
  if (view.run !== null && ev.run !== view.run) return view; // an event of another run
  if (ev.event === "run_finished") {
    const status = (ev.status as RunView["status"]) || "ok";
    const nodes = { ...view.nodes };
    // say what became of the nodes that did not finish: a node left queued by a finished run was not
    // needed (what it feeds was cached), so its last result still stands
    for (const [id, state] of Object.entries(nodes)) {
      if (state.status !== "queued" && state.status !== "running") continue;
      let after: NodeStatus = state.status === "running" ? "stopped" : "cancelled";
      let reason = state.status === "running" ? "stopped while running" : "cancelled before it ran";
      if (status === "ok") [after, reason] = ["cached", "cached: nothing it depends on changed"];
      else if (status === "error") [after, reason] = state.status === "running" ? ["stopped", "stopped: another node failed"] : ["skipped", "skipped: the run failed before it"];
      nodes[id] = { ...state, status: after, reason };
    }
    return { ...view, status, nodes: rollUp(nodes, Object.keys(nodes)), duration: ev.duration_s as number, seq };
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
    case "node_skipped": {
      const why = String(ev.reason || "not run");
      // the scheduler may say it twice (the task, then the rest of the run): stopped stays stopped
      if (why === "cancelled" && (before.status === "running" || before.status === "stopped")) after = { ...before, status: "stopped", reason: "stopped while running" };
      else if (why === "cancelled") after = { ...before, status: "cancelled", reason: "cancelled before it ran" };
      else after = { ...before, status: "skipped", reason: `skipped: ${why}` };
      break;
    }
    case "preview": {
      const kind = ev.kind as string;
      if (kind === "text") after = { ...before, text: ev.text as string };
      else if (kind === "image" && ev.url) {
        const slot = typeof ev.name === "string" && ev.name ? ev.name : "image";
        after = { ...before, image: ev.url as string, images: { ...before.images, [slot]: ev.url as string } };
      } else if (kind === "image" || kind === "audio" || kind === "video") after = { ...before, [kind]: ev.url as string };
      else after = { ...before, file: ev.url as string };
      break;
    }
    case "node_finished":
      after = {
        ...before,
        status: "done",
        duration: ev.duration_s as number,
        outputs: ev.outputs as Record<string, string>,
        urls: (ev.urls as Record<string, string>) || before.urls,
      };
      break;
    case "node_error":
      after = { ...before, status: "error", message: ev.message as string, traceback: ev.traceback as string };
      break;
    case "node_blocked": // a guard did its job: the reason on the node, the run goes on
      after = { ...before, status: "blocked", message: `Blocked: ${ev.reason as string}` };
      break;
    default:
      return { ...view, seq };
  }
  return { ...view, nodes: rollUp({ ...view.nodes, [id]: after }, [id]), seq };
}
