// Editing what a subgraph exposes: its inputs (inner ports fed from outside), params (inner params set on
// the subgraph node) and outputs. Edits change the open definition and follow its uses: a renamed port
// is renamed on every subgraph node of that type (in each level up and in other definitions), an
// un-exposed one is dropped there. Pure functions, plus `editPorts`, which applies one to the open level.
import type { DocumentStore } from "./store/document";
import { nav, setDefinitions, SUBGRAPH, type Definition } from "./subgraphs";
import type { FileNode, GraphFile, NodeTypeSpec, Problem } from "./types";

export type PortKind = "inputs" | "params" | "outputs";
export type Target = [string, string]; // [inner node, port]

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function uniqueName(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const clean = base.replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^[^A-Za-z_]+/, "") || "port";
  let name = clean;
  for (let n = 2; used.has(name); n++) name = `${clean}_${n}`;
  return name;
}

/** Names already used by ports of `kind` (inputs and params share one set: both are set on the node). */
function namesFor(def: Definition, kind: PortKind): string[] {
  return kind === "outputs" ? Object.keys(def.outputs || {}) : [...Object.keys(def.inputs || {}), ...Object.keys(def.params || {})];
}

/** Expose an inner port; returns the new definition and the name it got (the inner port's, made unique). */
export function exposePort(def: Definition, kind: PortKind, target: Target): { definition: Definition; name: string } {
  const name = uniqueName(target[1], namesFor(def, kind));
  if (kind === "outputs") return { definition: { ...def, outputs: { ...(def.outputs || {}), [name]: target } }, name };
  return { definition: { ...def, [kind]: { ...(def[kind] || {}), [name]: [target] } }, name };
}

export function unexposePort(def: Definition, kind: PortKind, name: string): Definition {
  const { [name]: _gone, ...rest } = (def[kind] || {}) as Record<string, unknown>;
  void _gone;
  return { ...def, [kind]: rest };
}

/** Rename a port in place (its order kept). Throws when the name is not usable. */
export function renamePort(def: Definition, kind: PortKind, old: string, next: string): Definition {
  if (!NAME.test(next)) throw new Error(`"${next}" is not a port name: use letters, digits, _ and -, not starting with a digit`);
  if (next !== old && namesFor(def, kind).includes(next)) throw new Error(`the subgraph already has a port named ${next}`);
  const entries = Object.entries((def[kind] || {}) as Record<string, unknown>).map(([k, v]) => [k === old ? next : k, v]);
  return { ...def, [kind]: Object.fromEntries(entries) };
}

function retargetNodes(nodes: Record<string, FileNode>, type: string, kind: PortKind, old: string, next: string | null): Record<string, FileNode> {
  const mine = new Set(Object.entries(nodes).filter(([, n]) => n.type === type).map(([id]) => id));
  if (!mine.size) return nodes;
  const rekey = <T,>(record: Record<string, T> | undefined): Record<string, T> | undefined => {
    if (!record || !(old in record)) return record;
    return Object.fromEntries(Object.entries(record).flatMap(([k, v]) => (k !== old ? [[k, v]] : next === null ? [] : [[next, v]])));
  };
  const out: Record<string, FileNode> = {};
  for (const [id, node] of Object.entries(nodes)) {
    let entry = node;
    if (kind !== "outputs" && mine.has(id)) entry = { ...entry, inputs: rekey(entry.inputs), params: rekey(entry.params) };
    if (kind === "outputs" && entry.inputs && Object.values(entry.inputs).some(([n, o]) => mine.has(n) && o === old)) {
      const inputs = Object.entries(entry.inputs).flatMap(([port, [n, o]]) =>
        !(mine.has(n) && o === old) ? [[port, [n, o]]] : next === null ? [] : [[port, [n, next]]]);
      entry = { ...entry, inputs: Object.fromEntries(inputs) };
    }
    for (const key of ["inputs", "params"] as const) if (entry[key] && !Object.keys(entry[key]!).length) delete entry[key];
    out[id] = entry;
  }
  return out;
}

/** Follow a renamed (`next`) or un-exposed (`next` null) port of subgraph `name` through a file: its
 * subgraph nodes, the nodes linked to their outputs, other definitions, and published params. */
