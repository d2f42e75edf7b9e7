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
          <input type="checkbox" data-testid={testid} aria-label={spec.name} checked={!!current} onChange={(e) => onChange(e.target.checked, true)} />
          <span>{current ? "on" : "off"}</span>
        </label>
      );
    case "choice":
      return (
        <select className={`nf-input nodrag nowheel${bad ? " nf-bad" : ""}`} data-testid={testid} aria-label={spec.name} value={JSON.stringify(current)}
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
    <input type="text" className={`nf-input nodrag${bad ? " nf-bad" : ""}`} data-testid={`param-${node}-${spec.name}`} aria-label={spec.name}
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
        data-testid={`param-${node}-${spec.name}`} aria-label={spec.name} value={text} rows={3} spellCheck={!isJson}
        onChange={(e) => { setText(e.target.value); send(e.target.value, false); }}
        onBlur={() => send(text, true)} />
      {error && <span className="nf-hint nf-hint-bad">{error}</span>}
    </span>
  );
}

/** A slider's step when the param gives none: a round number near a hundredth of its range (1 for 0..256,
 * 0.01 for 0..1), so the values it lands on are ones a person would type. */
export function sliderStep(min: number, max: number): number {
  const raw = (max - min) / 100;
  if (!(raw > 0)) return 1;
  return 10 ** Math.floor(Math.log10(raw));
}

/** A number typed as text: the number, or why it is not one. */
export function readNumber(text: string, isInt: boolean): { value: number | null; error: string | null } {
  const t = text.trim();
  if (t === "") return { value: null, error: "empty: type a number" };
  const n = Number(t);
  if (!Number.isFinite(n)) return { value: null, error: `${JSON.stringify(t)} is not a number` };
  if (isInt && !Number.isInteger(n)) return { value: Math.trunc(n), error: null };
  return { value: n, error: null };
}

function NumberWidget({ node, spec, value, bad, onChange }: Props) {
  const isInt = spec.kind !== "float";
  const [text, setText] = useDraft(value === null || value === undefined ? "" : String(value), (a, b) => Number(a) === Number(b));
  const slider = spec.display === "slider" && spec.min !== undefined && spec.max !== undefined;
  const step = spec.step ?? (isInt ? 1 : slider ? sliderStep(Number(spec.min), Number(spec.max)) : undefined);
  const unset = value === null || value === undefined;
  const read = unset && text.trim() === "" ? { value: null, error: null } : readNumber(text, isInt);
  const send = (t: string, commit: boolean) => {
    const n = readNumber(t, isInt).value;
    if (n !== null) onChange(n, commit);
  };
  const out = read.value !== null && ((spec.min !== undefined && read.value < spec.min) || (spec.max !== undefined && read.value > spec.max));
  // typed text that is no number stays in the field, marked, and says what the graph keeps meanwhile
  const kept = value === null || value === undefined ? "no value" : String(value);
  const nudge = (direction: number) => {
    const base = read.value ?? Number(value ?? 0);
    const by = typeof step === "number" ? step : 1;
    let next = Math.round((base + direction * by) / by) * by;
    if (spec.min !== undefined) next = Math.max(spec.min, next);
    if (spec.max !== undefined && spec.kind !== "seed") next = Math.min(spec.max, next);
    next = Number(next.toFixed(10));
    setText(String(next));
    onChange(next, true);
  };
  return (
    <span className="nf-col nf-number-field">
      <span className="nf-row">
        {slider && (
          <input type="range" className="nf-slider nodrag" min={spec.min} max={spec.max} step={step}
            value={Number(value) || 0} data-testid={`slider-${node}-${spec.name}`} aria-label={`${spec.name} slider`}
            onChange={(e) => { setText(e.target.value); send(e.target.value, false); }}
            onPointerUp={(e) => send((e.target as HTMLInputElement).value, true)}
            onKeyUp={(e) => send((e.target as HTMLInputElement).value, true)} />
        )}
        <input type="text" inputMode={isInt ? "numeric" : "decimal"} spellCheck={false}
          className={`nf-input nf-number nodrag${bad || out || read.error ? " nf-bad" : ""}`}
          data-testid={`param-${node}-${spec.name}`} aria-label={spec.name} value={text} aria-invalid={!!read.error || out}
          onChange={(e) => { setText(e.target.value); send(e.target.value, false); }}
          onBlur={() => send(text, true)}
          onKeyDown={(e) => {
            if (e.key === "Enter") send(text, true);
            else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
              e.preventDefault();
              nudge(e.key === "ArrowUp" ? 1 : -1);
            }
          }} />
        {spec.kind === "seed" && (
          <button type="button" className="nf-icon-btn nodrag" title="new random seed" aria-label="new random seed" data-testid={`seed-${node}-${spec.name}`}
            onClick={() => {
              const seed = Math.floor(Math.random() * Math.min(SEED_MAX, Number(spec.max ?? SEED_MAX)));
              setText(String(seed));
              onChange(seed, true);
            }}>
            ⚄
          </button>
        )}
      </span>
      {read.error && <span className="nf-hint nf-hint-bad" data-testid={`number-error-${node}-${spec.name}`}>{read.error}; the graph keeps {kept}</span>}
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
        <input type="text" className={`nf-input nodrag${bad ? " nf-bad" : ""}`} data-testid={`param-${node}-${spec.name}`} aria-label={spec.name}
          value={text} placeholder="file name" onChange={(e) => { setText(e.target.value); onChange(e.target.value, false); }}
          onBlur={() => onChange(text, true)} />
        <button type="button" className="nf-icon-btn nodrag" title="pick a file from the input folders or recent outputs" aria-label={`pick a file for ${spec.name}`}
          data-testid={`browse-${node}-${spec.name}`} onClick={browse}>…</button>
        <button type="button" className="nf-icon-btn nodrag" title="upload a file into the input folder" aria-label={`upload a file for ${spec.name}`}
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
        // a list, not a <select>: a long file name wraps onto a second line instead of being cut off
        <div className="nf-picker nodrag nowheel" role="listbox" aria-label={`files for ${spec.name}`} data-testid={`files-${node}-${spec.name}`}>
          <div className="nf-picker-group">input folders</div>
          {files.files.length === 0 && <div className="nf-hint">no files in the input folders</div>}
          {files.files.map((f) => (
            <div key={f} className="nf-picker-item nf-file-name" role="option" aria-selected={f === text} data-testid={`file-option-${f}`}
              tabIndex={0} onClick={() => pick(f)} onKeyDown={(e) => e.key === "Enter" && pick(f)}>{f}</div>
          ))}
          {files.recent.length > 0 && <div className="nf-picker-group">recent outputs</div>}
          {files.recent.map((f) => (
            <div key={f.name} className="nf-picker-item nf-file-name" role="option" aria-selected={false} data-testid={`file-option-output:${f.name}`}
              tabIndex={0} onClick={() => pick(`output:${f.name}`)} onKeyDown={(e) => e.key === "Enter" && pick(`output:${f.name}`)}>{f.name}</div>
          ))}
        </div>
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
