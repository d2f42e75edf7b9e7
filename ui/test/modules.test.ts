import assert from "node:assert/strict";
import { test } from "node:test";
import { SHORTCUTS, shortcutFor } from "../src/keymap";
import { allInView, clearOfTopBars, fitZoom, freeSpot, keepInside, overlaps } from "../src/layout";
import { paramDiff } from "../src/Panels";
import { describe, parseList } from "../src/Sweep";

const key = (k: string, mods: Partial<KeyboardEvent> = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, target: null, ...mods }) as unknown as KeyboardEvent;

test("the key map finds the action of a key, and the help lists every action once", () => {
  assert.equal(shortcutFor(key("?", { shiftKey: true }))?.action, "help");
  assert.equal(shortcutFor(key("z", { ctrlKey: true }))?.action, "undo");
  assert.equal(shortcutFor(key("Z", { ctrlKey: true, shiftKey: true }))?.action, "redo");
  assert.equal(shortcutFor(key("Enter", { ctrlKey: true, shiftKey: true }))?.action, "runSelected");
  assert.equal(shortcutFor(key("x")), null);
  const actions = SHORTCUTS.filter((s) => s.action).map((s) => s.action);
  assert.equal(new Set(actions).size, actions.length);
});

test("a new box goes to the nearest free spot", () => {
  const others = [{ x: 0, y: 0, w: 250, h: 120 }];
  const spot = freeSpot({ x: 10, y: 10, w: 250, h: 120 }, others);
  assert.ok(!overlaps({ ...spot, w: 250, h: 120 }, others[0]));
  assert.deepEqual(freeSpot({ x: 600, y: 0, w: 250, h: 120 }, others), { x: 600, y: 0 });
});

test("a saved view is kept only when it shows every node", () => {
  const boxes = [{ x: 0, y: 0, w: 250, h: 100 }, { x: 1400, y: 0, w: 250, h: 100 }];
  assert.equal(allInView(boxes, { x: 0, y: 0, zoom: 1 }, 1000, 800), false);
  assert.equal(allInView(boxes, { x: 10, y: 10, zoom: 0.5 }, 1000, 800), true);
  assert.ok(fitZoom(boxes, 1000, 800) < 1);
});

test("sweep values are read by the param's kind", () => {
  assert.deepEqual(parseList("1, 2,3\n4", "int"), [1, 2, 3, 4]);
  assert.deepEqual(parseList("a cat\na dog, sitting", "text"), ["a cat", "a dog, sitting"]);
  assert.equal(describe({ sweep: { from: 1, to: 2, step: 0.5 } }), "3 values from 1 to 2");
});

test("two runs' params are compared node by node", () => {
  const run = (radius: number) => ({ id: "r", started: 0, status: "ok", duration_s: 1, title: "", source: "", params: { blur: { radius }, save: { filename: "x.png" } } });
  assert.deepEqual(paramDiff(run(1), run(7)), [{ node: "blur", param: "radius", a: 1, b: 7 }]);
});

test("a new node placed left of the view is moved inside it, and one already inside stays put", () => {
  const view = { x: 100, y: 50, w: 1000, h: 700 };
  assert.deepEqual(keepInside({ x: -200, y: 300, w: 250, h: 120 }, view), { x: 124, y: 300 });
  assert.deepEqual(keepInside({ x: 500, y: 900, w: 250, h: 120 }, view), { x: 500, y: 606 });
  assert.deepEqual(keepInside({ x: 500, y: 300, w: 250, h: 120 }, view), { x: 500, y: 300 });
  // a node bigger than the view keeps its top-left corner in view
  assert.deepEqual(keepInside({ x: 0, y: 0, w: 2000, h: 120 }, view), { x: 124, y: 74 });
});

test("a saved view that puts a node under the minimap or the Arrange bar does not count as showing it", () => {
  const boxes = [{ x: 0, y: 0, w: 250, h: 120 }];
  assert.equal(allInView(boxes, { x: 20, y: 20, zoom: 1 }, 1000, 700), true);
  assert.equal(allInView(boxes, { x: 20, y: 20, zoom: 1 }, 1000, 700, [{ x: 0, y: 0, w: 400, h: 40 }]), false);
  assert.equal(allInView(boxes, { x: 20, y: 60, zoom: 1 }, 1000, 700, [{ x: 0, y: 0, w: 400, h: 40 }]), true);
});

test("a kept view moves down just clear of the bar along the top, and not for one at the bottom", () => {
  const boxes = [{ x: 40, y: 40, w: 250, h: 120 }];
  const bar = { x: 0, y: 0, w: 400, h: 40 };
  assert.deepEqual(clearOfTopBars({ x: 10, y: 10, zoom: 0.5 }, boxes, [bar], 700), { x: 10, y: 32, zoom: 0.5 });
  assert.deepEqual(clearOfTopBars({ x: 10, y: 100, zoom: 0.5 }, boxes, [bar], 700), { x: 10, y: 100, zoom: 0.5 });
  assert.deepEqual(clearOfTopBars({ x: 10, y: 10, zoom: 1 }, [{ x: 0, y: 600, w: 100, h: 100 }], [{ x: 0, y: 600, w: 200, h: 100 }], 700), { x: 10, y: 10, zoom: 1 });
});
