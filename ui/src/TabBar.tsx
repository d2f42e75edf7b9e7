// The open graphs as tabs: which is active, which has unsaved changes, which is running.
import { useStore } from "zustand";
import { useSyncExternalStore } from "react";
import type { Commands } from "./commands";
import type { RunStore } from "./store/runs";
import type { Tabs } from "./store/tabs";

export function TabBar({ tabs, runs, commands }: { tabs: Tabs; runs: RunStore; commands: Commands }) {
  const { tabs: list, active } = useStore(tabs.store);
  const server = useSyncExternalStore((fn) => runs.subscribe(fn), () => runs.server);
  return (
    <div className="nf-tabs" data-testid="tabs">
      {list.map((t) => {
        const running = !!t.run && server.running.includes(t.run);
        return (
          <div key={t.id} className={`nf-tab${t.id === active ? " active" : ""}`} data-testid="tab" data-active={t.id === active}
            data-running={running} data-dirty={t.dirty} title={t.source || t.title} onClick={() => tabs.switchTo(t.id)}>
            {running && <span className="nf-tab-running" data-testid="tab-running" title="running" />}
            <span className="nf-tab-title">{t.title}</span>
            {t.dirty && <span className="nf-tab-dirty" title="unsaved changes">●</span>}
            <button className="nf-tab-close" data-testid="tab-close" title="close (Alt+W)" aria-label={`close ${t.title}`}
              onClick={(e) => { e.stopPropagation(); commands.closeTab(t.id); }}>✕</button>
          </div>
        );
      })}
      <button className="nf-tab-new" data-testid="tab-new" title="new tab (Alt+T)" aria-label="new tab" onClick={() => commands.newTab()}>+</button>
    </div>
  );
}
