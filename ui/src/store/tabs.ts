// Open graphs as tabs. The active tab's document lives in the document store; each other tab keeps its
// file, its own undo history, its run and what its runs showed. All of it is kept in browser storage, so a
// reload brings back every tab as it was.
import { createStore, type StoreApi } from "zustand/vanilla";
import { UndoStack } from "../history";
import { nav, rootFile, rootUndo } from "../subgraphs";
import type { GraphFile, Viewport } from "../types";
import type { DocumentStore } from "./document";
import { withoutViewport } from "./document";
import type { Memory, RunStore } from "./runs";

export interface TabInfo {
  id: string;
  title: string;
  source: string;
  run: string | null;
  dirty: boolean;
}

interface TabBody {
  file: GraphFile;
  undo: UndoStack<GraphFile> | null;
  memory: Memory;
}

export interface TabsState {
  tabs: TabInfo[];
  active: string;
}

export const TABS_KEY = "nodeflow.editor.tabs";
const KEEP_UNDO = 30; // undo steps kept per tab across reloads

interface Stored {
  tabs: (TabInfo & { file: GraphFile; past?: GraphFile[]; future?: GraphFile[]; memory?: Memory })[];
  active: string;
  session?: string;
}

export interface Tabs {
  store: StoreApi<TabsState>;
  open(file: GraphFile, source: string): string;
  switchTo(id: string): void;
  close(id: string): void;
  setRun(run: string): void;
  /** the jobs the tabs started (the newest of each tab) */
  jobs(): string[];
  active(): TabInfo;
  /** the file the active tab opened with (its saved view), before any edit */
  shownFile(): GraphFile;
  /** the graphs of every tab, for storage */
  persist(session: string): void;
}

let counter = 0;
const newId = () => `t${Date.now().toString(36)}${(counter++).toString(36)}`;

export function titleOf(file: GraphFile, source: string): string {
  return String(file.meta?.title || source.replace(/\.json$/, "") || "Untitled");
}

const LEGACY_KEY = "nodeflow.editor.graph"; // one graph, as editors before tabs kept it

export function readStoredTabs(): Stored | null {
  try {
    const raw = localStorage.getItem(TABS_KEY);
    const stored = raw ? (JSON.parse(raw) as Stored) : null;
    if (stored && Array.isArray(stored.tabs) && stored.tabs.length) return stored;
    const legacy = JSON.parse(localStorage.getItem(LEGACY_KEY) || "null");
    if (!legacy?.file?.nodes) return null;
    const source = String(legacy.source || "");
    const tab = { id: "t0", title: titleOf(legacy.file, source), source, run: null, dirty: false, file: legacy.file };
    return { tabs: [tab], active: "t0", session: legacy.session };
  } catch {
    return null;
  }
}

