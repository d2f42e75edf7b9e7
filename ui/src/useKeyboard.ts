// Keys and the clipboard events, dispatched through the key map (keymap.ts) to the commands.
import { useEffect } from "react";
import * as clipboard from "./clipboard";
import type { Commands } from "./commands";
import { isTyping, shortcutFor } from "./keymap";
import type { DocumentStore } from "./store/document";
import { readOnlyNow } from "./subgraphs";
import type { UiStore } from "./uiState";

// what changes the graph: refused while a library subgraph is open read-only
const EDITS = new Set(["paste", "duplicate", "group", "bypass", "mute", "collapse", "palette"]);

export function useKeyboard(commands: Commands, doc: DocumentStore, ui: UiStore): void {
  useEffect(() => {
    let pasteTimer = 0; // Ctrl+V on the canvas: the paste event, if the browser sends one, wins
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const inEditor = target === document.body || !!target?.closest?.(".nf-app"); // canvas, toolbar or panels
      if (!inEditor) return;
      if (e.key === "Escape") {
        ui.setState({ palette: null, panel: null });
        return;
      }
      const shortcut = shortcutFor(e);
      if (!shortcut || (readOnlyNow() && EDITS.has(shortcut.action!))) return;
      if (!shortcut.keepDefault) e.preventDefault();
      if (shortcut.action === "paste") pasteTimer = window.setTimeout(() => commands.paste(), 80);
      else commands.perform(shortcut.action!);
    };
    const onCopy = (e: ClipboardEvent) => {
      if (isTyping(e.target)) return;
      const payload = clipboard.copy(doc.getState().nodes, doc.getState().edges);
      if (payload && e.clipboardData) {
        e.clipboardData.setData("text/plain", JSON.stringify(payload));
        e.preventDefault();
      }
    };
    const onPaste = (e: ClipboardEvent) => {
      if (isTyping(e.target) || readOnlyNow()) return;
      window.clearTimeout(pasteTimer);
      commands.paste(clipboard.parse(e.clipboardData?.getData("text/plain")) || clipboard.stored());
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
  }, [commands, doc, ui]);
}
