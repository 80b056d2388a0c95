/** Long work as the page sees it: progress per job from events, and a promise for "tell me when it ends". */
import { call, onConnection, onEvent } from '../api/client';
import { finishedFromState, finishedView, type Finished, type JobView } from '../jobs-view';
import { notices } from './notices.svelte';

export type { JobView };

export class JobsState {
  #jobs = $state<Record<string, JobView>>({});
  readonly #waiters = new Map<string, Array<(f: Finished) => void>>();
  readonly #finished = new Map<string, Finished>();
  readonly #news: Array<(job: JobView) => void> = [];

  constructor() {
    onEvent('job.progress', (p) => {
      const prev = this.#jobs[p.jobId];
      if (prev && prev.status !== 'running') return;
      this.#heard(p.jobId, p.kind, p, p.etaMs, p.metrics ?? prev?.metrics ?? {});
    });
    onEvent('job.finished', (f) => this.#end(f));
    // Events sent while the socket was down are lost: after a reconnect, ask the job table about each job
    // still running here, so a wait never outlives its job. On the first connection, the jobs already
    // running (a page loaded or reloaded mid-job) are read from the table with their last step: a job that
    // waits its turn sends no event until its turn comes.
    let opened = false;
    onConnection((status) => {
      if (status !== 'open') return;
      void (opened ? this.#resync() : this.#listRunning());
      opened = true;
    });
  }

  /** A running job's news (an event, or the table's word on load), told to those following jobs. */
  #heard(jobId: string, kind: string, step: { phase: string; done: number; total: number }, etaMs: number | null, metrics: Record<string, number>): void {
    const view: JobView = { jobId, kind, phase: step.phase, done: step.done, total: step.total, etaMs, metrics, status: 'running', error: null, result: undefined };
    this.#jobs[jobId] = view;
    for (const fn of this.#news) fn(view);
  }

  async #listRunning(): Promise<void> {
    try {
      for (const j of await call('jobs.list', {})) {
        if (j.status === 'running' && this.#jobs[j.id] === undefined) this.#heard(j.id, j.kind, j.step ?? { phase: 'running', done: 0, total: 0 }, null, {});
      }
    } catch {
      // the server is gone: the page says so; its jobs' events come when it is back
    }
  }

  /**
   * Calls `fn` with each running job's news: every progress event, and each job found running when the page
   * loads (and, to a follower that comes later, the jobs running then). Review and Train take up a job they did
   * not start (a reload, another window) from here.
   */
  onRunning(fn: (job: JobView) => void): void {
    this.#news.push(fn);
    // a follower that comes after the news (a view's state made later) hears of the jobs running now
    for (const j of this.running) fn(j);
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
