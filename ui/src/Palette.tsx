// The node palette: fuzzy search by name, category and description. Opens on double-click, on "/" or
// Tab, and when a dragged link is dropped on empty canvas (then filtered to node types that fit it).
import { useEffect, useMemo, useRef, useState } from "react";
import { typeColour } from "./compat";
import { searchNodes, type Wanted } from "./search";
import type { Catalog, NodeTypeSpec } from "./types";

interface Props {
  catalog: Catalog;
  x: number;
  y: number;
  wanted: Wanted;
  onPick(spec: NodeTypeSpec): void;
  onClose(): void;
}

export function Palette({ catalog, x, y, wanted, onPick, onClose }: Props) {
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const results = useMemo(() => searchNodes(catalog, query, wanted).slice(0, 60), [catalog, query, wanted]);
  useEffect(() => input.current?.focus(), []);
  useEffect(() => setActive(0), [query]);
  useEffect(() => {
    list.current?.querySelector(`[data-index="${active}"]`)?.scrollIntoView({ block: "nearest" });
  }, [active]);
  const filter = wanted.input ? `take ${wanted.input}` : wanted.output ? `give ${wanted.output}` : "";
  return (
    <div className="nf-palette" style={{ left: x, top: y }} data-testid="palette"
      onMouseDown={(e) => e.stopPropagation()} onDoubleClick={(e) => e.stopPropagation()}>
      <input ref={input} className="nf-input nf-palette-search" data-testid="palette-search"
        placeholder={filter ? `search nodes that ${filter}…` : "search nodes…"} value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") { setActive((a) => Math.min(results.length - 1, a + 1)); e.preventDefault(); }
          else if (e.key === "ArrowUp") { setActive((a) => Math.max(0, a - 1)); e.preventDefault(); }
          else if (e.key === "Enter" && results[active]) onPick(results[active]);
          else if (e.key === "Escape") onClose();
          e.stopPropagation();
        }} />
      {filter && <div className="nf-palette-filter">only nodes that {filter}</div>}
      <div className="nf-palette-list" ref={list}>
        {results.length === 0 && <div className="nf-palette-empty">no node matches</div>}
        {results.map((spec, i) => (
          <div key={spec.type} data-index={i} data-testid={`palette-item-${spec.type}`}
            className={`nf-palette-item${i === active ? " active" : ""}`}
            onMouseEnter={() => setActive(i)} onClick={() => onPick(spec)}>
            <div className="nf-palette-line">
              <span className="nf-palette-title">{spec.title}</span>
              <span className="nf-palette-cat">{spec.category}</span>
            </div>
            <div className="nf-palette-type">
              {spec.type}
              <span className="nf-palette-ports">
                {spec.inputs.map((p) => <i key={"i" + p.name} style={{ background: typeColour(catalog.types, p.type) }} title={`${p.name}: ${p.type}`} />)}
                {spec.inputs.length > 0 && spec.outputs.length > 0 && <span>→</span>}
                {spec.outputs.map((p) => <i key={"o" + p.name} style={{ background: typeColour(catalog.types, p.type) }} title={`${p.name}: ${p.type}`} />)}
              </span>
            </div>
            {i === active && spec.description && <div className="nf-palette-desc">{spec.description.split("\n")[0]}</div>}
          </div>
        ))}
      </div>
    </div>
  );
}
