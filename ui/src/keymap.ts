// The key map: one table of shortcuts. The keyboard handler finds the action here and the shortcut help
// shows the same rows, so the two cannot disagree.

export type Action =
  | "run" | "runSelected" | "save" | "open" | "copy" | "paste" | "duplicate" | "undo" | "redo" | "selectAll"
  | "group" | "bypass" | "mute" | "collapse" | "palette" | "fit" | "help" | "close" | "newTab";

export interface Shortcut {
  keys: string; // as shown in the help
  does: string;
  action?: Action; // absent: a mouse gesture, handled by the canvas
  match?: (e: KeyboardEvent) => boolean;
  /** still works while typing in a field */
  whileTyping?: boolean;
  /** leave the browser's default alone (the copy and paste events do the work) */
  keepDefault?: boolean;
}

const mod = (e: KeyboardEvent) => e.ctrlKey || e.metaKey;
const key = (e: KeyboardEvent) => e.key.toLowerCase();
const plain = (e: KeyboardEvent) => !mod(e) && !e.altKey;
/** The focus is on the canvas itself (its pane or a node), not on a control of the page. */
const onCanvas = (target: EventTarget | null) => {
  const t = target as HTMLElement | null;
  return !!t?.closest?.(".nf-canvas") && !t.closest("button, a, input, select, textarea, .nf-panel");
};

export const SHORTCUTS: Shortcut[] = [
  // Tab only where the canvas has the focus: elsewhere it moves the focus, as in any page
  { keys: "double-click canvas, /, or Tab on the canvas", does: "add a node (search), where the pointer is", action: "palette",
    match: (e) => plain(e) && (key(e) === "/" || (key(e) === "tab" && !e.shiftKey && onCanvas(e.target))) },
  { keys: "drag from a port to empty canvas", does: "add a node that fits, connected" },
  { keys: "drag a link off its input to empty canvas", does: "disconnect it" },
  { keys: "Ctrl+Enter", does: "run", action: "run", whileTyping: true, match: (e) => mod(e) && !e.shiftKey && key(e) === "enter" },
  { keys: "Ctrl+Shift+Enter", does: "run up to the selected nodes", action: "runSelected", whileTyping: true,
    match: (e) => mod(e) && e.shiftKey && key(e) === "enter" },
  { keys: "Ctrl+Z", does: "undo", action: "undo", match: (e) => mod(e) && !e.shiftKey && key(e) === "z" },
  { keys: "Ctrl+Shift+Z, Ctrl+Y", does: "redo", action: "redo", match: (e) => mod(e) && ((e.shiftKey && key(e) === "z") || key(e) === "y") },
  { keys: "Ctrl+C", does: "copy (also to other browser tabs)", action: "copy", keepDefault: true, match: (e) => mod(e) && key(e) === "c" },
  { keys: "Ctrl+V", does: "paste where the pointer is, with the links among the copies", action: "paste", keepDefault: true,
    match: (e) => mod(e) && key(e) === "v" },
  { keys: "Ctrl+D", does: "duplicate", action: "duplicate", match: (e) => mod(e) && key(e) === "d" },
  { keys: "Delete or Backspace", does: "delete the selection" },
  { keys: "Ctrl+A", does: "select all", action: "selectAll", match: (e) => mod(e) && key(e) === "a" },
  { keys: "Shift+drag, Shift+click", does: "box select, add to the selection" },
  { keys: "Ctrl+G", does: "group the selected nodes", action: "group", match: (e) => mod(e) && key(e) === "g" },
  { keys: "Ctrl+B", does: "bypass the selected nodes", action: "bypass", match: (e) => mod(e) && key(e) === "b" },
  { keys: "Ctrl+M", does: "mute the selected nodes", action: "mute", match: (e) => mod(e) && key(e) === "m" },
  { keys: "Alt+C", does: "collapse or expand the selected nodes", action: "collapse", match: (e) => e.altKey && !mod(e) && key(e) === "c" },
  { keys: ".", does: "fit the graph in view", action: "fit", match: (e) => plain(e) && key(e) === "." },
  { keys: "?", does: "show these shortcuts", action: "help", match: (e) => !mod(e) && !e.altKey && e.key === "?" },
  { keys: "Ctrl+S", does: "save (download the graph file)", action: "save", whileTyping: true, match: (e) => mod(e) && key(e) === "s" },
  { keys: "Ctrl+O", does: "open a graph or an artifact", action: "open", match: (e) => mod(e) && key(e) === "o" },
  { keys: "Alt+T", does: "new tab", action: "newTab", match: (e) => e.altKey && !mod(e) && key(e) === "t" },
  { keys: "Alt+W", does: "close the tab", action: "close", match: (e) => e.altKey && !mod(e) && key(e) === "w" },
  { keys: "Escape", does: "close the palette or panel" },
  { keys: "drop a .json or a PNG on the canvas", does: "open it in a new tab (a PNG opens the graph that made it; ComfyUI workflows and PNGs are imported)" },
];

export function isTyping(target: EventTarget | null): boolean {
  const t = target as HTMLElement | null;
  return !!t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
}

/** The shortcut a key press asks for, if any. */
export function shortcutFor(e: KeyboardEvent): Shortcut | null {
  const typing = isTyping(e.target);
  for (const s of SHORTCUTS) {
    if (!s.action || !s.match || !s.match(e)) continue;
    if (typing && !s.whileTyping) return null;
    return s;
  }
  return null;
}
