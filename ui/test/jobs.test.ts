// Per-job state: a tab shows the job it started and nothing else (queued, running, how it ended), a job
// that ended unheard is settled from the queue, a past run replays over nothing, and a sweep keeps one
// state per item.
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyEvent, EMPTY_VIEW, type RunEvent } from "../src/runState";
import { RunStore } from "../src/store/runs";

const started = (run: string, nodes: string[], items?: Record<string, number>): RunEvent =>
  ({ event: "run_started", run, nodes, ...(items ? { items } : {}) });

test("a tab's job is queued until it starts, then running, then how it ended; no job is none", () => {
  const runs = new RunStore();
  assert.equal(runs.jobState(null), "none");
  runs.show("b", {});
  assert.equal(runs.jobState("b"), "queued");
  runs.apply([started("a", ["x"])]); // another tab's job running changes nothing for b
  assert.equal(runs.jobState("b"), "queued");
  assert.equal(runs.jobState("a"), "running");
  runs.apply([started("b", ["x"]), { event: "run_finished", run: "b", status: "ok" }]);
  assert.equal(runs.jobState("b"), "ok");
  assert.equal(runs.jobState("a"), "running");
});

test("a waiting job cancelled elsewhere is settled from the queue's listing; running and unwanted jobs are left", () => {
  const runs = new RunStore();
  runs.show("waiting", {});
  runs.apply([started("busy", ["x"])]);
  runs.reconcile([
    { id: "waiting", status: "cancelled" },
    { id: "busy", status: "running" },
    { id: "someone-elses", status: "ok" },
  ], ["waiting", "busy"]);
  assert.equal(runs.jobState("waiting"), "cancelled");
  assert.equal(runs.view.status, "cancelled"); // the shown tab hears it at once
  assert.equal(runs.jobState("busy"), "running");
  assert.equal(runs.statusOf("someone-elses"), "idle");
  // a job whose events were heard keeps what they said
  runs.apply([{ event: "run_finished", run: "busy", status: "ok" }]);
  runs.reconcile([{ id: "busy", status: "error" }], ["busy"]);
  assert.equal(runs.jobState("busy"), "ok");
});

test("a run replayed from the history shows its own results, not what an earlier run of its tab left", () => {
  const runs = new RunStore();
  runs.show("first", {});
  runs.apply([started("first", ["save"]), { event: "preview", run: "first", node: "save", kind: "image", url: "/old.png" },
    { event: "node_finished", run: "first", node: "save" }, { event: "run_finished", run: "first", status: "ok" }]);
  const before = runs.memory();
  runs.show("second", before); // the second run started over the first's memory
  runs.apply([started("second", ["save", "other"]), { event: "run_finished", run: "second", status: "ok" }]);
  assert.equal(runs.node("save")?.image, "/old.png"); // live: a cached node keeps its last preview
  runs.replay("second", [started("second", ["save"]), { event: "node_cached", run: "second", node: "save" },
    { event: "run_finished", run: "second", status: "ok" }]);
  runs.show("second", before);
  assert.equal(runs.node("save")?.image, undefined);
  assert.equal(runs.node("save")?.status, "cached");
});

test("a sweep keeps one state and one image per item, and counts them", () => {
  let view = applyEvent(EMPTY_VIEW, started("r", ["noise", "save"], { noise: 3, save: 3 }));
  assert.deepEqual(view.nodes.save.items?.map((i) => i.status), ["queued", "queued", "queued"]);
  for (const item of [0, 1]) {
    view = applyEvent(view, { event: "node_started", run: "r", node: "save", item });
    view = applyEvent(view, { event: "preview", run: "r", node: "save", item, kind: "image", url: `/s-${item}.png` });
    view = applyEvent(view, { event: "node_finished", run: "r", node: "save", item });
  }
  view = applyEvent(view, { event: "node_started", run: "r", node: "save", item: 2 });
  assert.equal(view.nodes.save.status, "running");
  assert.deepEqual([view.nodes.save.value, view.nodes.save.max], [2, 3]);
  assert.deepEqual(view.nodes.save.items?.map((i) => i.image), ["/s-0.png", "/s-1.png", undefined]);
  view = applyEvent(view, { event: "node_finished", run: "r", node: "save", item: 2 });
  assert.equal(view.nodes.save.status, "done");
});

