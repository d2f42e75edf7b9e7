// What the run events say about each node, folded into a view the canvas paints: a pure reducer.
// store/runs.ts keeps one view per run and lets each node subscribe to its own state only.
import { rollUp } from "./subgraphRun";

/** "stale": done or cached by the shown run, but edited since (it or something upstream). */
export type NodeStatus = "idle" | "queued" | "running" | "cached" | "done" | "error" | "blocked" | "stopped" | "cancelled" | "skipped" | "stale";

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
  /** a swept node: the state of each of its items, in item order (its own status sums them up) */
  items?: ItemRun[];
}

/** One item of a swept node: its state, its image preview and its error. */
export interface ItemRun {
  status: NodeStatus;
  image?: string;
  message?: string;
  /** the files the item wrote, by output name (what its provenance is read from) */
  urls?: Record<string, string>;
  /** named texts the node said about the item (a dataset writer's "scores" and "decision") */
  notes?: Record<string, string>;
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

/** What a swept node says as a whole: an error in any item shows (with the item named), else it runs
 * while any item runs or waits after another finished, and is done or cached once every item is. */
export function summarise(node: NodeRun, items: ItemRun[]): NodeRun {
  const count = (s: NodeStatus) => items.filter((i) => i.status === s).length;
  const finished = count("done") + count("cached");
  const failed = items.findIndex((i) => i.status === "error");
  let status: NodeStatus;
  if (failed >= 0) status = "error";
  else if (count("running") || (count("queued") && finished)) status = "running";
  else if (finished === items.length) status = count("cached") === items.length ? "cached" : "done";
  else status = (["queued", "stopped", "cancelled", "skipped"] as NodeStatus[]).find((s) => count(s)) || "idle";
  const out: NodeRun = { ...node, status, items, value: finished, max: items.length };
  if (failed >= 0) out.message = `item ${failed + 1} of ${items.length}: ${items[failed].message || "failed"}`;
  const shown = [...items].reverse().find((i) => i.image);
  if (shown) out.image = shown.image;
  return out;
}

/** An event about one item of a swept node, folded into that item's state. */
function applyItemEvent(before: NodeRun, ev: RunEvent, index: number): NodeRun {
  const items = [...(before.items || [])];
  while (items.length <= index) items.push({ status: "queued" });
  const item = items[index];
  switch (ev.event) {
    case "node_started":
      items[index] = { ...item, status: "running" };
      break;
    case "node_cached":
      items[index] = { ...item, status: "cached" };
      break;
    case "node_finished":
      items[index] = { ...item, status: "done", ...(ev.urls ? { urls: ev.urls as Record<string, string> } : {}) };
      break;
    case "node_error":
      items[index] = { ...item, status: "error", message: ev.message as string };
      break;
    case "node_skipped": {
      const why = String(ev.reason || "");
      const status: NodeStatus = why === "cancelled" ? (item.status === "running" ? "stopped" : "cancelled") : "skipped";
      if (item.status !== "error" && item.status !== "done") items[index] = { ...item, status };
      break;
    }
    case "preview":
      if (ev.kind === "image" && ev.url) items[index] = { ...item, image: ev.url as string };
      else if (ev.kind === "text" && typeof ev.name === "string" && ev.name) {
        items[index] = { ...item, notes: { ...item.notes, [ev.name]: String(ev.text ?? "") } };
      }
      break;
    default:
      return before;
  }
  const reason = ev.event === "node_started" ? (ev.reason as string) : before.reason;
  const after = summarise({ ...before, reason }, items);
  if (ev.event === "node_error") after.traceback = ev.traceback as string;
  if (ev.event === "node_finished") after.urls = { ...before.urls, ...((ev.urls as Record<string, string>) || {}) };
  return after;
}

/** Why a swept node that made some of its items did not make the rest. */
function partReason(items: ItemRun[]): string {
  const made = items.filter((i) => i.status === "done" || i.status === "cached").length;
  return `made ${made} of ${items.length} items; the run ended before the rest`;
}

export const EMPTY_VIEW: RunView = { run: null, status: "idle", nodes: {}, seq: 0 };

export function applyEvent(view: RunView, ev: RunEvent): RunView {
  const seq = typeof ev.seq === "number" ? ev.seq : view.seq;
  if (ev.event === "run_started") {
    const nodes: Record<string, NodeRun> = {};
    const counts = (ev.items as Record<string, number>) || {};
    for (const id of (ev.nodes as string[]) || []) {
      const n = counts[id];
      nodes[id] = n > 1 ? { status: "queued", items: Array.from({ length: n }, () => ({ status: "queued" as NodeStatus })), value: 0, max: n } : { status: "queued" };
    }
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
      else if (status === "error") [after, reason] = state.status === "running" ? ["stopped", "stopped: another node failed"] : ["skipped", "not run: the run ended at an error first"];
      if (state.items) {
        // a swept node: only the items that had not finished change
        const items = state.items.map((item) =>
          item.status === "queued" ? { ...item, status: status === "ok" ? "cached" as NodeStatus : status === "error" ? "skipped" as NodeStatus : "cancelled" as NodeStatus }
            : item.status === "running" ? { ...item, status: "stopped" as NodeStatus } : item);
        nodes[id] = { ...summarise(state, items), reason: state.items.some((i) => i.status === "done") ? partReason(items) : reason };
      } else nodes[id] = { ...state, status: after, reason };
    }
    return { ...view, status, nodes: rollUp(nodes, Object.keys(nodes)), duration: ev.duration_s as number, seq };
  }
  const id = ev.node;
  if (!id) return { ...view, seq };
  const before = view.nodes[id] || { status: "idle" };
  if (typeof ev.item === "number" && before.items) {
    const after = applyItemEvent(before, ev, ev.item);
    return after === before ? { ...view, seq } : { ...view, nodes: rollUp({ ...view.nodes, [id]: after }, [id]), seq };
  }
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
