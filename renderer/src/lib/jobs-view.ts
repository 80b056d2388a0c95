/** A job as the page shows it, and its last state once it ended (pure: tested without a page). */
import type { EventPayload, JobState } from '../../../shared/contract';

/** A job as the page shows it; `finishedView` is its last state. */
export interface JobView {
  jobId: string;
  kind: string;
  phase: string;
  done: number;
  total: number;
  etaMs: number | null;
  metrics: Record<string, number>;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  error: string | null;
  result: unknown;
}

export type Finished = EventPayload<'job.finished'>;

/**
 * The view of a job once it ended: done fills the bar; cancelled or failed shows where the work stopped
 * (core's last step, "cancelled during train 57 / 232"), never a full bar.
 */
export function finishedView(prev: JobView | undefined, f: Finished): JobView {
  const total = f.last?.total ?? prev?.total ?? 1;
  const done = f.status === 'done' ? total : (f.last?.done ?? prev?.done ?? 0);
  return {
    jobId: f.jobId,
    kind: f.kind,
    phase: f.status === 'done' ? f.status : `${f.status} during ${f.last?.phase ?? prev?.phase ?? 'start'}`,
    done,
    total,
    etaMs: null,
    metrics: prev?.metrics ?? {},
    status: f.status,
    error: f.error?.message ?? null,
    result: f.result,
  };
}

/**
 * Whether the bar's "done / total" says something: while a job runs, or where a cancelled or failed one stopped.
 * A finished job's last step belongs to its last phase (a run's scoring batches: "done 3 / 3" after 2 epochs
 * read as a third epoch), so "done" stands alone under the full bar.
 */
export function showsCounts(job: Pick<JobView, 'status'>): boolean {
  return job.status !== 'done';
}

/**
 * The job.finished a page missed, from the job table's row (jobs.get): null while the job runs. A job its
 * process never finished (interrupted) ends as failed, with the table's reason.
 */
export function finishedFromState(s: JobState): Finished | null {
  if (s.status === 'running') return null;
  return {
    jobId: s.id,
    kind: s.kind,
    status: s.status === 'interrupted' ? 'failed' : s.status,
    ...(s.result !== undefined ? { result: s.result } : {}),
    ...(s.error !== null && s.status !== 'cancelled' ? { error: { code: 'INTERNAL', message: s.error } } : {}),
  };
}
