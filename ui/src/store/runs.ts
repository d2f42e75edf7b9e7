// Run state, kept per run and shown for the graph it came from. Events of every run are folded into that
// run's view (runState.ts); the canvas shows the run of the active tab only, over what that tab's earlier
// runs left ("memory"), so a cached node keeps showing its last outputs and previews as if it had run.
// Each node subscribes to its own state: 500 nodes must not all re-render for one progress event.
import { applyEvent, EMPTY_VIEW, type NodeRun, type RunEvent, type RunView } from "../runState";

type Listener = () => void;
export type Memory = Record<string, NodeRun>;

/** Where one job stands, as a tab sees it: "none" for a tab that started no job, "queued" while it waits
 * (asked for, not started), then running and how it ended. */
export type JobState = "none" | "queued" | "running" | "ok" | "error" | "cancelled";

/** A job as the queue lists it (GET /api/queue): enough to tell how it ended. */
export interface QueuedJob {
  id: string;
  status: string;
}

const SHOWN_FIELDS = ["image", "images", "text", "audio", "video", "file", "outputs"] as const;
const KEEP_RUNS = 30;

function hasPreview(run: NodeRun): boolean {
  return SHOWN_FIELDS.some((f) => run[f] !== undefined);
}

function copyField<K extends keyof NodeRun>(to: NodeRun, from: NodeRun, field: K): void {
  if (from[field] !== undefined) to[field] = from[field];
}

/** What a node shows: this run's state, with the previews of its last result while it has none of its own. */
export function merged(now: NodeRun | undefined, before: NodeRun | undefined): NodeRun | undefined {
  if (!now) return before;
  if (!before || hasPreview(now) || now.status === "running" || now.status === "done" || now.status === "error") return now;
  const out: NodeRun = { ...now };
  for (const field of SHOWN_FIELDS) copyField(out, before, field);
  return out;
}

export class RunStore {
  private views = new Map<string, RunView>();
  private bases = new Map<string, Memory>(); // run id -> the memory of its tab when it started
  private shownRun: string | null = null;
  private shownMemory: Memory = {};
  private cache = new Map<string, { now?: NodeRun; before?: NodeRun; stale: boolean; out?: NodeRun }>();
  private stale = new Set<string>(); // nodes edited (or fed by one edited) since the shown run
  private nodeListeners = new Map<string, Set<Listener>>();
  private listeners = new Set<Listener>();
  /** the newest run the server reported, whichever graph it belongs to, and every run going on now
   * (several at once with NODEFLOW_JOBS > 1; each event names its run, so each folds into its own view) */
  server: { run: string | null; status: RunView["status"]; running: string[] } = { run: null, status: "idle", running: [] };
  view: RunView = EMPTY_VIEW;

  apply(events: RunEvent[]): void {
    if (!events.length) return;
    const touched = new Map<string, RunView>(); // run -> view before this batch
    for (const ev of events) {
      if (!ev.run) continue;
      const before = this.views.get(ev.run) || { ...EMPTY_VIEW, run: ev.event === "run_started" ? null : ev.run };
      if (!touched.has(ev.run)) touched.set(ev.run, before);
      this.views.set(ev.run, applyEvent(before, ev));
      if (ev.event === "run_started") {
        this.server = { run: ev.run, status: "running", running: [...this.server.running.filter((r) => r !== ev.run), ev.run] };
      } else if (ev.event === "run_finished") {
        const running = this.server.running.filter((r) => r !== ev.run);
        const status = ev.run === this.server.run ? (ev.status as RunView["status"]) || "ok" : this.server.status;
        this.server = { run: this.server.run, status, running };
      }
    }
    while (this.views.size > KEEP_RUNS) {
      const oldest = this.views.keys().next().value!;
      if (oldest === this.shownRun) break;
      this.views.delete(oldest);
      this.bases.delete(oldest);
    }
    const shown = this.shownRun ? touched.get(this.shownRun) : undefined;
    if (!shown) {
      this.listeners.forEach((fn) => fn()); // the server's run state (Stop, tab badges) may have changed
      return;
    }
    const after = this.views.get(this.shownRun!)!;
    this.view = after;
    if (after.status === "running" && shown.status !== "running") this.stale.clear(); // a new run: its own states
    for (const id of new Set([...Object.keys(shown.nodes), ...Object.keys(after.nodes)])) {
      if (shown.nodes[id] !== after.nodes[id]) this.nodeListeners.get(id)?.forEach((fn) => fn());
    }
    this.listeners.forEach((fn) => fn());
  }

