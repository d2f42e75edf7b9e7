// The document behind the canvas (nodes, links, groups, params), its actions and its undo history, in a
// zustand store outside the React components. Components subscribe to the slices they show; the store
// itself knows nothing of the DOM, so its actions are unit-tested in ui/test/store.test.ts.
import { applyEdgeChanges, applyNodeChanges, type Edge, type EdgeChange, type NodeChange } from "@xyflow/react";
import { createStore, type StoreApi } from "zustand/vanilla";
import { sourceType, typeColour } from "../compat";
import {
  connect as connectEdges,
  fileToFlow,
  flowToFile,
  handleName,
  newNode,
  newNodeId,
  pasteNodes,
  type ClipboardPayload,
  type DocState,
  type FlowNode,
} from "../graphModel";
import { UndoStack } from "../history";
import { freeSpot, keepInside, makeRoom, pasteOffset, type Box } from "../layout";
import { fittingPort, type Wanted } from "../search";
import { withSizeHints } from "../sizeHints";
import type { Catalog, GraphFile, NodeData, NodeTypeSpec, Viewport } from "../types";

export interface DocumentState {
  nodes: FlowNode[];
  edges: Edge[];
  doc: DocState;
  groupSelection: number[];
  canUndo: boolean;
  canRedo: boolean;
  /** bumps on every change worth saving (edits, moves, loads): what persistence and validation follow */
  version: number;
  /** bumps when a file is shown (opened, a tab switched to): the canvas measures every node again then */
  loads: number;
  /** changed since it was opened or saved */
  dirty: boolean;
}

export interface GroupBox {
  id: string;
  position: { x: number; y: number };
}

export interface DocumentActions {
  /** Show a file; `undo` brings back a tab's own history (else a fresh one starts at this file). */
  load(file: GraphFile, undo?: UndoStack<GraphFile>, dirty?: boolean): void;
  file(viewport?: Viewport | null): GraphFile;
  undoStack(): UndoStack<GraphFile>;
  nodeChanges(changes: NodeChange[], groupBoxes?: GroupBox[]): void;
  edgeChanges(changes: EdgeChange[]): void;
  link(source: string, output: string, target: string, port: string, replacing?: string): void;
  unlink(edgeId: string): void;
  addNode(spec: NodeTypeSpec, at: { x: number; y: number }, from?: { node: string; handle: string; side: "source" | "target"; wanted: Wanted }, view?: Box): string;
  setParam(node: string, name: string, value: unknown, commit: boolean): void;
  patchNode(node: string, patch: (d: NodeData) => NodeData): void;
  patchSelected(patch: (d: NodeData) => NodeData): void;
  select(ids: string[] | "all"): void;
  group(ids: string[]): void;
  renameGroup(index: number, title: string): void;
  setTitle(title: string, commit: boolean): void;
  /** Offer NODE.PARAM in the graph's form (`nodeflow app`, Publish as app), or stop offering it. */
  togglePublished(node: string, param: string): void;
  paste(payload: ClipboardPayload | null, at?: { x: number; y: number } | null): string[];
  undo(): void;
  redo(): void;
  /** Record an undo step if the graph changed since the last one. */
  commit(): void;
  markSaved(): void;
}

export type DocumentStore = StoreApi<DocumentState & DocumentActions>;

const EMPTY: GraphFile = { nodeflow: 1, meta: { title: "Untitled" }, nodes: {} };

export function withoutViewport(file: GraphFile): GraphFile {
  if (!file.ui?.viewport) return file;
  const { viewport, ...ui } = file.ui;
  void viewport;
  const out = { ...file, ui };
  if (!Object.keys(ui).length) delete (out as Partial<GraphFile>).ui;
  return out;
}

/** Drop ui keys set to undefined (collapsed off, title reset) so saved files stay minimal. */
function cleanUi(data: NodeData): NodeData {
  const ui: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data.ui)) if (v !== undefined) ui[k] = v;
  return { ...data, ui };
}

export function boxOf(n: FlowNode): Box {
  return {
    x: n.position.x,
    y: n.position.y,
    w: n.measured?.width ?? (n.initialWidth as number | undefined) ?? 250,
    h: n.measured?.height ?? (n.initialHeight as number | undefined) ?? 120,
  };
}

