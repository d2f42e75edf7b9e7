// Every item a swept node made, page by page: each with its number, its state and its image, and the
// item's error when it failed. Click an item to see what made it (its provenance); Shift- or Ctrl-click a
// second one to compare the two side by side. Hundreds of items stay quick: only one page is in the page
// at a time.
import { useState, useSyncExternalStore, type MouseEvent } from "react";
import { useEditor } from "./context";
import { ItemComparison, ItemDetails } from "./ItemProvenance";
import type { ItemRun } from "./runState";

export const ITEMS_PER_PAGE = 24;

export function ItemsPanel({ node, onClose }: { node: string; onClose(): void }) {
  const { runs } = useEditor();
  const run = useSyncExternalStore((fn) => runs.subscribeNode(node, fn), () => runs.node(node));
  const [page, setPage] = useState(0);
  const [picked, setPicked] = useState<number[]>([]);
  const items = run?.items || [];
  const pages = Math.max(1, Math.ceil(items.length / ITEMS_PER_PAGE));
  const shown = Math.min(page, pages - 1);
  const first = shown * ITEMS_PER_PAGE;
  const pick = (index: number, e: MouseEvent) => {
    const adding = e.shiftKey || e.ctrlKey || e.metaKey;
    setPicked((before) => (adding && before.length && before[0] !== index ? [before[0], index] : before.length === 1 && before[0] === index ? [] : [index]));
  };
  const [a, b] = picked.map((i) => items[i]);
  const noted = items.some((i) => i.notes?.scores || i.notes?.decision);
  return (
    <div className="nf-panel nf-items-panel" data-testid="items-panel">
      <div className="nf-panel-head">{node}: {items.length} items
        <button onClick={onClose} aria-label="close the items" title="close">✕</button>
      </div>
      <div className={`nf-items-grid nf-items-page${noted ? " nf-items-noted" : ""}`}>
        {items.slice(first, first + ITEMS_PER_PAGE).map((item, i) => {
          const cell = (
            <button key={first + i} className={`nf-item nf-status-${item.status}${picked.includes(first + i) ? " nf-picked" : ""}${dropped(item) ? " nf-item-dropped" : ""}`}
              data-testid={`items-panel-item-${first + i}`} data-status={item.status} aria-pressed={picked.includes(first + i)}
              onClick={(e) => pick(first + i, e)}
              title={`item ${first + i + 1}: ${item.status}${item.message ? ` (${item.message})` : ""}; click for what made it, Shift+click a second to compare`}>
              {item.image ? <img src={item.image} alt={`item ${first + i + 1}`} loading="lazy" />
                : item.notes?.item ? <span className="nf-item-text">{item.notes.item}</span> : null}
              <span className="nf-item-label">{first + i + 1}</span>
            </button>
          );
          return noted ? <div key={first + i} className="nf-item-cell">{cell}<ItemNotes item={item} index={first + i} /></div> : cell;
        })}
      </div>
      {pages > 1 && (
        <div className="nf-pager">
          <button data-testid="items-prev" disabled={shown === 0} onClick={() => setPage(shown - 1)} aria-label="previous page">‹</button>
          <span data-testid="items-page">page {shown + 1} of {pages}</span>
          <button data-testid="items-next" disabled={shown >= pages - 1} onClick={() => setPage(shown + 1)} aria-label="next page">›</button>
        </div>
      )}
      {picked.length === 0 && items.length > 0 && <div className="nf-prov-note">Click an item for what made it; Shift+click a second to compare.</div>}
      {a && !b && <ItemDetails item={a} index={picked[0]} />}
      {a && b && <ItemComparison a={a} b={b} first={picked[0]} second={picked[1]} />}
    </div>
  );
}

/** Whether a dataset writer said the item was dropped (by a dedup filter or a failed check). */
export function dropped(item: ItemRun): boolean {
  return !!item.notes?.decision?.startsWith("dropped");
}

/** Under an item a dataset writer was given: its judge scores and whether the filters kept it (and why not). */
function ItemNotes({ item, index }: { item: ItemRun; index: number }) {
  const { scores, decision } = item.notes || {};
  return (
    <div className="nf-item-notes" data-testid={`items-panel-notes-${index}`}>
      {scores && <div className="nf-item-score" data-testid={`items-panel-score-${index}`} title="the judge's score">{scores}</div>}
      {decision && (
        <div className={`nf-item-decision${dropped(item) ? " nf-dropped" : ""}`} data-testid={`items-panel-decision-${index}`}
          title={decision}>{decision}</div>
      )}
    </div>
  );
}
