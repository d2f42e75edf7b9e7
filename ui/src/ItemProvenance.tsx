// What made one result of a sweep or batch (the params, seeds and models in its provenance record), and
// two results side by side with only the values that differ: the results view's selection.
import { useEffect, useState } from "react";
import { api, type ProvenanceRecord } from "./api";
import { differingRows, provenanceRows, provenanceUrl } from "./provenanceRows";
import type { ItemRun } from "./runState";

type Loaded = { record: ProvenanceRecord } | { error: string } | null;

function useProvenance(item: ItemRun | undefined): Loaded {
  const url = item ? provenanceUrl(item) : null;
  const [loaded, setLoaded] = useState<Loaded>(null);
  useEffect(() => {
    setLoaded(null);
    if (!url) return void setLoaded({ error: "this item wrote no file" });
    let live = true;
    api
      .itemProvenance(url)
      .then((r) => live && setLoaded({ record: r.record }))
      .catch((e: Error) => live && setLoaded({ error: e.message || String(e) }));
    return () => {
      live = false;
    };
  }, [url]);
  return loaded;
}

function Picture({ item, index, testid }: { item: ItemRun; index: number; testid: string }) {
  const full = provenanceUrl(item);
  return (
    <a href={full || undefined} target="_blank" rel="noreferrer" title="open full size in a new tab" className="nf-prov-picture">
      {item.image ? <img src={item.image} alt={`item ${index + 1}`} data-testid={testid} /> : <span>no image</span>}
    </a>
  );
}

/** One item: its picture and every value its provenance records. */
export function ItemDetails({ item, index }: { item: ItemRun; index: number }) {
  const loaded = useProvenance(item);
  return (
    <div className="nf-prov" data-testid="item-provenance" data-item={index}>
      <div className="nf-prov-head">item {index + 1}: {item.status}{item.message ? ` (${item.message})` : ""}</div>
      <Picture item={item} index={index} testid="provenance-image" />
      {!loaded && <div className="nf-prov-note">reading what made it…</div>}
      {loaded && "error" in loaded && <div className="nf-prov-note" data-testid="provenance-error">{loaded.error}</div>}
      {loaded && "record" in loaded && (
        <table className="nf-prov-table">
          <tbody>
            {provenanceRows(loaded.record).map(([key, value]) => (
              <tr key={key} data-testid={`provenance-row-${key}`}>
                <th>{key}</th>
                <td>{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Two items side by side: both pictures, and the values that differ between them. */
export function ItemComparison({ a, b, first, second }: { a: ItemRun; b: ItemRun; first: number; second: number }) {
  const left = useProvenance(a);
  const right = useProvenance(b);
  const error = [left, right].find((l) => l && "error" in l) as { error: string } | undefined;
  const ready = left && right && "record" in left && "record" in right;
  const rows = ready ? differingRows(left.record, right.record) : [];
  return (
    <div className="nf-prov nf-prov-compare" data-testid="item-comparison">
      <div className="nf-prov-head">item {first + 1} and item {second + 1}</div>
      <div className="nf-prov-pair">
        <Picture item={a} index={first} testid="compare-image-a" />
        <Picture item={b} index={second} testid="compare-image-b" />
      </div>
      {error && <div className="nf-prov-note" data-testid="provenance-error">{error.error}</div>}
      {!ready && !error && <div className="nf-prov-note">reading what made them…</div>}
      {ready && !rows.length && <div className="nf-prov-note" data-testid="compare-same">made with the same values</div>}
      {ready && rows.length > 0 && (
        <table className="nf-prov-table">
          <thead>
            <tr><th>differs</th><th>item {first + 1}</th><th>item {second + 1}</th></tr>
          </thead>
          <tbody>
            {rows.map(([key, l, r]) => (
              <tr key={key} data-testid={`compare-row-${key}`}>
                <th>{key}</th>
                <td>{l}</td>
                <td>{r}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
