// Size and handle positions of a node guessed from its type, before React Flow measures it.
import { Position } from "@xyflow/react";
import { IN, OUT } from "./compat";
import type { FlowNode } from "./graphModel";
import type { NodeTypeSpec } from "./types";

/** Size and handle positions guessed from the node's type until React Flow measures it. React Flow
 * draws every node it has not measured, once, to find its handles; with the guess it can skip nodes
 * outside the view, so a 500-node graph opens drawing only what is on screen. Rows follow editor.css. */
export function withSizeHints(nodes: FlowNode[], specs: Map<string, NodeTypeSpec>): FlowNode[] {
  return nodes.map((n) => {
    if (n.measured?.width || n.handles) return n;
    const spec = specs.get(n.data.type);
    if (!spec) return n;
    const collapsed = !!n.data.ui.collapsed;
    const handles: NonNullable<FlowNode["handles"]> = [];
    const at = (id: string, type: "source" | "target", y: number) =>
      handles.push({ id, type, position: type === "source" ? Position.Right : Position.Left, x: type === "source" ? 244 : -6, y: y - 6, width: 11, height: 11 });
    const head = 34;
    if (collapsed) {
      for (const i of spec.inputs) at(IN + i.name, "target", 17);
      for (const p of spec.params) at(IN + p.name, "target", 17);
      for (const o of spec.outputs) at(OUT + o.name, "source", 17);
      return { ...n, handles, initialWidth: 250, initialHeight: head };
    }
    const rows = Math.max(spec.inputs.length, spec.outputs.length);
    spec.inputs.forEach((i, row) => at(IN + i.name, "target", head + 4 + row * 22 + 11));
    spec.outputs.forEach((o, row) => at(OUT + o.name, "source", head + 4 + row * 22 + 11));
    let y = head + (rows ? 8 + rows * 22 : 0) + 5;
    for (const p of spec.params) {
      const h = p.kind === "text" || p.kind === "json" ? 62 : p.kind === "bool" ? 18 : 24;
      at(IN + p.name, "target", y + h / 2);
      y += h + 4;
    }
    return { ...n, handles, initialWidth: 250, initialHeight: y + 8 };
  });
}
