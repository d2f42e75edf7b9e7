// Where nodes go on the canvas: a new node at the pointer but never on top of another, a node that grows
// pushing the ones below it down, pastes at the pointer, and whether a saved view shows the whole graph.
// Pure functions on boxes, unit-tested in ui/test/modules.test.ts (and makeRoom in ui/test/store.test.ts).
import type { ClipboardPayload } from "./graphModel";

/** The farthest the canvas zooms out (a fit of a big graph stops here). */
export const MIN_ZOOM = 0.05;

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const GAP = 24;

export function overlaps(a: Box, b: Box, gap = 0): boolean {
  return a.x < b.x + b.w + gap && b.x < a.x + a.w + gap && a.y < b.y + b.h + gap && b.y < a.y + a.h + gap;
}

/** The visible part of the canvas in flow coordinates, from its top-left and bottom-right corners. */
export function visibleBox(topLeft: { x: number; y: number }, bottomRight: { x: number; y: number }): Box {
  return { x: topLeft.x, y: topLeft.y, w: bottomRight.x - topLeft.x, h: bottomRight.y - topLeft.y };
}

/** Where `box` goes to lie inside `view` with a margin, moved as little as possible (a new node placed
 * left of a link dropped near the canvas's edge would otherwise land off-screen). */
export function keepInside(box: Box, view: Box, margin = GAP): { x: number; y: number } {
  const clamp = (v: number, lo: number, hi: number) => (hi < lo ? lo : Math.min(Math.max(v, lo), hi));
  return {
    x: clamp(box.x, view.x + margin, view.x + view.w - box.w - margin),
    y: clamp(box.y, view.y + margin, view.y + view.h - box.h - margin),
  };
}

/** The free position nearest to `box` (tried in rings around it) where it overlaps no other box. */
export function freeSpot(box: Box, others: Box[]): { x: number; y: number } {
  const clear = (x: number, y: number) => !others.some((o) => overlaps({ ...box, x, y }, o, GAP / 2));
  if (clear(box.x, box.y)) return { x: box.x, y: box.y };
  const step = 40;
  for (let ring = 1; ring < 60; ring++) {
    const candidates: [number, number][] = [];
    for (let i = -ring; i <= ring; i++) {
      candidates.push([i, ring], [i, -ring], [ring, i], [-ring, i]);
    }
    candidates.sort((a, b) => Math.hypot(a[0], a[1]) - Math.hypot(b[0], b[1]));
    for (const [dx, dy] of candidates) {
      const x = box.x + dx * step;
      const y = box.y + dy * step;
      if (clear(x, y)) return { x, y };
    }
  }
  return { x: box.x, y: box.y };
}

/** Move the nodes that `id` now covers (below it, overlapping its column) down, and those they then cover. */
export function makeRoom<N extends { id: string; position: { x: number; y: number } }>(nodes: N[], id: string, boxOf: (n: N) => Box): N[] {
  const moved = new Map<string, { x: number; y: number }>();
  const box = (n: N): Box => ({ ...boxOf(n), ...(moved.get(n.id) || {}) });
  const queue = [id];
  let guard = 0;
  while (queue.length && guard++ < 500) {
    const next = queue.shift();
    const current = nodes.find((n) => n.id === next);
    if (!current) continue;
    const b = box(current);
    for (const other of nodes) {
      if (other.id === current.id) continue;
      const o = box(other);
      if (o.y < b.y + 10 || !overlaps(b, o, GAP / 2)) continue; // only what lies below the grown node
      moved.set(other.id, { x: o.x, y: b.y + b.h + GAP });
      queue.push(other.id);
    }
  }
  if (!moved.size) return nodes;
  return nodes.map((n) => (moved.has(n.id) ? { ...n, position: moved.get(n.id)! } : n));
}

/** How far to move pasted nodes: their top-left corner to the pointer, else 40 px off, and clear of others. */
export function pasteOffset(payload: ClipboardPayload, at: { x: number; y: number } | null, others: Box[]): { x: number; y: number } {
  const spots = Object.values(payload.nodes).map((e) => (Array.isArray(e.ui?.pos) ? e.ui!.pos : [0, 0]) as [number, number]);
  const left = Math.min(...spots.map((p) => p[0]));
  const top = Math.min(...spots.map((p) => p[1]));
  const right = Math.max(...spots.map((p) => p[0])) + 250;
  const bottom = Math.max(...spots.map((p) => p[1])) + 150;
  const want = at ? { x: at.x - left, y: at.y - top } : { x: 40, y: 40 };
  const spot = freeSpot({ x: left + want.x, y: top + want.y, w: right - left, h: bottom - top }, others);
  return { x: spot.x - left, y: spot.y - top };
}

/** Whether every box is inside the view of a canvas `width` x `height` at `viewport`, and under none of
 * the `covered` parts of it (screen boxes relative to the canvas: the minimap, the Arrange bar, the zoom buttons). */
export function allInView(boxes: Box[], viewport: { x: number; y: number; zoom: number }, width: number, height: number, covered: Box[] = []): boolean {
  const { x, y, zoom } = viewport;
  return boxes.every((b) => {
    const seen = { x: b.x * zoom + x, y: b.y * zoom + y, w: b.w * zoom, h: b.h * zoom };
    return seen.x >= 0 && seen.y >= 0 && seen.x + seen.w <= width && seen.y + seen.h <= height && !covered.some((c) => overlaps(seen, c));
  });
}

/** `viewport` moved down just enough that no box lies under a part covering the top of the canvas (the
 * Arrange bar): a saved view kept for a big graph must not hide its first nodes there. */
export function clearOfTopBars(viewport: { x: number; y: number; zoom: number }, boxes: Box[], covered: Box[], height: number): { x: number; y: number; zoom: number } {
  const { x, y, zoom } = viewport;
  let down = 0;
  for (const c of covered.filter((c) => c.y + c.h < height / 2)) {
    for (const b of boxes) {
      const seen = { x: b.x * zoom + x, y: b.y * zoom + y, w: b.w * zoom, h: b.h * zoom };
      if (overlaps(seen, c)) down = Math.max(down, c.y + c.h + GAP / 2 - seen.y);
    }
  }
  return { x, y: y + down, zoom };
}

/** The zoom at which all boxes fit the canvas (with 15% padding), capped at 1. */
export function fitZoom(boxes: Box[], width: number, height: number): number {
  if (!boxes.length) return 1;
  const x0 = Math.min(...boxes.map((b) => b.x));
  const y0 = Math.min(...boxes.map((b) => b.y));
  const x1 = Math.max(...boxes.map((b) => b.x + b.w));
  const y1 = Math.max(...boxes.map((b) => b.y + b.h));
  return Math.min(1, (width * 0.85) / Math.max(1, x1 - x0), (height * 0.85) / Math.max(1, y1 - y0));
}
