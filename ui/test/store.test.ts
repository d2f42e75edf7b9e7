import assert from "node:assert/strict";
import { test } from "node:test";
import { createDocumentStore } from "../src/store/document";
import { RunStore } from "../src/store/runs";
import type { Catalog, GraphFile, NodeTypeSpec } from "../src/types";

const types: Catalog["types"] = {
  Image: { colour: "#4", description: "", accepts: [] },
  Float: { colour: "#2", description: "", accepts: [] },
};
const image = (type: string, inputs: string[]): NodeTypeSpec => ({
  type, title: type, category: "Image", description: "", version: 1, output: false, cache: "memory",
  inputs: inputs.map((name) => ({ name, type: "Image" })), outputs: [{ name: "image", type: "Image" }],
  params: [{ name: "radius", kind: "float", default: 1, type: "Float" }],
});
const catalog: Catalog = { types, nodes: [image("image.new", []), image("image.blur", ["image"])] };
const GRAPH: GraphFile = {
  nodeflow: 1, meta: { title: "t" },
  nodes: {
    a: { type: "image.new", ui: { pos: [0, 0] } },
    b: { type: "image.blur", inputs: { image: ["a", "image"] }, ui: { pos: [400, 0] } },
  },
};

test("a loaded document edits, undoes and redoes; each edit bumps the version and marks it unsaved", () => {
  const store = createDocumentStore(catalog);
  store.getState().load(GRAPH);
  assert.equal(store.getState().dirty, false);
  const v0 = store.getState().version;
  store.getState().setParam("b", "radius", 3, true);
  assert.equal(store.getState().file().nodes.b.params?.radius, 3);
  assert.ok(store.getState().version > v0 && store.getState().dirty && store.getState().canUndo);
  store.getState().undo();
  assert.equal(store.getState().file().nodes.b.params?.radius, undefined);
  store.getState().redo();
  assert.equal(store.getState().file().nodes.b.params?.radius, 3);
  store.getState().markSaved();
  assert.equal(store.getState().dirty, false);
});

test("deleting a node and its links is one undo step", async () => {
  const store = createDocumentStore(catalog, GRAPH);
  store.getState().edgeChanges([{ type: "remove", id: store.getState().edges[0].id }]);
  store.getState().nodeChanges([{ type: "remove", id: "a" }]);
  await Promise.resolve();
  store.getState().undo();
  assert.equal(store.getState().nodes.length, 2);
  assert.equal(store.getState().edges.length, 1);
});

test("typing a param makes one undo step when committed, not one per key", () => {
  const store = createDocumentStore(catalog, GRAPH);
  store.getState().setParam("b", "radius", 2, false);
  store.getState().setParam("b", "radius", 2.5, false);
  store.getState().commit();
  store.getState().undo();
  assert.equal(store.getState().file().nodes.b.params?.radius, undefined);
});

test("pasted nodes keep the links among them and land where asked, clear of other nodes", () => {
  const store = createDocumentStore(catalog, GRAPH);
  store.getState().select(["a", "b"]);
  const payload = {
    nodeflow_clipboard: 1 as const,
    nodes: Object.fromEntries(Object.entries(store.getState().file().nodes)),
  };
  const ids = store.getState().paste(payload, { x: 1000, y: 1000 });
  assert.deepEqual(ids, ["a_2", "b_2"]);
  const file = store.getState().file();
  assert.deepEqual(file.nodes.b_2.inputs, { image: ["a_2", "image"] });
  assert.deepEqual(file.nodes.a_2.ui?.pos, [1000, 1000]);
  assert.deepEqual(store.getState().nodes.filter((n) => n.selected).map((n) => n.id), ["a_2", "b_2"]);
});

test("a node added on top of another moves to a free spot and can be linked from a dragged port", () => {
  const store = createDocumentStore(catalog, GRAPH);
  const id = store.getState().addNode(catalog.nodes[1], { x: 10, y: 20 }, { node: "a", handle: "image", side: "source", wanted: { input: "Image" } });
  const added = store.getState().nodes.find((n) => n.id === id)!;
  const a = store.getState().nodes.find((n) => n.id === "a")!;
  const apart = Math.abs(added.position.x - a.position.x) >= 250 || Math.abs(added.position.y - a.position.y) >= 120;
  assert.ok(apart, JSON.stringify(added.position));
  assert.deepEqual(store.getState().file().nodes[id].inputs, { image: ["a", "image"] });
});

