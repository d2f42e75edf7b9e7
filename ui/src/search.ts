// Fuzzy search for the node palette: by name, title, category and description.
import { compatible } from "./compat";
import type { Catalog, NodeTypeSpec } from "./types";

/** Score how well `query` matches `text` as a subsequence; higher is better, -1 for no match. */
export function fuzzyScore(query: string, text: string): number {
  const q = query.toLowerCase();
  const t = text.toLowerCase();
  if (!q) return 0;
  const at = t.indexOf(q);
  if (at >= 0) return 1000 - at * 2 - (t.length - q.length) * 0.1 + (at === 0 || /[.\s_-]/.test(t[at - 1]) ? 200 : 0);
  let score = 0;
  let ti = 0;
  let streak = 0;
  for (const ch of q) {
    const found = t.indexOf(ch, ti);
    if (found < 0) return -1;
    streak = found === ti ? streak + 1 : 0;
    score += 10 + streak * 5 - Math.min(found - ti, 10);
    if (found === 0 || /[.\s_-]/.test(t[found - 1])) score += 8;
    ti = found + 1;
  }
  return score;
}

export interface Wanted {
  /** the new node must have an input that accepts this type (a link dragged from an output) */
  input?: string;
  /** the new node must have an output this type accepts (a link dragged from an input) */
  output?: string;
}

/** The first port of `spec` that fits what a dragged link needs, or null. */
export function fittingPort(spec: NodeTypeSpec, wanted: Wanted, types: Catalog["types"]): string | null {
  if (wanted.input) {
    const port = spec.inputs.find((i) => compatible(wanted.input!, i.type, types));
    if (port) return port.name;
    const param = spec.params.find((p) => compatible(wanted.input!, p.type, types) && wanted.input !== "Any");
    return param ? param.name : null;
  }
  if (wanted.output) {
    const out = spec.outputs.find((o) => compatible(o.type, wanted.output!, types));
    return out ? out.name : null;
  }
  return "";
}

export function searchNodes(catalog: Catalog, query: string, wanted: Wanted = {}): NodeTypeSpec[] {
  const words = query.trim().split(/\s+/).filter(Boolean);
  const scored: [number, NodeTypeSpec][] = [];
  for (const spec of catalog.nodes) {
    let total = 0;
    if (wanted.input || wanted.output) {
      const port = fittingPort(spec, wanted, catalog.types);
      if (port === null) continue;
      // a node whose input port takes the link comes before one where only a param could take it
      if (!spec.params.some((p) => p.name === port)) total += 10_000;
    }
    let ok = true;
    for (const word of words) {
      const best = Math.max(
        fuzzyScore(word, spec.title) * 1.2,
        fuzzyScore(word, spec.type) * 1.1,
        fuzzyScore(word, spec.category),
        spec.description.toLowerCase().includes(word.toLowerCase()) ? 300 : -1, // substring only: long texts match any subsequence
      );
      if (best < 0) {
        ok = false;
        break;
      }
      total += best;
    }
    if (ok) scored.push([total, spec]);
  }
  scored.sort((a, b) => b[0] - a[0] || a[1].category.localeCompare(b[1].category) || a[1].type.localeCompare(b[1].type));
  return scored.map(([, spec]) => spec);
}
