// The document kept in browser storage and validated by the server after each change, and the run events
// (one EventSource, through api.ts) folded into the run store, with a toast when a run ends.
import { useEffect } from "react";
import { api } from "./api";
import { withoutOutsideFed } from "./portEdits";
import type { ProblemStore } from "./problemStore";
import type { RunEvent } from "./runState";
import type { DocumentStore } from "./store/document";
import type { RunStore } from "./store/runs";
import type { Tabs } from "./store/tabs";
import { notify } from "./toasts";

export function usePersistAndValidate(doc: DocumentStore, tabs: Tabs, problems: ProblemStore, session: string): void {
  useEffect(() => {
    let persistTimer = 0;
    let validateTimer = 0;
    let asked = 0;
    const persist = () => {
      window.clearTimeout(persistTimer);
      tabs.persist(session);
    };
    const validate = () => {
      const n = ++asked;
      const file = doc.getState().file(null);
      api.validate(file).then((r) => {
        if (n !== asked) return;
        problems.set(withoutOutsideFed(r.problems, file));
        problems.setNotes(r.notes || []);
      }).catch(() => undefined);
    };
    validate();
    persist();
    const unsubscribe = doc.subscribe((s, prev) => {
      if (s.version === prev.version) return;
      window.clearTimeout(persistTimer);
      persistTimer = window.setTimeout(persist, 250);
      window.clearTimeout(validateTimer);
      validateTimer = window.setTimeout(validate, 300);
    });
    const unsubscribeTabs = tabs.store.subscribe(() => {
      window.clearTimeout(persistTimer);
      persistTimer = window.setTimeout(persist, 100);
    });
    window.addEventListener("pagehide", persist); // a reload right after an edit keeps the edit
    return () => {
      unsubscribe();
      unsubscribeTabs();
      window.removeEventListener("pagehide", persist);
    };
  }, [doc, tabs, problems, session]);
}

export function useLiveRuns(runs: RunStore, tabs: Tabs, options: { refreshResults?: (run: string | null) => void }): void {
  useEffect(() => {
    // the results beside the canvas are those of the active tab's run
    let shown: string | null | undefined = undefined;
    const refresh = () => {
      const run = tabs.active().run;
      if (run === shown && runs.statusOf(run) === "running") return;
      shown = run;
      options.refreshResults?.(run);
    };
    refresh();
    const unsubscribeTabs = tabs.store.subscribe((s, prev) => {
      if (s.active !== prev.active || tabs.active().run !== prev.tabs.find((t) => t.id === prev.active)?.run) refresh();
    });
    const openedAt = Date.now() / 1000;
    const onBatch = (batch: RunEvent[]) => {
      runs.apply(batch);
      for (const ev of batch) {
        if (ev.event !== "run_finished") continue;
        const mine = tabs.active().run === ev.run;
        if (mine) options.refreshResults?.(ev.run);
        if ((ev.t || 0) < openedAt - 1 || !mine) continue; // replayed after a reload, or another graph's: no toast
        const status = ev.status as string;
        if (status === "ok") notify(`run finished in ${(ev.duration_s as number).toFixed(1)} s`);
        else if (status === "cancelled") notify("run stopped");
        else notify("run failed: see the node marked in red", "error");
      }
    };
    const close = api.events(onBatch);
    // after a reload, a tab's job may have ended while no page listened (its events no longer kept)
    const settle = window.setTimeout(() => {
      api.queue().then((r) => runs.reconcile(r.jobs, tabs.jobs())).catch(() => undefined);
    }, 1000);
    return () => {
      close();
      window.clearTimeout(settle);
      unsubscribeTabs();
    };
  }, [runs, tabs, options]);
}
