// Graph file <-> React Flow conversion. Pure functions (no DOM), unit-tested in ui/test/.
//
// A canvas node keeps everything of its file entry except its position (React Flow's `position`) and
// its links (React Flow edges), so that a file loaded and saved unchanged comes back unchanged:
// unknown keys, titles, groups and the viewport all survive.
import type { Edge, Node } from "@xyflow/react";
import { IN, OUT } from "./compat";
import type { FileGroup, FileNode, GraphFile, Link, NodeData, NodeTypeSpec, Viewport } from "./types";

export type FlowNode = Node<NodeData, "nf">;

/** The parts of a file that are not nodes or links: kept beside the canvas and written back as they were. */
export interface DocState {
  meta: Record<string, unknown>;
  groups: FileGroup[];
  ui: Record<string, unknown>; // the file's "ui" without "viewport"
  extra: Record<string, unknown>; // unknown top-level keys
  hasViewport: boolean;
}

export interface Flow {
  doc: DocState;
  nodes: FlowNode[];
  edges: Edge[];
  viewport: Viewport | null;
}

const KNOWN_NODE_KEYS = new Set(["type", "params", "inputs", "mode", "version", "ui"]);
const KNOWN_FILE_KEYS = new Set(["nodeflow", "meta", "nodes", "groups", "ui"]);

export function edgeId(source: string, output: string, target: string, port: string): string {
  return `e:${source}.${output}->${target}.${port}`;
}

export function makeEdge(source: string, output: string, target: string, port: string): Edge {
  return {
    id: edgeId(source, output, target, port),
    source,
    sourceHandle: OUT + output,
    target,
    targetHandle: IN + port,
  };
}

export function handleName(handle: string | null | undefined): string {
  if (!handle) return "";
  if (handle.startsWith(IN)) return handle.slice(IN.length);
  if (handle.startsWith(OUT)) return handle.slice(OUT.length);
  return handle;
}

/** Check the rough shape of an uploaded file; returns a message saying what is wrong, or null. */
export function fileShapeError(data: unknown): string | null {
  if (!data || typeof data !== "object" || Array.isArray(data)) return "the file must hold a JSON object";
  const file = data as Record<string, unknown>;
  if (typeof file.nodeflow !== "number") return 'not a nodeflow graph: missing "nodeflow": 1';
  if (!file.nodes || typeof file.nodes !== "object" || Array.isArray(file.nodes))
    return '"nodes" must be an object of node id -> node';
  for (const [id, node] of Object.entries(file.nodes as Record<string, unknown>)) {
    if (!node || typeof node !== "object" || typeof (node as FileNode).type !== "string")
      return `node ${id}: missing "type"`;
  }
  return null;
}

export function fileToFlow(file: GraphFile): Flow {
  const nodes: FlowNode[] = [];
  const edges: Edge[] = [];
  const ids = new Set(Object.keys(file.nodes || {}));
  let unplaced = 0;
  for (const [id, entry] of Object.entries(file.nodes || {})) {
    const { pos, ...ui } = (entry.ui || {}) as NonNullable<FileNode["ui"]>;
    const extra: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(entry)) if (!KNOWN_NODE_KEYS.has(key)) extra[key] = value;
    const dangling: Record<string, Link> = {};
    for (const [port, link] of Object.entries(entry.inputs || {})) {
      if (Array.isArray(link) && ids.has(link[0])) edges.push(makeEdge(link[0], link[1], id, port));
      else dangling[port] = link;
    }
    const position =
      Array.isArray(pos) && pos.length === 2 ? { x: Number(pos[0]), y: Number(pos[1]) } : autoPosition(unplaced++);
    const data: NodeData = {
      type: entry.type,
      params: { ...(entry.params || {}) },
      mode: entry.mode || "run",
      ui,
      extra,
      dangling,
    };
    if (entry.version !== undefined) data.version = entry.version;
    nodes.push({ id, type: "nf", position, data });
  }
  const { viewport, ...fileUi } = (file.ui || {}) as NonNullable<GraphFile["ui"]>;
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file)) if (!KNOWN_FILE_KEYS.has(key)) extra[key] = value;
  return {
    doc: {
      meta: { ...(file.meta || {}) },
      groups: (file.groups || []).map((g) => ({ ...g, nodes: [...(g.nodes || [])] })),
      ui: fileUi,
      extra,
      hasViewport: !!viewport,
    },
    nodes,
    edges,
    viewport: viewport ? { x: viewport.x, y: viewport.y, zoom: viewport.zoom } : null,
  };
}

function autoPosition(index: number): { x: number; y: number } {
  return { x: 40 + (index % 6) * 280, y: 40 + Math.floor(index / 6) * 260 };
}

export function nodeToFile(node: FlowNode, edges: Edge[]): FileNode {
  const d = node.data;
  const entry: FileNode = { ...d.extra, type: d.type };
  if (Object.keys(d.params).length) entry.params = { ...d.params };
  const inputs: Record<string, Link> = { ...d.dangling };
  for (const edge of edges) {
    if (edge.target === node.id) inputs[handleName(edge.targetHandle)] = [edge.source, handleName(edge.sourceHandle)];
  }
  if (Object.keys(inputs).length) entry.inputs = sortKeys(inputs);
  if (d.mode && d.mode !== "run") entry.mode = d.mode;
  if (d.version !== undefined) entry.version = d.version; // written back only when the file had it
  entry.ui = { ...d.ui, pos: [node.position.x, node.position.y] };
  return entry;
}