export function retargetUses(file: GraphFile, name: string, kind: PortKind, old: string, next: string | null): GraphFile {
  const type = SUBGRAPH + name;
  const out: GraphFile = { ...file, nodes: retargetNodes(file.nodes, type, kind, old, next) };
  if (file.definitions) {
    const defs = file.definitions as Record<string, Definition>;
    out.definitions = Object.fromEntries(Object.entries(defs).map(([k, d]) => [k, { ...d, nodes: retargetNodes(d.nodes, type, kind, old, next) }]));
  }
  if (kind === "params" && Array.isArray(file.published)) {
    const mine = new Set(Object.entries(file.nodes).filter(([, n]) => n.type === type).map(([id]) => `${id}.${old}`));
    const address = (e: unknown) => (typeof e === "string" ? e : (e as { param?: string })?.param || "");
    out.published = (file.published as unknown[]).flatMap((e) => {
      const at = address(e);
      if (!mine.has(at)) return [e];
      if (next === null) return [];
      const moved = at.slice(0, -old.length) + next;
      return [typeof e === "string" ? moved : { ...(e as object), param: moved }];
    });
  }
  return out;
}

export interface Candidate { kind: PortKind; node: string; port: string }

/** Inner ports that could be exposed: params not fed by a link, unlinked inputs, and outputs. */
export function candidates(def: Definition, nodes: Record<string, FileNode>, specs: Map<string, NodeTypeSpec>): Candidate[] {
  const taken = (kind: PortKind) =>
    new Set(kind === "outputs" ? Object.values(def.outputs || {}).map(([n, p]) => `${n}.${p}`)
      : Object.values(def[kind] || {}).flat().map(([n, p]) => `${n}.${p}`));
  const used = { inputs: taken("inputs"), params: taken("params"), outputs: taken("outputs") };
  const found: Candidate[] = [];
  for (const [id, node] of Object.entries(nodes)) {
    const spec = specs.get(node.type);
    if (!spec) continue;
    const linked = new Set(Object.keys(node.inputs || {}));
    const fed = (port: string) => linked.has(port) || used.inputs.has(`${id}.${port}`) || used.params.has(`${id}.${port}`);
    for (const p of spec.params) if (!fed(p.name)) found.push({ kind: "params", node: id, port: p.name });
    for (const i of spec.inputs) if (!fed(i.name)) found.push({ kind: "inputs", node: id, port: i.name });
    for (const o of spec.outputs) if (!used.outputs.has(`${id}.${o.name}`)) found.push({ kind: "outputs", node: id, port: o.name });
  }
  return found;
}

/** Apply a port edit to the open level's definition; a rename or removal also follows its uses. */
export function editPorts(doc: DocumentStore, edit: (def: Definition) => Definition, follow?: { kind: PortKind; old: string; next: string | null }): void {
  const path = nav.getState().path;
  const level = path[path.length - 1];
  if (!level || level.readOnly) throw new Error("open a subgraph of this graph to edit its ports");
  const defs = (doc.getState().doc.extra.definitions || {}) as Record<string, Definition>;
  let updated: Record<string, Definition> = { ...defs, [level.name]: edit(defs[level.name] || level.definition) };
  if (follow) {
    const { kind, old, next } = follow;
    updated = retargetUses({ nodeflow: 1, nodes: {}, definitions: updated }, level.name, kind, old, next).definitions as Record<string, Definition>;
    nav.setState({ path: path.map((l) => ({ ...l, parent: retargetUses(l.parent, level.name, kind, old, next) })) });
  }
  setDefinitions(doc, updated);
}

/** Inside an open subgraph, an inner port it exposes as an input is fed from outside: not a missing link. */
export function withoutOutsideFed(problems: Problem[], file: GraphFile): Problem[] {
  const path = nav.getState().path;
  const level = path[path.length - 1];
  if (!level) return problems;
  const def = ((file.definitions || {}) as Record<string, Definition>)[level.name] || level.definition;
  const fed = new Set([...Object.values(def.inputs || {}), ...Object.values(def.params || {})].flat().map(([n, p]) => `${n}.${p}`));
  return problems.filter((p) => !(p.node && p.port && fed.has(`${p.node}.${p.port}`) && p.message.startsWith("missing required input")));
}
