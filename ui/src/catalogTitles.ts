// Node titles a person can tell apart: when several node types share a title ("Text" is a primitive, an
// image overlay, an embedding and an output), each says its category after it: "Text (Image)".
import type { Catalog } from "./types";

export function withDistinctTitles(catalog: Catalog): Catalog {
  const count = new Map<string, number>();
  for (const spec of catalog.nodes) count.set(spec.title, (count.get(spec.title) || 0) + 1);
  if (![...count.values()].some((n) => n > 1)) return catalog;
  const nodes = catalog.nodes.map((spec) => {
    if ((count.get(spec.title) || 0) < 2) return spec;
    const where = spec.category.split("/").pop()?.trim() || spec.type.split(".")[0];
    return { ...spec, title: `${spec.title} (${where})` };
  });
  return { ...catalog, nodes };
}