  /** Show `run` (null: none) over `memory`: the active tab changed, or it started a run. */
  show(run: string | null, memory: Memory): void {
    if (run && !this.bases.has(run)) this.bases.set(run, memory);
    this.shownRun = run;
    this.shownMemory = run ? this.bases.get(run)! : memory;
    this.view = (run && this.views.get(run)) || { ...EMPTY_VIEW, run };
    this.cache.clear();
    this.stale.clear();
    this.nodeListeners.forEach((set) => set.forEach((fn) => fn()));
    this.listeners.forEach((fn) => fn());
  }

  /** What the shown run leaves for the next one: each node's latest result with its previews. */
  memory(): Memory {
    const out: Memory = { ...this.shownMemory };
    for (const id of Object.keys(this.view.nodes)) {
      const state = this.node(id);
      if (state && state.status !== "queued" && state.status !== "running") out[id] = state;
    }
    return out;
  }

  memoryOf(run: string | null, fallback: Memory): Memory {
    if (!run || run !== this.shownRun) return run && this.bases.has(run) ? this.bases.get(run)! : fallback;
    return this.memory();
  }

  statusOf(run: string | null): RunView["status"] {
    return (run && this.views.get(run)?.status) || "idle";
  }

  /** The state of the job `run` (a tab's): every control of a tab (Run, Stop, its status) reads this. */
  jobState(run: string | null): JobState {
    if (!run) return "none";
    const status = this.views.get(run)?.status;
    return !status || status === "idle" ? "queued" : status;
  }

  /** What the queue says of the jobs in `wanted` (the tabs' jobs): one that ended without this page
   * hearing it (cancelled while it waited, or finished before a reload could replay it) ends here too,
   * so no tab stays "queued" on a job that will never run. */
  reconcile(jobs: QueuedJob[], wanted: Iterable<string | null>): void {
    const want = new Set(wanted);
    const ended: RunEvent[] = [];
    for (const job of jobs) {
      if (!want.has(job.id) || job.status === "queued" || job.status === "running") continue;
      if (this.jobState(job.id) !== "queued") continue;
      const status = job.status === "ok" || job.status === "cancelled" ? job.status : "error";
      ended.push({ event: "run_finished", run: job.id, status, duration_s: 0 });
    }
    this.apply(ended);
  }

  /** Show a past run exactly as it was (History): its own events only, over nothing an earlier run left. */
  replay(run: string, events: RunEvent[]): void {
    this.views.delete(run);
    this.bases.set(run, {});
    this.apply(events);
  }

  node(id: string): NodeRun | undefined {
    const now = this.view.nodes[id];
    const before = this.shownMemory[id];
    const stale = this.stale.has(id);
    const hit = this.cache.get(id);
    if (hit && hit.now === now && hit.before === before && hit.stale === stale) return hit.out;
    let out = merged(now, before);
    if (out && stale && (out.status === "done" || out.status === "cached"))
      out = { ...out, status: "stale", reason: "changed since this result: run again to bring it up to date" };
    this.cache.set(id, { now, before, stale, out });
    return out;
  }

  /** Nodes an edit touched, and what they feed: their "done" and "cached" no longer hold until a run. */
  markStale(ids: Iterable<string>): void {
    for (const id of ids) {
      if (this.stale.has(id)) continue;
      this.stale.add(id);
      this.nodeListeners.get(id)?.forEach((fn) => fn());
    }
  }

  subscribeNode(id: string, fn: Listener): () => void {
    let set = this.nodeListeners.get(id);
    if (!set) this.nodeListeners.set(id, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
