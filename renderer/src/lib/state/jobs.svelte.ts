/** Long work as the page sees it: progress per job from events, and a promise for "tell me when it ends". */
import { call, onConnection, onEvent } from '../api/client';
import { finishedFromState, finishedView, type Finished, type JobView } from '../jobs-view';
import { notices } from './notices.svelte';

export type { JobView };

export class JobsState {
  #jobs = $state<Record<string, JobView>>({});
  readonly #waiters = new Map<string, Array<(f: Finished) => void>>();
  readonly #finished = new Map<string, Finished>();

  constructor() {
    onEvent('job.progress', (p) => {
      const prev = this.#jobs[p.jobId];
      if (prev && prev.status !== 'running') return;
      this.#jobs[p.jobId] = {
        jobId: p.jobId,
        kind: p.kind,
        phase: p.phase,
        done: p.done,
        total: p.total,
        etaMs: p.etaMs,
        metrics: p.metrics ?? prev?.metrics ?? {},
        status: 'running',
        error: null,
        result: undefined,
      };
    });
    onEvent('job.finished', (f) => this.#end(f));
    // Events sent while the socket was down are lost: after a reconnect, ask the job table about each job
    // still running here, so a wait never outlives its job.
    let opened = false;
    onConnection((status) => {
      if (status !== 'open') return;
      if (opened) void this.#resync();
      opened = true;
    });
  }

  #end(f: Finished): void {
    if (this.#finished.has(f.jobId)) return;
    this.#jobs[f.jobId] = finishedView(this.#jobs[f.jobId], f);
    this.#finished.set(f.jobId, f);
    for (const w of this.#waiters.get(f.jobId) ?? []) w(f);
    this.#waiters.delete(f.jobId);
  }

  async #resync(): Promise<void> {
    for (const job of this.running) await this.#ask(job.jobId);
  }

  /** The job table's word on one job: ends it here if it ended there. */
  async #ask(jobId: string): Promise<void> {
    try {
      const ended = finishedFromState(await call('jobs.get', { jobId }));
      if (ended) this.#end(ended);
    } catch {
      // the server is gone again: the next reconnect asks again
    }
  }

  get(jobId: string): JobView | undefined {
    return this.#jobs[jobId];
  }

  get running(): JobView[] {
    return Object.values(this.#jobs).filter((j) => j.status === 'running');
  }

  /** Marks a job as started before its first event, so the progress bar shows at once. */
  started(jobId: string, kind: string): void {
    this.#jobs[jobId] ??= { jobId, kind, phase: 'starting', done: 0, total: 0, etaMs: null, metrics: {}, status: 'running', error: null, result: undefined };
  }

  /** Asks core to cancel a job; its end still comes as job.finished ('cancelled'). A refusal is a notice. */
  async cancel(jobId: string): Promise<void> {
    try {
      await call('jobs.cancel', { jobId });
    } catch (err) {
      notices.error(err, 'Could not cancel');
    }
  }

  finished(jobId: string): Promise<Finished> {
    const done = this.#finished.get(jobId);
    if (done) return Promise.resolve(done);
    const ends = new Promise<Finished>((resolve) => {
      const list = this.#waiters.get(jobId) ?? [];
      list.push(resolve);
      this.#waiters.set(jobId, list);
    });
    // the end may have come (and gone, on a socket that was down) before this wait began: ask once
    void this.#ask(jobId);
    return ends;
  }
}

export const jobs = new JobsState();
