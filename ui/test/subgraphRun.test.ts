import assert from "node:assert/strict";
import { test } from "node:test";
import { applyEvent, EMPTY_VIEW } from "../src/runState";

test("a subgraph node shows the progress and state of its inner nodes", () => {
  let view = applyEvent(EMPTY_VIEW, { event: "run_started", run: "r", nodes: ["n", "up/a", "up/b", "up/inner/c"] });
  assert.equal(view.nodes.up.status, "queued");
  assert.deepEqual([view.nodes.up.value, view.nodes.up.max], [0, 3]);
  view = applyEvent(view, { event: "node_started", run: "r", node: "up/a" });
  assert.equal(view.nodes.up.status, "running");
  view = applyEvent(view, { event: "node_finished", run: "r", node: "up/a", duration_s: 0.1 });
  view = applyEvent(view, { event: "node_cached", run: "r", node: "up/b" });
  assert.deepEqual([view.nodes.up.status, view.nodes.up.value], ["running", 2]);
  assert.equal(view.nodes["up/inner"].status, "queued");
  view = applyEvent(view, { event: "node_error", run: "r", node: "up/inner/c", message: "boom" });
  assert.equal(view.nodes.up.status, "error");
  assert.equal(view.nodes.up.message, "boom");
  assert.equal(view.nodes["up/inner"].status, "error");
  assert.equal(view.nodes.n.status, "queued");
});
