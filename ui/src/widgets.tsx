// Inline param widgets, one per param kind. Every input carries `nodrag` (so typing or sliding never
// drags the node) and a stable data-testid: param-<node>-<name>.
import { useEffect, useRef, useState } from "react";
import { api } from "./api";
import { ModelPicker } from "./ModelPicker";
import { notify } from "./toasts";
import type { ParamSpec } from "./types";

export interface Props {
  node: string;
  spec: ParamSpec;
  value: unknown;
  bad: boolean;
  onChange(value: unknown, commit: boolean): void;
}

const SEED_MAX = 2 ** 53 - 1; // what JavaScript numbers hold exactly

export function ParamWidget({ node, spec, value, bad, onChange }: Props) {
  const testid = `param-${node}-${spec.name}`;
  const current = value === undefined ? spec.default : value;
  if (spec.resolve?.kind === "model") return <ModelPicker {...{ node, spec, value: current, bad, onChange }} />;
  switch (spec.kind) {
    case "bool":
      return (
        <label className="nf-check nodrag">
          <input type="checkbox" data-testid={testid} checked={!!current} onChange={(e) => onChange(e.target.checked, true)} />
          <span>{current ? "on" : "off"}</span>
        </label>
      );
    case "choice":
      return (
        <select className={`nf-input nodrag nowheel${bad ? " nf-bad" : ""}`} data-testid={testid} value={JSON.stringify(current)}
          onChange={(e) => onChange(JSON.parse(e.target.value), true)}>
          {(spec.choices || []).map((c) => (
            <option key={JSON.stringify(c)} value={JSON.stringify(c)}>{String(c)}</option>
          ))}
        </select>
      );
    case "int":
    case "float":
    case "seed":
      return <NumberWidget {...{ node, spec, value: current, bad, onChange }} />;
    case "text":
    case "json":
      return <TextAreaWidget {...{ node, spec, value: current, bad, onChange }} />;
    case "colour":
      return (
        <span className="nf-row">
          <input type="color" className="nf-swatch nodrag" value={toHex6(String(current || "#000000"))}
            onChange={(e) => onChange(e.target.value, true)} aria-label={`${spec.name} colour`} />
          <TextWidget {...{ node, spec, value: current, bad, onChange }} />
        </span>
      );
    case "file":
      return <FileWidget {...{ node, spec, value: current, bad, onChange }} />;
    default:
      return <TextWidget {...{ node, spec, value: current, bad, onChange }} />;
  }
}

function TextWidget({ node, spec, value, bad, onChange }: Props) {
  const [text, setText] = useDraft(value === null || value === undefined ? "" : String(value));
  return (
    <input type="text" className={`nf-input nodrag${bad ? " nf-bad" : ""}`} data-testid={`param-${node}-${spec.name}`}
      value={text} spellCheck={false}
      onChange={(e) => { setText(e.target.value); onChange(e.target.value, false); }}
      onBlur={() => onChange(text, true)} />
  );
}

function TextAreaWidget({ node, spec, value, bad, onChange }: Props) {
  const isJson = spec.kind === "json";
  const shown = isJson ? JSON.stringify(value ?? null, null, 1) : String(value ?? "");
  const [text, setText] = useDraft(shown);
  const [error, setError] = useState<string | null>(null);
  const send = (t: string, commit: boolean) => {
    if (!isJson) return onChange(t, commit);
    try {
      const parsed = JSON.parse(t);
      setError(null);
      onChange(parsed, commit);
    } catch (e) {
      setError("not valid JSON yet");
    }
  };
  return (
    <span className="nf-col">
      <textarea className={`nf-input nf-textarea nodrag nowheel${bad || error ? " nf-bad" : ""}`}
        data-testid={`param-${node}-${spec.name}`} value={text} rows={3} spellCheck={!isJson}
        onChange={(e) => { setText(e.target.value); send(e.target.value, false); }}
        onBlur={() => send(text, true)} />
      {error && <span className="nf-hint nf-hint-bad">{error}</span>}
    </span>
  );
}

