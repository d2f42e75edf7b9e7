// Validation problems by node, with per-node subscriptions (like RunStore): a new validation result
// re-renders only the nodes whose problems changed.
import type { Problem } from "./types";

type Listener = () => void;
const NONE: Problem[] = [];

export class ProblemStore {
  all: Problem[] = [];
  private byNode = new Map<string, Problem[]>();
  // notes are not problems: they never block a run (a model the first run will download, and how big)
  private notesByNode = new Map<string, Problem[]>();
  private nodeListeners = new Map<string, Set<Listener>>();
  private listeners = new Set<Listener>();

  set(problems: Problem[]): void {
    const next = new Map<string, Problem[]>();
    for (const p of problems) {
      const key = p.node ?? "";
      const list = next.get(key) || [];
      list.push(p);
      next.set(key, list);
    }
    const changed = new Set<string>();
    for (const key of new Set([...this.byNode.keys(), ...next.keys()])) {
      if (JSON.stringify(this.byNode.get(key)) !== JSON.stringify(next.get(key))) changed.add(key);
    }
    this.all = problems;
    this.byNode = next;
    for (const key of changed) this.nodeListeners.get(key)?.forEach((fn) => fn());
    this.listeners.forEach((fn) => fn());
  }

  /** Replace the notes; nodes whose notes changed re-render. */
  setNotes(notes: Problem[]): void {
    const next = new Map<string, Problem[]>();
    for (const n of notes) {
      const key = n.node ?? "";
      next.set(key, [...(next.get(key) || []), n]);
    }
    const changed = [...new Set([...this.notesByNode.keys(), ...next.keys()])]
      .filter((key) => JSON.stringify(this.notesByNode.get(key)) !== JSON.stringify(next.get(key)));
    this.notesByNode = next;
    for (const key of changed) this.nodeListeners.get(key)?.forEach((fn) => fn());
  }

  notesOf(node: string): Problem[] {
    return this.notesByNode.get(node) || NONE;
  }

  of(node: string): Problem[] {
    return this.byNode.get(node) || NONE;
  }

  subscribeNode(node: string, fn: Listener): () => void {
    let set = this.nodeListeners.get(node);
    if (!set) this.nodeListeners.set(node, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
