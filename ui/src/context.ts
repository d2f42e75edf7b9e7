// What every canvas node can reach without re-rendering when the graph changes: the catalog, the stores
// (document, runs, problems) and the commands.
import { createContext, useContext, useSyncExternalStore } from "react";
import type { ProblemStore } from "./problemStore";
import type { NodeRun } from "./runState";
import type { DocumentStore } from "./store/document";
import { usePrefix } from "./subgraphs";
import type { RunStore } from "./store/runs";
import type { Catalog, NodeTypeSpec } from "./types";

export interface EditorCommands {
  runTo(node: string): void;
  remove(node: string): void;
  togglePreview(node: string): void;
  /** open the paged view of every item a swept node made */
  showItems(node: string): void;
}

export interface EditorContextValue {
  catalog: Catalog;
  specs: Map<string, NodeTypeSpec>;
  doc: DocumentStore;
  runs: RunStore;
  problems: ProblemStore;
  commands: EditorCommands;
}

export const EditorContext = createContext<EditorContextValue | null>(null);

export function useEditor(): EditorContextValue {
  const value = useContext(EditorContext);
  if (!value) throw new Error("EditorContext missing");
  return value;
}

export function useNodeRun(id: string): NodeRun | undefined {
  const { runs } = useEditor();
  const flat = usePrefix() + id; // inside a subgraph, its nodes run under their path
  return useSyncExternalStore(
    (fn) => runs.subscribeNode(flat, fn),
    () => runs.node(flat),
  );
}

export function useNodeNotes(id: string) {
  const { problems } = useEditor();
  return useSyncExternalStore(
    (fn) => problems.subscribeNode(id, fn),
    () => problems.notesOf(id),
  );
}

export function useNodeProblems(id: string) {
  const { problems } = useEditor();
  return useSyncExternalStore(
    (fn) => problems.subscribeNode(id, fn),
    () => problems.of(id),
  );
}
