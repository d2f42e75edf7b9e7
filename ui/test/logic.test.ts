import assert from "node:assert/strict";
import { test } from "node:test";
import { compatible, refuseReason } from "../src/compat";
import { UndoStack } from "../src/history";
import { applyEvent, EMPTY_VIEW } from "../src/runState";
import { RunStore } from "../src/store/runs";
import { fuzzyScore, searchNodes } from "../src/search";
import type { Catalog, NodeTypeSpec } from "../src/types";

const types: Catalog["types"] = {
  Int: { colour: "#1", description: "", accepts: [] },
  Float: { colour: "#2", description: "", accepts: ["Int"] },
  String: { colour: "#3", description: "", accepts: [] },
  Image: { colour: "#4", description: "", accepts: [] },
  Any: { colour: "#5", description: "", accepts: [] },
};

function spec(type: string, category: string, inputs: [string, string][], outputs: [string, string][], description = ""): NodeTypeSpec {
  return {
    type,
    title: type.split(".")[1],
    category,
    description,
    version: 1,
    output: false,
    cache: "memory",
    inputs: inputs.map(([name, t]) => ({ name, type: t })),
    outputs: outputs.map(([name, t]) => ({ name, type: t })),
    params: [],
  };
}

const catalog: Catalog = {
  types,
  nodes: [
    spec("image.blur", "Image", [["image", "Image"]], [["image", "Image"]], "Gaussian blur"),
    spec("image.new", "Image", [], [["image", "Image"]], "A gradient, a colour or noise"),
    spec("core.round", "Math", [["x", "Float"]], [["value", "Float"]]),
    spec("core.text", "Primitives", [], [["text", "String"]]),
  ],
};

test("compatibility is strict: same type, Any, and Int into Float", () => {
  assert.ok(compatible("Int", "Float", types));
  assert.ok(!compatible("Float", "Int", types));
  assert.ok(compatible("Image", "Any", types));
  assert.ok(!compatible("String", "Image", types));
});

test("a refused link says why", () => {
  const reason = refuseReason(catalog.nodes[3], "text", catalog.nodes[0], "image", types);
  assert.equal(reason, "String cannot feed image (it takes Image)");
  assert.equal(refuseReason(catalog.nodes[1], "image", catalog.nodes[0], "image", types), null);
});

test("search matches names, categories and descriptions, best first", () => {
  assert.equal(searchNodes(catalog, "blur")[0].type, "image.blur");
  assert.equal(searchNodes(catalog, "gaussian")[0].type, "image.blur");
  assert.deepEqual(searchNodes(catalog, "math").map((s) => s.type), ["core.round"]);
  assert.equal(searchNodes(catalog, "imgnw")[0].type, "image.new");
  assert.ok(fuzzyScore("xyz", "blur") < 0);
});

test("search for a dragged link keeps only node types that fit it", () => {
  const fromImage = searchNodes(catalog, "", { input: "Image" }).map((s) => s.type);
  assert.deepEqual(fromImage, ["image.blur"]);
  const intoFloat = searchNodes(catalog, "", { output: "Float" }).map((s) => s.type);
  assert.deepEqual(intoFloat, ["core.round"]);
});

test("undo and redo walk the snapshots; a new edit clears redo", () => {
  const stack = new UndoStack<{ n: number }>({ n: 0 });
  stack.push({ n: 1 });
  stack.push({ n: 2 });
  assert.equal(stack.push({ n: 2 }), false);
  assert.deepEqual(stack.undo(), { n: 1 });
  assert.deepEqual(stack.undo(), { n: 0 });
  assert.equal(stack.undo(), null);
  assert.deepEqual(stack.redo(), { n: 1 });
  stack.push({ n: 5 });
  assert.equal(stack.canRedo, false);
  assert.deepEqual(stack.undo(), { n: 1 });
});

test("undo history is bounded", () => {
  const stack = new UndoStack<number>(0, 3);
  for (let i = 1; i <= 10; i++) stack.push(i);
  let steps = 0;
  while (stack.undo() !== null) steps++;
  assert.equal(steps, 3);
});

test("run events fold into per-node states", () => {
  let view = applyEvent(EMPTY_VIEW, { event: "run_started", run: "r1", nodes: ["a", "b", "c"], seq: 1 });
  assert.equal(view.nodes.a.status, "queued");
  view = applyEvent(view, { event: "node_cached", run: "r1", node: "a" });
  view = applyEvent(view, { event: "node_started", run: "r1", node: "b", reason: "param x changed" });
  view = applyEvent(view, { event: "progress", run: "r1", node: "b", value: 3, max: 10 });
  assert.deepEqual([view.nodes.b.status, view.nodes.b.value, view.nodes.b.max], ["running", 3, 10]);
  view = applyEvent(view, { event: "preview", run: "r1", node: "b", kind: "image", url: "/files/previews/x.png" });
  view = applyEvent(view, { event: "node_finished", run: "r1", node: "b", duration_s: 0.5, outputs: {} });
  view = applyEvent(view, { event: "node_started", run: "r1", node: "c", reason: "first run" });
  view = applyEvent(view, { event: "node_error", run: "r1", node: "c", message: "ValueError: bad" });
  view = applyEvent(view, { event: "run_finished", run: "r1", status: "error", duration_s: 1, seq: 9 });
  assert.equal(view.nodes.a.status, "cached");
  assert.equal(view.nodes.b.status, "done");
  assert.equal(view.nodes.b.image, "/files/previews/x.png");
  assert.equal(view.nodes.b.reason, "param x changed");
  assert.equal(view.nodes.c.message, "ValueError: bad");
  assert.equal(view.status, "error");
  assert.equal(view.seq, 9);
});

