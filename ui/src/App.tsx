// The editor's root: loads the catalog and the graphs to open (browser storage first, else the server's
// start graph), makes the stores once, and lays out the toolbar, the tabs, the canvas and the panels.
import { getViewportForBounds, ReactFlowProvider, useReactFlow, useStoreApi } from "@xyflow/react";
import { useEffect, useMemo, useRef, useState } from "react";
import { useStore } from "zustand";
import { api } from "./api";
import { withDistinctTitles } from "./catalogTitles";
import { createCommands } from "./commands";
import { EditorContext, type EditorContextValue } from "./context";
import { Canvas, MIN_ZOOM } from "./Editor";
import { FirstRunGuide } from "./FirstRun";
import { HelpPanel } from "./HelpPanel";
import { ItemsPanel } from "./ItemsPanel";
import { OutputsPanel } from "./OutputsPanel";
import { HistoryPanel, ProblemsBar } from "./Panels";
import { ProblemStore } from "./problemStore";
import { QueuePanel } from "./QueuePanel";
import { boxOf, createDocumentStore } from "./store/document";
import { RunStore } from "./store/runs";
import { createTabs, readStoredTabs, type Tabs } from "./store/tabs";
import { editedNodes, withDownstream } from "./staleness";
import { SubgraphBar } from "./SubgraphBar";
import { TabBar } from "./TabBar";
import { notify } from "./toasts";
import { ToastList } from "./ToastList";
import { Toolbar } from "./Toolbar";
import { allInView, clearOfTopBars, fitZoom, type Box } from "./layout";
import { createUiStore, togglePanel } from "./uiState";
import { useKeyboard } from "./useKeyboard";
import { useLiveRuns, usePersistAndValidate } from "./useSync";
import type { Catalog, GraphFile } from "./types";

export interface MountOptions {
  refreshResults?: (run: string | null) => void;
  version?: string;
}

const THEME_KEY = "nodeflow.editor.theme";
// below this zoom a fitted graph is too small to read: keep its saved view instead
const FIT_AT_LEAST = 0.4;

type Boot = { catalog: Catalog; first: Parameters<typeof createTabs>[3]; session: string };

export function App({ options }: { options: MountOptions }) {
  const [boot, setBoot] = useState<Boot | { error: string } | null>(null);
  useEffect(() => {
    Promise.all([api.catalog(), api.start()])
      .then(([catalog, start]) => {
        const stored = readStoredTabs();
        // a graph named on the command line wins over the stored tabs, once: edits made since are kept
        const useStored = stored && (!start.explicit || stored.session === start.session);
        setBoot({ catalog: withDistinctTitles(catalog), first: useStored ? stored : { file: start.graph, source: start.source }, session: start.session });
      })
      .catch((err) => setBoot({ error: String(err.message || err) }));
  }, []);
  const [theme, setTheme] = useState<"dark" | "light">(() => (localStorage.getItem(THEME_KEY) as "dark" | "light") || "dark");
  useEffect(() => {
    document.body.classList.toggle("dark", theme === "dark"); // Gradio's panel follows
    localStorage.setItem(THEME_KEY, theme);
  }, [theme]);
  let body;
  if (!boot) body = <div className="nf-loading" data-testid="loading">loading the editor…</div>;
  else if ("error" in boot) body = <div className="nf-fatal" data-testid="boot-error">The editor could not start: {boot.error}</div>;
  else
    body = (
      <ReactFlowProvider>
        <Editor boot={boot} options={options} theme={theme} onTheme={() => setTheme((t) => (t === "dark" ? "light" : "dark"))} />
      </ReactFlowProvider>
    );
  return <div className={`nf-app nf-${theme}`} data-testid="editor" data-theme={theme}>{body}</div>;
}

