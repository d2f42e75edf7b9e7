import assert from "node:assert/strict";
import { test } from "node:test";
import { differingRows, provenanceRows, provenanceUrl } from "../src/provenanceRows";
import { applyEvent, EMPTY_VIEW } from "../src/runState";

const record = (seed: number, file: string) => ({
  params: { img: { seed, width: 24 }, save: { filename: file } },
  seeds: { "img.seed": seed },
  models: { "load.name": { name: "tiny-unet", sha256: "ab".repeat(32) } },
  device: "cpu",
});

test("a record reads as node.param rows, models and device included, in a stable order", () => {
  const rows = provenanceRows(record(11, "a-0.png"));
  assert.deepEqual(rows.slice(0, 3), [["img.seed", "11"], ["img.width", "24"], ["save.filename", "a-0.png"]]);
  assert.match(rows[3][1], /^tiny-unet \(sha256 abababababab…\)$/);
  assert.deepEqual(rows[4], ["device", "cpu"]);
});

test("two records compare on the values that differ only", () => {
  assert.deepEqual(differingRows(record(11, "a-0.png"), record(33, "a-2.png")), [
    ["img.seed", "11", "33"],
    ["save.filename", "a-0.png", "a-2.png"],
  ]);
  const { device: _, ...less } = record(11, "a-0.png");
  assert.deepEqual(differingRows(record(11, "a-0.png"), less), [["device", "cpu", "—"]]);
});

test("a sweep item keeps the files it wrote, and its provenance is read from them before its preview", () => {
  let view = applyEvent(EMPTY_VIEW, { event: "run_started", run: "r", nodes: ["save"], items: { save: 2 } });
  view = applyEvent(view, { event: "preview", run: "r", node: "save", item: 1, kind: "image", url: "/files/previews/p.png" });
  view = applyEvent(view, { event: "node_finished", run: "r", node: "save", item: 1, urls: { path: "/files/output/a-1.png" } });
  const item = view.nodes.save.items![1];
  assert.deepEqual(item.urls, { path: "/files/output/a-1.png" });
  assert.equal(provenanceUrl(item), "/files/output/a-1.png");
  assert.equal(provenanceUrl({ status: "done", image: "/files/previews/p.png" }), "/files/previews/p.png");
  assert.equal(provenanceUrl({ status: "cached" }), null);
});
