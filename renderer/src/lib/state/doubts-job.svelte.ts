/**
 * Review's "Find label doubts": the K-fold label-doubt computation as a job, asked first, cancellable, and
 * followed after a reload (a computation this page did not start is shown with its bar and Cancel).
 */
import { call } from '../api/client';
import { confirmer } from './confirm.svelte';
import { jobs } from './jobs.svelte';
import { notices } from './notices.svelte';

export class DoubtsJob {
  #jobId = $state<string | null>(null);
  readonly #found: () => Promise<void>;

  /** `found`: what to do when a computation ends with its doubts (Review reloads its queue). */
  constructor(found: () => Promise<void>) {
    this.#found = found;
    jobs.onRunning((j) => {
      if (j.kind === 'doubts' && j.jobId !== this.#jobId && !this.running) void this.#follow(j.jobId);
    });
  }

  /** The running (or last) computation's job. */
  get jobId(): string | null {
    return this.#jobId;
  }
  get running(): boolean {
    const job = this.#jobId ? jobs.get(this.#jobId) : undefined;
    return job?.status === 'running';
  }

  /**
   * Starts the computation, calibrated (planted flips give each rank an expected precision: the evidence
   * shows it), after asking: it can take half an hour the first time.
   */
  async start(): Promise<void> {
    if (this.running) return;
    // heavy jobs take turns (core's job queue): said before one is asked for behind a training
    const training = jobs.running.some((j) => j.kind === 'train');
    const ok = await confirmer.ask({
      title: 'Find label doubts?',
      body:
        'A pretrained network scores every labelled image and its faces out of fold, then plants label flips to say how far each doubt can be trusted. ' +
        'The first time this reads every photo: minutes, up to half an hour on a laptop (later runs reuse the cached features). It runs in the background and can be cancelled; the doubts it finds replace the last ones in this queue.' +
        (training ? ' A training is running now: the doubts wait for it to end, then start (they can be cancelled while they wait).' : ''),
      confirm: 'Find label doubts',
    });
    if (!ok) return;
    let jobId: string;
    try {
      jobId = (await call('doubts.start', { calibrate: true })).jobId;
    } catch (err) {
      notices.error(err, 'Label doubts not started');
      return;
    }
    jobs.started(jobId, 'doubts');
    await this.#follow(jobId);
  }

  /** Stops the running computation (the last doubts stay as they were). */
  async cancel(): Promise<void> {
    const job = this.#jobId;
    if (!job || !this.running) return;
    await jobs.cancel(job);
  }

  /** Waits for a computation (started here, or found running after a reload) and hands its doubts on. */
  async #follow(jobId: string): Promise<void> {
    this.#jobId = jobId;
    const end = await jobs.finished(jobId);
    if (end.status === 'done') {
      const n = countDoubts(end.result);
      notices.push('info', n === null ? 'Label doubts computed' : `The models doubt ${n} label${n === 1 ? '' : 's'}`);
      await this.#found();
    } else if (end.status === 'failed') {
      notices.push('error', `Label doubts failed: ${end.error?.message ?? 'no reason given'}`);
    }
  }
}

/** The doubts job's result is a DoubtsResult; only its count is read here, defensively (it is `unknown`). */
function countDoubts(result: unknown): number | null {
  if (typeof result !== 'object' || result === null || !('doubts' in result) || !Array.isArray(result.doubts)) return null;
  return result.doubts.length;
}