export function createDocumentStore(catalog: Catalog, initial: GraphFile = EMPTY): DocumentStore {
  const specs = new Map(catalog.nodes.map((s) => [s.type, s]));
  let undo = new UndoStack<GraphFile>(withoutViewport(initial));

  const colour = (list: Edge[], nodes: FlowNode[]): Edge[] => {
    const typeOf = new Map(nodes.map((n) => [n.id, n.data.type]));
    return list.map((e) => {
      const stroke = typeColour(catalog.types, sourceType(specs.get(typeOf.get(e.source) || ""), handleName(e.sourceHandle)));
      return e.style?.stroke === stroke ? e : { ...e, style: { stroke, strokeWidth: 2 } };
    });
  };

  const flowOf = (file: GraphFile) => {
    const flow = fileToFlow(file);
    return { nodes: withSizeHints(flow.nodes, specs), edges: colour(flow.edges, flow.nodes), doc: flow.doc };
  };

  const first = flowOf(initial);

  return createStore<DocumentState & DocumentActions>()((set, get) => {
    const edited = (patch: Partial<DocumentState>, commit = true) => {
      set((s) => ({ ...patch, version: s.version + 1, dirty: true }));
      if (commit) get().commit();
    };
    const patchNodes = (pick: (n: FlowNode) => boolean, patch: (d: NodeData) => NodeData) => {
      const nodes = get().nodes;
      if (!nodes.some(pick)) return;
      edited({ nodes: nodes.map((n) => (pick(n) ? { ...n, data: cleanUi(patch(n.data)) } : n)) });
    };
    const restore = (file: GraphFile | null) => {
      if (!file) return;
      const { nodes: before } = get();
      const selected = new Set(before.filter((n) => n.selected).map((n) => n.id));
      const old = new Map(before.map((n) => [n.id, n]));
      const flow = fileToFlow(file);
      const nodes = withSizeHints(flow.nodes.map((n) => ({ ...n, selected: selected.has(n.id), measured: old.get(n.id)?.measured })), specs);
      set((s) => ({
        nodes,
        edges: colour(flow.edges, flow.nodes),
        doc: flow.doc,
        canUndo: undo.canUndo,
        canRedo: undo.canRedo,
        version: s.version + 1,
        dirty: true,
      }));
    };

    return {
      ...first,
      groupSelection: [],
      canUndo: false,
      canRedo: false,
      version: 0,
      loads: 0,
      dirty: false,

      load(file, stack, dirty = false) {
        undo = stack || new UndoStack<GraphFile>(withoutViewport(file));
        set((s) => ({ ...flowOf(file), groupSelection: [], canUndo: undo.canUndo, canRedo: undo.canRedo, version: s.version + 1, loads: s.loads + 1, dirty }));
      },

      file(viewport = null) {
        const { nodes, edges, doc } = get();
        return flowToFile({ doc, nodes, edges, viewport });
      },

      undoStack: () => undo,

      commit() {
        if (undo.push(withoutViewport(get().file()))) set({ canUndo: undo.canUndo, canRedo: undo.canRedo });
      },

      nodeChanges(changes, groupBoxes = []) {
        const state = get();
        const nodeChanges: NodeChange<FlowNode>[] = [];
        const moved = new Set(changes.filter((c) => c.type === "position").map((c) => (c as { id: string }).id));
        const removedGroups: number[] = [];
        let groupSelection = state.groupSelection;
        let nodes = state.nodes;
        let removed = false;
        let dimensions = false;
        for (const change of changes) {
          const id = "id" in change ? change.id : "";
          if (!id.startsWith("group:")) {
            nodeChanges.push(change as NodeChange<FlowNode>);
            if (change.type === "remove") removed = true;
            if (change.type === "dimensions") dimensions = true;
            continue;
          }
          const index = Number(id.slice(6));
          if (change.type === "select") {
            groupSelection = change.selected ? [...groupSelection.filter((i) => i !== index), index] : groupSelection.filter((i) => i !== index);
          } else if (change.type === "remove") {
            removedGroups.push(index);
          } else if (change.type === "position" && change.position) {
            const box = groupBoxes.find((g) => g.id === id);
            const members = new Set(state.doc.groups[index]?.nodes || []);
            if (!box || [...members].some((m) => moved.has(m))) continue; // members already move with the selection
            const dx = change.position.x - box.position.x;
            const dy = change.position.y - box.position.y;
            if (dx || dy) nodes = nodes.map((n) => (members.has(n.id) ? { ...n, position: { x: n.position.x + dx, y: n.position.y + dy } } : n));
          }
        }
        if (nodeChanges.length) {
          const measured = new Set(nodeChanges.filter((c) => c.type === "dimensions").map((c) => (c as { id: string }).id));
          const grown = new Map<string, number>();
          for (const n of nodes) if (measured.has(n.id) && n.measured?.height) grown.set(n.id, n.measured.height);
          nodes = applyNodeChanges(nodeChanges, nodes);
          if (measured.size) {
            // measured now: React Flow keeps the real handle positions once our guesses are gone
            nodes = nodes.map((n) => (measured.has(n.id) && n.handles ? (({ handles, ...rest }) => rest)(n) : n));
            // a node that grew (a preview came) pushes the nodes below it down instead of covering them
            const grew = nodes.filter((n) => grown.has(n.id) && (n.measured?.height || 0) > grown.get(n.id)! + 2);
            for (const n of grew) nodes = makeRoom(nodes, n.id, boxOf);
          }
        }
        const patch: Partial<DocumentState> = { nodes, groupSelection };
        if (removedGroups.length) {
          patch.doc = { ...state.doc, groups: state.doc.groups.filter((_, i) => !removedGroups.includes(i)) };
          patch.groupSelection = [];
        }
        if (removed || removedGroups.length) {
          if (removed) patch.edges = state.edges.filter((e) => nodes.some((n) => n.id === e.source) && nodes.some((n) => n.id === e.target));
          edited(patch);
        } else set(patch);
        void dimensions;
      },

      edgeChanges(changes) {
        const edges = applyEdgeChanges(changes, get().edges);
        if (!changes.some((c) => c.type === "remove")) return void set({ edges });
        // deleting a node removes its links first, in the same tick: one undo step for both
        edited({ edges }, false);
        queueMicrotask(() => get().commit());
      },

      link(source, output, target, port, replacing) {
        const base = replacing ? get().edges.filter((e) => e.id !== replacing) : get().edges;
        edited({ edges: colour(connectEdges(base, source, output, target, port), get().nodes) });
      },

      unlink(edgeId) {
        edited({ edges: get().edges.filter((e) => e.id !== edgeId) });
      },

      addNode(spec, at, from, view) {
        const { nodes, edges } = get();
        const id = newNodeId(spec.type, new Set(nodes.map((n) => n.id)));
        const wanted = from?.side === "target" ? { x: at.x - 260, y: at.y - 20 } : { x: at.x, y: at.y - 20 };
        let [sized] = withSizeHints([newNode(spec, id, wanted)], specs);
        if (view) sized = { ...sized, position: keepInside(boxOf(sized), view) };
        const position = freeSpot(boxOf(sized), nodes.map(boxOf));
        const node = { ...sized, position, selected: true };
        const next = [...nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node];
        let nextEdges = edges;
        if (from) {
          const port = fittingPort(spec, from.wanted, catalog.types);
          if (port) {
            nextEdges = from.side === "source" ? connectEdges(edges, from.node, from.handle, id, port) : connectEdges(edges, id, port, from.node, from.handle);
            nextEdges = colour(nextEdges, next);
          }
        }
        edited({ nodes: next, edges: nextEdges });
        return id;
      },

      setParam(node, name, value, commit) {
        const nodes = get().nodes.map((n) => (n.id === node ? { ...n, data: { ...n.data, params: { ...n.data.params, [name]: value } } } : n));
        edited({ nodes }, commit);
      },

      patchNode(node, patch) {
        patchNodes((n) => n.id === node, patch);
      },

      patchSelected(patch) {
        patchNodes((n) => !!n.selected, patch);
      },

      select(ids) {
        const wanted = ids === "all" ? null : new Set(ids);
        set({ nodes: get().nodes.map((n) => ({ ...n, selected: wanted ? wanted.has(n.id) : true })) });
      },

      group(ids) {
        if (!ids.length) return;
        const doc = get().doc;
        edited({ doc: { ...doc, groups: [...doc.groups, { title: "Group", nodes: ids }] } });
      },

      renameGroup(index, title) {
        const doc = get().doc;
        edited({ doc: { ...doc, groups: doc.groups.map((g, i) => (i === index ? { ...g, title } : g)) } });
      },

      setTitle(title, commit) {
        const doc = get().doc;
        edited({ doc: { ...doc, meta: { ...doc.meta, title } } }, commit);
      },

      togglePublished(node, param) {
        const doc = get().doc;
        const address = `${node}.${param}`;
        const list = Array.isArray(doc.extra.published) ? (doc.extra.published as unknown[]) : [];
        const named = (entry: unknown) => (typeof entry === "string" ? entry : (entry as { param?: string })?.param) === address;
        const next = list.some(named) ? list.filter((e) => !named(e)) : [...list, address];
        const extra: Record<string, unknown> = { ...doc.extra, published: next };
        if (!next.length) delete extra.published;
        edited({ doc: { ...doc, extra } });
      },

      paste(payload, at) {
        if (!payload || !payload.nodes || !Object.keys(payload.nodes).length) return [];
        const { nodes, edges } = get();
        const added = pasteNodes(payload, new Set(nodes.map((n) => n.id)), pasteOffset(payload, at ?? null, nodes.map(boxOf)));
        const pasted = withSizeHints(added.nodes, specs).map((n) => ({ ...n, selected: true }));
        const next = [...nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...pasted];
        edited({ nodes: next, edges: colour([...edges, ...added.edges], next) });
        return pasted.map((n) => n.id);
      },

      undo() {
        get().commit(); // an edit still being typed becomes its own step first
        restore(undo.undo());
      },

      redo() {
        restore(undo.redo());
      },

      markSaved() {
        set({ dirty: false });
      },
    };
  });
}
