// Every item a swept node made, page by page: each with its number, its state and its image (opened
// full size in a new browser tab), and the item's error when it failed. Hundreds of items stay quick:
// only one page is in the page at a time.
import { useState, useSyncExternalStore } from "react";
import { useEditor } from "./context";

export const ITEMS_PER_PAGE = 24;

export function ItemsPanel({ node, onClose }: { node: string; onClose(): void }) {
  const { runs } = useEditor();
  const run = useSyncExternalStore((fn) => runs.subscribeNode(node, fn), () => runs.node(node));
  const [page, setPage] = useState(0);
  const items = run?.items || [];
  const pages = Math.max(1, Math.ceil(items.length / ITEMS_PER_PAGE));
  const shown = Math.min(page, pages - 1);
  const first = shown * ITEMS_PER_PAGE;
  return (
    <div className="nf-panel nf-items-panel" data-testid="items-panel">
      <div className="nf-panel-head">{node}: {items.length} items
        <button onClick={onClose} aria-label="close the items" title="close">✕</button>
      </div>
      <div className="nf-items-grid nf-items-page">
        {items.slice(first, first + ITEMS_PER_PAGE).map((item, i) => (
          <a key={first + i} className={`nf-item nf-status-${item.status}`} data-testid={`items-panel-item-${first + i}`} data-status={item.status}
            href={item.image} target="_blank" rel="noreferrer" title={`item ${first + i + 1}: ${item.status}${item.message ? ` (${item.message})` : ""}`}>
            {item.image ? <img src={item.image} alt={`item ${first + i + 1}`} loading="lazy" /> : null}
            <span className="nf-item-label">{first + i + 1}</span>
          </a>
        ))}
      </div>
      {pages > 1 && (
        <div className="nf-pager">
          <button data-testid="items-prev" disabled={shown === 0} onClick={() => setPage(shown - 1)} aria-label="previous page">‹</button>
          <span data-testid="items-page">page {shown + 1} of {pages}</span>
          <button data-testid="items-next" disabled={shown >= pages - 1} onClick={() => setPage(shown + 1)} aria-label="next page">›</button>
        </div>
      )}
    </div>
  );
}