/** `viewport()` reads the canvas's view; `fitOrSet(file)` shows a file's saved view (or fits it). */
export function createTabs(
  doc: DocumentStore,
  runs: RunStore,
  view: { viewport(): Viewport; show(file: GraphFile): void },
  first: { file: GraphFile; source: string } | Stored,
): Tabs {
  const bodies = new Map<string, TabBody>();
  let initial: TabsState;
  if ("tabs" in first) {
    for (const t of first.tabs) {
      const undo = new UndoStack<GraphFile>(withoutViewport(t.file));
      undo.restore(t.past || [], t.future || []);
      bodies.set(t.id, { file: t.file, undo, memory: t.memory || {} });
    }
    const tabs = first.tabs.map(({ id, title, source, run, dirty }) => ({ id, title, source, run, dirty }));
    initial = { tabs, active: tabs.some((t) => t.id === first.active) ? first.active : tabs[0].id };
  } else {
    const id = newId();
    bodies.set(id, { file: first.file, undo: null, memory: {} });
    initial = { tabs: [{ id, title: titleOf(first.file, first.source), source: first.source, run: null, dirty: false }], active: id };
  }
  const store = createStore<TabsState>()(() => initial);
  const info = (id: string) => store.getState().tabs.find((t) => t.id === id)!;
  const patch = (id: string, p: Partial<TabInfo>) =>
    store.setState((s) => ({ tabs: s.tabs.map((t) => (t.id === id ? { ...t, ...p } : t)) }));

  const stash = () => {
    // the active tab's document goes back into its body before another tab shows
    const { active } = store.getState();
    const body = bodies.get(active);
    if (!body) return;
    const tab = info(active);
    // inside a subgraph, the tab keeps the whole graph (with the open levels written back)
    body.file = rootFile(doc.getState().file(view.viewport()));
    body.undo = rootUndo() || doc.getState().undoStack();
    body.memory = runs.memoryOf(tab.run, body.memory);
    patch(active, { dirty: doc.getState().dirty });
  };

  const show = (id: string) => {
    nav.setState({ path: [] }); // another graph shows: no subgraph of it is open
    const body = bodies.get(id)!;
    const tab = info(id);
    doc.getState().load(body.file, body.undo || undefined, tab.dirty);
    view.show(body.file);
    runs.show(tab.run, body.memory);
  };

  // the document's title and unsaved state follow into the tab
  doc.subscribe((s, prev) => {
    if (s.doc.meta === prev.doc.meta && s.dirty === prev.dirty) return;
    const { active } = store.getState();
    const tab = info(active);
    const title = titleOf({ nodeflow: 1, nodes: {}, meta: s.doc.meta }, tab.source);
    if (tab.title !== title || tab.dirty !== s.dirty) patch(active, { title, dirty: s.dirty });
  });

  const tabs: Tabs = {
    store,
    open(file, source) {
      stash();
      const id = newId();
      bodies.set(id, { file, undo: null, memory: {} });
      store.setState((s) => ({ tabs: [...s.tabs, { id, title: titleOf(file, source), source, run: null, dirty: false }], active: id }));
      show(id);
      return id;
    },
    switchTo(id) {
      if (id === store.getState().active || !bodies.has(id)) return;
      stash();
      store.setState({ active: id });
      show(id);
    },
    close(id) {
      const { tabs: list, active } = store.getState();
      if (list.length === 1) {
        // closing the last tab leaves an empty graph, as a fresh editor would
        const fresh = newId();
        bodies.clear();
        bodies.set(fresh, { file: { nodeflow: 1, meta: { title: "Untitled" }, nodes: {} }, undo: null, memory: {} });
        store.setState({ tabs: [{ id: fresh, title: "Untitled", source: "", run: null, dirty: false }], active: fresh });
        show(fresh);
        return;
      }
      const index = list.findIndex((t) => t.id === id);
      bodies.delete(id);
      const rest = list.filter((t) => t.id !== id);
      if (id === active) {
        const next = rest[Math.min(index, rest.length - 1)].id;
        store.setState({ tabs: rest, active: next });
        show(next);
      } else store.setState({ tabs: rest });
    },
    setRun(run) {
      const { active } = store.getState();
      const body = bodies.get(active)!;
      body.memory = runs.memoryOf(info(active).run, body.memory);
      patch(active, { run });
      runs.show(run, body.memory);
    },
    jobs: () => store.getState().tabs.flatMap((t) => (t.run ? [t.run] : [])),
    active: () => info(store.getState().active),
    shownFile: () => bodies.get(store.getState().active)!.file,
    persist(session) {
      stash();
      const { tabs: list, active } = store.getState();
      const entries = list.map((t) => {
        const body = bodies.get(t.id)!;
        return { ...t, file: body.file, memory: body.memory, past: body.undo?.pastSteps(KEEP_UNDO), future: body.undo?.futureSteps(KEEP_UNDO) };
      });
      const write = (value: Stored) => localStorage.setItem(TABS_KEY, JSON.stringify(value));
      try {
        write({ tabs: entries, active, session });
      } catch {
        try {
          // storage full: keep the graphs, drop the undo histories
          write({ tabs: entries.map(({ past, future, ...rest }) => (void past, void future, rest)), active, session });
        } catch {
          /* storage disabled: the tabs still live in the page */
        }
      }
    },
  };
  const body = bodies.get(store.getState().active)!;
  doc.getState().load(body.file, body.undo || undefined, tabs.active().dirty);
  runs.show(tabs.active().run, body.memory);
  return tabs;
}
