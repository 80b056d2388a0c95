/**
 * The Train view's state: which models can train here (train.models), the queue of models a person asked
 * for (run one after another: they share the machine) with the ones skipped and why, the current run's
 * epochs for live curves, and the table of every run in the library.
 */
import type { MethodInput, MethodOutput, RunInfo, TrainInput, TrainModelInfo } from '../../../../shared/contract';
import { call, errorMessage, onEvent } from '../api/client';
import { formatDuration } from '../format';
import type { Finished } from '../jobs-view';
import type { Planned, Skipped } from '../train-plan';
import { confirmer } from './confirm.svelte';
import { jobs } from './jobs.svelte';
import { notices } from './notices.svelte';
export { MODEL_NAMES as MODELS, type ModelName } from '../../../../shared/names';
export type TrainSettings = Omit<MethodInput<'train.start'>, 'model' | 'weights'>;
type RunDetail = MethodOutput<'runs.get'>;

export class TrainState {
  #runs = $state.raw<RunInfo[]>([]);
  #models = $state.raw<TrainModelInfo[] | null>(null);
  #modelsError = $state<string | null>(null);
  #unavailable = $state<string | null>(null);
  /** Runs trained on data the library no longer has (runs.dataChanged, read with the runs). */
  #dataChanged = $state.raw<ReadonlySet<string>>(new Set());
  #queue = $state.raw<Planned[]>([]);
  #skipped = $state.raw<Skipped[]>([]);
  /** Runs started by the current (or last) queue, in order. */
  #queuedRuns = $state.raw<string[]>([]);
  #queued = $state(0);
  #finishedInQueue = $state(0);
  #currentJob = $state<string | null>(null);
  /** The latest run's job, kept after it ends so its bar stays full (or shows where it stopped). */
  #lastJob = $state<string | null>(null);
  #lastJobRun = $state<string | null>(null);
  #current = $state.raw<RunDetail | null>(null);
  /** The settings of a training this page did not start (found running after a reload), as the job was asked them. */
  #adopted = $state.raw<TrainInput | null>(null);
  #cancelled = false;
  #lastEpoch = -1;

