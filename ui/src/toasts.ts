// Short messages over the canvas ("run finished", "link refused: ..."), in a store any module can post to.
import { createStore } from "zustand/vanilla";

export interface Toast {
  id: number;
  message: string;
  kind: "info" | "error";
}

export const toasts = createStore<{ list: Toast[] }>()(() => ({ list: [] }));

export function notify(message: string, kind: "info" | "error" = "info"): void {
  const id = Date.now() + Math.random();
  toasts.setState((s) => ({ list: [...s.list.slice(-3), { id, message, kind }] }));
  setTimeout(() => toasts.setState((s) => ({ list: s.list.filter((t) => t.id !== id) })), kind === "error" ? 6000 : 3000);
}
