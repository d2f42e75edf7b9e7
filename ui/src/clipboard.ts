// The clipboard: copied nodes (with the links among them) go to browser storage, shared by every tab of
// this site, and to the system clipboard as JSON text when the copy event allows it.
import { copyNodes, type ClipboardPayload, type FlowNode } from "./graphModel";
import type { Edge } from "@xyflow/react";

const CLIPBOARD_KEY = "nodeflow.editor.clipboard";

export function copy(nodes: FlowNode[], edges: Edge[]): ClipboardPayload | null {
  const chosen = nodes.filter((n) => n.selected);
  if (!chosen.length) return null;
  const payload = copyNodes(chosen, edges);
  try {
    localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(payload));
  } catch {
    /* storage full: the system clipboard still has it */
  }
  return payload;
}

export function stored(): ClipboardPayload | null {
  try {
    return parse(localStorage.getItem(CLIPBOARD_KEY));
  } catch {
    return null;
  }
}

export type ClipboardPayloadOrNull = ClipboardPayload | null;

export function parse(text: string | null | undefined): ClipboardPayload | null {
  try {
    const parsed = JSON.parse(text || "null");
    return parsed?.nodeflow_clipboard ? parsed : null;
  } catch {
    return null;
  }
}
