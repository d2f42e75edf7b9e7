import assert from "node:assert/strict";
import { test } from "node:test";
import {
  connect,
  newNode,
  copyNodes,
  fileShapeError,
  fileToFlow,
  flowToFile,
  newNodeId,
  pasteNodes,
  stringifyGraph,
  wouldCycle,
} from "../src/graphModel";
import type { GraphFile } from "../src/types";

const HELLO: GraphFile = {
  nodeflow: 1,
  meta: { title: "Hello", description: "d" },
  nodes: {
    gradient: { type: "image.new", params: { width: 512, fill: "gradient" }, ui: { pos: [40, 40], title: "Gradient" } },
    noise: { type: "image.new", params: { seed: 7 }, ui: { pos: [40, 320] }, mode: "mute" },
    blend: {
      type: "image.blend",
      inputs: { a: ["gradient", "image"], b: ["noise", "image"] },
      params: { alpha: 0.2 },
      ui: { pos: [340.5, 160], collapsed: true, colour: "#123456" },
      version: 2,
      custom: { kept: true },
    },
    orphan: { type: "image.blur", inputs: { image: ["gone", "image"] }, ui: { pos: [0, 0] } },
  },
  groups: [{ title: "Sources", nodes: ["gradient", "noise"], colour: "#333" }],
  ui: { viewport: { x: -12, y: 30, zoom: 0.8 }, other: 1 },
  extension: { a: [1, 2] },
};

test("a file loaded and saved unchanged comes back unchanged", () => {
  const flow = fileToFlow(structuredClone(HELLO));
  const back = flowToFile(flow);
  assert.deepEqual(JSON.parse(stringifyGraph(back)), JSON.parse(stringifyGraph(HELLO)));
});

test("links become edges; links to missing nodes are kept for the file, not drawn", () => {
  const flow = fileToFlow(HELLO);
  assert.equal(flow.edges.length, 2);
  assert.deepEqual(
    flow.edges.map((e) => [e.source, e.sourceHandle, e.target, e.targetHandle]).sort(),
    [
      ["gradient", "out:image", "blend", "in:a"],
      ["noise", "out:image", "blend", "in:b"],
    ],
  );
  assert.deepEqual(flowToFile(flow).nodes.orphan.inputs, { image: ["gone", "image"] });
});

test("moving a node changes only its position; the viewport is written as it is", () => {
  const flow = fileToFlow(HELLO);
  flow.nodes.find((n) => n.id === "blend")!.position = { x: 10, y: 20 };
  flow.viewport = { x: 1, y: 2, zoom: 1.5 };
  const file = flowToFile(flow);
  assert.deepEqual(file.nodes.blend.ui, { pos: [10, 20], collapsed: true, colour: "#123456" });
  assert.deepEqual(file.ui, { viewport: { x: 1, y: 2, zoom: 1.5 }, other: 1 });
});

test("deleted nodes leave their groups", () => {
  const flow = fileToFlow(HELLO);
  flow.nodes = flow.nodes.filter((n) => n.id !== "noise");
  flow.edges = flow.edges.filter((e) => e.source !== "noise");
  const file = flowToFile(flow);
  assert.deepEqual(file.groups![0].nodes, ["gradient"]);
  assert.deepEqual(file.nodes.blend.inputs, { a: ["gradient", "image"] });
});

test("nodes without a position get one", () => {
  const flow = fileToFlow({ nodeflow: 1, nodes: { a: { type: "core.int" }, b: { type: "core.int" } } });
  assert.notDeepEqual(flow.nodes[0].position, flow.nodes[1].position);
});

test("stringifyGraph sorts keys and ends with a newline", () => {
  const text = stringifyGraph({ nodes: {}, nodeflow: 1, meta: { b: 1, a: 2 } });
  assert.equal(text, '{\n  "meta": {\n    "a": 2,\n    "b": 1\n  },\n  "nodeflow": 1,\n  "nodes": {}\n}\n');
});

test("new node ids are readable and unique", () => {
  assert.equal(newNodeId("image.blur", new Set()), "blur");
  assert.equal(newNodeId("image.blur", new Set(["blur", "blur_2"])), "blur_3");
});

test("a new link into a linked input replaces the old one", () => {
  const flow = fileToFlow(HELLO);
  const edges = connect(flow.edges, "gradient", "image", "blend", "b");
  assert.equal(edges.length, 2);
  assert.ok(edges.every((e) => e.source === "gradient"));
});

test("cycles are detected before linking", () => {
  const flow = fileToFlow(HELLO);
  assert.equal(wouldCycle(flow.edges, "blend", "gradient"), true);
  assert.equal(wouldCycle(flow.edges, "gradient", "orphan"), false);
  assert.equal(wouldCycle(flow.edges, "blend", "blend"), true);
});

test("paste renames taken ids and keeps links among the pasted nodes only", () => {
  const flow = fileToFlow(HELLO);
  const chosen = flow.nodes.filter((n) => n.id === "blend" || n.id === "gradient");
  const payload = copyNodes(chosen, flow.edges);
  assert.deepEqual(Object.keys(payload.nodes.blend.inputs!), ["a"]);
  const pasted = pasteNodes(payload, new Set(flow.nodes.map((n) => n.id)), { x: 100, y: 50 });
  const ids = pasted.nodes.map((n) => n.id).sort();
  assert.deepEqual(ids, ["blend_2", "gradient_2"]);
  assert.equal(pasted.edges.length, 1);
  assert.equal(pasted.edges[0].target, pasted.nodes.find((n) => n.data.type === "image.blend")!.id);
  assert.deepEqual(pasted.nodes.find((n) => n.data.type === "image.blend")!.position, { x: 440.5, y: 210 });
});

test("malformed uploads are refused with a reason", () => {
  assert.match(fileShapeError([])!, /JSON object/);
  assert.match(fileShapeError({ nodes: {} })!, /nodeflow/);
  assert.match(fileShapeError({ nodeflow: 1, nodes: { a: {} } })!, /node a: missing "type"/);
  assert.equal(fileShapeError(HELLO), null);
});

test("a new node written by a newer version of its type says so (no migration of fresh params)", () => {
  const spec = { type: "x.y", title: "Y", category: "", description: "", version: 3, output: false, cache: "memory",
    inputs: [], outputs: [], params: [{ name: "n", kind: "int" as const, default: 2, type: "Int" }] };
  const file = flowToFile({ doc: fileToFlow({ nodeflow: 1, nodes: {} }).doc, nodes: [newNode(spec, "y", { x: 1, y: 2 })], edges: [], viewport: null });
  assert.deepEqual(file.nodes.y, { type: "x.y", params: { n: 2 }, version: 3, ui: { pos: [1, 2] } });
  const v1 = flowToFile({ doc: fileToFlow({ nodeflow: 1, nodes: {} }).doc, nodes: [newNode({ ...spec, version: 1 }, "y", { x: 1, y: 2 })], edges: [], viewport: null });
  assert.equal(v1.nodes.y.version, undefined);
});
