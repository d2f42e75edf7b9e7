// Subgraphs and Arrange in the editor: make a subgraph from the selection, unpack one, enter one and come
// back up (the breadcrumb), and lay the graph or the selection out. The engine does the graph surgery
// (POST /api/subgraphs/make, /unpack, /api/arrange); this module sends the document and loads the answer
// as one undoable step. Subgraph node types of the file's own definitions are learnt from /api/subgraphs.
import { createStore } from "zustand/vanilla";
import type { UndoStack } from "./history";
import type { DocumentStore } from "./store/document";
import type { GraphFile, NodeTypeSpec } from "./types";

type Definition = { nodes: GraphFile["nodes"]; inputs?: Record<string, [string, string][]>; params?: Record<string, [string, string][]>; outputs?: Record<string, [string, string]>; [key: string]: unknown };

async function post<T>(url: string, body: unknown): Promise<T> {
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

export async function makeSubgraph(doc: DocumentStore, specs: Map<string, NodeTypeSpec>, name = "subgraph"): Promise<void> {
  const selection = selectedIds(doc);
  if (!selection.length) throw new Error("select the nodes to put into a subgraph");
  const { graph } = await post<{ graph: GraphFile }>("/api/subgraphs/make", { graph: doc.getState().file(), selection, name });
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

interface Level {
  parent: GraphFile; // the document one level up, as it was when entered
  name: string; // the definition being edited
  node: string; // the subgraph node that was entered
  undo: UndoStack<GraphFile>; // the level's own undo history, given back on the way up
}

export const nav = createStore<{ path: Level[] }>(() => ({ path: [] }));

export async function enterSubgraph(doc: DocumentStore, specs: Map<string, NodeTypeSpec>, node: string): Promise<void> {
  const state = doc.getState();
  const parent = state.file();
  const entry = parent.nodes[node];
  if (!entry || !entry.type.startsWith(SUBGRAPH)) throw new Error(`${node} is not a subgraph node`);
  const name = entry.type.slice(SUBGRAPH.length);
  const definitions = (parent.definitions || {}) as Record<string, Definition>;
  const definition = definitions[name];
  if (!definition) throw new Error(`subgraph ${name} is a library subgraph: unpack it to edit its nodes here`);
  const inner: GraphFile = {
    nodeflow: 1,
    meta: { title: `${String(parent.meta?.title || "graph")} › ${name}` },
    nodes: definition.nodes,
    definitions,
  };
  nav.setState((s) => ({ path: [...s.path, { parent, name, node, undo: state.undoStack() }] }));
  await learnSubgraphs(inner, specs);
  doc.getState().load(inner);
}

/** Go back up `levels` levels, writing each edited level into its parent's definition. */
export async function leaveSubgraph(doc: DocumentStore, specs: Map<string, NodeTypeSpec>, levels = 1): Promise<void> {
  for (let i = 0; i < levels; i++) {
    const path = nav.getState().path;
    const level = path[path.length - 1];
    if (!level) return;
    const edited = doc.getState().file();
    const definitions = { ...((edited.definitions || level.parent.definitions || {}) as Record<string, Definition>) };
    const old = definitions[level.name];
    const kept = (links?: Record<string, [string, string][]>) =>
      Object.fromEntries(Object.entries(links || {}).map(([k, v]) => [k, v.filter(([n]) => n in edited.nodes)]).filter(([, v]) => v.length));
    definitions[level.name] = {
      ...old,
      nodes: edited.nodes,
      inputs: kept(old.inputs),
      params: kept(old.params),
      outputs: Object.fromEntries(Object.entries(old.outputs || {}).filter(([, [n]]) => n in edited.nodes)),
    };
    const parent = { ...level.parent, definitions };
    nav.setState({ path: path.slice(0, -1) });
    await learnSubgraphs(parent, specs);
    doc.getState().load(parent, level.undo, true);
    doc.getState().commit();
  }
}
