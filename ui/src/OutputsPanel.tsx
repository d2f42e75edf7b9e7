// The output folder, browsable: where it is (with a button to copy its path) and the newest files in it,
// images as thumbnails, each opening in a new browser tab.
import { useEffect, useState } from "react";
import { api } from "./api";
import { notify } from "./toasts";

const IMAGE = /\.(png|jpe?g|webp|gif)$/i;

export function OutputsPanel({ onClose }: { onClose(): void }) {
  const [folder, setFolder] = useState("");
  const [files, setFiles] = useState<{ name: string; url: string }[] | null>(null);
  useEffect(() => {
    api.outputFolder().then((r) => setFolder(r.folder)).catch(() => undefined);
    api.inputs().then((r) => setFiles(r.recent || [])).catch((e) => notify(String(e.message), "error"));
  }, []);
  return (
    <div className="nf-panel nf-outputs" data-testid="outputs-panel">
      <div className="nf-panel-head">Outputs<button onClick={onClose} aria-label="close the outputs" title="close">✕</button></div>
      <div className="nf-outputs-folder">
        <code data-testid="outputs-folder">{folder}</code>
        <button data-testid="outputs-copy" title="copy the folder's path" disabled={!folder}
          onClick={() => navigator.clipboard?.writeText(folder).then(() => notify("path copied"), () => notify(folder))}>copy path</button>
      </div>
      {!files && <div className="nf-hint">loading…</div>}
      {files && files.length === 0 && <div className="nf-hint">nothing written yet: run a graph with a Save node</div>}
      <div className="nf-outputs-list">
        {files?.map((f) => (
          <a key={f.name} className="nf-output" href={f.url} target="_blank" rel="noreferrer" data-testid={`output-${f.name}`} title={f.name}>
            {IMAGE.test(f.name) && f.url ? <img src={f.url} alt="" loading="lazy" /> : <span className="nf-output-kind">{f.name.split(".").pop()}</span>}
            <span>{f.name}</span>
          </a>
        ))}
      </div>
    </div>
  );
}
