// A short guide on a graph that says what its first run costs (meta.first_run): what to press, how long
// it takes, what will appear. Dismissed once, it stays dismissed (browser storage).
import { useState, useSyncExternalStore } from "react";
import { useStore } from "zustand";
import { useEditor } from "./context";

export const FIRST_RUN_KEY = "nodeflow.editor.firstRunSeen";

function seen(): boolean {
  try {
    return localStorage.getItem(FIRST_RUN_KEY) === "1";
  } catch {
    return false;
  }
}

export function FirstRunGuide({ onRun }: { onRun(): void }) {
  const { doc, runs } = useEditor();
  const [hidden, setHidden] = useState(seen);
  const note = useStore(doc, (s) => (typeof s.doc.meta.first_run === "string" ? s.doc.meta.first_run : ""));
  const title = useStore(doc, (s) => String(s.doc.meta.title || "this graph"));
  const ran = useSyncExternalStore((fn) => runs.subscribe(fn), () => !!runs.view.run);
  if (hidden || !note || ran) return null; // only before this tab's first run
  const dismiss = () => {
    try {
      localStorage.setItem(FIRST_RUN_KEY, "1");
    } catch {
      /* storage disabled: hidden for this page only */
    }
    setHidden(true);
  };
  return (
    <div className="nf-first-run" data-testid="first-run" role="dialog" aria-label="first run">
      <b>First run of {title}</b>
      <ol>
        <li>Press <kbd>▶ Run</kbd> (or Ctrl+Enter).</li>
        <li>{note}</li>
        <li>Each node shows its state as it runs; results appear on the nodes and in Results on the right, and
          the files in the output folder (the Outputs button lists them).</li>
      </ol>
      <span className="nf-row">
        <button className="nf-primary" data-testid="first-run-go" onClick={() => { dismiss(); onRun(); }}>▶ Run it now</button>
        <button data-testid="first-run-dismiss" onClick={dismiss}>Got it</button>
      </span>
    </div>
  );
}
