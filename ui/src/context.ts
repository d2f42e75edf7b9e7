// What every canvas node can reach without re-rendering when the graph changes.
import { createContext, useContext, useSyncExternalStore } from "react";
import type { ProblemStore } from "./problemStore";
import type { NodeRun, RunStore } from "./runState";
import type { Catalog, NodeData } from "./types";

export interface EditorActions {
  setParam(node: string, name: string, value: unknown, commit: boolean): void;
  patchNode(node: string, patch: (data: NodeData) => NodeData): void;
  runTo(node: string): void;
  remove(node: string): void;
  notify(message: string, kind?: "info" | "error"): void;
  renameGroup(index: number, title: string): void;
}

export interface EditorContextValue {
  catalog: Catalog;
  runs: RunStore;
  problems: ProblemStore;
  actions: EditorActions;
}

export const EditorContext = createContext<EditorContextValue | null>(null);

export function useEditor(): EditorContextValue {
  const value = useContext(EditorContext);
  if (!value) throw new Error("EditorContext missing");
  return value;
}

export function useNodeRun(id: string): NodeRun | undefined {
  const { runs } = useEditor();
  return useSyncExternalStore(
    (fn) => runs.subscribeNode(id, fn),
    () => runs.node(id),
  );
}

export function useNodeProblems(id: string) {
  const { problems } = useEditor();
  return useSyncExternalStore(
    (fn) => problems.subscribeNode(id, fn),
    () => problems.of(id),
  );
}
