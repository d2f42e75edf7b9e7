// The graph file (DESIGN.md "The graph file") and the catalog served by the app, as TypeScript types.

export type Mode = "run" | "bypass" | "mute";
export type Link = [string, string]; // [source node id, source output name]

export interface FileNode {
  type: string;
  params?: Record<string, unknown>;
  inputs?: Record<string, Link>;
  mode?: Mode;
  version?: number;
  ui?: { pos?: [number, number]; title?: string; collapsed?: boolean; [key: string]: unknown };
  [key: string]: unknown;
}

export interface FileGroup {
  title: string;
  nodes: string[];
  [key: string]: unknown;
}

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

export interface GraphFile {
  nodeflow: number;
  meta?: Record<string, unknown>;
  nodes: Record<string, FileNode>;
  groups?: FileGroup[];
  ui?: { viewport?: Viewport; [key: string]: unknown };
  [key: string]: unknown;
}

export interface PortSpec {
  name: string;
  type: string;
  optional?: boolean;
  /** a list input: it collects every item of a sweep */
  many?: boolean;
}

export interface ParamSpec {
  name: string;
  kind: "int" | "float" | "string" | "text" | "bool" | "choice" | "seed" | "file" | "colour" | "json";
  default: unknown;
  type: string; // the port type a link into this param must give
  min?: number;
  max?: number;
  step?: number;
  display?: string;
  choices?: unknown[];
  description?: string;
  extensions?: string[];
  optional?: boolean;
  /** a text that must not be empty (validation says why) */
  nonempty?: boolean;
  /** what validation checks exists: a model source (with the kind of model a picker lists) or a file */
  resolve?: { kind: "model" | "file"; models?: string };
}

export interface NodeTypeSpec {
  type: string;
  title: string;
  category: string;
  description: string;
  version: number;
  pack?: string;
  output: boolean;
  cache: string;
  /** runs several items in one call */
  batch?: boolean;
  inputs: PortSpec[];
  outputs: PortSpec[];
  params: ParamSpec[];
}

export interface TypeInfo {
  colour: string;
  description: string;
  accepts: string[];
}

export interface Catalog {
  nodes: NodeTypeSpec[];
  types: Record<string, TypeInfo>;
  pack_errors?: { pack: string; source: string; message: string }[];
}

export interface Problem {
  node: string | null;
  type: string;
  port: string | null;
  message: string;
}

/** What a canvas node carries: the file entry minus its position and links (those live in React Flow). */
export interface NodeData extends Record<string, unknown> {
  type: string;
  params: Record<string, unknown>;
  mode: Mode;
  version?: number;
  ui: Record<string, unknown>; // the node's "ui" without "pos"
  extra: Record<string, unknown>; // keys of the file entry this editor does not know, kept as they were
  dangling: Record<string, Link>; // links to nodes that are not in the graph, kept for the file
}

export interface GroupData extends Record<string, unknown> {
  index: number;
  title: string;
}