export function flowToFile(flow: Flow): GraphFile {
  const edgesByTarget = new Map<string, Edge[]>();
  for (const edge of flow.edges) {
    const list = edgesByTarget.get(edge.target) || [];
    list.push(edge);
    edgesByTarget.set(edge.target, list);
  }
  const nodes: Record<string, FileNode> = {};
  for (const node of flow.nodes) nodes[node.id] = nodeToFile(node, edgesByTarget.get(node.id) || []);
  const file: GraphFile = { ...flow.doc.extra, nodeflow: 1, meta: flow.doc.meta, nodes };
  const ids = new Set(Object.keys(nodes));
  const groups = flow.doc.groups.map((g) => ({ ...g, nodes: g.nodes.filter((id) => ids.has(id)) }));
  if (groups.length) file.groups = groups;
  const ui: Record<string, unknown> = { ...flow.doc.ui };
  if (flow.viewport) ui.viewport = { ...flow.viewport };
  if (Object.keys(ui).length) file.ui = ui as GraphFile["ui"];
  return file;
}

/** JSON text as the engine writes it: keys sorted, two-space indent, a final newline. */
export function stringifyGraph(file: GraphFile): string {
  return JSON.stringify(sortDeep(file), null, 2) + "\n";
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) out[key] = sortDeep((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

function sortKeys<T>(obj: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(obj).sort()) out[key] = obj[key];
  return out;
}

/** A readable id for a new node of `type`: the last part of the type name, numbered when taken. */
export function newNodeId(type: string, taken: Set<string> | ((id: string) => boolean)): string {
  return uniqueId((type.split(".").pop() || "node").replace(/[^A-Za-z0-9_-]+/g, "_") || "node", taken);
}

/** `base`, or `base_2`, `base_3`... whichever is free first. */
export function uniqueId(base: string, taken: Set<string> | ((id: string) => boolean)): string {
  const isTaken = typeof taken === "function" ? taken : (id: string) => taken.has(id);
  if (!isTaken(base)) return base;
  for (let n = 2; ; n++) if (!isTaken(`${base}_${n}`)) return `${base}_${n}`;
}

export function defaultParams(spec: NodeTypeSpec): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const p of spec.params) if (p.default !== null && p.default !== undefined) params[p.name] = p.default;
  return params;
}

export function newNode(spec: NodeTypeSpec, id: string, position: { x: number; y: number }): FlowNode {
  const data: NodeData = { type: spec.type, params: defaultParams(spec), mode: "run", ui: {}, extra: {}, dangling: {} };
  // a file without "version" means version 1, which the engine would migrate: say which version this is
  if (spec.version !== 1) data.version = spec.version;
  return { id, type: "nf", position, data };
}

/** Would a link source -> target close a loop? (target already reaches source through links) */
export function wouldCycle(edges: Edge[], source: string, target: string): boolean {
  if (source === target) return true;
  const downstream = new Map<string, string[]>();
  for (const e of edges) {
    const list = downstream.get(e.source) || [];
    list.push(e.target);
    downstream.set(e.source, list);
  }
  const stack = [target];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === source) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(downstream.get(id) || []));
  }
  return false;
}

/** Add a link, replacing whatever fed that input before (an input takes one link). */
export function connect(edges: Edge[], source: string, output: string, target: string, port: string): Edge[] {
  const kept = edges.filter((e) => !(e.target === target && handleName(e.targetHandle) === port));
  return [...kept, makeEdge(source, output, target, port)];
}

// --- copy and paste ------------------------------------------------------------------------------

export interface ClipboardPayload {
  nodeflow_clipboard: 1;
  nodes: Record<string, FileNode>;
}

/** The selected nodes as file entries, with only the links among them. */
export function copyNodes(nodes: FlowNode[], edges: Edge[]): ClipboardPayload {
  const ids = new Set(nodes.map((n) => n.id));
  const inside = edges.filter((e) => ids.has(e.source) && ids.has(e.target));
  const out: Record<string, FileNode> = {};
  for (const node of nodes) {
    const entry = nodeToFile({ ...node, data: { ...node.data, dangling: {} } }, inside);
    out[node.id] = entry;
  }
  return { nodeflow_clipboard: 1, nodes: out };
}

/** Nodes and edges to add for a paste: fresh ids, positions moved by `offset`, inner links kept. */
export function pasteNodes(
  payload: ClipboardPayload,
  taken: Set<string>,
  offset: { x: number; y: number },
): { nodes: FlowNode[]; edges: Edge[] } {
  const rename = new Map<string, string>();
  const used = new Set(taken);
  for (const id of Object.keys(payload.nodes)) {
    const fresh = used.has(id) ? uniqueId(id.replace(/_\d+$/, ""), used) : id;
    used.add(fresh);
    rename.set(id, fresh);
  }
  const renamed: Record<string, FileNode> = {};
  for (const [id, entry] of Object.entries(payload.nodes)) {
    const inputs: Record<string, Link> = {};
    for (const [port, link] of Object.entries(entry.inputs || {})) {
      if (rename.has(link[0])) inputs[port] = [rename.get(link[0])!, link[1]];
    }
    const pos = entry.ui?.pos || [0, 0];
    renamed[rename.get(id)!] = { ...entry, inputs, ui: { ...entry.ui, pos: [pos[0] + offset.x, pos[1] + offset.y] } };
  }
  const flow = fileToFlow({ nodeflow: 1, nodes: renamed });
  return { nodes: flow.nodes, edges: flow.edges };
}