test("a stopped run marks the running node stopped and the queued ones cancelled; events of other runs are ignored", () => {
  let view = applyEvent(EMPTY_VIEW, { event: "run_started", run: "r1", nodes: ["a", "b"] });
  view = applyEvent(view, { event: "node_started", run: "old", node: "a", reason: "x" });
  assert.equal(view.nodes.a.status, "queued");
  view = applyEvent(view, { event: "node_started", run: "r1", node: "a", reason: "first run" });
  view = applyEvent(view, { event: "run_finished", run: "r1", status: "cancelled" });
  assert.equal(view.nodes.a.status, "stopped");
  assert.equal(view.nodes.b.status, "cancelled");
  assert.equal(view.status, "cancelled");
});

test("node_skipped says stopped for a running node, cancelled for a waiting one, skipped otherwise", () => {
  let view = applyEvent(EMPTY_VIEW, { event: "run_started", run: "r", nodes: ["a", "b", "c"] });
  view = applyEvent(view, { event: "node_started", run: "r", node: "a", reason: "first run" });
  view = applyEvent(view, { event: "node_skipped", run: "r", node: "a", reason: "cancelled" });
  view = applyEvent(view, { event: "node_skipped", run: "r", node: "a", reason: "cancelled" }); // said twice
  view = applyEvent(view, { event: "node_skipped", run: "r", node: "b", reason: "cancelled" });
  view = applyEvent(view, { event: "node_skipped", run: "r", node: "c", reason: "upstream a failed" });
  assert.deepEqual([view.nodes.a.status, view.nodes.b.status, view.nodes.c.status], ["stopped", "cancelled", "skipped"]);
  assert.equal(view.nodes.c.reason, "skipped: upstream a failed");
});

test("after a failure the nodes that did not run are skipped; after a good run they are cached", () => {
  let failed = applyEvent(EMPTY_VIEW, { event: "run_started", run: "r1", nodes: ["a", "b"] });
  failed = applyEvent(failed, { event: "node_error", run: "r1", node: "a", message: "boom" });
  failed = applyEvent(failed, { event: "run_finished", run: "r1", status: "error" });
  assert.deepEqual([failed.nodes.a.status, failed.nodes.b.status], ["error", "skipped"]);
  let ok = applyEvent(EMPTY_VIEW, { event: "run_started", run: "r2", nodes: ["up", "down"] });
  ok = applyEvent(ok, { event: "node_cached", run: "r2", node: "down" });
  ok = applyEvent(ok, { event: "run_finished", run: "r2", status: "ok" });
  assert.equal(ok.nodes.up.status, "cached"); // not needed: what it feeds was cached
});

test("named image previews stay side by side (a loss curve and samples)", () => {
  let view = applyEvent(EMPTY_VIEW, { event: "run_started", run: "r", nodes: ["t"] });
  view = applyEvent(view, { event: "preview", run: "r", node: "t", kind: "image", url: "/c1.png", name: "loss" });
  view = applyEvent(view, { event: "preview", run: "r", node: "t", kind: "image", url: "/s1.png", name: "samples" });
  view = applyEvent(view, { event: "preview", run: "r", node: "t", kind: "image", url: "/c2.png", name: "loss" });
  assert.deepEqual(view.nodes.t.images, { loss: "/c2.png", samples: "/s1.png" });
});

test("the run store notifies only the nodes that changed", () => {
  const store = new RunStore();
  store.show("r", {});
  store.apply([{ event: "run_started", run: "r", nodes: ["a", "b"] }]);
  let a = 0;
  let b = 0;
  store.subscribeNode("a", () => a++);
  store.subscribeNode("b", () => b++);
  store.apply([{ event: "progress", run: "r", node: "a", value: 1, max: 2 }]);
  assert.deepEqual([a, b], [1, 0]);
});

test("a node whose input takes the dragged link is listed before one where only a param could", () => {
  const withParam: NodeTypeSpec = {
    ...spec("text.upper", "Text", [], [["text", "String"]]),
    params: [{ name: "prefix", kind: "string", default: "", type: "String" }],
  };
  const withInput = spec("core.show", "Text", [["text", "String"]], []);
  const found = searchNodes({ types, nodes: [withParam, withInput] }, "", { input: "String" }).map((s) => s.type);
  assert.deepEqual(found, ["core.show", "text.upper"]);
});

test("a slider's own step is a round number near a hundredth of its range; typed numbers say what is wrong", async () => {
  const { sliderStep, readNumber } = await import("../src/widgets");
  assert.equal(sliderStep(0, 256), 1);
  assert.equal(sliderStep(0, 1), 0.01);
  assert.equal(sliderStep(-4, 4), 0.01);
  assert.equal(sliderStep(0, 30), 0.1);
  assert.deepEqual(readNumber("abc", true), { value: null, error: '"abc" is not a number' });
  assert.deepEqual(readNumber(" 12.7 ", true), { value: 12, error: null });
  assert.deepEqual(readNumber("1e3", false), { value: 1000, error: null });
  assert.equal(readNumber("", false).error, "empty: type a number");
});

test("node types that share a title each say their category after it; unique titles stay as they are", async () => {
  const { withDistinctTitles } = await import("../src/catalogTitles");
  const spec = (type: string, title: string, category: string) => ({
    type, title, category, description: "", version: 1, output: false, cache: "memory", inputs: [], outputs: [], params: [],
  });
  const out = withDistinctTitles({ types: {}, nodes: [spec("core.text", "Text", "Primitives"), spec("image.text", "Text", "Image"),
    spec("data.crop", "Crop", "Data / Prepare"), spec("image.blur", "Blur", "Image")] });
  assert.deepEqual(out.nodes.map((s) => s.title), ["Text (Primitives)", "Text (Image)", "Crop", "Blur"]);
});