function NumberWidget({ node, spec, value, bad, onChange }: Props) {
  const isInt = spec.kind !== "float";
  const [text, setText] = useDraft(value === null || value === undefined ? "" : String(value), (a, b) => Number(a) === Number(b));
  const slider = spec.display === "slider" && spec.min !== undefined && spec.max !== undefined;
  const step = spec.step ?? (isInt ? 1 : slider ? (Number(spec.max) - Number(spec.min)) / 100 : "any");
  const parse = (t: string): number | null => {
    if (t.trim() === "") return null;
    const n = Number(t);
    if (!Number.isFinite(n)) return null;
    return isInt ? Math.trunc(n) : n;
  };
  const send = (t: string, commit: boolean) => {
    const n = parse(t);
    if (n !== null) onChange(n, commit);
  };
  const out = (n: number | null) =>
    n !== null && ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max));
  return (
    <span className="nf-row">
      {slider && (
        <input type="range" className="nf-slider nodrag" min={spec.min} max={spec.max} step={step}
          value={Number(value) || 0} data-testid={`slider-${node}-${spec.name}`}
          onChange={(e) => { setText(e.target.value); send(e.target.value, false); }}
          onPointerUp={(e) => send((e.target as HTMLInputElement).value, true)}
          onKeyUp={(e) => send((e.target as HTMLInputElement).value, true)} />
      )}
      <input type="number" className={`nf-input nf-number nodrag${bad || out(parse(text)) ? " nf-bad" : ""}`}
        data-testid={`param-${node}-${spec.name}`} value={text} step={step}
        min={spec.min} max={spec.kind === "seed" ? undefined : spec.max}
        onChange={(e) => { setText(e.target.value); send(e.target.value, false); }}
        onBlur={() => send(text, true)}
        onKeyDown={(e) => e.key === "Enter" && send(text, true)} />
      {spec.kind === "seed" && (
        <button type="button" className="nf-icon-btn nodrag" title="new random seed" data-testid={`seed-${node}-${spec.name}`}
          onClick={() => {
            const seed = Math.floor(Math.random() * Math.min(SEED_MAX, Number(spec.max ?? SEED_MAX)));
            setText(String(seed));
            onChange(seed, true);
          }}>
          ⚄
        </button>
      )}
    </span>
  );
}

function FileWidget({ node, spec, value, bad, onChange }: Props) {
  const [files, setFiles] = useState<{ files: string[]; recent: { name: string; url: string }[] } | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const [text, setText] = useDraft(String(value ?? ""));
  const extensions = spec.extensions || [];
  const browse = () =>
    files ? setFiles(null) : api.inputs(extensions).then((r) => setFiles({ files: r.files, recent: r.recent || [] })).catch((e) => notify(String(e.message), "error"));
  const pick = async (choice: string) => {
    setFiles(null);
    let path = choice;
    if (choice.startsWith("output:")) {
      // a recent output becomes an input: copied into the input folder, where file params may read
      try {
        path = (await api.useOutput(choice.slice(7))).path;
      } catch (err: any) {
        return notify(`could not use that output: ${err.message}`, "error");
      }
    }
    setText(path);
    onChange(path, true);
  };
  return (
    <span className="nf-col">
      <span className="nf-row">
        <input type="text" className={`nf-input nodrag${bad ? " nf-bad" : ""}`} data-testid={`param-${node}-${spec.name}`}
          value={text} placeholder="file name" onChange={(e) => { setText(e.target.value); onChange(e.target.value, false); }}
          onBlur={() => onChange(text, true)} />
        <button type="button" className="nf-icon-btn nodrag" title="pick a file from the input folders or recent outputs"
          data-testid={`browse-${node}-${spec.name}`} onClick={browse}>…</button>
        <button type="button" className="nf-icon-btn nodrag" title="upload a file into the input folder"
          data-testid={`upload-${node}-${spec.name}`} onClick={() => picker.current?.click()}>⇪</button>
        <input ref={picker} type="file" hidden accept={extensions.join(",")} data-testid={`upload-input-${node}-${spec.name}`}
          onChange={async (e) => {
            const file = e.target.files?.[0];
            if (!file) return;
            try {
              const { path } = await api.upload(file);
              setText(path);
              onChange(path, true);
              notify(`uploaded ${path}`);
            } catch (err: any) {
              notify(`upload failed: ${err.message}`, "error");
            }
            e.target.value = "";
          }} />
      </span>
      {files && (
        <select className="nf-input nodrag nowheel" size={Math.min(8, Math.max(3, files.files.length + files.recent.length + 2))}
          data-testid={`files-${node}-${spec.name}`} onChange={(e) => pick(e.target.value)}>
          <optgroup label="input folders">
            {files.files.length === 0 && <option disabled>no files in the input folders</option>}
            {files.files.map((f) => <option key={f} value={f}>{f}</option>)}
          </optgroup>
          {files.recent.length > 0 && (
            <optgroup label="recent outputs">
              {files.recent.map((f) => <option key={f.name} value={`output:${f.name}`}>{f.name}</option>)}
            </optgroup>
          )}
        </select>
      )}
    </span>
  );
}

/** Local text for an input that follows the outside value when it changes (undo, paste, load). */
function useDraft(outside: string, same?: (draft: string, outside: string) => boolean): [string, (t: string) => void] {
  const [text, setText] = useState(outside);
  const last = useRef(outside);
  useEffect(() => {
    if (outside !== last.current) {
      last.current = outside;
      setText((draft) => (same && same(draft, outside) ? draft : outside)); // keep "1." while typing 1.5
    }
  }, [outside]);
  return [text, (t: string) => { setText(t); }];
}

function toHex6(colour: string): string {
  if (/^#[0-9a-f]{6}$/i.test(colour)) return colour;
  if (/^#[0-9a-f]{3}$/i.test(colour)) return "#" + colour.slice(1).split("").map((c) => c + c).join("");
  if (/^#[0-9a-f]{8}$/i.test(colour)) return colour.slice(0, 7);
  return "#000000";
}
