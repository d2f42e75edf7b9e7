// Subgraphs and Arrange in the editor: make a subgraph from the selection, unpack one, enter one and come
// back up (the breadcrumb), and lay the graph or the selection out. The engine does the graph surgery
// (POST /api/subgraphs/make, /unpack, /api/arrange); this module sends the document and loads the answer
// as one undoable step. Subgraph node types of the file's own definitions are learnt from /api/subgraphs.
import { useSyncExternalStore } from "react";
import { createStore } from "zustand/vanilla";
import type { UndoStack } from "./history";
import type { DocumentStore } from "./store/document";
import type { GraphFile, NodeTypeSpec } from "./types";

export type Definition = { nodes: GraphFile["nodes"]; inputs?: Record<string, [string, string][]>; params?: Record<string, [string, string][]>; outputs?: Record<string, [string, string]>; [key: string]: unknown };

export async function post<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(String(answer.error || answer.detail || `${response.status} ${response.statusText}`));
  return answer as T;
}

export const SUBGRAPH = "subgraph.";

/** Catalog entries for the subgraphs a file defines, so its subgraph nodes show their ports. */
export async function learnSubgraphs(file: GraphFile, specs: Map<string, NodeTypeSpec>): Promise<void> {
  if (!file.definitions || !Object.keys(file.definitions as object).length) return;
  const { nodes } = await post<{ nodes: NodeTypeSpec[] }>("/api/subgraphs", { graph: file });
  for (const entry of nodes) specs.set(entry.type, entry);
}

const selectedIds = (doc: DocumentStore) => doc.getState().nodes.filter((n) => n.selected).map((n) => n.id);

async function replace(doc: DocumentStore, specs: Map<string, NodeTypeSpec>, file: GraphFile): Promise<void> {
  await learnSubgraphs(file, specs);
  const state = doc.getState();
  state.load(file, state.undoStack(), true);
  doc.getState().commit();
}

/** Fold the selection into a subgraph node; `params` ([node, param] pairs) become params of that node. */
export async function makeSubgraph(
  doc: DocumentStore, specs: Map<string, NodeTypeSpec>, name = "subgraph", params: [string, string][] = [],
): Promise<void> {
  const selection = selectedIds(doc);
  if (!selection.length) throw new Error("select the nodes to put into a subgraph");
  const { graph } = await post<{ graph: GraphFile }>("/api/subgraphs/make", { graph: doc.getState().file(), selection, name, params });
  await replace(doc, specs, graph);
}

export async function unpackSubgraph(doc: DocumentStore, specs: Map<string, NodeTypeSpec>, node: string): Promise<void> {
  const { graph } = await post<{ graph: GraphFile }>("/api/subgraphs/unpack", { graph: doc.getState().file(), node });
  await replace(doc, specs, graph);
}

/** Lay out the selection (two or more nodes) or else the whole graph, as one undoable step. */
export async function arrange(doc: DocumentStore): Promise<void> {
  const selection = selectedIds(doc);
  const { positions } = await post<{ positions: Record<string, [number, number]> }>("/api/arrange", {
    graph: doc.getState().file(),
    selection: selection.length > 1 ? selection : undefined,
  });
  doc.getState().nodeChanges(Object.entries(positions).map(([id, [x, y]]) => ({ id, type: "position" as const, position: { x, y } })));
  doc.getState().commit();
}

// --- entering a subgraph: its inner nodes become the document until the breadcrumb takes you back up ---

export interface Level {
  parent: GraphFile; // the document one level up, as it was when entered
  name: string; // the definition being edited
  node: string; // the subgraph node that was entered
  undo: UndoStack<GraphFile>; // the level's own undo history, given back on the way up
  definition: Definition; // the definition as it was when entered
  library?: string; // the library file it comes from, while it is not copied into the graph
  readOnly: boolean; // a library subgraph (or one inside it): looked at, never written back
}

export const nav = createStore<{ path: Level[] }>(() => ({ path: [] }));

const top = () => nav.getState().path[nav.getState().path.length - 1];
/** Whether the open level may not be edited (a library subgraph not copied into the graph). */
export const readOnlyNow = (): boolean => !!top()?.readOnly;
export function useReadOnly(): boolean {
  return useSyncExternalStore((fn) => nav.subscribe(fn), readOnlyNow);
}

