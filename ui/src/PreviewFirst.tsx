// Preview, then scale: for a graph that writes a dataset, run only the first K items of its sweeps (the
// dataset's card says it is a preview of K of N); then ▶ Run makes the rest into the same dataset folder,
// keeping what the preview wrote, and the card says both. Shown only when the graph has a dataset writer.
import { useState } from "react";
import { useStore } from "zustand";
import type { Commands } from "./commands";
import { useEditor } from "./context";

export function PreviewFirst({ commands, busy }: { commands: Commands; busy: boolean }) {
  const { doc } = useEditor();
  const writes = useStore(doc, (s) => s.nodes.some((n) => n.data.type === "dataset.write"));
  const [count, setCount] = useState(8);
  if (!writes) return null;
  return (
    <span className="nf-preview-first" data-testid="preview-first">
      <button data-testid="btn-preview" onClick={() => commands.run(undefined, count)} disabled={busy}
        title={`preview: make only the first ${count} items of each sweep; then ▶ Run makes the rest into the same dataset`}>
        ▶ first
      </button>
      <input data-testid="preview-count" type="number" min={1} step={1} value={count} aria-label="items to preview"
        style={{ width: "4em" }}
        onChange={(e) => setCount(Math.max(1, Math.floor(Number(e.target.value) || 1)))} />
    </span>
  );
}