test("an item keeps what its node said of it by name (a dataset writer's score and decision), not its log lines", () => {
  let view = applyEvent(EMPTY_VIEW, started("r", ["writer"], { writer: 2 }));
  view = applyEvent(view, { event: "preview", run: "r", node: "writer", item: 1, kind: "text", name: "scores", text: "judge_score 3.2" });
  view = applyEvent(view, { event: "preview", run: "r", node: "writer", item: 1, kind: "text", name: "decision", text: "dropped: duplicate of item 1" });
  view = applyEvent(view, { event: "preview", run: "r", node: "writer", item: 1, kind: "text", text: "a log line" });
  assert.deepEqual(view.nodes.writer.items?.[1].notes, { scores: "judge_score 3.2", decision: "dropped: duplicate of item 1" });
  assert.equal(view.nodes.writer.items?.[0].notes, undefined);
});

test("an error in one item shows on the node with its message, and later cancellations do not hide it", () => {
  let view = applyEvent(EMPTY_VIEW, started("r", ["save"], { save: 3 }));
  view = applyEvent(view, { event: "node_started", run: "r", node: "save", item: 0 });
  view = applyEvent(view, { event: "node_error", run: "r", node: "save", item: 0, message: "PathNotAllowed: ../escape-0.png" });
  view = applyEvent(view, { event: "node_skipped", run: "r", node: "save", item: 1, reason: "cancelled" });
  view = applyEvent(view, { event: "node_skipped", run: "r", node: "save", item: 2, reason: "cancelled" });
  view = applyEvent(view, { event: "run_finished", run: "r", status: "error" });
  const save = view.nodes.save;
  assert.equal(save.status, "error");
  assert.match(save.message || "", /^item 1 of 3: PathNotAllowed: \.\.\/escape-0\.png/);
  assert.deepEqual(save.items?.map((i) => i.status), ["error", "cancelled", "cancelled"]);
});

test("a run that ends part way says how many items a swept node made", () => {
  let view = applyEvent(EMPTY_VIEW, started("r", ["save"], { save: 4 }));
  view = applyEvent(view, { event: "node_finished", run: "r", node: "save", item: 0 });
  view = applyEvent(view, { event: "node_started", run: "r", node: "save", item: 1 });
  view = applyEvent(view, { event: "run_finished", run: "r", status: "cancelled" });
  assert.equal(view.nodes.save.reason, "made 1 of 4 items; the run ended before the rest");
  assert.deepEqual(view.nodes.save.items?.map((i) => i.status), ["done", "stopped", "cancelled", "cancelled"]);
});

test("an edit makes the edited node and what it feeds stale; a new run of the shown tab clears it", async () => {
  const { editedNodes, withDownstream } = await import("../src/staleness");
  const node = (id: string, params: Record<string, unknown>) => ({ id, position: { x: 0, y: 0 }, data: { params, mode: "run" } });
  const a = node("a", { r: 1 });
  const edges = [{ id: "e1", source: "a", target: "b" }, { id: "e2", source: "b", target: "c" }];
  const before = [a, node("b", {}), node("c", {}), node("d", {})];
  const after = [{ ...a, data: { ...a.data, params: { r: 2 } } }, ...before.slice(1)];
  const moved = [{ ...a, position: { x: 50, y: 0 } }, ...before.slice(1)];
  assert.deepEqual(editedNodes(before, after, edges, edges), ["a"]);
  assert.deepEqual(editedNodes(before, moved, edges, edges), []); // moving is no edit
  assert.deepEqual([...withDownstream(["a"], edges)].sort(), ["a", "b", "c"]);
  assert.deepEqual(editedNodes(before, before, edges, edges.slice(0, 1)), ["c"]); // a link removed
  const runs = new RunStore();
  runs.show("r1", {});
  runs.apply([started("r1", ["a", "d"]), { event: "node_finished", run: "r1", node: "a" }, { event: "node_cached", run: "r1", node: "d" },
    { event: "run_finished", run: "r1", status: "ok" }]);
  runs.markStale(["a"]);
  assert.equal(runs.node("a")?.status, "stale");
  assert.equal(runs.node("d")?.status, "cached");
  runs.show("r2", runs.memory());
  runs.apply([started("r2", ["a"])]);
  assert.equal(runs.node("a")?.status, "queued");
});