export async function enterSubgraph(doc: DocumentStore, specs: Map<string, NodeTypeSpec>, node: string): Promise<void> {
  const state = doc.getState();
  const parent = state.file();
  const entry = parent.nodes[node];
  if (!entry || !entry.type.startsWith(SUBGRAPH)) throw new Error(`${node} is not a subgraph node`);
  const name = entry.type.slice(SUBGRAPH.length);
  const definitions = (parent.definitions || {}) as Record<string, Definition>;
  let definition = definitions[name];
  let library: string | undefined;
  if (!definition) {
    // a library subgraph: shown as it is, read-only, until the user copies it into this graph
    const found = await post<{ definition: Definition; source: string }>("/api/subgraphs/definition", { graph: parent, name });
    definition = found.definition;
    library = found.source;
  }
  const readOnly = !!library || readOnlyNow();
  const inner: GraphFile = {
    nodeflow: 1,
    meta: { title: `${String(parent.meta?.title || "graph")} › ${name}` },
    nodes: definition.nodes,
    definitions,
  };
  nav.setState((s) => ({ path: [...s.path, { parent, name, node, undo: state.undoStack(), definition, library, readOnly }] }));
  await learnSubgraphs(inner, specs);
  doc.getState().load(inner);
}

/** Replace the open document's definitions as one undoable edit. */
export function setDefinitions(doc: DocumentStore, definitions: Record<string, Definition>): void {
  doc.setState((s) => ({ doc: { ...s.doc, extra: { ...s.doc.extra, definitions } }, version: s.version + 1, dirty: true }));
  doc.getState().commit();
}

/** Copy the open library subgraph into the graph's own definitions (same name, so it takes the library's
 * place in this graph only), and make the level editable. */
export function editCopy(doc: DocumentStore): void {
  const level = top();
  if (!level?.library) return;
  if (nav.getState().path.slice(0, -1).some((l) => l.readOnly)) throw new Error("copy the outer library subgraph first");
  const definitions = (doc.getState().doc.extra.definitions || {}) as Record<string, Definition>;
  const copy = JSON.parse(JSON.stringify(level.definition)) as Definition;
  setDefinitions(doc, { ...definitions, [level.name]: { ...copy, nodes: doc.getState().file().nodes } });
  nav.setState((s) => ({ path: [...s.path.slice(0, -1), { ...level, library: undefined, readOnly: false }] }));
}

/** The file one level up with `edited` (the open level's document) written into its definition. */
function writeBack(level: Level, edited: GraphFile): GraphFile {
  if (level.readOnly) return level.parent; // nothing of a read-only level is kept
  const definitions = { ...((edited.definitions || level.parent.definitions || {}) as Record<string, Definition>) };
  const old = definitions[level.name] || level.definition;
  const kept = (links?: Record<string, [string, string][]>) =>
    Object.fromEntries(Object.entries(links || {}).map(([k, v]) => [k, v.filter(([n]) => n in edited.nodes)]).filter(([, v]) => v.length));
  definitions[level.name] = {
    ...old,
    nodes: edited.nodes,
    inputs: kept(old.inputs),
    params: kept(old.params),
    outputs: Object.fromEntries(Object.entries(old.outputs || {}).filter(([, [n]]) => n in edited.nodes)),
  };
  return { ...level.parent, definitions };
}

/** The whole graph, with every open level written back (what Save and the stored tabs keep). */
export function rootFile(shown: GraphFile): GraphFile {
  return nav.getState().path.reduceRight((file, level) => writeBack(level, file), shown);
}

/** The flat-id prefix of the open level's nodes as the engine runs them (`sub/`, nested `sub/inner/`). */
export function insidePrefix(): string {
  const path = nav.getState().path;
  return path.length ? path.map((l) => l.node).join("/") + "/" : "";
}
export function usePrefix(): string {
  return useSyncExternalStore((fn) => nav.subscribe(fn), insidePrefix);
}

/** The undo history of the whole graph (the open levels have their own). */
export function rootUndo(): UndoStack<GraphFile> | undefined {
  return nav.getState().path[0]?.undo;
}

/** Go back up `levels` levels, writing each edited level into its parent's definition. */
export async function leaveSubgraph(doc: DocumentStore, specs: Map<string, NodeTypeSpec>, levels = 1): Promise<void> {
  for (let i = 0; i < levels; i++) {
    const path = nav.getState().path;
    const level = path[path.length - 1];
    if (!level) return;
    const parent = writeBack(level, doc.getState().file());
    nav.setState({ path: path.slice(0, -1) });
    await learnSubgraphs(parent, specs);
    doc.getState().load(parent, level.undo, true);
    if (!level.readOnly) doc.getState().commit();
  }
}