test("groups, titles and modes are document edits with undo", () => {
  const store = createDocumentStore(catalog, GRAPH);
  store.getState().group(["a", "b"]);
  store.getState().renameGroup(0, "Both");
  store.getState().setTitle("Renamed", true);
  store.getState().select(["b"]);
  store.getState().patchSelected((d) => ({ ...d, mode: "bypass" }));
  const file = store.getState().file();
  assert.deepEqual(file.groups, [{ title: "Both", nodes: ["a", "b"] }]);
  assert.equal(file.meta?.title, "Renamed");
  assert.equal(file.nodes.b.mode, "bypass");
  store.getState().undo();
  assert.equal(store.getState().file().nodes.b.mode, undefined);
});

test("a cached node shows the previews of its last result; another graph's run shows nothing", () => {
  const runs = new RunStore();
  runs.show("r1", {});
  runs.apply([
    { event: "run_started", run: "r1", nodes: ["a"] },
    { event: "node_started", run: "r1", node: "a", reason: "first run" },
    { event: "preview", run: "r1", node: "a", kind: "image", url: "/a.png" },
    { event: "node_finished", run: "r1", node: "a", duration_s: 1, outputs: {} },
    { event: "run_finished", run: "r1", status: "ok", duration_s: 1 },
  ]);
  const memory = runs.memory();
  runs.show("r2", memory);
  runs.apply([
    { event: "run_started", run: "r2", nodes: ["a"] },
    { event: "node_cached", run: "r2", node: "a" },
    { event: "run_finished", run: "r2", status: "ok", duration_s: 0 },
  ]);
  assert.equal(runs.node("a")?.status, "cached");
  assert.equal(runs.node("a")?.image, "/a.png");
  runs.show(null, {}); // a new tab
  assert.equal(runs.node("a"), undefined);
});

test("two runs at once: each event folds into its own run's view, and both show as running until each ends", () => {
  const runs = new RunStore();
  runs.show("r1", {});
  runs.apply([
    { event: "run_started", run: "r1", nodes: ["a"] },
    { event: "run_started", run: "r2", nodes: ["b"] },
    { event: "node_started", run: "r2", node: "b", reason: "first run" },
    { event: "progress", run: "r1", node: "a", value: 3, max: 10 },
    { event: "preview", run: "r2", node: "b", kind: "image", url: "/b.png" },
    { event: "progress", run: "r2", node: "b", value: 7, max: 10 },
  ]);
  assert.deepEqual(runs.server.running, ["r1", "r2"]);
  assert.deepEqual(Object.keys(runs.view.nodes), ["a"]);
  assert.equal(runs.node("a")?.value, 3);
  assert.equal(runs.node("b"), undefined);
  runs.apply([{ event: "run_finished", run: "r2", status: "ok", duration_s: 1 }]);
  assert.deepEqual(runs.server.running, ["r1"]);
  assert.equal(runs.statusOf("r1"), "running");
  runs.show("r2", {});
  assert.equal(runs.node("b")?.image, "/b.png");
  assert.equal(runs.node("b")?.value, 7);
  assert.equal(runs.node("a"), undefined);
});

test("a node that grows pushes the node below it down", async () => {
  const { makeRoom } = await import("../src/layout");
  const nodes = [
    { id: "a", position: { x: 0, y: 0 }, h: 400 },
    { id: "b", position: { x: 0, y: 200 }, h: 100 },
    { id: "c", position: { x: 600, y: 200 }, h: 100 },
  ];
  const moved = makeRoom(nodes, "a", (n) => ({ ...n.position, w: 250, h: n.h }));
  assert.equal(moved[1].position.y, 424);
  assert.equal(moved[2].position.y, 200); // not below it: stays
});
