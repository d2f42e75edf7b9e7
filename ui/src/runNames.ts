// What a row of the History or the Queue is called and shows: the graph's title, else the first file it
// made, else where it came from; and the first image it made as a thumbnail. A dozen "Untitled" rows tell
// nothing apart.
import type { JobOutput } from "./api";

const fileName = (path: string) => path.split(/[\\/]/).pop() || path;

/** The first file output's name, if any. */
export function firstOutputName(outputs: JobOutput[] | undefined): string {
  const file = (outputs || []).find((o) => o.path);
  return file?.path ? fileName(file.path) : "";
}

/** A row's name: the graph's title (when it has one of its own), else its first output, else its source. */
export function runName(run: { title?: string; source?: string; id: string; outputs?: JobOutput[] }): string {
  const title = (run.title || "").trim();
  if (title && title.toLowerCase() !== "untitled") return title;
  return firstOutputName(run.outputs) || (run.source && run.source !== "editor" ? run.source : "") || title || `run ${run.id.slice(0, 8)}`;
}

/** Where the app serves the first image a run made: its own url, else one under the output folder. */
export function thumbnailOf(outputs: JobOutput[] | undefined, outputFolder = ""): string | null {
  for (const o of outputs || []) {
    if (o.kind !== "image" || !o.path) continue;
    if (o.url) return o.url;
    const root = outputFolder.replace(/[\\/]+$/, "");
    if (root && o.path.startsWith(root + "/")) return `/files/output/${o.path.slice(root.length + 1).split("/").map(encodeURIComponent).join("/")}`;
  }
  return null;
}
