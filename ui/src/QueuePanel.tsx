// The job queue: what runs, what waits (in the order it will run) and what finished. Cancel a job,
// move a waiting one up or down, run a finished one again. Polls while open; the routes are the
// volume helper's (/api/queue in nodeflow/app/editor/routes.py).
import { useCallback, useEffect, useRef, useState } from "react";
import { api, type Job } from "./api";
import { firstOutputName, runName, thumbnailOf } from "./runNames";
import { notify } from "./toasts";

/** `onJobs` hears every listing: the tabs learn from it how their jobs ended (a job cancelled while it
 * waited never sends an event of its own to a page that reloaded since). */
export function QueuePanel({ onClose, onRerun, onJobs }: { onClose(): void; onRerun(run: string): void; onJobs(jobs: Job[]): void }) {
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const heard = useRef(onJobs);
  heard.current = onJobs;
  const load = useCallback(() => {
    api.queue().then((r) => { setJobs(r.jobs); setError(null); heard.current(r.jobs); }).catch((e) => setError(e.status === 404 ? "this install has no job queue" : String(e.message)));
  }, []);
  useEffect(() => {
    load();
    const timer = window.setInterval(load, 1000);
    return () => window.clearInterval(timer);
  }, [load]);
  const act = (promise: Promise<unknown>) => promise.then(load).catch((e) => notify(String(e.message), "error"));
  const queued = (jobs || []).filter((j) => j.status === "queued");
  const groups: [string, Job[]][] = [
    ["running", (jobs || []).filter((j) => j.status === "running")],
    ["waiting", queued],
    ["finished", (jobs || []).filter((j) => j.status !== "running" && j.status !== "queued")],
  ];
  return (
    <div className="nf-panel nf-queue" data-testid="queue-panel">
      <div className="nf-panel-head">Queue<button onClick={onClose} aria-label="close the queue" title="close">✕</button></div>
      {error && <div className="nf-hint">{error}</div>}
      {!jobs && !error && <div className="nf-hint">loading…</div>}
      {groups.map(([name, list]) => list.length > 0 && (
        <div key={name} className="nf-queue-group" data-testid={`queue-${name}`}>
          <div className="nf-queue-title">{name}</div>
          {list.map((job) => {
            const index = queued.findIndex((j) => j.id === job.id);
            return (
              <div key={job.id} className="nf-queue-item" data-testid={`job-${job.id}`} data-status={job.status}>
                <span className={`nf-dot nf-run-${job.status}`} />
                <span className="nf-queue-name">
                  {thumbnailOf(job.outputs) && <img className="nf-thumb" src={thumbnailOf(job.outputs)!} alt="" data-testid={`job-thumb-${job.id}`} />}
                  <b data-testid={`job-name-${job.id}`} title={firstOutputName(job.outputs)}>{runName(job)}</b>
                </span>
                <span className="nf-queue-status">{job.status}</span>
                <span className="nf-queue-actions">
                  {job.status === "queued" && index > 0 && (
                    <button title="run earlier" aria-label={`run ${job.title || job.id} earlier`} data-testid={`job-up-${job.id}`} onClick={() => act(api.moveJob(job.id, index - 1))}>↑</button>
                  )}
                  {job.status === "queued" && index < queued.length - 1 && (
                    <button title="run later" aria-label={`run ${job.title || job.id} later`} data-testid={`job-down-${job.id}`} onClick={() => act(api.moveJob(job.id, index + 1))}>↓</button>
                  )}
                  {(job.status === "queued" || job.status === "running") && (
                    <button title="cancel" aria-label={`cancel ${job.title || job.id}`} data-testid={`job-cancel-${job.id}`} onClick={() => act(api.cancelJob(job.id))}>✕</button>
                  )}
                  {job.status !== "queued" && job.status !== "running" && (
                    <button title="run it again" aria-label={`run ${job.title || job.id} again`} data-testid={`job-rerun-${job.id}`}
                      onClick={() => act(api.rerunJob(job.id).then((r) => onRerun(r.run)))}>↻</button>
                  )}
                </span>
              </div>
            );
          })}
        </div>
      ))}
      {jobs && jobs.length === 0 && <div className="nf-hint">no jobs yet</div>}
    </div>
  );
}