  constructor() {
    // "did not start: import first" is stale once images come in or the split changes: the panel goes
    onEvent('library.changed', (e) => {
      if ((e.what === 'images' || e.what === 'split') && !this.running) this.#skipped = [];
    });
    jobs.onRunning((j) => {
      // a training this page did not start (it was reloaded mid-run, or another window started it): shown
      // with its bar and Cancel, so it is never left running out of reach (a training waiting its turn too)
      if (j.kind === 'train' && this.#currentJob === null && this.#queue.length === 0) void this.#adopt(j.jobId);
    });
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
  get dataChanged(): ReadonlySet<string> {
    return this.#dataChanged;
  }
  get unavailable(): string | null {
    return this.#unavailable;
  }
  get current(): RunDetail | null {
    return this.#current;
  }
  /** Null unless the page follows a training it did not start: then what that job was started with, for the form. */
  get adopted(): TrainInput | null {
    return this.#adopted;
  }
  get currentJob(): string | null {
    return this.#currentJob;
  }
  get lastJob(): string | null {
    return this.#lastJob;
  }
  /** The run the last job trained: its bar belongs above that run only, not above a past run shown instead. */
  get lastJobRun(): string | null {
    return this.#lastJobRun;
  }
  get queue(): readonly Planned[] {
    return this.#queue;
  }
  /** Models the last queue left out, each with what would let it train. */
  get skipped(): readonly Skipped[] {
    return this.#skipped;
  }
  get queuedRuns(): readonly string[] {
    return this.#queuedRuns;
  }
  /** Null until core said which models can train here. */
  get models(): readonly TrainModelInfo[] | null {
    return this.#models;
  }
  get modelsError(): string | null {
    return this.#modelsError;
  }
  /** A queue is under way (between two runs too). */
  get running(): boolean {
    return this.#queue.length > 0 || this.#currentJob !== null;
  }
  /** Whole-queue progress in hundredths of a model (finished runs plus the current run's share), and which model of how many is training (1-based). */
  get overall(): { done: number; total: number; model: number; models: number } {
    const job = this.#currentJob ? jobs.get(this.#currentJob) : undefined;
    const frac = job && job.total > 0 ? job.done / job.total : 0;
    return {
      done: Math.round((this.#finishedInQueue + frac) * 100),
      total: this.#queued * 100,
      model: Math.min(this.#queued, this.#finishedInQueue + 1),
      models: this.#queued,
    };
  }

  async load(): Promise<void> {
    try {
      // the current training set's hash is computed once for the whole table; without it no run is marked
      const [runs, changed] = await Promise.all([call('runs.list', {}), call('runs.dataChanged', {}).catch(() => null)]);
      this.#runs = runs;
      this.#dataChanged = new Set(changed?.runs ?? []);
      this.#unavailable = null;
    } catch (err) {
      this.#unavailable = errorMessage(err);
    }
  }

  async loadModels(): Promise<void> {
    try {
      this.#models = await call('train.models', {});
      this.#modelsError = null;
    } catch (err) {
      this.#modelsError = errorMessage(err);
    }
  }

  /** Shows a run's curves and epochs (a past run, picked in the runs table); not while a queue trains. */
  async show(id: string): Promise<void> {
    if (this.running) return;
    try {
      this.#current = await call('runs.get', { id });
    } catch (err) {
      notices.error(err, 'Could not read the run');
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

  /**
   * Trains `queue` one run after another; `skipped` is shown beside it. A model that fails to start is
   * reported and the queue goes on with the next. Resolves with the ids of the runs that finished.
   */
  async start(queue: readonly Planned[], settings: TrainSettings, skipped: readonly Skipped[] = []): Promise<string[]> {
    if (this.running) return [];
    this.#skipped = [...skipped];
    this.#queuedRuns = [];
    if (queue.length === 0) return [];
    this.#queue = [...queue];
    this.#queued = queue.length;
    this.#finishedInQueue = 0;
    this.#cancelled = false;
    const finished: string[] = [];
    while (this.#queue.length > 0 && !this.#cancelled) {
      const item = this.#queue[0];
      if (!item) break;
      const runId = await this.#trainOne(item, settings);
      if (runId !== null) finished.push(runId);
    }
    this.#queue = [];
    return finished;
  }

  /** One queued model to its end; the run id when it finished ('done'), else null. */
  async #trainOne(item: Planned, settings: TrainSettings): Promise<string | null> {
    const { model } = item;
    let jobId: string | null = null;
    try {
      const started = await call('train.start', { ...settings, model, ...(item.weights !== undefined ? { weights: item.weights } : {}) });
      jobId = started.jobId;
      jobs.started(started.jobId, 'train');
      this.#queuedRuns = [...this.#queuedRuns, started.runId];
      const end = await this.#follow(started.jobId, started.runId);
      if (end.status === 'failed') notices.push('error', `${model}: ${end.error?.message ?? 'training failed'}`);
      return end.status === 'done' ? started.runId : null;
    } catch (err) {
      this.#skipped = [...this.#skipped, { model, reason: `did not start: ${errorMessage(err)}` }];
      notices.error(err, `${model} did not start`);
      return null;
    } finally {
      this.#queue = this.#queue.slice(1);
      await this.#followed(jobId);
    }
  }

  /** Follows a running training job this page did not start until it ends: its run, bar and Cancel. */
  async #adopt(jobId: string): Promise<void> {
    this.#currentJob = jobId;
    this.#queued = 1;
    this.#finishedInQueue = 0;
    try {
      // the job table names the run it writes: a CLI training in another process is never mistaken for it
      const { runId, train } = await call('jobs.get', { jobId });
      this.#adopted = train;
      await this.load();
      await this.#follow(jobId, runId);
    } catch (err) {
      notices.error(err, 'Could not follow the running training');
    } finally {
      this.#adopted = null;
      await this.#followed(jobId);
    }
  }

  /** A training job (started here or adopted) is the current one: its run's curves, its bar, its Cancel; resolves when it ends. */
  async #follow(jobId: string, runId: string | null): Promise<Finished> {
    this.#currentJob = jobId;
    this.#lastJob = jobId;
    this.#lastJobRun = runId;
    this.#lastEpoch = -1;
    if (runId !== null) this.#current = await call('runs.get', { id: runId });
    return jobs.finished(jobId);
  }

  /** After a followed job (or one that did not start: null): one more model done, the runs table and the run's last epochs read again. */
  async #followed(jobId: string | null): Promise<void> {
    if (this.#currentJob === jobId) this.#currentJob = null;
    this.#finishedInQueue++;
    await this.load();
    await this.#refreshCurrent();
  }

  async cancel(): Promise<void> {
    this.#cancelled = true;
    this.#queue = this.#queue.slice(0, 1);
    const job = this.#currentJob;
    if (job) await jobs.cancel(job);
  }

  /** Deleting a run removes its checkpoints and scores for good (no undo): asked first. */
  async remove(id: string): Promise<void> {
    const run = this.runs.find((r) => r.id === id);
    const took = run?.seconds !== null && run?.seconds !== undefined ? ` (it trained for ${formatDuration(run.seconds)})` : '';
    const ok = await confirmer.ask({
      title: 'Delete this run?',
      body: `${run?.model ?? 'The run'} ${id}${took}: its checkpoints, predictions and scores are deleted, and Compare no longer lists it. This cannot be undone.`,
      confirm: 'Delete the run',
    });
    if (!ok) return;
    try {
      await call('runs.delete', { id });
      await this.load();
    } catch (err) {
      notices.error(err, 'Could not delete the run');
    }
  }
}

export const train = new TrainState();
