// What the editor shows around the canvas (the palette, the open panel) and where the pointer last was
// on the canvas (new nodes and pastes go there). Not part of the document: never saved, never undone.
import type { Box } from "./layout";
import { createStore } from "zustand/vanilla";
import type { Wanted } from "./search";

export interface PaletteState {
  x: number; // screen position inside the editor
  y: number;
  flow: { x: number; y: number }; // where the node goes
  view?: Box; // the part of the canvas in view (flow coordinates): the new node lands inside it
  wanted: Wanted;
  from?: { node: string; handle: string; side: "source" | "target" };
}

export type Panel = "history" | "help" | "problems" | "queue" | "outputs" | "items" | null;

export interface UiState {
  palette: PaletteState | null;
  panel: Panel;
  pointer: { x: number; y: number } | null; // in flow coordinates
  published: string | null; // the address of the graph's app, once published
  items: string | null; // the swept node whose items the items panel shows (its run id path)
}

export const createUiStore = () => createStore<UiState>()(() => ({ palette: null, panel: null, pointer: null, published: null, items: null }));
export type UiStore = ReturnType<typeof createUiStore>;

export function togglePanel(ui: UiStore, panel: Panel): void {
  ui.setState((s) => ({ panel: s.panel === panel ? null : panel }));
}
