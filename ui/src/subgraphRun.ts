// A subgraph node shows the progress of what runs inside it: its inner nodes run under ids that are paths
// (`up/resize`, nested `a/b/c`), and each path's top id gets their combined state. A pure function.
import type { NodeRun, NodeStatus } from "./runState";

const RANK: NodeStatus[] = ["error", "running", "stopped", "queued", "skipped", "cancelled", "done", "cached", "idle"];

/** The state of every subgraph node `ids` lie inside, folded from its inner nodes' states. */
export function rollUp(nodes: Record<string, NodeRun>, ids: string[]): Record<string, NodeRun> {
  const tops = new Set(ids.filter((id) => id.includes("/")).flatMap((id) => {
    const parts = id.split("/");
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join("/"));
  }));
  if (!tops.size) return nodes;
  const out = { ...nodes };
  for (const top of tops) {
    const inner = Object.entries(nodes).filter(([id]) => id.startsWith(top + "/") && !tops.has(id)).map(([, s]) => s);
    if (!inner.length) continue;
    const finished = inner.filter((s) => s.status === "done" || s.status === "cached").length;
    let status = RANK.find((r) => inner.some((s) => s.status === r)) || "idle";
    if (status === "queued" && finished > 0) status = "running"; // part of it has run: it is under way
    const failed = inner.find((s) => s.status === "error");
    out[top] = {
      ...(nodes[top] || {}),
      status,
      value: finished,
      max: inner.length,
      reason: `${finished} of ${inner.length} inner nodes finished`,
      ...(failed ? { message: failed.message, traceback: failed.traceback } : {}),
    };
  }
  return out;
}
