// Port type compatibility, the same relation as nodeflow/ports/core.py `compatible`.
import type { Catalog, NodeTypeSpec } from "./types";

export function compatible(source: string, target: string, types: Catalog["types"]): boolean {
  if (source === target || source === "Any" || target === "Any") return true;
  const info = types[target];
  return !!info && info.accepts.includes(source);
}

export const IN = "in:";
export const OUT = "out:";

/** The type of a node's input port or param (a param can take a link too); undefined if none. */
export function targetType(spec: NodeTypeSpec | undefined, port: string): string | undefined {
  if (!spec) return undefined;
  const input = spec.inputs.find((i) => i.name === port);
  if (input) return input.type;
  return spec.params.find((p) => p.name === port)?.type;
}

export function sourceType(spec: NodeTypeSpec | undefined, output: string): string | undefined {
  return spec?.outputs.find((o) => o.name === output)?.type;
}

/** Why a link from (source, output) into (target, port) is refused, or null when it is fine. */
export function refuseReason(
  sourceSpec: NodeTypeSpec | undefined,
  output: string,
  targetSpec: NodeTypeSpec | undefined,
  port: string,
  types: Catalog["types"],
  sameNode = false,
): string | null {
  if (sameNode) return "a node cannot feed itself";
  const from = sourceType(sourceSpec, output);
  const to = targetType(targetSpec, port);
  if (!from) return `unknown output ${output}`;
  if (!to) return `unknown input ${port}`;
  if (!compatible(from, to, types)) return `${from} cannot feed ${port} (it takes ${to})`;
  return null;
}

export function typeColour(types: Catalog["types"], name: string | undefined): string {
  return (name && types[name]?.colour) || "#9aa0a6";
}
