// Preview, then scale: for a graph that writes a dataset, run only the first K items of its sweeps (the
// dataset's card says it is a preview of K of N); then ▶ Run makes the rest into the same dataset folder,
// keeping what the preview wrote, and the card says both. Shown only when the graph has a dataset writer.
// The preview opens the writer's items as a grid: each item with its judge score and whether the dedup
// filters and checks kept it (and why not), as the writer says of each item it was given.
import { useState } from "react";
import { useStore } from "zustand";
import type { Commands } from "./commands";
import { useEditor } from "./context";

export function PreviewFirst({ commands, busy }: { commands: Commands; busy: boolean }) {
  const { doc } = useEditor();
  // the writer whose items the preview's grid shows (the first, when a graph writes several datasets)
  const writer = useStore(doc, (s) => s.nodes.find((n) => n.data.type === "dataset.write")?.id);
  const [count, setCount] = useState(8);
  if (!writer) return null;
  const preview = () => {
    void commands.run(undefined, count);
    commands.showItems(writer); // the grid of the first K items, filled as they come: score and decision each
  };
  return (
    <span className="nf-preview-first" data-testid="preview-first">
      <button data-testid="btn-preview" onClick={preview} disabled={busy}
        title={`preview: make only the first ${count} items of each sweep; then ▶ Run makes the rest into the same dataset`}>
        ▶ first
      </button>
      <input data-testid="preview-count" type="number" min={1} step={1} value={count} aria-label="items to preview"
        style={{ width: "4em" }}
        onChange={(e) => setCount(Math.max(1, Math.floor(Number(e.target.value) || 1)))} />
    </span>
  );
}
