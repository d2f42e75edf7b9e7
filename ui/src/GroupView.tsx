// A group: a titled frame behind its nodes. Its box follows its members; dragging it moves them.
import { type NodeProps, type Node } from "@xyflow/react";
import { memo, useState } from "react";
import { useEditor } from "./context";
import type { GroupData } from "./types";

export type GroupNode = Node<GroupData, "nfgroup">;

function GroupViewInner({ data, selected, width, height }: NodeProps<GroupNode>) {
  const { doc } = useEditor();
  const [editing, setEditing] = useState(false);
  return (
    <div className={`nf-group${selected ? " nf-selected" : ""}`} style={{ width, height }} data-testid={`group-${data.index}`}>
      <div className="nf-group-title" onDoubleClick={() => setEditing(true)}>
        {editing ? (
          <input className="nf-input nodrag" autoFocus defaultValue={data.title} data-testid={`group-title-input-${data.index}`}
            onBlur={(e) => { setEditing(false); doc.getState().renameGroup(data.index, e.target.value.trim() || "Group"); }}
            onKeyDown={(e) => e.key === "Enter" && (e.target as HTMLInputElement).blur()} />
        ) : (
          <span data-testid={`group-title-${data.index}`} title={data.title}>{data.title}</span>
        )}
      </div>
    </div>
  );
}

export const GroupView = memo(GroupViewInner);

const PAD = 24;
const HEAD = 34;

/** Group frames from the groups of the file and the current node boxes (measured when known). */
export function groupNodes(
  groups: { title: string; nodes: string[] }[],
  nodes: { id: string; position: { x: number; y: number }; measured?: { width?: number; height?: number } }[],
  selected: Set<number>,
): GroupNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out: GroupNode[] = [];
  groups.forEach((group, index) => {
    const members = group.nodes.map((id) => byId.get(id)).filter(Boolean) as typeof nodes;
    if (!members.length) return;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const m of members) {
      const w = m.measured?.width ?? 240;
      const h = m.measured?.height ?? 120;
      x0 = Math.min(x0, m.position.x);
      y0 = Math.min(y0, m.position.y);
      x1 = Math.max(x1, m.position.x + w);
      y1 = Math.max(y1, m.position.y + h);
    }
    const width = x1 - x0 + 2 * PAD;
    const height = y1 - y0 + PAD + HEAD;
    out.push({
      id: `group:${index}`,
      type: "nfgroup",
      position: { x: x0 - PAD, y: y0 - HEAD },
      data: { index, title: group.title },
      width,
      height,
      zIndex: -1,
      selected: selected.has(index),
      draggable: true,
      connectable: false,
    });
  });
  return out;
}
