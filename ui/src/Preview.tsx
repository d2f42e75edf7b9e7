// What a node shows of its result: images (a trainer's loss curve and samples side by side), text, audio,
// video, and links to the files it wrote.
import type { ItemRun, NodeRun } from "./runState";
import type { NodeTypeSpec } from "./types";

const SHOWN_TYPES = new Set(["Image", "Audio", "Video", "String", "Text"]);

/** Whether a node type has an output worth showing on the node (image, audio, video or text). */
export function showsPreview(spec: NodeTypeSpec): boolean {
  return spec.outputs.some((o) => SHOWN_TYPES.has(o.type));
}

const ITEMS_ON_NODE = 12; // a sweep of hundreds shows its first items here; the Results panel pages through all

/** A swept node's items: one cell each with its state and image, and how many are done. */
export function ItemGrid({ items, id, onAll }: { items: ItemRun[]; id: string; onAll?: () => void }) {
  const finished = items.filter((i) => i.status === "done" || i.status === "cached").length;
  const failed = items.filter((i) => i.status === "error").length;
  return (
    <div className="nf-items nodrag nowheel" data-testid={`items-${id}`}>
      <div className="nf-items-count" data-testid={`items-count-${id}`}>
        {finished} of {items.length} items{failed ? `, ${failed} failed` : ""}
        {onAll && <button type="button" className="nf-link-btn nodrag" data-testid={`items-all-${id}`} onClick={onAll}>see all</button>}
      </div>
      <div className="nf-items-grid">
        {items.slice(0, ITEMS_ON_NODE).map((item, i) => (
          <div key={i} className={`nf-item nf-status-${item.status}${item.notes?.decision?.startsWith("dropped") ? " nf-item-dropped" : ""}`}
            data-testid={`item-${id}-${i}`} data-status={item.status}
            title={`item ${i + 1}: ${item.status}${item.message ? ` (${item.message})` : ""}${notesLine(item)}`}>
            {item.image ? <img src={item.image} alt={`item ${i + 1}`} draggable={false} data-testid={`preview-item-${id}-${i}`} />
              : <span className="nf-item-label">{i + 1}</span>}
          </div>
        ))}
        {items.length > ITEMS_ON_NODE && (
          <button type="button" className="nf-item nf-item-more nodrag" data-testid={`items-more-${id}`}
            aria-label={`all ${items.length} items`} title="every item, page by page" onClick={onAll}>+{items.length - ITEMS_ON_NODE}</button>
        )}
      </div>
    </div>
  );
}

/** A dataset writer's word on an item (its score, kept or dropped), for the cell's tooltip. */
function notesLine(item: ItemRun): string {
  const said = [item.notes?.scores, item.notes?.decision].filter(Boolean);
  return said.length ? `; ${said.join("; ")}` : "";
}

export function Preview({ run, id, onItems }: { run: NodeRun; id: string; onItems?: () => void }) {
  if (run.items && run.items.length > 1) return <ItemGrid items={run.items} id={id} onAll={onItems} />;
  const images = run.images ? Object.entries(run.images) : run.image ? [["image", run.image] as [string, string]] : [];
  if (!images.length && !run.text && !run.audio && !run.video && !run.file) return null;
  return (
    <div className="nf-preview nodrag nowheel">
      {images.length > 0 && (
        <div className={`nf-preview-images${images.length > 1 ? " nf-two" : ""}`}>
          {images.map(([slot, url], i) => (
            <img key={slot} src={url} alt={slot} title={slot} draggable={false}
              data-testid={i === images.length - 1 ? `preview-image-${id}` : `preview-image-${id}-${slot}`} />
          ))}
        </div>
      )}
      {run.text && <pre className="nf-preview-text" data-testid={`preview-text-${id}`}>{run.text}</pre>}
      {run.audio && run.status !== "running" && <audio controls src={run.audio} data-testid={`preview-audio-${id}`} />}
      {run.video && run.status !== "running" && <video controls src={run.video} data-testid={`preview-video-${id}`} />}
      {run.file && <a className="nf-file-link" href={run.file} download data-testid={`preview-file-${id}`}>⇩ {run.file.split("/").pop()}</a>}
    </div>
  );
}

export function OutputLinks({ urls, id }: { urls: Record<string, string>; id: string }) {
  return (
    <div className="nf-output-links nodrag">
      {Object.entries(urls).map(([name, url]) => (
        <a key={name} href={url} target="_blank" rel="noreferrer" data-testid={`output-link-${id}-${name}`} title={url}>
          ⇩ {decodeURIComponent(url.split("/").pop() || name)}
        </a>
      ))}
    </div>
  );
}
