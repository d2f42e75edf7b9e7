// Entry point: the Gradio page's js_on_load imports this module and calls mount().
import "@xyflow/react/dist/style.css";
import "./editor.css";
import { createRoot, type Root } from "react-dom/client";
import { App, type MountOptions } from "./App";

const roots = new WeakMap<Element, Root>();

export function mount(element: HTMLElement, options: MountOptions = {}): void {
  ensureStylesheet(options.version || "");
  let root = roots.get(element);
  if (!root) {
    root = createRoot(element);
    roots.set(element, root);
  }
  root.render(<App options={options} />);
}

function ensureStylesheet(version: string): void {
  if (document.querySelector("link[data-nf-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = `/ui/editor.css?v=${version}`;
  link.dataset.nfCss = "";
  document.head.appendChild(link);
}
