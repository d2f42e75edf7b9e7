// Every node measured again once a file is shown. React Flow keeps a node's DOM element when the next
// file has a node of the same id ("save" in one graph and the next), and it only measures an element
// when its size changes. Without this the document has no height for such a node until it grows (a
// preview arrives), so the growth cannot be told from a first measurement and the node below it is
// not moved down (under load, the first size change often already carries the preview).
import { useStoreApi } from "@xyflow/react";
import { useEffect } from "react";
import { useStore } from "zustand";
import { useEditor } from "./context";

export function MeasureAfterLoad() {
  const { doc } = useEditor();
  const loads = useStore(doc, (s) => s.loads);
  const flow = useStoreApi();
  useEffect(() => {
    let frame = 0;
    // two frames: React Flow draws the loaded nodes in its own render after ours
    frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => {
        const { domNode, updateNodeInternals } = flow.getState();
        const updates = new Map<string, { id: string; nodeElement: HTMLDivElement; force: boolean }>();
        for (const node of doc.getState().nodes) {
          if (node.measured?.height) continue; // measured since the load: its size is known
          const element = domNode?.querySelector<HTMLDivElement>(`.react-flow__node[data-id="${CSS.escape(node.id)}"]`);
          if (element) updates.set(node.id, { id: node.id, nodeElement: element, force: true });
        }
        if (updates.size) updateNodeInternals(updates);
      });
    });
    return () => cancelAnimationFrame(frame);
  }, [loads, doc, flow]);
  return null;
}
