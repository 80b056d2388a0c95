/**
 * The Train view's state: the queue of models a person asked for (run one after another: they share the
 * machine), the current run's epochs for live curves, and the table of every run in the library.
 */
import type { MethodInput, MethodOutput, RunInfo } from '../../../../shared/contract';
import { call, errorMessage, onEvent } from '../api/client';
import { jobs } from './jobs.svelte';
import { notices } from './notices.svelte';

import type { ModelName } from '../../../../shared/names';
export { MODEL_NAMES as MODELS, type ModelName } from '../../../../shared/names';
export type TrainSettings = Omit<MethodInput<'train.start'>, 'model'>;
type RunDetail = MethodOutput<'runs.get'>;

export class TrainState {
  #runs = $state.raw<RunInfo[]>([]);
  #unavailable = $state<string | null>(null);
  #queue = $state<ModelName[]>([]);
  #queued = $state(0);
  #finishedInQueue = $state(0);
  #currentJob = $state<string | null>(null);
  /** The latest run's job, kept after it ends so its bar stays full (or shows where it stopped). */
  #lastJob = $state<string | null>(null);
  #current = $state.raw<RunDetail | null>(null);
  #cancelled = false;
  #lastEpoch = -1;

  constructor() {
    onEvent('job.progress', (p) => {
      if (p.jobId !== this.#currentJob || !this.#current) return;
      const epoch = p.metrics?.['epoch'];
      if (epoch !== undefined && epoch !== this.#lastEpoch) {
        this.#lastEpoch = epoch;
        void this.#refreshCurrent();
      }
    });
  }

  get runs(): readonly RunInfo[] {
    return this.#runs;
  }
  get unavailable(): string | null {
    return this.#unavailable;
  }
  get current(): RunDetail | null {
    return this.#current;
  }
  get currentJob(): string | null {
    return this.#currentJob;
  }
  get lastJob(): string | null {
    return this.#lastJob;
  }
  get queue(): readonly ModelName[] {
    return this.#queue;
  }
  get running(): boolean {
    return this.#currentJob !== null;
  }
  /** Whole-queue progress: finished runs plus the current run's share. */
  get overall(): { done: number; total: number } {
    const job = this.#currentJob ? jobs.get(this.#currentJob) : undefined;
    const frac = job && job.total > 0 ? job.done / job.total : 0;
    return { done: Math.round((this.#finishedInQueue + frac) * 100), total: this.#queued * 100 };
  }

  async load(): Promise<void> {
    try {
      this.#runs = await call('runs.list', {});
      this.#unavailable = null;
    } catch (err) {
      this.#unavailable = errorMessage(err);
    }
  }

  async #refreshCurrent(): Promise<void> {
    const id = this.#current?.id;
    if (!id) return;
    try {
      this.#current = await call('runs.get', { id });
    } catch (err) {
      notices.error(err, 'Could not read the run');
    }
  }

  async start(models: readonly ModelName[], settings: TrainSettings): Promise<void> {
    if (this.running || models.length === 0) return;
    this.#queue = [...models];
    this.#queued = models.length;
    this.#finishedInQueue = 0;
    this.#cancelled = false;
    while (this.#queue.length > 0 && !this.#cancelled) {
      const model = this.#queue[0];
      if (!model) break;
      try {
        const started = await call('train.start', { ...settings, model });
        jobs.started(started.jobId, 'train');
        this.#currentJob = started.jobId;
        this.#lastJob = started.jobId;
        this.#lastEpoch = -1;
        this.#current = await call('runs.get', { id: started.runId });
        const end = await jobs.finished(started.jobId);
        if (end.status === 'failed') notices.push('error', `${model}: ${end.error?.message ?? 'training failed'}`);
        await this.#refreshCurrent();
      } catch (err) {
        notices.error(err, `${model} did not start`);
        this.#cancelled = true;
      } finally {
        this.#currentJob = null;
        this.#queue = this.#queue.slice(1);
        this.#finishedInQueue++;
        await this.load();
      }
    }
    this.#queue = [];
  }

  async cancel(): Promise<void> {
    this.#cancelled = true;
    this.#queue = this.#queue.slice(0, 1);
    const job = this.#currentJob;
    if (job) {
      try {
        await call('jobs.cancel', { jobId: job });
      } catch (err) {
        notices.error(err, 'Could not cancel');
      }
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await call('runs.delete', { id });
      await this.load();
    } catch (err) {
      notices.error(err, 'Could not delete the run');
    }
  }
}

export const train = new TrainState();
