// Which nodes an edit makes stale: a node whose params, mode or incoming links changed since the run on
// show, and everything it feeds. Their "done" and "cached" badges no longer say what a run would do.
import type { Edge, Node } from "@xyflow/react";

type AnyNode = Node<Record<string, unknown>>;

/** Ids of the nodes whose params, mode or incoming links differ between two versions of a graph. */
export function editedNodes(prev: AnyNode[], next: AnyNode[], prevEdges: Edge[], nextEdges: Edge[]): string[] {
  const before = new Map(prev.map((n) => [n.id, n]));
  const edited = new Set<string>();
  for (const node of next) {
    const old = before.get(node.id);
    if (!old || old.data === node.data) continue;
    if (old.data.params !== node.data.params || old.data.mode !== node.data.mode) edited.add(node.id);
  }
  if (prevEdges !== nextEdges) {
    const key = (e: Edge) => `${e.source}\u0000${e.sourceHandle}\u0000${e.target}\u0000${e.targetHandle}`;
    const had = new Set(prevEdges.map(key));
    const has = new Set(nextEdges.map(key));
    for (const e of nextEdges) if (!had.has(key(e))) edited.add(e.target);
    for (const e of prevEdges) if (!has.has(key(e))) edited.add(e.target);
  }
  return [...edited];
}

/** `ids` and every node downstream of them. */
export function withDownstream(ids: Iterable<string>, edges: Edge[]): Set<string> {
  const readers = new Map<string, string[]>();
  for (const e of edges) readers.set(e.source, [...(readers.get(e.source) || []), e.target]);
  const out = new Set<string>();
  const stack = [...ids];
  while (stack.length) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    stack.push(...(readers.get(id) || []));
  }
  return out;
}
