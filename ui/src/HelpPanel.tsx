// The shortcut help: the rows of the key map (keymap.ts), the same table the keyboard handler reads.
import { SHORTCUTS } from "./keymap";

export function HelpPanel({ onClose }: { onClose(): void }) {
  return (
    <div className="nf-panel nf-help" data-testid="help-panel">
      <div className="nf-panel-head">Keyboard and mouse<button onClick={onClose} aria-label="close the shortcuts" title="close">✕</button></div>
      <table><tbody>{SHORTCUTS.map((s) => <tr key={s.keys}><td><kbd>{s.keys}</kbd></td><td>{s.does}</td></tr>)}</tbody></table>
    </div>
  );
}
