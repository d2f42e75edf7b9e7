// The toasts over the canvas (toasts.ts holds them).
import { useStore } from "zustand";
import { toasts } from "./toasts";

export function ToastList() {
  const list = useStore(toasts, (s) => s.list);
  return (
    <div className="nf-toasts">
      {list.map((t) => (
        <div key={t.id} className={`nf-toast nf-toast-${t.kind}`} data-testid="toast" data-kind={t.kind}>{t.message}</div>
      ))}
    </div>
  );
}
