import assert from "node:assert/strict";
import { test } from "node:test";
import { candidates, exposePort, renamePort, retargetUses, unexposePort, withoutOutsideFed } from "../src/portEdits";
import type { Definition } from "../src/subgraphs";
import type { GraphFile, NodeTypeSpec } from "../src/types";

const MATH: NodeTypeSpec = {
  type: "core.int_math", title: "", category: "", description: "", version: 1, output: false, cache: "memory",
  inputs: [{ name: "a", type: "Int" }], outputs: [{ name: "value", type: "Int" }],
  params: [{ name: "value", kind: "int", default: 0, type: "Int" }, { name: "op", kind: "choice", default: "add", type: "String" }],
};
const DEF: Definition = {
  nodes: { plus: { type: "core.int_math", inputs: {} }, times: { type: "core.int_math", inputs: { a: ["plus", "value"] } } },
  inputs: { a: [["plus", "a"]] }, params: {}, outputs: { value: ["times", "value"] },
};

test("exposing, renaming and un-exposing ports of a definition", () => {
  const { definition, name } = exposePort(DEF, "params", ["plus", "value"]);
  assert.equal(name, "value"); // outputs have their own names: an output called value does not clash
  assert.deepEqual(definition.params, { value: [["plus", "value"]] });
  assert.equal(exposePort(definition, "params", ["times", "value"]).name, "value_2");
  assert.equal(exposePort(definition, "inputs", ["times", "a"]).name, "a_2"); // inputs and params share names
  const renamed = renamePort(definition, "params", "value", "offset");
  assert.deepEqual(Object.keys(renamed.params!), ["offset"]);
  assert.throws(() => renamePort(renamed, "params", "offset", "a"), /already has a port named a/);
  assert.throws(() => renamePort(renamed, "params", "offset", "x.y"), /not a port name/);
  assert.deepEqual(unexposePort(renamed, "params", "offset").params, {});
});

test("what can still be exposed: params not fed by a link, unlinked inputs, outputs not exposed", () => {
  const found = candidates(DEF, DEF.nodes, new Map([[MATH.type, MATH]])).map((c) => `${c.kind}:${c.node}.${c.port}`);
  assert.deepEqual(found.sort(), ["outputs:plus.value", "params:plus.op", "params:plus.value", "params:times.op", "params:times.value"]);
});

test("a renamed or removed port follows its subgraph nodes, their links, other definitions and published params", () => {
  const file: GraphFile = {
    nodeflow: 1,
    nodes: {
      s: { type: "subgraph.adder", params: { value: 5, "plus.op": "add" }, inputs: { a: ["n", "value"] } },
      end: { type: "core.int_math", inputs: { a: ["s", "value"] } },
    },
    definitions: { outer: { nodes: { inner: { type: "subgraph.adder", params: { value: 1 } } } } },
    published: ["s.value", { param: "end.value" }],
  };
  const params = retargetUses(file, "adder", "params", "value", "offset");
  assert.deepEqual(params.nodes.s.params, { offset: 5, "plus.op": "add" });
  assert.deepEqual((params.definitions as Record<string, Definition>).outer.nodes.inner.params, { offset: 1 });
  assert.deepEqual(params.published, ["s.offset", { param: "end.value" }]);
  const outputs = retargetUses(file, "adder", "outputs", "value", "sum");
  assert.deepEqual(outputs.nodes.end.inputs, { a: ["s", "sum"] });
  const gone = retargetUses(file, "adder", "inputs", "a", null);
  assert.equal(gone.nodes.s.inputs, undefined);
  assert.deepEqual(retargetUses(file, "adder", "outputs", "value", null).nodes.end.inputs, undefined);
});

test("inside a subgraph, an inner input fed from outside is not a missing link", async () => {
  const { nav } = await import("../src/subgraphs");
  const missing = { node: "plus", type: "core.int_math", port: "a", message: "missing required input (Int)" };
  const other = { node: "times", type: "core.int_math", port: "a", message: "missing required input (Int)" };
  const file: GraphFile = { nodeflow: 1, nodes: DEF.nodes, definitions: { adder: DEF } };
  assert.deepEqual(withoutOutsideFed([missing, other], file), [missing, other]); // at the top: all stay
  nav.setState({ path: [{ parent: file, name: "adder", node: "sub", undo: null as never, definition: DEF, readOnly: false }] });
  assert.deepEqual(withoutOutsideFed([missing, other], file), [other]);
  nav.setState({ path: [] });
});
