// The canvas: React Flow drawing the document store's nodes, links and groups, and turning gestures
// (drags, links, drops, double-clicks) into the store's actions. It holds no document state of its own.
import {
  Controls,
  MiniMap,
  ReactFlow,
  ViewportPortal,
  type Connection,
  type Edge,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
} from "@xyflow/react";
import { useCallback, useMemo, useRef } from "react";
import { useStore } from "zustand";
import { useShallow } from "zustand/react/shallow";
import type { Commands } from "./commands";
import { refuseReason, sourceType, targetType } from "./compat";
import { useEditor } from "./context";
import { handleName, wouldCycle, type FlowNode } from "./graphModel";
import { GroupView, groupNodes, type GroupNode } from "./GroupView";
import { NodeView } from "./NodeView";
import { Palette } from "./Palette";
import { enterSubgraph, SUBGRAPH, useReadOnly } from "./subgraphs";
import type { Wanted } from "./search";
import { notify } from "./toasts";
import type { NodeData, NodeTypeSpec } from "./types";
import type { UiStore } from "./uiState";
import { MIN_ZOOM } from "./layout";
import { MeasureAfterLoad } from "./MeasureAfterLoad";

const nodeTypes = { nf: NodeView, nfgroup: GroupView };
// bigger graphs draw only the nodes in view (small ones keep every node in the page, e.g. for find)
const CULL_ABOVE = 60;
/** How far out the canvas zooms: a few hundred nodes still fit on one screen. */
export { MIN_ZOOM };

