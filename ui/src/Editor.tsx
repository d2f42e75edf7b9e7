// The editor: React Flow canvas, palette, toolbar, run events, validation, undo, clipboard, files.
import {
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  ViewportPortal,
  type Connection,
  type Edge,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
  type Viewport as RFViewport,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { api } from "./api";
import { refuseReason, sourceType, targetType, typeColour } from "./compat";
import { EditorContext, type EditorActions, type EditorContextValue } from "./context";
import {
  connect,
  copyNodes,
  fileShapeError,
  fileToFlow,
  flowToFile,
  handleName,
  newNode,
  newNodeId,
  pasteNodes,
  stringifyGraph,
  wouldCycle,
  type ClipboardPayload,
  type DocState,
  type FlowNode,
} from "./graphModel";
import { GroupView, groupNodes, type GroupNode } from "./GroupView";
import { HistoryPanel, ProblemsBar } from "./Panels";
import { withSizeHints } from "./sizeHints";
import { UndoStack } from "./history";
import { NodeView } from "./NodeView";
import { Palette } from "./Palette";
import { ProblemStore } from "./problemStore";
import { RunStore, type RunEvent } from "./runState";
import { fittingPort, type Wanted } from "./search";
import { SHORTCUTS, Toolbar } from "./Toolbar";
import type { Catalog, GraphFile, NodeData, NodeTypeSpec, Problem } from "./types";

export interface MountOptions {
  refreshResults?: () => void;
  version?: string;
}

const STORAGE_KEY = "nodeflow.editor.graph";
const CLIPBOARD_KEY = "nodeflow.editor.clipboard";
const THEME_KEY = "nodeflow.editor.theme";
let sessionId = ""; // the server's, stored with the graph
const EMPTY_GRAPH: GraphFile = { nodeflow: 1, meta: { title: "Untitled" }, nodes: {} };
const nodeTypes = { nf: NodeView, nfgroup: GroupView };
// bigger graphs draw only the nodes in view (small ones keep every node in the page, e.g. for find)
const CULL_ABOVE = 60;

interface Toast {
  id: number;
  message: string;
  kind: "info" | "error";
}

interface PaletteState {
  x: number; // screen position inside the editor
  y: number;
  flow: { x: number; y: number }; // where the node goes
  wanted: Wanted;
  from?: { node: string; handle: string; side: "source" | "target" };
}

export function App({ options }: { options: MountOptions }) {
  const [boot, setBoot] = useState<{ catalog: Catalog; file: GraphFile; source: string } | { error: string } | null>(null);
  useEffect(() => {
    Promise.all([api.catalog(), api.start()])
      .then(([catalog, start]) => {
        const stored = readStored();
        // a graph named on the command line wins over the stored one, once: edits made since are kept
        const useStored = stored && (!start.explicit || stored.session === start.session);
        sessionId = start.session;
        setBoot({ catalog, file: useStored ? stored.file : start.graph, source: useStored ? stored.source : start.source });
      })
      .catch((err) => setBoot({ error: String(err.message || err) }));
  }, []);
  const [theme, setTheme] = useState<"dark" | "light">(() => (localStorage.getItem(THEME_KEY) as "dark" | "light") || "dark");
  useEffect(() => {
    document.body.classList.toggle("dark", theme === "dark"); // Gradio's panel follows
    localStorage.setItem(THEME_KEY, theme);
  }, [theme]);
  const toggleTheme = useCallback(() => setTheme((t) => (t === "dark" ? "light" : "dark")), []);
  let body;
  if (!boot) body = <div className="nf-loading" data-testid="loading">loading the editor…</div>;
  else if ("error" in boot) body = <div className="nf-fatal" data-testid="boot-error">The editor could not start: {boot.error}</div>;
  else
    body = (
      <ReactFlowProvider>
        <Editor catalog={boot.catalog} initial={boot.file} initialSource={boot.source} options={options} theme={theme} onTheme={toggleTheme} />
      </ReactFlowProvider>
    );
  return <div className={`nf-app nf-${theme}`} data-testid="editor" data-theme={theme}>{body}</div>;
}

function readStored(): { file: GraphFile; source: string; session?: string } | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const stored = JSON.parse(raw);
    return fileShapeError(stored.file) ? null : stored;
  } catch {
    return null;
  }
}