function Editor(props: { boot: Boot; options: MountOptions; theme: "dark" | "light"; onTheme(): void }) {
  const { catalog, first, session } = props.boot;
  const rf = useReactFlow();
  const flowStore = useStoreApi();
  const wrapper = useRef<HTMLDivElement>(null);
  const made = useMemo(() => {
    const specs = new Map(catalog.nodes.map((s) => [s.type, s]));
    const doc = createDocumentStore(catalog);
    const runs = new RunStore();
    const problems = new ProblemStore();
    const ui = createUiStore();
    const view = {
      viewport: () => rf.getViewport(),
      show: (file: GraphFile) => showView(file),
    };
    // an edit makes the edited nodes' results, and those downstream, stale until the next run
    doc.subscribe((s, prev) => {
      if (s.nodes === prev.nodes && s.edges === prev.edges) return;
      const edited = editedNodes(prev.nodes, s.nodes, prev.edges, s.edges);
      if (edited.length) runs.markStale(withDownstream(edited, s.edges));
    });
    const tabs: Tabs = createTabs(doc, runs, view, first);
    const commands = createCommands({ doc, tabs, runs, problems, ui, rf, canvas: () => wrapper.current });
    return { specs, doc, runs, problems, ui, tabs, commands };
  }, []);
  const { doc, runs, problems, ui, tabs, commands } = made;

  // the opening view: the saved one when it shows the whole graph (or the graph is too big to fit
  // readably), else the whole graph fitted
  const fitTimer = useRef(0);
  function showView(file: GraphFile) {
    const box = wrapper.current?.getBoundingClientRect();
    const boxes = doc.getState().nodes.map(boxOf);
    const saved = file.ui?.viewport;
    window.clearTimeout(fitTimer.current);
    if (!boxes.length) return void rf.setViewport(saved || { x: 0, y: 0, zoom: 1 });
    const covered = box ? coveredParts(wrapper.current!) : [];
    if (saved && box && (allInView(boxes, saved, box.width, box.height, covered) || fitZoom(boxes, box.width, box.height) < FIT_AT_LEAST))
      return void rf.setViewport(clearOfTopBars(saved, boxes, covered, box.height));
    if (saved && !box) return void rf.setViewport(saved);
    fitWhenMeasured(0);
  }
  // Fits the shown graph once React Flow has measured its nodes. Not rf.fitView: that queues a fit for
  // whichever nodes get measured next, so a fit meant for one tab could land on a file opened after it.
  function fitWhenMeasured(tries: number) {
    fitTimer.current = window.setTimeout(() => {
      const nodes = rf.getNodes().filter((n) => !n.hidden);
      const { width, height } = flowStore.getState(); // the flow's own size, as React Flow's fit uses
      if (!nodes.length) return;
      if ((nodes.some((n) => !rf.getInternalNode(n.id)?.measured.width) || !width) && tries < 200) return fitWhenMeasured(tries + 1);
      rf.setViewport(getViewportForBounds(rf.getNodesBounds(nodes), width, height, MIN_ZOOM, 1, 0.15));
    }, 30);
  }
  useEffect(() => {
    showView(tabs.shownFile());
    for (const error of catalog.pack_errors || []) notify(`node pack ${error.pack} did not load: ${error.message}`, "error");
  }, []);

  useKeyboard(commands, doc, ui);
  usePersistAndValidate(doc, tabs, problems, session);
  useLiveRuns(runs, tabs, props.options);

  const context: EditorContextValue = useMemo(
    () => ({ catalog, specs: made.specs, doc, runs, problems, commands }),
    [],
  );
  const count = useStore(doc, (s) => s.nodes.length);
  const panel = useStore(ui, (s) => s.panel);
  const itemsNode = useStore(ui, (s) => s.items);

  return (
    <EditorContext.Provider value={context}>
      <div className="nf-shell">
        <Toolbar commands={commands} theme={props.theme} onTheme={props.onTheme} onPanel={(p) => togglePanel(ui, p)} />
        <TabBar tabs={tabs} runs={runs} commands={commands} />
        <div
          className="nf-canvas"
          ref={wrapper}
          data-testid="canvas"
          data-node-count={count}
          tabIndex={-1}
          onMouseMove={(e) => ui.setState({ pointer: rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }) })}
          onDragOver={(e) => { if (e.dataTransfer.types.includes("Files")) e.preventDefault(); }}
          onDrop={(e) => {
            const file = e.dataTransfer.files?.[0];
            if (!file) return;
            e.preventDefault();
            commands.openFile(file);
          }}
        >
          <Canvas commands={commands} ui={ui} theme={props.theme} initialViewport={tabs.shownFile().ui?.viewport} />
          <SubgraphBar />
          <ProblemsBar open={panel === "problems"} onToggle={() => togglePanel(ui, "problems")}
            onPick={(id) => {
              const node = doc.getState().nodes.find((n) => n.id === id);
              if (!node) return;
              doc.getState().select([id]);
              rf.setCenter(node.position.x + 120, node.position.y + 60, { zoom: 1, duration: 250 });
            }} />
          {panel === "history" && <HistoryPanel onOpen={commands.openGraph} onShowRun={(events, graph, name) => {
            const run = events[0]?.run;
            commands.openGraph(graph, name);
            if (!run) return;
            runs.replay(run, events);
            tabs.setRun(run);
          }} onClose={() => ui.setState({ panel: null })} />}
          {panel === "help" && <HelpPanel onClose={() => ui.setState({ panel: null })} />}
          {panel === "outputs" && <OutputsPanel onClose={() => ui.setState({ panel: null })} />}
          {panel === "items" && itemsNode && <ItemsPanel node={itemsNode} onClose={() => ui.setState({ panel: null })} />}
          <FirstRunGuide onRun={() => void commands.run()} />
          {panel === "queue" && <QueuePanel onClose={() => ui.setState({ panel: null })} onRerun={(run) => tabs.setRun(run)}
            onJobs={(jobs) => runs.reconcile(jobs, tabs.jobs())} />}
          <ToastList />
        </div>
      </div>
    </EditorContext.Provider>
  );
}

/** The parts of the canvas drawn over nodes (the Arrange bar, the minimap, the zoom buttons), as boxes
 * relative to the canvas: a saved view that puts a node under one of them is not kept. */
function coveredParts(canvas: HTMLElement): Box[] {
  const at = canvas.getBoundingClientRect();
  return [...canvas.querySelectorAll(".nf-subgraph-bar, .react-flow__minimap, .react-flow__controls")].map((el) => {
    const r = el.getBoundingClientRect();
    return { x: r.left - at.left, y: r.top - at.top, w: r.width, h: r.height };
  });
}