export function Canvas(props: { commands: Commands; ui: UiStore; theme: "dark" | "light"; initialViewport?: { x: number; y: number; zoom: number } }) {
  const { commands, ui } = props;
  const { catalog, specs, doc } = useEditor();
  const { nodes, edges, groups, groupSelection } = useStore(
    doc,
    useShallow((s) => ({ nodes: s.nodes, edges: s.edges, groups: s.doc.groups, groupSelection: s.groupSelection })),
  );
  const palette = useStore(ui, (s) => s.palette);
  const readOnly = useReadOnly(); // a library subgraph opened to look inside
  const groupBoxes = useRef<GroupNode[]>([]);
  const d = doc.getState;

  const displayNodes = useMemo(() => {
    const boxes = groupNodes(groups, nodes, new Set(groupSelection));
    groupBoxes.current = boxes;
    return [...boxes, ...nodes] as (FlowNode | GroupNode)[];
  }, [groups, nodes, groupSelection]);

  const onNodesChange = useCallback((changes: NodeChange[]) => d().nodeChanges(changes, groupBoxes.current), [d]);
  const onEdgesChange = useCallback((changes: EdgeChange[]) => d().edgeChanges(changes), [d]);

  const reasonFor = useCallback(
    (c: Connection | Edge): string | null => {
      const { nodes, edges } = d();
      const source = nodes.find((n) => n.id === c.source);
      const target = nodes.find((n) => n.id === c.target);
      if (!source || !target) return "unknown node";
      const reason = refuseReason(
        specs.get(source.data.type), handleName(c.sourceHandle), specs.get(target.data.type), handleName(c.targetHandle),
        catalog.types, c.source === c.target,
      );
      if (reason) return reason;
      if (wouldCycle(edges, c.source, c.target)) return "that link would make a loop";
      return null;
    },
    [specs, catalog, d],
  );
  const isValidConnection = useCallback((c: Connection | Edge) => reasonFor(c) === null, [reasonFor]);

  const onConnect = useCallback(
    (c: Connection) => {
      if (!reasonFor(c)) d().link(c.source, handleName(c.sourceHandle), c.target, handleName(c.targetHandle));
    },
    [reasonFor, d],
  );
  // dragging a link's end to another port moves it; dropping it on empty canvas removes it
  const onReconnect = useCallback(
    (old: Edge, c: Connection) => {
      if (!reasonFor(c)) d().link(c.source, handleName(c.sourceHandle), c.target, handleName(c.targetHandle), old.id);
    },
    [reasonFor, d],
  );
  const onReconnectEnd = useCallback(
    (_e: unknown, edge: Edge, _side: unknown, state: FinalConnectionState) => {
      if (!state.isValid && !state.toHandle) d().unlink(edge.id);
    },
    [d],
  );

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid) return;
      const { fromHandle, fromNode } = state;
      if (!fromHandle || !fromNode) return;
      if (state.toHandle && state.toNode) {
        const [s, t] = fromHandle.type === "source" ? [fromHandle, state.toHandle] : [state.toHandle, fromHandle];
        const reason = reasonFor({ source: s.nodeId, sourceHandle: s.id ?? null, target: t.nodeId, targetHandle: t.id ?? null });
        notify(`link refused: ${reason || "those ports do not fit"}`, "error");
        return;
      }
      if (state.toNode) return;
      const name = handleName(fromHandle.id);
      const linked = d().edges.find((e) => e.target === fromNode.id && handleName(e.targetHandle) === name);
      if (fromHandle.type === "target" && linked) {
        d().unlink(linked.id); // a link pulled off its input and dropped on empty canvas: disconnect it
        return;
      }
      const point = "changedTouches" in event ? event.changedTouches[0] : (event as MouseEvent);
      const spec = specs.get((fromNode as unknown as FlowNode).data.type);
      const wanted: Wanted =
        fromHandle.type === "source" ? { input: sourceType(spec, name) || "Any" } : { output: targetType(spec, name) || "Any" };
      commands.openPalette(point.clientX, point.clientY);
      ui.setState((s) => ({ palette: s.palette && { ...s.palette, wanted, from: { node: fromNode.id, handle: name, side: fromHandle.type } } }));
    },
    [reasonFor, specs, commands, ui, d],
  );

  const addNode = useCallback(
    (spec: NodeTypeSpec) => {
      const p = ui.getState().palette;
      ui.setState({ palette: null });
      if (p) d().addNode(spec, p.flow, p.from && { ...p.from, wanted: p.wanted }, p.view);
    },
    [ui, d],
  );

  return (
    <>
      <ReactFlow
        nodes={displayNodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange as never}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd as never}
        onReconnect={onReconnect}
        onReconnectEnd={onReconnectEnd as never}
        isValidConnection={isValidConnection}
        onNodeDragStop={() => d().commit()}
        onDoubleClick={(e) => {
          const t = e.target as HTMLElement;
          if (t.classList.contains("react-flow__pane") && !readOnly) commands.openPalette(e.clientX, e.clientY);
        }}
        onNodeDoubleClick={(e, node) => {
          // double-click a subgraph node (not one of its fields or its title) to open it
          const t = e.target as HTMLElement;
          const type = (node.data as NodeData).type;
          if (!type?.startsWith(SUBGRAPH) || t.closest("input, select, textarea, button, .nf-title, .nf-handle")) return;
          enterSubgraph(doc, specs, node.id).catch((err) => notify(String(err.message || err), "error"));
        }}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        edgesReconnectable={!readOnly}
        onPaneClick={() => ui.setState({ palette: null })}
        zoomOnDoubleClick={false}
        defaultViewport={props.initialViewport /* the first paint at the saved view: no second layout pass */}
        minZoom={MIN_ZOOM}
        maxZoom={3}
        deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={["Shift", "Meta", "Control"]}
        onlyRenderVisibleElements={nodes.length > CULL_ABOVE}
        colorMode={props.theme}
        proOptions={{ hideAttribution: true }}
        connectionRadius={24}
        elevateNodesOnSelect={false}
      >
        <ViewportPortal>
          {/* dots drawn inside the moving layer: panning moves pixels instead of repainting a pattern */}
          <div className="nf-grid" />
        </ViewportPortal>
        <MiniMap pannable zoomable nodeStrokeWidth={3} data-testid="minimap"
          nodeColor={(n) => (n.type === "nfgroup" ? "transparent" : modeColour((n.data as NodeData).mode))} />
        <Controls showInteractive={false} />
        <MeasureAfterLoad />
      </ReactFlow>
      {palette && !readOnly && (
        <Palette catalog={catalog} x={palette.x} y={palette.y} wanted={palette.wanted} onPick={addNode} onClose={() => ui.setState({ palette: null })} />
      )}
      {nodes.length === 0 && (
        <div className="nf-empty-hint" data-testid="empty-hint">
          Double-click the canvas (or press /) to add a node, or pick an example.
        </div>
      )}
    </>
  );
}

function modeColour(mode: string): string {
  return mode === "mute" ? "#555" : mode === "bypass" ? "#8e5fc7" : "#5a7ca8";
}
