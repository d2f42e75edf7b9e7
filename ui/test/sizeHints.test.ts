import assert from "node:assert/strict";
import { test } from "node:test";
import { fileToFlow } from "../src/graphModel";
import { withSizeHints } from "../src/sizeHints";
import type { NodeTypeSpec } from "../src/types";

const blur: NodeTypeSpec = {
  type: "image.blur", title: "Blur", category: "Image", description: "", version: 1, output: false, cache: "memory",
  inputs: [{ name: "image", type: "Image" }], outputs: [{ name: "image", type: "Image" }],
  params: [{ name: "radius", kind: "float", default: 2, type: "Float" }, { name: "note", kind: "text", default: "", type: "String" }],
};

test("unmeasured nodes get a size and a handle for every port and param, top to bottom", () => {
  const flow = fileToFlow({ nodeflow: 1, nodes: { b: { type: "image.blur" }, c: { type: "image.blur", ui: { collapsed: true } } } });
  const [b, c] = withSizeHints(flow.nodes, new Map([["image.blur", blur]]));
  assert.deepEqual(b.handles!.map((h) => `${h.type}:${h.id}`).sort(), ["source:out:image", "target:in:image", "target:in:note", "target:in:radius"]);
  const y = (id: string) => b.handles!.find((h) => h.id === id)!.y;
  assert.ok(y("in:image") < y("in:radius") && y("in:radius") < y("in:note"));
  assert.ok(b.initialHeight! > y("in:note"));
  assert.equal(b.handles!.find((h) => h.id === "out:image")!.x > 200, true);
  assert.ok(c.initialHeight! < 40 && c.handles!.every((h) => h.y < 20));
});

test("measured nodes and unknown types are left alone", () => {
  const flow = fileToFlow({ nodeflow: 1, nodes: { b: { type: "image.blur" }, x: { type: "nope.nope" } } });
  const measured = { ...flow.nodes[0], measured: { width: 250, height: 120 } };
  const [b, x] = withSizeHints([measured, flow.nodes[1]], new Map([["image.blur", blur]]));
  assert.equal(b, measured);
  assert.equal(x.handles, undefined);
});