function withoutViewport(file: GraphFile): GraphFile {
  if (!file.ui?.viewport) return file;
  const { viewport, ...ui } = file.ui;
  void viewport;
  const out = { ...file, ui };
  if (!Object.keys(ui).length) delete (out as Partial<GraphFile>).ui;
  return out;
}

function Editor(props: {
  catalog: Catalog;
  initial: GraphFile;
  initialSource: string;
  options: MountOptions;
  theme: "dark" | "light";
  onTheme(): void;
}) {
  const { catalog, options } = props;
  const rf = useReactFlow();
  const first = useMemo(() => fileToFlow(props.initial), [props.initial]);
  const specs = useMemo(() => new Map(catalog.nodes.map((s) => [s.type, s])), [catalog]);
  const [nodes, setNodes] = useState<FlowNode[]>(() => withSizeHints(first.nodes, specs));
  const [edges, setEdges] = useState<Edge[]>(() => first.edges);
  const [doc, setDoc] = useState<DocState>(first.doc);
  const [groupSelection, setGroupSelection] = useState<Set<number>>(new Set());
  const [palette, setPalette] = useState<PaletteState | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [panel, setPanel] = useState<"history" | "help" | "problems" | null>(null);
  const [source, setSource] = useState(props.initialSource);
  const [, forceRender] = useState(0);
  const runs = useRef(new RunStore()).current;
  const problems = useRef(new ProblemStore()).current;
  const undo = useRef(new UndoStack<GraphFile>(withoutViewport(flowToFile({ ...first, viewport: null })))).current;
  const wrapper = useRef<HTMLDivElement>(null);
  const latest = useRef({ nodes, edges, doc, source });
  latest.current = { nodes, edges, doc, source };
  const dirty = useRef(false);
  const timers = useRef<Record<string, number>>({});
  const groupBoxes = useRef<GroupNode[]>([]);
  const runView = useSyncExternalStore((fn) => runs.subscribe(fn), () => runs.view);
  const allProblems = useSyncExternalStore((fn) => problems.subscribe(fn), () => problems.all);

  // --- helpers --------------------------------------------------------------------------------------

  const notify = useCallback((message: string, kind: "info" | "error" = "info") => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t.slice(-3), { id, message, kind }]);
    window.setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === "error" ? 6000 : 3000);
  }, []);

  const colourEdges = useCallback(
    (list: Edge[], nodeList: FlowNode[]): Edge[] => {
      const typeOf = new Map(nodeList.map((n) => [n.id, n.data.type]));
      return list.map((e) => {
        const t = sourceType(specs.get(typeOf.get(e.source) || ""), handleName(e.sourceHandle));
        const stroke = typeColour(catalog.types, t);
        return e.style?.stroke === stroke ? e : { ...e, style: { stroke, strokeWidth: 2 } };
      });
    },
    [catalog, specs],
  );

  const currentFile = useCallback((): GraphFile => {
    const { nodes, edges, doc } = latest.current;
    return flowToFile({ doc, nodes, edges, viewport: rf.getViewport() });
  }, [rf]);

  const later = (name: string, ms: number, fn: () => void) => {
    window.clearTimeout(timers.current[name]);
    timers.current[name] = window.setTimeout(fn, ms);
  };

  const persistNow = useCallback(() => {
    window.clearTimeout(timers.current.persist);
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ file: currentFile(), source: latest.current.source, session: sessionId }));
    } catch {
      /* storage full or disabled: the graph still lives in the page */
    }
  }, [currentFile]);
  const persist = useCallback(() => later("persist", 150, persistNow), [persistNow]);
  useEffect(() => {
    window.addEventListener("pagehide", persistNow); // a reload right after an edit keeps the edit
    return () => window.removeEventListener("pagehide", persistNow);
  }, [persistNow]);

  const validateSoon = useCallback(() => {
    later("validate", 300, () => {
      api.validate(currentFile()).then((r) => problems.set(r.problems)).catch(() => undefined);
    });
  }, [currentFile, problems]);

  const markDirty = useCallback(() => {
    dirty.current = true;
    forceRender((n) => n + 1);
  }, []);

  // after a render with an edit: one undo step, save to browser storage, validate
  useEffect(() => {
    if (!dirty.current) return;
    dirty.current = false;
    if (undo.push(withoutViewport(currentFile()))) forceRender((n) => n + 1);
    persist();
    validateSoon();
  });

  const loadFile = useCallback(
    (file: GraphFile, how: { record: boolean; source?: string; keepViewport?: boolean }) => {
      const flow = fileToFlow(file);
      setNodes(withSizeHints(flow.nodes, specs));
      setEdges(colourEdges(flow.edges, flow.nodes));
      setDoc(flow.doc);
      setGroupSelection(new Set());
      if (how.source !== undefined) setSource(how.source);
      if (!how.keepViewport) {
        // React Flow queues a fitView until the nodes are measured, so an empty graph must not ask for one
        if (flow.viewport) rf.setViewport(flow.viewport);
        else if (flow.nodes.length) later("fit", 30, () => rf.fitView({ padding: 0.15, maxZoom: 1 }));
        else rf.setViewport({ x: 0, y: 0, zoom: 1 });
      }
      if (how.record) markDirty();
      else {
        persist();
        validateSoon();
      }
    },
    [colourEdges, rf, markDirty, persist, validateSoon, specs],
  );

  // --- first paint: colour edges, validate, connect the run event stream -----------------------------

  useEffect(() => {
    setEdges((e) => colourEdges(e, latest.current.nodes));
    validateSoon();
    persist();
    for (const error of catalog.pack_errors || []) notify(`node pack ${error.pack} did not load: ${error.message}`, "error");
  }, []);

  useEffect(() => {
    const openedAt = Date.now() / 1000;
    let queue: RunEvent[] = [];
    let frame = 0;
    const source = new EventSource("/api/events");
    const flush = () => {
      frame = 0;
      const batch = queue;
      queue = [];
      runs.apply(batch);
      for (const ev of batch) {
        if (ev.event !== "run_finished") continue;
        options.refreshResults?.();
        if ((ev.t || 0) < openedAt - 1) continue; // replayed after a reload: no toast
        const status = ev.status as string;
        if (status === "ok") notify(`run finished in ${(ev.duration_s as number).toFixed(1)} s`);
        else if (status === "cancelled") notify("run stopped");
        else notify("run failed: see the node marked in red", "error");
      }
    };
    source.onmessage = (message) => {
      try {
        queue.push(JSON.parse(message.data));
      } catch {
        return;
      }
      if (!frame) frame = requestAnimationFrame(flush);
    };
    return () => {
      source.close();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [runs, notify, options]);

  // --- canvas changes --------------------------------------------------------------------------------

  const displayNodes = useMemo(() => {
    const boxes = groupNodes(doc.groups, nodes, groupSelection);
    groupBoxes.current = boxes;
    return [...boxes, ...nodes] as (FlowNode | GroupNode)[];
  }, [doc.groups, nodes, groupSelection]);

  const onNodesChange = useCallback(
    (changes: NodeChange[]) => {
      const nodeChanges: NodeChange<FlowNode>[] = [];
      const moved = new Set(changes.filter((c) => c.type === "position").map((c) => (c as { id: string }).id));
      let removedGroups: number[] = [];
      for (const change of changes) {
        const id = "id" in change ? change.id : "";
        if (!id.startsWith("group:")) {
          nodeChanges.push(change as NodeChange<FlowNode>);
          if (change.type === "remove") dirty.current = true;
          continue;
        }
        const index = Number(id.slice(6));
        if (change.type === "select") {
          setGroupSelection((s) => {
            const next = new Set(s);
            if (change.selected) next.add(index);
            else next.delete(index);
            return next;
          });
        } else if (change.type === "remove") {
          removedGroups.push(index);
        } else if (change.type === "position" && change.position) {
          const box = groupBoxes.current.find((g) => g.id === id);
          const members = new Set(latest.current.doc.groups[index]?.nodes || []);
          if (!box || [...members].some((m) => moved.has(m))) continue; // members already move with the selection
          const dx = change.position.x - box.position.x;
          const dy = change.position.y - box.position.y;
          if (dx || dy) {
            setNodes((ns) => ns.map((n) => (members.has(n.id) ? { ...n, position: { x: n.position.x + dx, y: n.position.y + dy } } : n)));
          }
        }
      }
      if (nodeChanges.length) {
        const measured = new Set(nodeChanges.filter((c) => c.type === "dimensions").map((c) => (c as { id: string }).id));
        setNodes((ns) => {
          const next = applyNodeChanges(nodeChanges, ns);
          if (!measured.size) return next;
          // measured now: React Flow keeps the real handle positions once our guesses are gone
          return next.map((n) => (measured.has(n.id) && n.handles ? (({ handles, ...rest }) => rest)(n) : n));
        });
      }
      if (removedGroups.length) {
        setDoc((d) => ({ ...d, groups: d.groups.filter((_, i) => !removedGroups.includes(i)) }));
        setGroupSelection(new Set());
        dirty.current = true;
      }
      if (dirty.current) forceRender((n) => n + 1);
    },
    [],
  );

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    setEdges((es) => applyEdgeChanges(changes, es));
    if (changes.some((c) => c.type === "remove")) markDirty();
  }, [markDirty]);

  const reasonFor = useCallback(
    (c: Connection | Edge): string | null => {
      const { nodes, edges } = latest.current;
      const source = nodes.find((n) => n.id === c.source);
      const target = nodes.find((n) => n.id === c.target);
      if (!source || !target) return "unknown node";
      const reason = refuseReason(
        specs.get(source.data.type), handleName(c.sourceHandle), specs.get(target.data.type), handleName(c.targetHandle),
        catalog.types, c.source === c.target,
      );
      if (reason) return reason;
      if (wouldCycle(edges, c.source, c.target)) return "that link would make a loop";
      return null;
    },
    [specs, catalog],
  );

  const isValidConnection = useCallback((c: Connection | Edge) => reasonFor(c) === null, [reasonFor]);

  const onConnect = useCallback(
    (c: Connection) => {
      if (reasonFor(c)) return;
      setEdges((es) =>
        colourEdges(connect(es, c.source, handleName(c.sourceHandle), c.target, handleName(c.targetHandle)), latest.current.nodes),
      );
      markDirty();
    },
    [reasonFor, colourEdges, markDirty],
  );

  // dragging a link's end to another port moves it; dropping it on empty canvas removes it
  const onReconnect = useCallback(
    (old: Edge, c: Connection) => {
      if (reasonFor(c)) return;
      setEdges((es) =>
        colourEdges(
          connect(es.filter((e) => e.id !== old.id), c.source, handleName(c.sourceHandle), c.target, handleName(c.targetHandle)),
          latest.current.nodes,
        ),
      );
      markDirty();
    },
    [reasonFor, colourEdges, markDirty],
  );
  const onReconnectEnd = useCallback(
    (_e: unknown, edge: Edge, _side: unknown, state: FinalConnectionState) => {
      if (state.isValid || state.toHandle) return;
      setEdges((es) => es.filter((e) => e.id !== edge.id));
      markDirty();
    },
    [markDirty],
  );

  const openPalette = useCallback(
    (clientX: number, clientY: number, wanted: Wanted = {}, from?: PaletteState["from"]) => {
      const box = wrapper.current!.getBoundingClientRect();
      const flow = rf.screenToFlowPosition({ x: clientX, y: clientY });
      setPalette({
        x: Math.min(clientX - box.left, box.width - 340),
        y: Math.min(clientY - box.top, box.height - 380),
        flow,
        wanted,
        from,
      });
    },
    [rf],
  );

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid) return;
      const fromHandle = state.fromHandle;
      const fromNode = state.fromNode;
      if (!fromHandle || !fromNode) return;
      if (state.toHandle && state.toNode) {
        const [s, t] = fromHandle.type === "source" ? [fromHandle, state.toHandle] : [state.toHandle, fromHandle];
        const reason = reasonFor({ source: s.nodeId, sourceHandle: s.id ?? null, target: t.nodeId, targetHandle: t.id ?? null });
        notify(`link refused: ${reason || "those ports do not fit"}`, "error");
        return;
      }
      if (state.toNode) return;
      const name0 = handleName(fromHandle.id);
      const linked = latest.current.edges.find((e) => e.target === fromNode.id && handleName(e.targetHandle) === name0);
      if (fromHandle.type === "target" && linked) {
        // a link pulled off its input and dropped on empty canvas: disconnect it
        setEdges((es) => es.filter((e) => e.id !== linked.id));
        markDirty();
        return;
      }
      const point = "changedTouches" in event ? event.changedTouches[0] : (event as MouseEvent);
      const spec = specs.get((fromNode as unknown as FlowNode).data.type);
      const name = handleName(fromHandle.id);
      const wanted: Wanted =
        fromHandle.type === "source" ? { input: sourceType(spec, name) || "Any" } : { output: targetType(spec, name) || "Any" };
      openPalette(point.clientX, point.clientY, wanted, { node: fromNode.id, handle: name, side: fromHandle.type });
    },
    [reasonFor, notify, specs, openPalette, markDirty],
  );

  const addNode = useCallback(
    (spec: NodeTypeSpec) => {
      const p = palette;
      setPalette(null);
      if (!p) return;
      const taken = new Set(latest.current.nodes.map((n) => n.id));
      const id = newNodeId(spec.type, taken);
      const position = p.from?.side === "target" ? { x: p.flow.x - 260, y: p.flow.y - 20 } : { x: p.flow.x, y: p.flow.y - 20 };
      const node = { ...newNode(spec, id, position), selected: true };
      const nextNodes = [...latest.current.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node];
      setNodes(nextNodes);
      if (p.from) {
        const port = fittingPort(spec, p.wanted, catalog.types);
        if (port) {
          setEdges((es) =>
            colourEdges(
              p.from!.side === "source" ? connect(es, p.from!.node, p.from!.handle, id, port) : connect(es, id, port, p.from!.node, p.from!.handle),
              nextNodes,
            ),
          );
        }
      }
      markDirty();
    },
    [palette, catalog, colourEdges, markDirty],
  );

  // --- actions the nodes call --------------------------------------------------------------------------

  const actions: EditorActions = useMemo(
    () => ({
      setParam(node, name, value, commit) {
        setNodes((ns) => ns.map((n) => (n.id === node ? { ...n, data: { ...n.data, params: { ...n.data.params, [name]: value } } } : n)));
        if (commit) markDirty();
        else later("param", 700, markDirty);
      },
      patchNode(node, patch) {
        setNodes((ns) => ns.map((n) => (n.id === node ? { ...n, data: cleanUi(patch(n.data)) } : n)));
        markDirty();
      },
      runTo(node) {
        startRun([node]);
      },
      remove(node) {
        rf.deleteElements({ nodes: [{ id: node }] });
      },
      notify,
      renameGroup(index, title) {
        setDoc((d) => ({ ...d, groups: d.groups.map((g, i) => (i === index ? { ...g, title } : g)) }));
        markDirty();
      },
    }),
    [],
  );

  const context: EditorContextValue = useMemo(() => ({ catalog, runs, problems, actions }), [catalog, runs, problems, actions]);

  // --- runs ------------------------------------------------------------------------------------------

  const startRun = useCallback(
    async (only?: string[]) => {
      const response = await api.run(currentFile(), only);
      if (response.ok) return;
      const body = await response.json().catch(() => ({}));
      if (response.status === 400 && body.problems) {
        problems.set(body.problems as Problem[]);
        const n = body.problems.length;
        notify(`cannot run: ${n} problem${n === 1 ? "" : "s"} (marked on the nodes)`, "error");
        setPanel("problems");
      } else notify(body.error || body.detail || `run refused (${response.status})`, "error");
    },
    [currentFile, problems, notify],
  );
  const selectedIds = () => latest.current.nodes.filter((n) => n.selected).map((n) => n.id);
  const runSelected = () => {
    const ids = selectedIds();
    if (ids.length) startRun(ids);
    else notify("select the nodes to run up to first");
  };
  const stopRun = () => api.stop().catch((e) => notify(String(e.message), "error"));

  // --- files -----------------------------------------------------------------------------------------

  const save = useCallback(() => {
    const file = currentFile();
    const title = String(file.meta?.title || latest.current.source.replace(/\.json$/, "") || "graph");
    const name = title.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "") || "graph";
    const url = URL.createObjectURL(new Blob([stringifyGraph(file)], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `${name}.json`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, [currentFile]);

  const openFile = useCallback(
    async (file: File) => {
      try {
        if (file.name.toLowerCase().endsWith(".json") && !file.name.toLowerCase().endsWith(".provenance.json")) {
          let data: unknown;
          try {
            data = JSON.parse(await file.text());
          } catch (e: any) {
            throw new Error(`${file.name} is not valid JSON: ${e.message}`);
          }
          const problem = fileShapeError(data);
          if (problem) throw new Error(`${file.name}: ${problem}`);
          loadFile(data as GraphFile, { record: true, source: file.name });
          notify(`opened ${file.name}`);
        } else {
          const { graph } = await api.provenance(file);
          loadFile(graph, { record: true, source: file.name });
          notify(`opened the graph that made ${file.name}`);
        }
      } catch (e: any) {
        notify(String(e.message || e), "error");
      }
    },
    [loadFile, notify],
  );

  const openExample = useCallback(
    (name: string) => api.example(name).then((g) => loadFile(g, { record: true, source: name })).catch((e) => notify(String(e.message), "error")),
    [loadFile, notify],
  );

  // --- clipboard, undo, keyboard ----------------------------------------------------------------------

  const copySelection = (): ClipboardPayload | null => {
    const chosen = latest.current.nodes.filter((n) => n.selected);
    if (!chosen.length) return null;
    const payload = copyNodes(chosen, latest.current.edges);
    localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(payload)); // shared by every tab of this site
    return payload;
  };

  const paste = (payload: ClipboardPayload | null, offset = 40) => {
    if (!payload || !payload.nodes || !Object.keys(payload.nodes).length) return;
    const taken = new Set(latest.current.nodes.map((n) => n.id));
    const added = pasteNodes(payload, taken, { x: offset, y: offset });
    const pastedNodes = withSizeHints(added.nodes, specs).map((n) => ({ ...n, selected: true }));
    const nextNodes = [...latest.current.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...pastedNodes];
    setNodes(nextNodes);
    setEdges((es) => colourEdges([...es, ...added.edges], nextNodes));
    markDirty();
  };

  const storedClipboard = (): ClipboardPayload | null => {
    try {
      return JSON.parse(localStorage.getItem(CLIPBOARD_KEY) || "null");
    } catch {
      return null;
    }
  };

  const restore = (file: GraphFile | null) => {
    if (!file) return;
    const flow = fileToFlow(file);
    const selected = new Set(latest.current.nodes.filter((n) => n.selected).map((n) => n.id));
    const oldById = new Map(latest.current.nodes.map((n) => [n.id, n]));
    setNodes(withSizeHints(flow.nodes.map((n) => ({ ...n, selected: selected.has(n.id), measured: oldById.get(n.id)?.measured })), specs));
    setEdges(colourEdges(flow.edges, flow.nodes));
    setDoc(flow.doc);
    forceRender((n) => n + 1);
    persist();
    validateSoon();
  };
  const doUndo = () => restore(undo.undo());
  const doRedo = () => restore(undo.redo());

  const patchSelected = (patch: (d: NodeData) => NodeData) => {
    if (!latest.current.nodes.some((n) => n.selected)) return;
    setNodes((ns) => ns.map((n) => (n.selected ? { ...n, data: cleanUi(patch(n.data)) } : n)));
    markDirty();
  };

  const keyHandler = useRef<(e: KeyboardEvent) => void>(() => undefined);
  keyHandler.current = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement;
    const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
    const inEditor = target === document.body || !!target?.closest?.(".nf-app"); // canvas, toolbar or panels
    if (!inEditor) return;
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    if (mod && key === "enter") {
      e.preventDefault();
      if (e.shiftKey) runSelected();
      else startRun();
      return;
    }
    if (mod && key === "s") { e.preventDefault(); save(); return; }
    if (typing) return;
    if (mod && key === "c") copySelection(); // the copy event also puts it on the system clipboard
    else if (mod && key === "v") later("paste", 80, () => paste(storedClipboard())); // unless a paste event comes
    else if (mod && key === "z") { e.preventDefault(); if (e.shiftKey) doRedo(); else doUndo(); }
    else if (mod && key === "y") { e.preventDefault(); doRedo(); }
    else if (mod && key === "d") { e.preventDefault(); paste(copySelection()); }
    else if (mod && key === "a") { e.preventDefault(); setNodes((ns) => ns.map((n) => ({ ...n, selected: true }))); }
    else if (mod && key === "g") {
      e.preventDefault();
      const ids = selectedIds();
      if (ids.length) { setDoc((d) => ({ ...d, groups: [...d.groups, { title: "Group", nodes: ids }] })); markDirty(); }
    }
    else if (mod && key === "b") { e.preventDefault(); patchSelected((d) => ({ ...d, mode: d.mode === "bypass" ? "run" : "bypass" })); }
    else if (mod && key === "m") { e.preventDefault(); patchSelected((d) => ({ ...d, mode: d.mode === "mute" ? "run" : "mute" })); }
    else if (mod && key === "o") { e.preventDefault(); wrapper.current?.querySelector<HTMLInputElement>('[data-testid="open-input"]')?.click(); }
    else if (e.altKey && key === "c") { e.preventDefault(); patchSelected((d) => ({ ...d, ui: { ...d.ui, collapsed: !d.ui.collapsed || undefined } })); }
    else if (!mod && (key === "/" || key === "tab")) {
      e.preventDefault();
      const box = wrapper.current!.getBoundingClientRect();
      openPalette(box.left + box.width / 2 - 160, box.top + box.height / 3);
    }
    else if (!mod && key === ".") rf.fitView({ padding: 0.15, duration: 200 });
    else if (key === "escape") { setPalette(null); setPanel(null); }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => keyHandler.current(e);
    const onCopy = (e: ClipboardEvent) => {
      if (isTyping(e.target)) return;
      const payload = copySelection();
      if (payload && e.clipboardData) {
        e.clipboardData.setData("text/plain", JSON.stringify(payload));
        e.preventDefault();
      }
    };
    const onPaste = (e: ClipboardEvent) => {
      if (isTyping(e.target)) return;
      window.clearTimeout(timers.current.paste);
      let payload: ClipboardPayload | null = null;
      try {
        const parsed = JSON.parse(e.clipboardData?.getData("text/plain") || "null");
        if (parsed?.nodeflow_clipboard) payload = parsed;
      } catch {
        payload = null;
      }
      paste(payload || storedClipboard());
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    document.addEventListener("copy", onCopy);
    document.addEventListener("paste", onPaste);
    return () => {
      window.removeEventListener("keydown", onKey);
      document.removeEventListener("copy", onCopy);
      document.removeEventListener("paste", onPaste);
    };
  }, []);

  // --- render -------------------------------------------------------------------------------------------

  const title = String(doc.meta.title ?? "");
  const graphProblems = allProblems.filter((p) => p.node === null);
  return (
    <EditorContext.Provider value={context}>
      <div className="nf-shell">
        <Toolbar
          title={title}
          run={runView}
          canUndo={undo.canUndo}
          canRedo={undo.canRedo}
          hasSelection={nodes.some((n) => n.selected)}
          theme={props.theme}
          onTitle={(t) => { setDoc((d) => ({ ...d, meta: { ...d.meta, title: t } })); later("title", 600, markDirty); }}
          onNew={() => loadFile(EMPTY_GRAPH, { record: true, source: "" })}
          onOpen={openFile}
          onExample={openExample}
          onSave={save}
          onUndo={doUndo}
          onRedo={doRedo}
          onRun={() => startRun()}
          onRunSelected={runSelected}
          onStop={stopRun}
          onFit={() => rf.fitView({ padding: 0.15, duration: 200 })}
          onTheme={props.onTheme}
          onHistory={() => setPanel((p) => (p === "history" ? null : "history"))}
          onHelp={() => setPanel((p) => (p === "help" ? null : "help"))}
        />
        <div
          className="nf-canvas"
          ref={wrapper}
          data-testid="canvas"
          data-node-count={nodes.length}
          tabIndex={-1}
          onDragOver={(e) => { if (e.dataTransfer.types.includes("Files")) e.preventDefault(); }}
          onDrop={(e) => {
            const file = e.dataTransfer.files?.[0];
            if (!file) return;
            e.preventDefault();
            openFile(file);
          }}
        >
          <ReactFlow
            nodes={displayNodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange as never}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onConnectEnd={onConnectEnd as never}
            onReconnect={onReconnect}
            onReconnectEnd={onReconnectEnd as never}
            isValidConnection={isValidConnection}
            onNodeDragStop={() => markDirty()}
            onMoveEnd={(_e: unknown, _v: RFViewport) => persist()}
            onDoubleClick={(e) => {
              const t = e.target as HTMLElement;
              if (t.classList.contains("react-flow__pane")) openPalette(e.clientX, e.clientY);
            }}
            onPaneClick={() => setPalette(null)}
            zoomOnDoubleClick={false}
            defaultViewport={first.viewport || undefined}
            fitView={!first.viewport}
            fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
            minZoom={0.05}
            maxZoom={3}
            deleteKeyCode={["Delete", "Backspace"]}
            selectionKeyCode="Shift"
            multiSelectionKeyCode={["Shift", "Meta", "Control"]}
            onlyRenderVisibleElements={nodes.length > CULL_ABOVE}
            colorMode={props.theme}
            proOptions={{ hideAttribution: true }}
            connectionRadius={24}
            elevateNodesOnSelect={false}
          >

            <ViewportPortal>
              {/* dots drawn inside the moving layer: panning moves pixels instead of repainting a pattern */}
              <div className="nf-grid" />
            </ViewportPortal>
            <MiniMap pannable zoomable nodeStrokeWidth={3} data-testid="minimap"
              nodeColor={(n) => (n.type === "nfgroup" ? "transparent" : modeColour((n.data as NodeData).mode))} />
            <Controls showInteractive={false} />
          </ReactFlow>
          {palette && (
            <Palette catalog={catalog} x={palette.x} y={palette.y} wanted={palette.wanted} onPick={addNode} onClose={() => setPalette(null)} />
          )}
          {nodes.length === 0 && (
            <div className="nf-empty-hint" data-testid="empty-hint">
              Double-click the canvas (or press /) to add a node, or pick an example.
            </div>
          )}
          <ProblemsBar problems={allProblems} graphProblems={graphProblems} open={panel === "problems"}
            onToggle={() => setPanel((p) => (p === "problems" ? null : "problems"))}
            onPick={(id) => {
              const node = latest.current.nodes.find((n) => n.id === id);
              if (!node) return;
              setNodes((ns) => ns.map((n) => ({ ...n, selected: n.id === id })));
              rf.setCenter(node.position.x + 120, node.position.y + 60, { zoom: 1, duration: 250 });
            }} />
          {panel === "history" && <HistoryPanel onOpen={(g, name) => loadFile(g, { record: true, source: name })} onClose={() => setPanel(null)} notify={notify} />}
          {panel === "help" && (
            <div className="nf-panel nf-help" data-testid="help-panel">
              <div className="nf-panel-head">Keyboard and mouse<button onClick={() => setPanel(null)}>✕</button></div>
              <table><tbody>{SHORTCUTS.map(([k, v]) => <tr key={k}><td><kbd>{k}</kbd></td><td>{v}</td></tr>)}</tbody></table>
            </div>
          )}
          <div className="nf-toasts">
            {toasts.map((t) => (
              <div key={t.id} className={`nf-toast nf-toast-${t.kind}`} data-testid="toast" data-kind={t.kind}>{t.message}</div>
            ))}
          </div>
        </div>
      </div>
    </EditorContext.Provider>
  );
}

function isTyping(target: EventTarget | null): boolean {
  const t = target as HTMLElement | null;
  return !!t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
}

/** Drop ui keys set to undefined (collapsed off, title reset) so saved files stay minimal. */
function cleanUi(data: NodeData): NodeData {
  const ui: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data.ui)) if (v !== undefined) ui[k] = v;
  return { ...data, ui };
}

function modeColour(mode: string): string {
  return mode === "mute" ? "#555" : mode === "bypass" ? "#8e5fc7" : "#5a7ca8";
}

