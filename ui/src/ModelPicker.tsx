// A model source param: a text field (a folder, a file or a hub id) with a list of the models found
// locally (the models folder, the Hugging Face cache, the bundled ones) to pick from.
import { useEffect, useRef, useState } from "react";
import { api, type ModelEntry } from "./api";
import { notify } from "./toasts";
import type { Props } from "./widgets";

export function ModelPicker({ node, spec, value, bad, onChange }: Props) {
  const [text, setText] = useState(String(value ?? ""));
  const [models, setModels] = useState<ModelEntry[] | null>(null);
  const [folder, setFolder] = useState("");
  const last = useRef(String(value ?? ""));
  useEffect(() => {
    const outside = String(value ?? "");
    if (outside !== last.current) {
      last.current = outside;
      setText(outside);
    }
  }, [value]);
  const browse = () =>
    models ? setModels(null) : api.models(spec.resolve?.models || "").then((r) => { setModels(r.models); setFolder(r.folder || ""); }).catch((e) => notify(String(e.message), "error"));
  return (
    <span className="nf-col">
      <span className="nf-row">
        <input type="text" className={`nf-input nodrag${bad ? " nf-bad" : ""}`} data-testid={`param-${node}-${spec.name}`} aria-label={spec.name}
          value={text} placeholder="hub id or file" spellCheck={false}
          title="a model folder or file in the models folder, or a Hugging Face hub id (org/name)"
          onChange={(e) => { setText(e.target.value); onChange(e.target.value, false); }}
          onBlur={() => onChange(text, true)} />
        <button type="button" className="nf-icon-btn nodrag" title="pick a model found on this machine" aria-label={`pick a model for ${spec.name}`}
          data-testid={`models-btn-${node}-${spec.name}`} onClick={browse}>▾</button>
      </span>
      {models && (
        <div className="nf-picker nodrag nowheel" data-testid={`models-${node}-${spec.name}`}>
          {models.length === 0 && (
            <div className="nf-hint" data-testid={`models-empty-${node}-${spec.name}`}>
              no {spec.resolve?.models || ""} models found on this machine; put one in the models folder{folder ? <>: <code>{folder}</code></> : ""}
            </div>
          )}
          {models.map((m) => (
            <div key={m.where + m.name} className="nf-picker-item" data-testid={`model-option-${m.name}`} title={m.where}
              onClick={() => { setModels(null); setText(m.name); last.current = m.name; onChange(m.name, true); }}>
              <b>{m.name}</b><span>{m.where}</span>
            </div>
          ))}
        </div>
      )}
    </span>
  );
}
